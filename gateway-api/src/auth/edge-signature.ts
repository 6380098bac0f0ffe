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
 * Signed string (UTF-8, '\n' between the parts):
 *   METHOD \n path-with-query \n timestamp \n nonce \n sha256hex(raw body, or '' if none)
 *
 * The timestamp must be within ±window of the gateway's clock; a nonce seen within the
 * window is a replay. This module has no Fastify import: the edge client signs with
 * `signEdgeRequest` exactly what the gateway checks.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';

export const EDGE_HEADERS = {
  meter: 'x-flexproof-meter',
  timestamp: 'x-flexproof-timestamp',
  nonce: 'x-flexproof-nonce',
  signature: 'x-flexproof-signature',
} as const;

export interface EdgeRequestParts {
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

/** The exact bytes an edge client signs. */
export function edgeSigningString(parts: EdgeRequestParts): string {
  return [parts.method.toUpperCase(), parts.pathWithQuery, parts.timestamp, parts.nonce, sha256Hex(parts.body)].join('\n');
}

function algorithmOf(key: KeyObject): string | null {
  return key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
}

/**
 * The four headers of a signed edge request. `privateKey` is the meter's key (PEM or
 * KeyObject); `now` and `nonce` may be given for tests.
 */
export function signEdgeRequest(
  request: { method: string; pathWithQuery: string; body?: Uint8Array | string },
  meterId: string,
  privateKey: KeyObject | string,
  options: { now?: number; nonce?: string } = {},
): Record<string, string> {
  const timestamp = String(options.now ?? Date.now());
  const nonce = options.nonce ?? randomBytes(16).toString('hex');
  const data = Buffer.from(
    edgeSigningString({ method: request.method, pathWithQuery: request.pathWithQuery, timestamp, nonce, body: request.body ?? '' }),
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

/**
 * Nonces seen recently, per meter. A nonce is remembered for twice the timestamp window,
 * longer than any timestamp it could come with is accepted.
 */
export class NonceCache {
  readonly #seen = new Map<string, number>();
  readonly #ttlMs: number;

  constructor(windowMs: number) {
    this.#ttlMs = 2 * windowMs;
  }

  /** Records the nonce; false if it was already seen (a replay). */
  remember(meterId: string, nonce: string, nowMs: number): boolean {
    this.#prune(nowMs);
    const key = `${meterId}\n${nonce}`;
    if (this.#seen.has(key)) return false;
    this.#seen.set(key, nowMs + this.#ttlMs);
    return true;
  }

  #prune(nowMs: number): void {
    // Insertion order is expiry order (constant TTL), so stop at the first live entry.
    for (const [key, expiresAt] of this.#seen) {
      if (expiresAt > nowMs) break;
      this.#seen.delete(key);
    }
  }
}
