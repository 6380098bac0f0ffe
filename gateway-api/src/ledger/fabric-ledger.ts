import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  GatewayError,
  StatusCode,
  type ChaincodeEvent,
  type CloseableAsyncIterable,
  type Contract,
  type Commit,
  type Network,
  type Status,
  type Transaction,
} from '@hyperledger/fabric-gateway';
import type { FabricConnection } from '../fabric/connect';
import {
  ChaincodeRefusal,
  CommitRejected,
  LedgerContended,
  LedgerUnavailable,
  parseChaincodeMessage,
  type PendingTransaction,
} from './ledger-errors';
import { eventMatches, type EventFilter, type LedgerEvent, type LedgerPort, type SubmitOutcome } from './ledger-port';
import { TX, type TransactionName } from './transactions';

export interface FabricLedgerOptions {
  channel: string;
  chaincode: string;
  /** Extra attempts after an MVCC read conflict (the only retried failure). */
  mvccRetries?: number;
  /** Pause before a retry, doubled each time (ms). */
  retryBackoffMs?: number;
}

const utf8 = new TextDecoder();
/** gRPC statuses that mean "the peer or orderer could not be reached or did not answer in time". */
const UNAVAILABLE_CODES = new Set<number>([GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.CANCELLED]);

/**
 * The LedgerPort over the Fabric Gateway: the organisation's own peer endorses (it
 * gathers the other organisation's endorsement itself), then the orderer, then the
 * commit status. Only read conflicts are retried, with a fresh proposal: MVCC (a key read
 * changed) and phantom (a range read changed: a debit folds an organisation account's
 * delta records with one, and another transaction added a delta meanwhile). A rejected
 * transaction wrote nothing, so the retry cannot settle anything twice. Conflicts that
 * outlast the retries are LedgerContended (the gateway's 503 LEDGER_CONTENDED: the client
 * sends the request again later). Every other failure is reported once, as a
 * ChaincodeRefusal, CommitRejected or LedgerUnavailable. A failure after the endorsed
 * transaction was handed to the orderer (the submit or the commit status timed out, the
 * connection dropped) is LedgerUnavailable with outcome 'unknown' and the handle that
 * finishes that same transaction: IdempotentLedger resumes it on a retry with the same key.
 */
const RETRIED_CONFLICTS = new Set<number>([StatusCode.MVCC_READ_CONFLICT, StatusCode.PHANTOM_READ_CONFLICT]);

export class FabricLedger implements LedgerPort {
  readonly #network: Network;
  readonly #contract: Contract;
  readonly #chaincode: string;
  readonly #mvccRetries: number;
  readonly #retryBackoffMs: number;

  constructor(connection: FabricConnection, options: FabricLedgerOptions) {
    this.#network = connection.gateway.getNetwork(options.channel);
    this.#contract = this.#network.getContract(options.chaincode);
    this.#chaincode = options.chaincode;
    this.#mvccRetries = options.mvccRetries ?? 3;
    this.#retryBackoffMs = options.retryBackoffMs ?? 50;
  }

  async submit(transaction: TransactionName, argument: unknown): Promise<SubmitOutcome> {
    const args = { arguments: [JSON.stringify(argument)] };
    for (let attempt = 0; ; attempt++) {
      let txId: string | undefined;
      let endorsed: Transaction;
      try {
        const proposal = this.#contract.newProposal(transaction, args);
        txId = proposal.getTransactionId();
        endorsed = await proposal.endorse();
      } catch (err) {
        throw toLedgerError(err, txId);
      }
      // From here on a failure may leave the transaction ordered: it is reported with the
      // handle that finishes this very transaction, never a reason to propose it anew.
      const sending = new SendingTransaction(endorsed, txId);
      const status = await sending.send();
      if (status.successful) return sending.outcome();
      if (RETRIED_CONFLICTS.has(status.code)) {
        if (attempt < this.#mvccRetries) {
          await delay(this.#retryBackoffMs * 2 ** attempt);
          continue;
        }
        throw new LedgerContended(validationCodeName(status.code), txId, attempt + 1);
      }
      throw new CommitRejected(validationCodeName(status.code), txId);
    }
  }

  async evaluate(transaction: TransactionName, argument: unknown): Promise<unknown> {
    try {
      const bytes = await this.#contract.evaluate(transaction, { arguments: [JSON.stringify(argument)] });
      return parseResult(bytes);
    } catch (err) {
      throw toLedgerError(err);
    }
  }

  async events(filter: EventFilter, signal: AbortSignal): Promise<AsyncIterable<LedgerEvent>> {
    let stream: CloseableAsyncIterable<ChaincodeEvent>;
    try {
      stream = await this.#network.getChaincodeEvents(
        this.#chaincode,
        filter.startBlock === undefined ? {} : { startBlock: BigInt(filter.startBlock) },
      );
    } catch (err) {
      throw toLedgerError(err);
    }
    const close = (): void => stream.close();
    if (signal.aborted) close();
    else signal.addEventListener('abort', close, { once: true });
    return (async function* matching(): AsyncGenerator<LedgerEvent> {
      try {
        for await (const e of stream) {
          const event: LedgerEvent = {
            eventName: e.eventName,
            txId: e.transactionId,
            blockNumber: e.blockNumber.toString(),
            payload: parsePayload(e.payload),
          };
          if (eventMatches(event, filter)) yield event;
        }
      } catch (err) {
        if (!signal.aborted) throw toLedgerError(err);
      } finally {
        signal.removeEventListener('abort', close);
        stream.close();
      }
    })();
  }

  /** System:Ping takes no argument (the only transaction without one). */
  async ping(): Promise<void> {
    try {
      await this.#contract.evaluate(TX.ping);
    } catch (err) {
      throw toLedgerError(err);
    }
  }
}

/**
 * An endorsed, signed transaction on its way to the ledger, and the handle to finish it
 * when its first submission ended without a commit status. Sending again re-submits the
 * same signed envelope: the same txId, which Fabric commits at most once (a copy ordered
 * after the first is invalidated as DUPLICATE_TXID and the txId's status stays the
 * first's). Re-submitting rather than only asking for the status also covers a
 * transaction the orderer accepted and then lost (a Raft leader change), whose status
 * would otherwise never come.
 */
class SendingTransaction implements PendingTransaction {
  readonly #endorsed: Transaction;
  readonly txId: string;
  /** Known to be in a block (a copy of it was a duplicate): only its status is still to be read. */
  #onLedger = false;
  #commit: Commit | undefined;

  constructor(endorsed: Transaction, txId: string) {
    this.#endorsed = endorsed;
    this.txId = txId;
  }

  /**
   * Submits and waits for the commit status. Every failure on the way is LedgerUnavailable
   * with outcome 'unknown' carrying this handle: the gateway may have passed the envelope
   * on before the answer was lost, so nothing here can say it was not ordered.
   */
  async send(): Promise<Status> {
    let status: Status;
    try {
      if (!this.#onLedger || this.#commit === undefined) this.#commit = await this.#endorsed.submit();
      status = await this.#commit.getStatus();
    } catch (err) {
      throw new LedgerUnavailable('the transaction was sent to the orderer but its commit status did not come back', this.txId, err, this);
    }
    if (status.code === StatusCode.DUPLICATE_TXID) {
      // The status of a later copy, not of the first: the first is in a block, its own
      // status is read again on the next resume.
      this.#onLedger = true;
      throw new LedgerUnavailable('the commit status named a duplicate of the transaction, not the transaction itself', this.txId, undefined, this);
    }
    return status;
  }

  outcome(): SubmitOutcome {
    return { result: parseResult(this.#endorsed.getResult()), txId: this.txId };
  }

  async resume(): Promise<SubmitOutcome> {
    const status = await this.send();
    if (status.successful) return this.outcome();
    throw new CommitRejected(validationCodeName(status.code), this.txId);
  }
}

function validationCodeName(code: number): string {
  return Object.entries(StatusCode).find(([, value]) => value === code)?.[0] ?? String(code);
}

function parseResult(bytes: Uint8Array): unknown {
  const text = utf8.decode(bytes);
  return text === '' ? null : (JSON.parse(text) as unknown);
}

function parsePayload(bytes: Uint8Array): Record<string, unknown> {
  try {
    const value = JSON.parse(utf8.decode(bytes)) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * Classifies a Fabric Gateway failure: a chaincode refusal when a peer's message carries
 * the chaincode's `[CODE]` prefix, unavailable for gRPC transport codes, otherwise the
 * original error (a 500 for the caller, logged).
 */
export function toLedgerError(err: unknown, txId?: string): unknown {
  if (err instanceof ChaincodeRefusal || err instanceof CommitRejected || err instanceof LedgerUnavailable) return err;
  if (err instanceof GatewayError) {
    const id = (err as GatewayError & { transactionId?: string }).transactionId ?? txId;
    for (const detail of err.details) {
      const parsed = parseChaincodeMessage(detail.message);
      if (parsed) return new ChaincodeRefusal(parsed.code, parsed.message, id);
    }
    const own = parseChaincodeMessage(err.message);
    if (own) return new ChaincodeRefusal(own.code, own.message, id);
    if (UNAVAILABLE_CODES.has(err.code)) return new LedgerUnavailable('the ledger did not answer in time', id, err);
    // ABORTED without a chaincode code: the endorsements could not be assembled, typically
    // because the two organisations' peers answered differently while one was a block
    // behind ("ProposalResponsePayloads do not match"). Nothing was ordered; a retry a
    // moment later succeeds, so the caller gets a 503 with Retry-After rather than a 500.
    if (err.code === GrpcStatus.ABORTED) return new LedgerUnavailable('the peers returned inconsistent endorsements (one is catching up)', id, err);
    // FAILED_PRECONDITION without a chaincode code: no reachable set of peers satisfies the
    // endorsement policy (the other organisation's peer is down). Nothing was ordered; the
    // fault suite saw this answered 500 while the DSO peer restarted.
    if (err.code === GrpcStatus.FAILED_PRECONDITION) return new LedgerUnavailable('no reachable peers satisfy the endorsement policy (a peer is down)', id, err);
  }
  return err;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
