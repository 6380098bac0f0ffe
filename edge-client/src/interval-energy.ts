/**
 * Interval energies from the cumulative register. The register value at any instant is
 * interpolated linearly (rounded down) between the readings around it, and an interval's
 * energy is the difference of the register at its two ends. Consequences:
 *
 * - a missed message loses no energy: the energy between the readings around the gap is
 *   spread over the intervals the gap covers, and the sum over a period is exactly the
 *   register difference between its ends;
 * - an interval with no message gets its share of the interpolation; if no reading
 *   after the boundary has arrived when the period is closed (meter silent), the
 *   register is held at the last reading: the energy is not lost but counted in the
 *   first period after the meter speaks again;
 * - before the first reading ever received, the register is taken as that first reading
 *   (energy before it is unknown, counted as 0);
 * - the closing register of a period is the opening register of the next, persisted, so
 *   the chain of periods conserves energy even when later readings would interpolate
 *   differently.
 */
import type { MeterReading } from './meter-message';

/** Register at time t, or undefined if there is no reading at all. `readings` sorted by ts. */
export function registerAt(readings: readonly MeterReading[], t: number): bigint | undefined {
  if (readings.length === 0) return undefined;
  // First reading with ts >= t.
  let lo = 0;
  let hi = readings.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((readings[mid] as MeterReading).ts < t) lo = mid + 1;
    else hi = mid;
  }
  const after = readings[lo];
  const before = lo > 0 ? readings[lo - 1] : undefined;
  if (after !== undefined && after.ts === t) return after.registerWh;
  if (before === undefined) return (after as MeterReading).registerWh;
  if (after === undefined) return before.registerWh;
  const span = BigInt(after.ts - before.ts);
  const elapsed = BigInt(t - before.ts);
  return before.registerWh + ((after.registerWh - before.registerWh) * elapsed) / span;
}

export interface PeriodEnergy {
  /** Energy of each interval, Wh. */
  energies: bigint[];
  /** Register at each boundary (N+1), or undefined when no reading exists yet. */
  registers: bigint[] | undefined;
}

/**
 * Interval energies for the given boundaries. `openingRegister` (the previous period's
 * closing register) pins the first boundary. Registers are made non-decreasing, so every
 * energy is >= 0.
 */
export function intervalEnergies(
  readings: readonly MeterReading[],
  boundaries: readonly number[],
  openingRegister?: bigint,
): PeriodEnergy {
  const raw = boundaries.map((b, i) => (i === 0 && openingRegister !== undefined ? openingRegister : registerAt(readings, b)));
  if (raw.some((r) => r === undefined)) {
    return { energies: new Array<bigint>(Math.max(0, boundaries.length - 1)).fill(0n), registers: undefined };
  }
  const registers: bigint[] = [];
  for (const r of raw as bigint[]) {
    const last = registers[registers.length - 1];
    registers.push(last !== undefined && r < last ? last : r);
  }
  const energies = registers.slice(1).map((r, i) => r - (registers[i] as bigint));
  return { energies, registers };
}
