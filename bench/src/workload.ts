/**
 * The realistic workload, drawn from a seed so that two runs with the same options give
 * the same mix (and the proof pool, keyed by its deviations, is reused):
 *
 * - deviations: per chain and period, with probability `penaltyShare` a deviation above
 *   the 10 Wh tolerance, uniform in 11..60 Wh (penalty 2 to 100 tokens at 2 per Wh, so a
 *   day of penalties stays within the 2,400 escrow), otherwise uniform in 0..10 Wh (no
 *   penalty). `fixedDeviationWh` (the old `--deviation`) gives every period that value;
 * - offline prosumers: exactly round(M x offlineShare) of them, chosen by a seeded
 *   shuffle; they never submit, and the aggregator claims their 24 periods;
 * - invalid proofs: each submission of an online prosumer is invalid with probability
 *   `invalidShare` (drawn per prosumer and period); the first such period is the
 *   prosumer's last, since the chaincode excludes it there.
 */
import { PERIODS_PER_DAY } from '@flexproof/circuits';

export const TOLERANCE_WH = 10;
export const PENALTY_DEVIATION_WH = { min: TOLERANCE_WH + 1, max: 60 } as const;

export interface WorkloadShares {
  /** Fraction of periods above the tolerance (0..1). */
  penaltyShare: number;
  /** Fraction of submissions carrying an invalid proof (0..1). */
  invalidShare: number;
  /** Fraction of prosumers offline all day (0..1). */
  offlineShare: number;
  /** Every period deviates by this many Wh (overrides penaltyShare). */
  fixedDeviationWh?: number;
}

export interface ProsumerDraw {
  offline: boolean;
  /** The period at which this prosumer submits an invalid proof (and is excluded), if any. */
  invalidAt?: number;
}

/** mulberry32: small, fast, and the same on every platform; not for secrets. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const between = (rnd: () => number, min: number, max: number): number => min + Math.floor(rnd() * (max - min + 1));

/** deviations[chain][period], Wh. */
export function drawDeviations(chains: number, seed: number, shares: Pick<WorkloadShares, 'penaltyShare' | 'fixedDeviationWh'>): number[][] {
  const rnd = seededRandom(seed ^ 0x5eed0001);
  return Array.from({ length: chains }, () =>
    Array.from({ length: PERIODS_PER_DAY }, () => {
      if (shares.fixedDeviationWh !== undefined) return shares.fixedDeviationWh;
      return rnd() < shares.penaltyShare
        ? between(rnd, PENALTY_DEVIATION_WH.min, PENALTY_DEVIATION_WH.max)
        : between(rnd, 0, TOLERANCE_WH);
    }),
  );
}

export function drawCohort(prosumers: number, seed: number, shares: Pick<WorkloadShares, 'invalidShare' | 'offlineShare'>): ProsumerDraw[] {
  const rnd = seededRandom(seed ^ 0x5eed0002);
  const offlineCount = Math.round(prosumers * shares.offlineShare);
  const order = Array.from({ length: prosumers }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const offline = new Set(order.slice(0, offlineCount));
  return Array.from({ length: prosumers }, (_, i) => {
    if (offline.has(i)) return { offline: true };
    for (let p = 0; p < PERIODS_PER_DAY; p++) if (rnd() < shares.invalidShare) return { offline: false, invalidAt: p };
    return { offline: false };
  });
}
