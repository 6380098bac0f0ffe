/**
 * What can go wrong on the way to the ledger, as data. errors.ts turns each into an
 * HTTP answer; nothing here knows about HTTP.
 */
import { parseChaincodeError } from '@flexproof/protocol';
import type { SubmitOutcome } from './ledger-port';

/** The chaincode refused the transaction with a `[CODE] message` error. */
export class ChaincodeRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly txId?: string,
  ) {
    super(message);
    this.name = 'ChaincodeRefusal';
  }
}

/**
 * A transaction that was handed to the orderer without its commit status coming back: it
 * may commit yet, or may have committed already. `resume()` completes the SAME signed
 * transaction (same txId; Fabric commits a txId at most once) and answers as the first
 * submission would have: the outcome `{result, txId}` if it committed valid; CommitRejected
 * if it was invalidated (nothing of it is on the ledger, a new proposal is safe);
 * LedgerUnavailable with outcome 'unknown' (this same handle) while it still cannot tell.
 * Call it once at a time; it may be called again after it rejected.
 */
export interface PendingTransaction {
  readonly txId: string;
  resume(): Promise<SubmitOutcome>;
}

/**
 * The peer (or the ordering service behind it) did not answer in time, or at all.
 * `outcome` says what that means for a submission: 'unknown' when the transaction had
 * been sent to the orderer (it may commit; `pending` resumes it, and a new proposal could
 * run the request twice), 'not-sent' otherwise: the Fabric adapter reports it only for
 * failures before anything was ordered (endorsing, querying, listening).
 */
export class LedgerUnavailable extends Error {
  readonly outcome: 'unknown' | 'not-sent';

  constructor(
    message: string,
    readonly txId?: string,
    override readonly cause?: unknown,
    /** Set exactly when the outcome is unknown. Not enumerable: a logged error shows the txId, not the envelope. */
    pending?: PendingTransaction,
  ) {
    super(message);
    this.name = 'LedgerUnavailable';
    this.outcome = pending === undefined ? 'not-sent' : 'unknown';
    Object.defineProperty(this, 'pending', { value: pending, enumerable: false });
  }

  declare readonly pending: PendingTransaction | undefined;
}

/** The handle of a submission whose outcome is unknown, if `err` is one. */
export function pendingTransactionOf(err: unknown): PendingTransaction | undefined {
  return err instanceof LedgerUnavailable ? err.pending : undefined;
}

/** The transaction was ordered but not committed as valid (Fabric validation code). */
export class CommitRejected extends Error {
  constructor(
    /** Fabric's name of the validation code, e.g. MVCC_READ_CONFLICT. */
    readonly validationCode: string,
    readonly txId: string,
  ) {
    super(`transaction ${txId} was not committed: ${validationCode}`);
    this.name = 'CommitRejected';
  }
}

/** Fabric's validation codes of a read conflict: another transaction changed what this one read. */
export const READ_CONFLICT_CODES: ReadonlySet<string> = new Set(['MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT']);

/**
 * Read conflicts outlasted the adapter's resubmissions. Each attempt was invalidated at
 * commit, so nothing of the request is on the ledger: unlike a refusal, the same request
 * may well succeed a moment later, and unlike an unknown outcome, resending it cannot
 * apply it twice. `txId` is the last attempt's.
 */
export class LedgerContended extends CommitRejected {
  constructor(
    validationCode: string,
    txId: string,
    /** How many times the transaction was proposed, the first time included. */
    readonly attempts: number,
  ) {
    super(validationCode, txId);
    this.name = 'LedgerContended';
    this.message = `transaction ${txId} was not committed: ${validationCode} on each of ${attempts} attempt(s)`;
  }
}

/** A rejection for a read conflict: LedgerContended, or a CommitRejected carrying such a code. */
export function isReadConflict(err: unknown): err is CommitRejected {
  return err instanceof CommitRejected && READ_CONFLICT_CODES.has(err.validationCode);
}

/**
 * Reads a chaincode error's code out of the `[CODE] message` prefix the chaincode puts on
 * every error, after the peer's own wrapper (the codec is @flexproof/protocol's
 * parseChaincodeError). Never guesses from the free text: a message without the prefix
 * is not a chaincode refusal.
 */
export function parseChaincodeMessage(message: string): { code: string; message: string } | undefined {
  return parseChaincodeError(message);
}
