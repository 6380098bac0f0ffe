import { ChaincodeError } from './errors';
import type { Meter } from './model';
import { assertFreshNonce } from './rules/nonces';
import { verifyPayloadSignature } from './signing';

/**
 * Checks that a signed prosumer action names this meter and its prosumer and carries
 * the prosumer's signature over the payload's canonical encoding (BAD_SIGNATURE
 * otherwise). The gateway relaying it cannot forge it.
 */
export function requireProsumerSignature(
  meter: Meter,
  payload: { meterId: string; prosumerId: string },
  signature: string,
): void {
  if (payload.meterId !== meter.meterId || payload.prosumerId !== meter.prosumerId) {
    throw new ChaincodeError('FORBIDDEN', `meter ${meter.meterId} does not belong to prosumer ${payload.prosumerId}`);
  }
  if (!verifyPayloadSignature(payload, signature, meter.publicKeyPem)) {
    throw new ChaincodeError('BAD_SIGNATURE', `signature does not verify with the key of meter ${meter.meterId}`);
  }
}

/** Checks a nonce is fresh (REPLAY otherwise) and returns the meter with it recorded. */
export function consumeNonce(meter: Meter, nonce: string, now: string): Meter {
  assertFreshNonce(BigInt(meter.nonce), BigInt(nonce));
  return { ...meter, nonce, updatedAt: now };
}
