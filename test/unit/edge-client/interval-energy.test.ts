import assert from 'node:assert/strict';
import fc from 'fast-check';
import { intervalEnergies, registerAt } from '../../../edge-client/src/interval-energy';
import { intervalBoundaries, type PeriodTiming } from '../../../edge-client/src/period-clock';
import type { MeterReading } from '../../../edge-client/src/meter-message';

const T0 = Date.parse('2026-06-01T00:00:00Z');
const timing: PeriodTiming = { startMs: T0, periodSeconds: 3600, graceSeconds: 900, intervalsPerPeriod: 4 };
const r = (minutes: number, registerWh: number): MeterReading => ({ ts: T0 + minutes * 60_000, registerWh: BigInt(registerWh) });

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
            readings.push({ ts, registerWh: BigInt(reg) });
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
});
