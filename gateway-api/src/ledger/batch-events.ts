/**
 * Batch transactions emit one event for all their items (Fabric keeps one chaincode event
 * per transaction). Subscribers of the event stream were written for one event per
 * enrollment, so each batch event is expanded into the events its items would have
 * emitted one by one: same names, same fields, the batch's txId and block.
 */
import type { LedgerEvent } from './ledger-port';

interface Expansion {
  /** The single event's name for an item (undefined: the item is not expanded). */
  name: (item: Record<string, unknown>) => string | undefined;
  /** The fields that single event carries (today's payloads, nothing more). */
  fields: (name: string) => readonly string[];
}

const PERIOD_SETTLED = ['enrollmentId', 'meterId', 'periodIndex', 'deviationWh', 'penalty', 'newFingerprint'] as const;
const ENROLLMENT_EXCLUDED = ['enrollmentId', 'meterId', 'periodIndex', 'forfeited'] as const;

const EXPANSIONS: Readonly<Record<string, Expansion>> = {
  PeriodsSettled: {
    name: (item) => (item.outcome === 'verified' ? 'PeriodSettled' : item.outcome === 'invalidProof' ? 'EnrollmentExcluded' : undefined),
    fields: (name) => (name === 'PeriodSettled' ? PERIOD_SETTLED : ENROLLMENT_EXCLUDED),
  },
  EnrollmentsOffered: {
    name: () => 'EnrollmentOffered',
    fields: () => ['enrollmentId', 'orderId', 'meterId', 'prosumerId'],
  },
  RewardsDeposited: {
    name: () => 'RewardDeposited',
    fields: () => ['enrollmentId', 'orderId', 'meterId', 'amount'],
  },
};

/** True for an event that stands for several (PeriodsSettled, EnrollmentsOffered, RewardsDeposited). */
export function isBatchEvent(event: LedgerEvent): boolean {
  return Object.hasOwn(EXPANSIONS, event.eventName) && Array.isArray(event.payload.items);
}

/**
 * The events a batch event stands for, in item order (any other event: itself). Each
 * payload has exactly the fields of the single event, keys sorted as the chaincode writes
 * them (stable JSON), txId included, so a consumer cannot tell the difference.
 */
export function expandBatchEvent(event: LedgerEvent): LedgerEvent[] {
  if (!isBatchEvent(event)) return [event];
  const expansion = EXPANSIONS[event.eventName] as Expansion;
  const txId = typeof event.payload.txId === 'string' ? event.payload.txId : event.txId;
  const out: LedgerEvent[] = [];
  for (const item of event.payload.items as unknown[]) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) continue;
    const fields = item as Record<string, unknown>;
    const name = expansion.name(fields);
    if (name === undefined) continue;
    const payload: Record<string, unknown> = { txId };
    for (const f of expansion.fields(name)) if (fields[f] !== undefined) payload[f] = fields[f];
    out.push({ eventName: name, txId: event.txId, blockNumber: event.blockNumber, payload: sortedKeys(payload) });
  }
  return out;
}

function sortedKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, value[k]]));
}
