/**
 * Edge clients (prosumer sites) authenticate each request with the meter's signing key,
 * the one the DSO registered on the ledger. The format (headers, the v2 signing string
 * naming this gateway's MSP id, Ed25519 or ECDSA P-256) is defined once, with the signing
 * half the edge uses, in @flexproof/protocol (edge-request-signing.ts); this module only
 * re-exports it under the names the gateway has always used. The timestamp window and
 * the nonce memory are the gateway's own (guards.ts, nonce-store.ts).
 */
export {
  EDGE_HEADERS,
  EDGE_HEADER_PATTERNS,
  EDGE_SIGNING_VERSION,
  MSP_ID_PATTERN,
  edgeSigningString,
  readEdgeSignatureHeaders,
  sha256Hex,
  signEdgeRequest,
  verifyEdgeSignature,
  type EdgeRequestParts,
  type EdgeSignatureHeaders,
} from '@flexproof/protocol';
