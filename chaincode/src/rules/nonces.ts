import { ChaincodeError } from '../errors';

/**
 * Replay protection for signed prosumer actions that are not tied to a period: each
 * nonce must be strictly above the last one accepted for the meter. Gaps are allowed,
 * so an edge client may use a counter or a millisecond clock.
 */
export function assertFreshNonce(lastNonce: bigint, nonce: bigint): void {
  if (nonce <= lastNonce) {
    throw new ChaincodeError('REPLAY', `nonce ${nonce} is not above the last accepted nonce ${lastNonce}`);
  }
}
