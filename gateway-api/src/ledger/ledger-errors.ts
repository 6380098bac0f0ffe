/**
 * What can go wrong on the way to the ledger, as data. errors.ts turns each into an
 * HTTP answer; nothing here knows about HTTP.
 */
import { parseChaincodeError } from '@flexproof/protocol';

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

/** The peer (or the ordering service behind it) did not answer in time, or at all. */
export class LedgerUnavailable extends Error {
  constructor(
    message: string,
    readonly txId?: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'LedgerUnavailable';
  }
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
