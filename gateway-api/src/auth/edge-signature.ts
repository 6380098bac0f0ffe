/**
 * Edge clients (prosumer sites) authenticate each request with the meter's signing key,
 * the one the DSO registered on the ledger. Headers:
 *
 *   x-flexproof-meter      meter id
 *   x-flexproof-timestamp  unix time in milliseconds
 *   x-flexproof-nonce      at least 16 random bytes, hex
 *   x-flexproof-signature  base64 signature of the string below: ECDSA P-256 with
 *                          SHA-256 (DER) or Ed25519, with node:crypto
 *
 * Signed string, version 2 (UTF-8, '\n' between the parts):
 *
 *   flexproof.edge.v2
 *   <MSP id of the organisation whose gateway receives the request, e.g. AggregatorMSP>
 *   METHOD
 *   path-with-query
 *   timestamp
 *   nonce
 *   sha256hex(raw body, or '' if none)
 *
 * The version line keeps a v1 signature (which had neither of the first two lines) from
 * ever verifying; the MSP id binds the request to one organisation's gateway, so a
 * request captured at one gateway is refused by the other. The timestamp must be within
 * ±window of the gateway's clock; a nonce seen within the window is a replay
 * (nonce-store.ts). This module has no Fastify import: `signEdgeRequest` signs exactly
 * what the gateway checks (the edge client keeps its own copy of the string,
 * edge-client/src/edge-request-signing.ts; the unit tests fix the exact bytes on both sides).
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';

export const EDGE_HEADERS = {
  meter: 'x-flexproof-meter',
  timestamp: 'x-flexproof-timestamp',
  nonce: 'x-flexproof-nonce',
  signature: 'x-flexproof-signature',
} as const;

/** First line of the signed string. */
export const EDGE_SIGNING_VERSION = 'flexproof.edge.v2';

/** An MSP id as it may appear in the signed string: printable ASCII, no space or newline. */
export const MSP_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

export interface EdgeRequestParts {
  /** MSP id of the organisation whose gateway receives the request. */
  gatewayMspId: string;
  method: string;
  /** Path with the query string, exactly as sent (e.g. `/v1/edge/meters/m1/readings?enrollmentId=e1`). */
  pathWithQuery: string;
  timestamp: string;
  nonce: string;
  /** Raw request body; empty for requests without one. */
  body: Uint8Array | string;
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The exact bytes an edge client signs. Throws for an MSP id that could forge a line break. */
export function edgeSigningString(parts: EdgeRequestParts): string {
  if (!MSP_ID_PATTERN.test(parts.gatewayMspId)) {
    throw new Error('gatewayMspId: must be 1 to 128 printable ASCII characters without spaces');
  }
  return [
    EDGE_SIGNING_VERSION,
    parts.gatewayMspId,
    parts.method.toUpperCase(),
    parts.pathWithQuery,
    parts.timestamp,
    parts.nonce,
    sha256Hex(parts.body),
  ].join('\n');
}

function algorithmOf(key: KeyObject): string | null {
  return key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
}

/**
 * The four headers of a signed edge request for the gateway of `request.gatewayMspId`.
 * `privateKey` is the meter's key (PEM or KeyObject); `now` and `nonce` may be given for tests.
 */
export function signEdgeRequest(
  request: { gatewayMspId: string; method: string; pathWithQuery: string; body?: Uint8Array | string },
  meterId: string,
  privateKey: KeyObject | string,
  options: { now?: number; nonce?: string } = {},
): Record<string, string> {
  const timestamp = String(options.now ?? Date.now());
  const nonce = options.nonce ?? randomBytes(16).toString('hex');
  const data = Buffer.from(
    edgeSigningString({
      gatewayMspId: request.gatewayMspId,
      method: request.method,
      pathWithQuery: request.pathWithQuery,
      timestamp,
      nonce,
      body: request.body ?? '',
    }),
    'utf8',
  );
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const signature = sign(algorithmOf(key), data, key).toString('base64');
  return {
    [EDGE_HEADERS.meter]: meterId,
    [EDGE_HEADERS.timestamp]: timestamp,
    [EDGE_HEADERS.nonce]: nonce,
    [EDGE_HEADERS.signature]: signature,
  };
}

/** True if `signature` (base64) is the key's signature over the request's signing string. */
export function verifyEdgeSignature(parts: EdgeRequestParts, signature: string, publicKeyPem: string): boolean {
  try {
    const key = createPublicKey(publicKeyPem);
    const sig = Buffer.from(signature, 'base64');
    if (sig.length === 0) return false;
    return verify(algorithmOf(key), Buffer.from(edgeSigningString(parts), 'utf8'), key, sig);
  } catch {
    return false;
  }
}
