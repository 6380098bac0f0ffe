/**
 * Every failure of a gateway call, as data. `kind` is what a caller decides on:
 *
 *   refused      the gateway (or the ledger behind it) answered 4xx: the request as sent
 *                will not succeed; retrying it is pointless
 *   unavailable  no answer, a lost connection, a timeout, or 503 until the retry deadline
 *   unexpected   any other answer: 5xx other than 503, or an answer that is not the JSON
 *                the route documents
 *
 * `code` is the gateway's own code (NOT_FOUND, RULE_VIOLATION, LEDGER_UNAVAILABLE,
 * LEDGER_CONTENDED, ...) when it gave one, else CONNECTION (no connection, or it broke),
 * TIMEOUT (no answer in time) or BAD_ANSWER. `status` is 0 when no HTTP answer came.
 * `retryAfterMs` is the wait the gateway's Retry-After asked for (after a 503 the client
 * gave up on, or a 429), for a caller that retries on its own schedule.
 * Messages hold the route and the gateway's message, never a token or a signature.
 */
export type GatewayErrorKind = 'refused' | 'unavailable' | 'unexpected';

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly kind: GatewayErrorKind,
    readonly status: number,
    readonly code: string,
    message: string,
    /** The Fabric transaction, when the gateway created one. */
    readonly txId?: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}
