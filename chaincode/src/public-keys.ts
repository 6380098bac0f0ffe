/**
 * Prosumer public keys parsed once per chaincode process. Parsing a PEM (createPublicKey,
 * OpenSSL 3's decoders) costs about 0.7 ms, as much as the signature check itself, and
 * every settlement checks one signature under a meter key that does not change from one
 * period to the next. The cache is keyed by the exact PEM text, so a different PEM (a
 * re-keyed meter, another prosumer) is never answered with another's key; a PEM that does
 * not parse is not cached.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { verifyPayloadSignature } from '@flexproof/protocol';

/** More meters than one chaincode process settles for in a day; beyond it the least recently used key goes. */
export const PUBLIC_KEY_CACHE_LIMIT = 20_000;

const keys = new Map<string, KeyObject>();

/** The parsed key of a PEM (throws as createPublicKey does when it is not a key). */
export function publicKeyOf(publicKeyPem: string): KeyObject {
  const cached = keys.get(publicKeyPem);
  if (cached) {
    // Map order is insertion order: re-inserting makes it the most recently used.
    keys.delete(publicKeyPem);
    keys.set(publicKeyPem, cached);
    return cached;
  }
  const key = createPublicKey(publicKeyPem);
  if (keys.size >= PUBLIC_KEY_CACHE_LIMIT) {
    const oldest = keys.keys().next().value;
    if (oldest !== undefined) keys.delete(oldest);
  }
  keys.set(publicKeyPem, key);
  return key;
}

/** How many keys the cache holds (for tests). */
export function cachedPublicKeys(): number {
  return keys.size;
}

/** Empties the cache (for tests). */
export function clearPublicKeyCache(): void {
  keys.clear();
}

/** @flexproof/protocol's verifyPayloadSignature with the key from the cache (a PEM that does not parse: false). */
export function verifyPayloadSignatureCached(payload: unknown, signature: string, publicKeyPem: string): boolean {
  let key: KeyObject;
  try {
    key = publicKeyOf(publicKeyPem);
  } catch {
    return false;
  }
  return verifyPayloadSignature(payload, signature, key);
}
