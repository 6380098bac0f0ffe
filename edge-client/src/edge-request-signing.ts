/**
 * Authentication of the edge client's requests to the gateway, with the site key:
 *
 *   x-flexproof-meter      meter id
 *   x-flexproof-timestamp  unix time, ms
 *   x-flexproof-nonce      16 random bytes, hex
 *   x-flexproof-signature  base64 signature (Ed25519, or ECDSA P-256/SHA-256 DER) over
 *                          the signing string, version 2 (UTF-8, '\n' between the parts):
 *
 *     flexproof.edge.v2
 *     <MSP id of the organisation whose gateway receives the request, e.g. AggregatorMSP>
 *     METHOD
 *     path-with-query
 *     timestamp
 *     nonce
 *     sha256hex(raw body, or '' if none)
 *
 * Naming the gateway's organisation means a request captured at one organisation's
 * gateway is refused by the other's (threat T6). The gateway checks exactly this string
 * (gateway-api/src/auth/edge-signature.ts); a unit test fixes the bytes.
 */
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';

export const EDGE_HEADERS = {
  meter: 'x-flexproof-meter',
  timestamp: 'x-flexproof-timestamp',
  nonce: 'x-flexproof-nonce',
  signature: 'x-flexproof-signature',
} as const;

/** First line of the signed string. */
export const EDGE_SIGNING_VERSION = 'flexproof.edge.v2';

export interface EdgeRequest {
  method: string;
  pathWithQuery: string;
  body: string;
}

export function edgeSigningString(request: EdgeRequest, gatewayMspId: string, timestamp: string, nonce: string): string {
  // A line break in the MSP id would let one signed string stand for another.
  if (!/^[\x21-\x7e]{1,128}$/.test(gatewayMspId)) throw new TypeError('gatewayMspId: 1 to 128 printable ASCII characters without spaces');
  const bodyHash = createHash('sha256').update(request.body, 'utf8').digest('hex');
  return [EDGE_SIGNING_VERSION, gatewayMspId, request.method.toUpperCase(), request.pathWithQuery, timestamp, nonce, bodyHash].join('\n');
}

export function edgeRequestHeaders(
  request: EdgeRequest,
  meterId: string,
  privateKey: KeyObject,
  options: { gatewayMspId: string; now?: number; nonce?: string },
): Record<string, string> {
  const timestamp = String(options.now ?? Date.now());
  const nonce = options.nonce ?? randomBytes(16).toString('hex');
  const algorithm = privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  const data = Buffer.from(edgeSigningString(request, options.gatewayMspId, timestamp, nonce), 'utf8');
  const signature = sign(algorithm, data, privateKey).toString('base64');
  return {
    [EDGE_HEADERS.meter]: meterId,
    [EDGE_HEADERS.timestamp]: timestamp,
    [EDGE_HEADERS.nonce]: nonce,
    [EDGE_HEADERS.signature]: signature,
  };
}
