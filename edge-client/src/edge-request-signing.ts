/**
 * Authentication of the edge client's requests to the gateway, with the site key:
 *
 *   x-flexproof-meter      meter id
 *   x-flexproof-timestamp  unix time, ms
 *   x-flexproof-nonce      16 random bytes, hex
 *   x-flexproof-signature  base64 signature (Ed25519, or ECDSA P-256/SHA-256 DER) over
 *                          METHOD \n path-with-query \n timestamp \n nonce \n sha256hex(body or "")
 *
 * The gateway checks exactly this string (gateway-api/src/auth/edge-signature.ts).
 */
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';

export const EDGE_HEADERS = {
  meter: 'x-flexproof-meter',
  timestamp: 'x-flexproof-timestamp',
  nonce: 'x-flexproof-nonce',
  signature: 'x-flexproof-signature',
} as const;

export interface EdgeRequest {
  method: string;
  pathWithQuery: string;
  body: string;
}

export function edgeSigningString(request: EdgeRequest, timestamp: string, nonce: string): string {
  const bodyHash = createHash('sha256').update(request.body, 'utf8').digest('hex');
  return [request.method.toUpperCase(), request.pathWithQuery, timestamp, nonce, bodyHash].join('\n');
}

export function edgeRequestHeaders(
  request: EdgeRequest,
  meterId: string,
  privateKey: KeyObject,
  options: { now?: number; nonce?: string } = {},
): Record<string, string> {
  const timestamp = String(options.now ?? Date.now());
  const nonce = options.nonce ?? randomBytes(16).toString('hex');
  const algorithm = privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  const signature = sign(algorithm, Buffer.from(edgeSigningString(request, timestamp, nonce), 'utf8'), privateKey).toString('base64');
  return {
    [EDGE_HEADERS.meter]: meterId,
    [EDGE_HEADERS.timestamp]: timestamp,
    [EDGE_HEADERS.nonce]: nonce,
    [EDGE_HEADERS.signature]: signature,
  };
}
