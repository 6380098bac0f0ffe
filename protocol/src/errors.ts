/**
 * The chaincode's error codes, their `[CODE] message` text form, and the HTTP status a
 * gateway answers each with. Fabric carries only a message string from the chaincode to
 * its client, so the code travels as a prefix of that string; whoever reads it (gateway,
 * client, test) parses it here and never out of the free text.
 *
 * The gateway's own codes (authentication, HTTP framing, the ledger or a store being
 * busy or down) are a second closed list below: they never travel through the chaincode,
 * so parseChaincodeError does not know them, and a chaincode code cannot be one.
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


/**
 * Every code a gateway answers with that is not a chaincode code (it also answers some
 * chaincode codes itself, such as BAD_INPUT or FORBIDDEN from its own checks). A closed
 * list: a code added here without a status in GATEWAY_ERROR_STATUS is a compile error.
 */
export const GATEWAY_ERROR_CODES = [
  /** No bearer token, an unknown one, or an edge request whose signature does not verify. */
  'UNAUTHORIZED',
  /** A meter sent more signed requests than its window allows. */
  'TOO_MANY_REQUESTS',
  'PAYLOAD_TOO_LARGE',
  'URI_TOO_LONG',
  'UNSUPPORTED_MEDIA_TYPE',
  /** A request the framework refused for a reason no other code names. */
  'BAD_REQUEST',
  /** An Idempotency-Key already used, while remembered, for another body or route. */
  'IDEMPOTENCY_KEY_REUSED',
  'INTERNAL',
  /** Ordered but not committed as valid for a reason other than a read conflict (e.g. ENDORSEMENT_POLICY_FAILURE). */
  'LEDGER_REJECTED',
  /** The peer or the orderer did not answer in time, or the peers' endorsements differed (one catching up). */
  'LEDGER_UNAVAILABLE',
  /**
   * Concurrent transactions kept changing what this one read (MVCC or phantom read
   * conflict) through the gateway's own resubmissions. Every attempt was invalidated, so
   * nothing of the request committed: sending it again is safe and likely to succeed.
   */
  'LEDGER_CONTENDED',
  /** The raw-data (sealed period) store is not reachable. */
  'STORE_UNAVAILABLE',
  /** The edge nonce log could not be written: the nonce was not used. */
  'NONCE_STORE_UNAVAILABLE',
  /** The edge nonce log holds as many nonces as it may. */
  'NONCE_STORE_FULL',
] as const;

export type GatewayErrorCode = (typeof GATEWAY_ERROR_CODES)[number];

/**
 * HTTP status of each gateway code. Every 503 means "nothing was done; retry after
 * Retry-After", which is what the client's one retry policy relies on: a 503 is resent
 * (with the same Idempotency-Key), anything else is not.
 */
export const GATEWAY_ERROR_STATUS: Readonly<Record<GatewayErrorCode, number>> = {
  UNAUTHORIZED: 401,
  TOO_MANY_REQUESTS: 429,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  BAD_REQUEST: 400,
  IDEMPOTENCY_KEY_REUSED: 422,
  INTERNAL: 500,
  LEDGER_REJECTED: 502,
  LEDGER_UNAVAILABLE: 503,
  LEDGER_CONTENDED: 503,
  STORE_UNAVAILABLE: 503,
  NONCE_STORE_UNAVAILABLE: 503,
  NONCE_STORE_FULL: 503,
};

export function isGatewayErrorCode(value: unknown): value is GatewayErrorCode {
  return typeof value === 'string' && (GATEWAY_ERROR_CODES as readonly string[]).includes(value);
}
