import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  exportRegisterAt,
  intervalBoundaries,
  intervalEnergies,
  registerAt,
  type MeterReading,
  type PeriodTiming,
} from '@flexproof/edge-client';

const T0 = Date.parse('2026-06-01T00:00:00Z');
const timing: PeriodTiming = { startMs: T0, periodSeconds: 3600, graceSeconds: 900, intervalsPerPeriod: 4 };
const r = (minutes: number, registerWh: number): MeterReading => ({ ts: T0 + minutes * 60_000, importWh: BigInt(registerWh) });

describe('edge-client: interval energies from the register', () => {
  it('splits periods into the circuit shape, as the chaincode times them', () => {
    assert.deepEqual(intervalBoundaries(timing, 1), [60, 75, 90, 105, 120].map((m) => T0 + m * 60_000));
    assert.deepEqual(intervalBoundaries({ ...timing, periodSeconds: 10, intervalsPerPeriod: 3 }, 0), [T0, T0 + 3333, T0 + 6666, T0 + 10_000]);
  });

  it('takes register deltas at the boundaries, interpolating between readings', () => {
    const readings = [r(0, 1000), r(15, 1100), r(30, 1150), r(45, 1400), r(60, 1500)];
    assert.deepEqual(intervalEnergies(readings, intervalBoundaries(timing, 0)).energies, [100n, 50n, 250n, 100n]);
    assert.equal(registerAt(readings, T0 + 7.5 * 60_000), 1050n);
  });

  it('loses no energy when messages are missed: the gap is spread over the intervals it covers', () => {
    // The messages at 15, 30 and 45 minutes never arrived.
    const readings = [r(0, 1000), r(60, 1400)];
    const { energies } = intervalEnergies(readings, intervalBoundaries(timing, 0));
    assert.deepEqual(energies, [100n, 100n, 100n, 100n]);
  });

  it('holds the register when no reading after the boundary has arrived (meter silent); the next period gets the energy', () => {
    const first = [r(0, 1000), r(20, 1200)];
    const p0 = intervalEnergies(first, intervalBoundaries(timing, 0));
    assert.deepEqual(p0.energies, [150n, 50n, 0n, 0n]);
    assert.equal(p0.registers?.[4], 1200n);
    // The meter speaks again in period 1: its opening register is period 0's close.
    const later = [...first, r(100, 1600)];
    const p1 = intervalEnergies(later, intervalBoundaries(timing, 1), p0.registers?.[4]);
    const total = p1.energies.reduce((a, b) => a + b, 0n);
    assert.equal(total, registerAt(later, T0 + 120 * 60_000)! - 1200n);
    assert.equal(p0.energies.reduce((a, b) => a + b, 0n) + total, 1600n - 1000n);
  });

  it('gives zeros before any reading exists', () => {
    const { energies, registers } = intervalEnergies([], intervalBoundaries(timing, 0));
    assert.deepEqual(energies, [0n, 0n, 0n, 0n]);
    assert.equal(registers, undefined);
  });

  it('property: energies are non-negative and a chain of periods adds up to the register difference', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 900_000 }), fc.integer({ min: 0, max: 5000 })), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 600_000 }),
        (steps, firstOffset) => {
          let ts = T0 - firstOffset;
          let reg = 10_000;
          const readings: MeterReading[] = [];
          for (const [dt, de] of steps) {
            readings.push({ ts, importWh: BigInt(reg) });
            ts += dt;
            reg += de;
          }
          let opening: bigint | undefined;
          let sum = 0n;
          for (let p = 0; p < 3; p++) {
            const { energies, registers } = intervalEnergies(readings, intervalBoundaries(timing, p), opening);
            assert.ok(energies.every((e) => e >= 0n));
            sum += energies.reduce((a, b) => a + b, 0n);
            opening = registers?.[registers.length - 1];
          }
          const start = registerAt(readings, T0)!;
          assert.equal(sum, opening! - start);
          assert.equal(opening, registerAt(readings, T0 + 3 * 3_600_000));
        },
      ),
    );
  });

  it('derives exported energy per interval from the export register; import and export may both move in one interval', () => {
    const x = (minutes: number, importWh: number, exportWh: number): MeterReading => ({ ts: T0 + minutes * 60_000, importWh: BigInt(importWh), exportWh: BigInt(exportWh) });
    // Solar at noon: export rises, import barely moves; at 45 the sun goes.
    const readings = [x(0, 1000, 5000), x(15, 1010, 5400), x(30, 1010, 5900), x(45, 1300, 6000), x(60, 1700, 6000)];
    const p = intervalEnergies(readings, intervalBoundaries(timing, 0));
    assert.deepEqual(p.importWh, [10n, 0n, 290n, 400n]);
    assert.deepEqual(p.exportWh, [400n, 500n, 100n, 0n]);
    assert.deepEqual(p.energies, p.importWh, 'the first version name is the import view');
    assert.deepEqual(p.exportRegisters, [5000n, 5400n, 5900n, 6000n, 6000n]);
    assert.equal(exportRegisterAt(readings, T0 + 7.5 * 60_000), 5200n);
    const net = p.importWh.map((imp, i) => imp - p.exportWh[i]!);
    assert.deepEqual(net, [-390n, -500n, 190n, 400n]);
  });

  it('a meter without an export register exports 0; the export register counts from its first reading', () => {
    const plain = [r(0, 1000), r(60, 1400)];
    const p = intervalEnergies(plain, intervalBoundaries(timing, 0));
    assert.deepEqual(p.exportWh, [0n, 0n, 0n, 0n]);
    assert.equal(p.exportRegisters, undefined);
    const upgraded: MeterReading[] = [r(0, 1000), { ts: T0 + 30 * 60_000, importWh: 1200n, exportWh: 800n }, { ts: T0 + 60 * 60_000, importWh: 1400n, exportWh: 1000n }];
    assert.deepEqual(intervalEnergies(upgraded, intervalBoundaries(timing, 0)).exportWh, [0n, 0n, 100n, 100n]);
    assert.deepEqual(intervalEnergies([], intervalBoundaries(timing, 0)).exportWh, [0n, 0n, 0n, 0n]);
  });

  it('property: the export chain of periods adds up to the export register difference, like import', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 900_000 }), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 5000 })), { minLength: 1, maxLength: 60 }),
        (steps) => {
          let ts = T0 - 1000;
          let imp = 10_000;
          let exp = 3_000;
          const readings: MeterReading[] = [];
          for (const [dt, di, de] of steps) {
            readings.push({ ts, importWh: BigInt(imp), exportWh: BigInt(exp) });
            ts += dt;
            imp += di;
            exp += de;
          }
          let openImport: bigint | undefined;
          let openExport: bigint | undefined;
          let sumImport = 0n;
          let sumExport = 0n;
          for (let p = 0; p < 3; p++) {
            const e = intervalEnergies(readings, intervalBoundaries(timing, p), openImport, openExport);
            assert.ok(e.exportWh.every((v) => v >= 0n) && e.importWh.every((v) => v >= 0n));
            sumImport += e.importWh.reduce((a, b) => a + b, 0n);
            sumExport += e.exportWh.reduce((a, b) => a + b, 0n);
            openImport = e.registers?.[4];
            openExport = e.exportRegisters?.[4];
          }
          assert.equal(sumExport, openExport! - exportRegisterAt(readings, T0)!);
          assert.equal(openExport, exportRegisterAt(readings, T0 + 3 * 3_600_000));
          assert.equal(sumImport, openImport! - registerAt(readings, T0)!);
        },
      ),
    );
  });
});
