import { ChaincodeError } from '../errors';

/**
 * Real time on the ledger. Fabric does not check the proposal timestamp: the submitting
 * client writes it. Each endorsing peer therefore compares it with its own clock and
 * refuses to endorse a proposal further than the skew from it; the endorsement policy
 * needs every organisation's peer, so a transaction commits only with a timestamp every
 * organisation's clock agreed with. The peer clock only decides whether to endorse: it
 * is never written, so every peer computes the same read and write sets.
 */

/**
 * Refuses (CLOCK_SKEW) a proposal whose timestamp is more than `maxSkewSeconds` from the
 * peer's clock, in either direction: |proposalMs − peerMs| > maxSkewSeconds · 1000.
 * Exactly the skew passes.
 *
 * *Example*: skew 120 s, peer clock 12:00:00 → 11:58:00 to 12:02:00 pass, 12:02:01 is refused.
 */
export function assertProposalTimeWithinSkew(proposalMs: number, peerMs: number, maxSkewSeconds: number): void {
  const offsetMs = proposalMs - peerMs;
  if (!Number.isFinite(offsetMs) || Math.abs(offsetMs) > maxSkewSeconds * 1000) {
    const direction = offsetMs > 0 ? 'ahead of' : 'behind';
    const when = Number.isFinite(proposalMs) ? new Date(proposalMs).toISOString() : String(proposalMs);
    throw new ChaincodeError(
      'CLOCK_SKEW',
      `the proposal timestamp ${when} is ${direction} this peer's clock by more than ${maxSkewSeconds} s`,
    );
  }
}
