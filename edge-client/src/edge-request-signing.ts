/**
 * The edge request signature (v2) is @flexproof/protocol's (edge-request-signing.ts there:
 * the signed string, the headers, and the gateway's verifier beside them). What remains
 * here is the edge's older call shape of the same two functions, kept for the callers that
 * still use it; neither adds a rule of its own.
 */
import type { KeyObject } from 'node:crypto';
import { edgeSigningString as protocolSigningString, signEdgeRequest } from '@flexproof/protocol';

export { EDGE_HEADERS, EDGE_SIGNING_VERSION } from '@flexproof/protocol';

export interface EdgeRequest {
  method: string;
  pathWithQuery: string;
  body: string;
}

/** protocol's edgeSigningString with the parts as separate arguments. */
export function edgeSigningString(request: EdgeRequest, gatewayMspId: string, timestamp: string, nonce: string): string {
  return protocolSigningString({ ...request, gatewayMspId, timestamp, nonce });
}

/** protocol's signEdgeRequest with the gateway's MSP id among the options. */
export function edgeRequestHeaders(
  request: EdgeRequest,
  meterId: string,
  privateKey: KeyObject,
  options: { gatewayMspId: string; now?: number; nonce?: string },
): Record<string, string> {
  const { gatewayMspId, ...signing } = options;
  return signEdgeRequest({ ...request, gatewayMspId }, meterId, privateKey, signing);
}
