/**
 * Machine-readable chaincode errors. Fabric carries only a message string back to the
 * client, so every error is rendered as `[CODE] message`; the gateway parses the code
 * out of that prefix (never out of the free text) to choose an HTTP status.
 */
export type ChaincodeErrorCode =
  /** The argument is not valid JSON or breaks its schema; also a malformed proof or public signals. */
  | 'BAD_INPUT'
  /** The caller's organisation may not run this transaction, or act on this object. */
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  /** The object already exists, or is already in the requested state (e.g. a period already settled). */
  | 'CONFLICT'
  /** The request is well formed but a domain rule refuses it (balance, status, time window, ledger mismatch). */
  | 'RULE_VIOLATION'
  /** A prosumer signature does not verify with the meter's registered key, or does not cover the submitted data. */
  | 'BAD_SIGNATURE'
  /** A signed prosumer action reuses a nonce that is not above the last one accepted. */
  | 'REPLAY'
  /** The submission window of a period has closed (the aggregator may now claim it as missed). */
  | 'DEADLINE_PASSED'
  /** The enrollment or meter was excluded after an invalid proof: nothing more is accepted for it. */
  | 'EXCLUDED'
  /**
   * The proposal timestamp is more than the allowed skew (MAX_CLOCK_SKEW_SECONDS) from this
   * peer's clock: the peer refuses to endorse. Only a client that builds its own proposals
   * with a wrong clock (or on purpose) gets it; gateways stamp proposals with their own clock.
   */
  | 'CLOCK_SKEW';

/** Every code, for clients that map codes to statuses and for tests. */
export const CHAINCODE_ERROR_CODES: readonly ChaincodeErrorCode[] = [
  'BAD_INPUT',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'RULE_VIOLATION',
  'BAD_SIGNATURE',
  'REPLAY',
  'DEADLINE_PASSED',
  'EXCLUDED',
  'CLOCK_SKEW',
];

export class ChaincodeError extends Error {
  constructor(
    readonly code: ChaincodeErrorCode,
    detail: string,
  ) {
    super(`[${code}] ${detail}`);
    this.name = 'ChaincodeError';
  }
}

const CODE_PREFIX = /^\[([A-Z_]+)\] /;

/** Reads the code back out of a message produced by ChaincodeError. */
export function parseErrorCode(message: string): string | undefined {
  return CODE_PREFIX.exec(message)?.[1];
}
