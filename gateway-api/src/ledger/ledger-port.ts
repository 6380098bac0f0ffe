/**
 * The gateway's only view of the ledger. Routes and services talk to this interface;
 * the Fabric adapter (fabric-ledger.ts) implements it over the Fabric Gateway, and the
 * unit tests over a fake. Transaction names are `contract:Transaction` (transactions.ts)
 * and every transaction takes one JSON argument, as the chaincode defines them.
 */
import type { TransactionName } from './transactions';

export interface SubmitOptions {
  /**
   * Requests carrying the same key share one submission: a retry while the first is in
   * flight or after it finished gets its outcome instead of a second transaction, and a
   * retry after a failure whose outcome is unknown (LedgerUnavailable, outcome 'unknown')
   * resumes that same transaction (honoured by IdempotentLedger; plain adapters ignore
   * it). Without a key a resend is a new transaction.
   */
  idempotencyKey?: string;
}

export interface SubmitOutcome {
  /** The chaincode's JSON answer, parsed. */
  result: unknown;
  txId: string;
}

/** A chaincode event of a committed transaction, payload parsed from its JSON. */
export interface LedgerEvent {
  eventName: string;
  txId: string;
  blockNumber: string;
  payload: Record<string, unknown>;
}

export interface EventFilter {
  enrollmentId?: string;
  meterId?: string;
  /** Replay from this block on (decimal); default: from the next committed block. */
  startBlock?: string;
}

export interface LedgerPort {
  /**
   * Endorses, orders and waits for the commit of a transaction. A failure after the
   * transaction was sent to the orderer rejects with LedgerUnavailable whose `pending`
   * finishes that transaction (it may commit regardless).
   */
  submit(transaction: TransactionName, argument: unknown, options?: SubmitOptions): Promise<SubmitOutcome>;
  /** Runs a query on the organisation's own peer. */
  evaluate(transaction: TransactionName, argument: unknown): Promise<unknown>;
  /**
   * Chaincode events that match the filter, until the signal aborts. Resolves once the
   * stream is established, so nothing committed after that is missed.
   */
  events(filter: EventFilter, signal: AbortSignal): Promise<AsyncIterable<LedgerEvent>>;
  /** Resolves when the peer answers a query through the chaincode. */
  ping(): Promise<void>;
}

/**
 * True if an event concerns the enrollment and the meter of the filter (absent = any). An
 * event of a batch transaction (its payload lists `items`) matches when one of its items
 * does; the event stream then expands it (batch-events.ts) and filters each item.
 */
export function eventMatches(event: LedgerEvent, filter: EventFilter): boolean {
  if (Array.isArray(event.payload.items)) {
    return event.payload.items.some((item: unknown) => item !== null && typeof item === 'object' && payloadMatches(item as Record<string, unknown>, filter));
  }
  return payloadMatches(event.payload, filter);
}

function payloadMatches(payload: Record<string, unknown>, filter: EventFilter): boolean {
  if (filter.enrollmentId !== undefined && payload.enrollmentId !== filter.enrollmentId) return false;
  if (filter.meterId !== undefined && payload.meterId !== filter.meterId) return false;
  return true;
}
