import { MAX_CLOCK_SKEW_SECONDS } from './server-settings';

/**
 * The peer's own clock and the skew it tolerates. It decides only whether a peer
 * endorses (rules/clock.ts) and never reaches the read or write set. Injected into each
 * contract, so unit tests drive it with the same fake clock that stamps their proposals.
 */
export interface PeerClock {
  /** Milliseconds since the epoch on this peer's machine. */
  nowMs(): number;
  /** MAX_CLOCK_SKEW_SECONDS: the largest tolerated |proposal timestamp − nowMs()|, seconds. */
  readonly maxSkewSeconds: number;
}

/** The machine clock and the configured skew: what Fabric's default construction uses. */
export const SYSTEM_PEER_CLOCK: PeerClock = Object.freeze({
  nowMs: () => Date.now(),
  maxSkewSeconds: MAX_CLOCK_SKEW_SECONDS,
});
