/**
 * The chaincode's error codes, their `[CODE] message` text form, and the HTTP status a
 * gateway answers each with. Fabric carries only a message string from the chaincode to
 * its client, so the code travels as a prefix of that string; whoever reads it (gateway,
 * client, test) parses it here and never out of the free text.
 */

/**
 * Every code the chaincode refuses with. A closed list: adding one here without a status
 * in CHAINCODE_ERROR_STATUS below is a compile error.
 */
export const CHAINCODE_ERROR_CODES = [
  /** The argument is not valid JSON or breaks its schema; also a malformed proof or public signals. */
  'BAD_INPUT',
  /** The caller's organisation may not run this transaction, or act on this object. */
  'FORBIDDEN',
  'NOT_FOUND',
  /** The object already exists, or is already in the requested state. */
  'CONFLICT',
  /** A domain rule refuses it (balance, status, time window, ledger mismatch). */
  'RULE_VIOLATION',
  /** A prosumer signature does not verify with the meter's key, or does not cover the data. */
  'BAD_SIGNATURE',
  /** A signed prosumer action reuses a nonce that is not above the last one accepted. */
  'REPLAY',
  /** The submission window of a period has closed. */
  'DEADLINE_PASSED',
  /** The enrollment or meter was excluded after an invalid proof. */
  'EXCLUDED',
  /** The proposal timestamp is too far from the endorsing peer's clock. */
  'CLOCK_SKEW',
] as const;

export type ChaincodeErrorCode = (typeof CHAINCODE_ERROR_CODES)[number];

/**
 * HTTP status of each chaincode code. REPLAY is a conflict with what the ledger already
 * holds (409); CLOCK_SKEW is listed as 422 like the other rule refusals, but under its own
 * name so an operator sees that this host's clock is off.
 */
export const CHAINCODE_ERROR_STATUS: Readonly<Record<ChaincodeErrorCode, number>> = {
  BAD_INPUT: 400,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RULE_VIOLATION: 422,
  BAD_SIGNATURE: 422,
  REPLAY: 409,
  DEADLINE_PASSED: 422,
  EXCLUDED: 422,
  CLOCK_SKEW: 422,
};

/** A code the chaincode does not define is still a refusal: a rule violation, 422. */
export const UNKNOWN_CHAINCODE_CODE_STATUS = 422;

export function isChaincodeErrorCode(value: unknown): value is ChaincodeErrorCode {
  return typeof value === 'string' && (CHAINCODE_ERROR_CODES as readonly string[]).includes(value);
}

export function httpStatusOfChaincodeCode(code: string): number {
  return isChaincodeErrorCode(code) ? CHAINCODE_ERROR_STATUS[code] : UNKNOWN_CHAINCODE_CODE_STATUS;
}

/** `[CODE] detail`, the one text form of a chaincode error. */
export function formatChaincodeError(code: ChaincodeErrorCode, detail: string): string {
  return `[${code}] ${detail}`;
}

const CODED_MESSAGE = /^\[([A-Z][A-Z_]*)\] ([\s\S]*)$/;
/** How a peer wraps a chaincode error in an endorsement or evaluation failure. */
const PEER_WRAPPER = /^chaincode response \d+, /;

/**
 * Reads `[CODE] message` back, after the peer's own `chaincode response NNN, ` wrapper if
 * there is one. A message without the prefix is not a chaincode refusal (undefined). The
 * code is returned as written, known or not: a newer chaincode may define codes this
 * package does not list yet (httpStatusOfChaincodeCode maps those to 422).
 */
export function parseChaincodeError(message: string): { code: string; message: string } | undefined {
  const match = CODED_MESSAGE.exec(message.replace(PEER_WRAPPER, ''));
  if (!match?.[1]) return undefined;
  return { code: match[1], message: match[2] ?? '' };
}
