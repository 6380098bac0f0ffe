/**
 * The period clock of an enrollment, as the chaincode defines it: period p covers
 * [start + p·len, start + (p+1)·len), may be submitted from its end until end + grace.
 * Interval i of N covers [start(p) + ⌊i·len/N⌋, start(p) + ⌊(i+1)·len/N⌋) in ms.
 */
import { PERIODS_PER_DAY } from '@flexproof/circuits';

export interface PeriodTiming {
  startMs: number;
  periodSeconds: number;
  graceSeconds: number;
  /** Readings (intervals) per period: the circuit shape. */
  intervalsPerPeriod: number;
}

export const PERIOD_COUNT = PERIODS_PER_DAY;

export function periodStartMs(t: PeriodTiming, p: number): number {
  return t.startMs + p * t.periodSeconds * 1000;
}

export function periodEndMs(t: PeriodTiming, p: number): number {
  return periodStartMs(t, p + 1);
}

export function periodDeadlineMs(t: PeriodTiming, p: number): number {
  return periodEndMs(t, p) + t.graceSeconds * 1000;
}

/** The N+1 interval boundaries of period p, first = start, last = end. */
export function intervalBoundaries(t: PeriodTiming, p: number): number[] {
  const start = periodStartMs(t, p);
  const lengthMs = t.periodSeconds * 1000;
  const n = t.intervalsPerPeriod;
  return Array.from({ length: n + 1 }, (_, i) => start + Math.floor((i * lengthMs) / n));
}

/** The period a time falls in, or undefined outside the day. */
export function periodAt(t: PeriodTiming, ms: number): number | undefined {
  if (ms < t.startMs) return undefined;
  const p = Math.floor((ms - t.startMs) / (t.periodSeconds * 1000));
  return p < PERIOD_COUNT ? p : undefined;
}
