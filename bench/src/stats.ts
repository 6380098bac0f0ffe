/**
 * The figures of a throughput run, from raw samples: latency percentiles and the rate of
 * commits over a time window. Plain functions over numbers, unit-tested.
 */

/**
 * The p-th percentile (0..100) by the nearest-rank method: the smallest sample such that
 * at least p % of the samples are at or below it. Nearest rank never invents a latency
 * nobody saw, and p99 of 100 samples is the 99th smallest. NaN for no samples.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be within 0..100, got ${p}`);
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export function summariseLatencies(samples: readonly number[]): LatencySummary {
  const mean = samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length);
  return {
    count: samples.length,
    p50Ms: percentile(samples, 50),
    p95Ms: percentile(samples, 95),
    p99Ms: percentile(samples, 99),
    maxMs: samples.length === 0 ? Number.NaN : Math.max(...samples),
    meanMs: samples.length === 0 ? Number.NaN : mean,
  };
}

/**
 * Events per second within [fromMs, toMs): the count of timestamps in the half-open
 * window divided by its length. 0 for an empty or inverted window.
 */
export function rateOverWindow(timestampsMs: readonly number[], fromMs: number, toMs: number): number {
  if (!(toMs > fromMs)) return 0;
  let n = 0;
  for (const t of timestampsMs) if (t >= fromMs && t < toMs) n++;
  return n / ((toMs - fromMs) / 1000);
}

/**
 * The window over which a run's rate counts as sustained: from the start plus a warm-up
 * (the pipeline filling) to the moment the load stopped (the last submission started,
 * so the drain of in-flight work does not flatter or hurt the rate). The warm-up is
 * `warmupFraction` of the run, at most `maxWarmupMs`.
 */
export function sustainedWindow(
  startMs: number,
  loadEndMs: number,
  warmupFraction = 0.1,
  maxWarmupMs = 10_000,
): { fromMs: number; toMs: number } {
  const warmup = Math.min(maxWarmupMs, Math.max(0, loadEndMs - startMs) * warmupFraction);
  return { fromMs: startMs + warmup, toMs: loadEndMs };
}

/** Counts per whole second from `startMs` (bucket i covers [start + i s, start + (i+1) s)). */
export function perSecond(timestampsMs: readonly number[], startMs: number, endMs: number): number[] {
  const buckets = Array.from({ length: Math.max(0, Math.ceil((endMs - startMs) / 1000)) }, () => 0);
  for (const t of timestampsMs) {
    const i = Math.floor((t - startMs) / 1000);
    if (i >= 0 && i < buckets.length) buckets[i] = (buckets[i] ?? 0) + 1;
  }
  return buckets;
}
