/**
 * Edge request signature, version 2: how an edge client (a prosumer site) authenticates
 * each request to an organisation's gateway with its meter's key, the one the DSO
 * registered on the ledger. The signing half (edge clients) and the checking half
 * (gateways) live here together, so the two cannot drift. Headers:
 *
 *   x-flexproof-meter      meter id
 *   x-flexproof-timestamp  unix time in milliseconds
 *   x-flexproof-nonce      at least 16 random bytes, hex
 *   x-flexproof-signature  base64 signature of the string below: ECDSA P-256 with
 *                          SHA-256 (DER) or Ed25519, with node:crypto
 *
 * Signed string (UTF-8, '\n' between the parts):
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
 * request captured at one gateway is refused by the other (threat T6). The gateway also
 * checks the timestamp window and remembers nonces (gateway-api/src/auth): that is state,
 * not format, and stays there.
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

/** The forms each header must have before a signature is even checked. */
export const EDGE_HEADER_PATTERNS = {
  meter: /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
  timestamp: /^[0-9]{1,16}$/,
  nonce: /^[0-9a-f]{32,128}$/,
  signature: /^[A-Za-z0-9+/]{16,256}={0,2}$/,
} as const;

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

/** Ed25519 signs the message itself; ECDSA keys sign its SHA-256. */
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

/** The four signature headers of a request, each in its form. */
export interface EdgeSignatureHeaders {
  meterId: string;
  timestamp: string;
  nonce: string;
  signature: string;
}

/**
 * Reads the signature headers (Node's lower-cased header record). `missing` when any is
 * absent, `malformed` when one breaks its form (EDGE_HEADER_PATTERNS); the gateway answers
 * both with 401 without saying more.
 */
export function readEdgeSignatureHeaders(
  headers: Record<string, string | string[] | undefined>,
): { ok: true; headers: EdgeSignatureHeaders } | { ok: false; reason: 'missing' | 'malformed' } {
  const h = (name: string): string | undefined => {
    const v = headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const meterId = h(EDGE_HEADERS.meter);
  const timestamp = h(EDGE_HEADERS.timestamp);
  const nonce = h(EDGE_HEADERS.nonce);
  const signature = h(EDGE_HEADERS.signature);
  if (!meterId || !timestamp || !nonce || !signature) return { ok: false, reason: 'missing' };
  const p = EDGE_HEADER_PATTERNS;
  if (!p.meter.test(meterId) || !p.timestamp.test(timestamp) || !p.nonce.test(nonce) || !p.signature.test(signature)) {
    return { ok: false, reason: 'malformed' };
  }
  return { ok: true, headers: { meterId, timestamp, nonce, signature } };
}

/** True if `signature` (base64) is the key's signature over the request's signing string. */
export function verifyEdgeSignature(parts: EdgeRequestParts, signature: string, publicKey: string | KeyObject): boolean {
  try {
    const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
    const sig = Buffer.from(signature, 'base64');
    if (sig.length === 0) return false;
    return verify(algorithmOf(key), Buffer.from(edgeSigningString(parts), 'utf8'), key, sig);
  } catch {
    return false;
  }
}
