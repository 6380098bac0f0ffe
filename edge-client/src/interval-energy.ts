/**
 * Interval energies from the cumulative registers, import and export alike. A register's
 * value at any instant is interpolated linearly (rounded down) between the readings
 * around it, and an interval's energy is the difference of the register at its two
 * ends. Consequences, for each register:
 *
 * - a missed message loses no energy: the energy between the readings around the gap is
 *   spread over the intervals the gap covers, and the sum over a period is exactly the
 *   register difference between its ends;
 * - an interval with no message gets its share of the interpolation; if no reading
 *   after the boundary has arrived when the period is closed (meter silent), the
 *   register is held at the last reading: the energy is not lost but counted in the
 *   first period after the meter speaks again;
 * - before the first reading ever received, the register is taken as that first reading
 *   (energy before it is unknown, counted as 0); for the export register that is the
 *   first reading that carries one (readings without export register: export 0);
 * - the closing registers of a period are the opening registers of the next, persisted,
 *   so the chain of periods conserves energy even when later readings would interpolate
 *   differently.
 *
 * Net energy of an interval = import - export (may be negative); it is not formed here:
 * the circuit takes both and forms the net itself.
 */
import type { MeterReading } from './meter-message';

type Register = (r: MeterReading) => bigint | undefined;
const importRegister: Register = (r) => r.importWh;
const exportRegister: Register = (r) => r.exportWh;

/** Import register at time t, or undefined if there is no reading at all. `readings` sorted by ts. */
export function registerAt(readings: readonly MeterReading[], t: number): bigint | undefined {
  return valueAt(readings, t, importRegister);
}

/** Export register at time t, or undefined if no reading carries one. `readings` sorted by ts. */
export function exportRegisterAt(readings: readonly MeterReading[], t: number): bigint | undefined {
  // The reading log refuses a reading without export after one with it, so the readings
  // with an export register are one run at the end of the log.
  return valueAt(readings.filter((r) => r.exportWh !== undefined), t, exportRegister);
}

function valueAt(readings: readonly MeterReading[], t: number, value: Register): bigint | undefined {
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
  if (after !== undefined && after.ts === t) return value(after);
  if (before === undefined) return value(after as MeterReading);
  if (after === undefined) return value(before);
  const span = BigInt(after.ts - before.ts);
  const elapsed = BigInt(t - before.ts);
  const from = value(before) as bigint;
  return from + (((value(after) as bigint) - from) * elapsed) / span;
}

export interface PeriodEnergy {
  /** Imported energy of each interval, Wh (the name of the first version: the proving pipeline reads it). */
  energies: bigint[];
  /** Import register at each boundary (N+1), or undefined when no reading exists yet. */
  registers: bigint[] | undefined;
  /** Imported energy of each interval, Wh (the same array as `energies`). */
  importWh: bigint[];
  /** Exported energy of each interval, Wh (all 0 for a meter without an export register). */
  exportWh: bigint[];
  /** Export register at each boundary (N+1), or undefined when no reading carries one. */
  exportRegisters: bigint[] | undefined;
}

/**
 * Interval energies for the given boundaries. `openingRegister` / `openingExportRegister`
 * (the previous period's closing registers) pin the first boundary. Registers are made
 * non-decreasing, so every energy is >= 0.
 */
export function intervalEnergies(
  readings: readonly MeterReading[],
  boundaries: readonly number[],
  openingRegister?: bigint,
  openingExportRegister?: bigint,
): PeriodEnergy {
  const intervals = Math.max(0, boundaries.length - 1);
  const imports = registerSeries(readings, boundaries, openingRegister, importRegister);
  // Without an import register there is no reading at all: nothing is known of either.
  const withExport = imports === undefined ? [] : readings.filter((r) => r.exportWh !== undefined);
  const exports = withExport.length === 0 ? undefined : registerSeries(withExport, boundaries, openingExportRegister, exportRegister);
  const importWh = differences(imports, intervals);
  return { energies: importWh, registers: imports, importWh, exportWh: differences(exports, intervals), exportRegisters: exports };
}

function registerSeries(readings: readonly MeterReading[], boundaries: readonly number[], opening: bigint | undefined, value: Register): bigint[] | undefined {
  const raw = boundaries.map((b, i) => (i === 0 && opening !== undefined ? opening : valueAt(readings, b, value)));
  if (raw.some((r) => r === undefined)) return undefined;
  const registers: bigint[] = [];
  for (const r of raw as bigint[]) {
    const last = registers[registers.length - 1];
    registers.push(last !== undefined && r < last ? last : r);
  }
  return registers;
}

function differences(registers: bigint[] | undefined, intervals: number): bigint[] {
  if (registers === undefined) return new Array<bigint>(intervals).fill(0n);
  return registers.slice(1).map((r, i) => r - (registers[i] as bigint));
}
