import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CIRCUIT_IDS,
  SCALAR_FIELD_ORDER,
  buildDeviationInput,
  circuitShape,
  deriveSalt,
  expectedPublicSignals,
  fingerprint,
  periodDeviation,
  randomSalt,
  requestCommitment,
} from '@flexproof/circuits';
import { expectCircuitError } from './helpers';
import { R, referenceCommitment, referenceDeviation, referenceFingerprint, referenceSignals } from './reference';

const MAX_READING = 2n ** 32n - 1n;
const profileOf = (f: (i: number) => bigint): bigint[] => Array.from({ length: 24 }, (_, i) => f(i));

describe('circuits: hashing and witness input (JS only)', () => {
  it('uses the BN254 scalar field order and the shapes of both versions', () => {
    assert.equal(SCALAR_FIELD_ORDER, R);
    assert.deepEqual([...CIRCUIT_IDS], ['flexdev-v1-r4', 'flexdev-v1-r60', 'flexnet-v2-r4', 'flexnet-v2-r60']);
    assert.deepEqual(circuitShape('flexdev-v1-r4'), { readingsPerPeriod: 4, periodsPerDay: 24, kind: 'consumption' });
    assert.deepEqual(circuitShape('flexdev-v1-r60'), { readingsPerPeriod: 60, periodsPerDay: 24, kind: 'consumption' });
    assert.deepEqual(circuitShape('flexnet-v2-r4'), { readingsPerPeriod: 4, periodsPerDay: 24, kind: 'net' });
    assert.deepEqual(circuitShape('flexnet-v2-r60'), { readingsPerPeriod: 60, periodsPerDay: 24, kind: 'net' });
  });

  it('computes the request commitment as the reference does, for any profile and salt', () => {
    const energy = fc.bigInt({ min: 0n, max: 2n ** 40n - 1n });
    fc.assert(
      fc.property(fc.array(energy, { minLength: 24, maxLength: 24 }), fc.bigInt({ min: 0n, max: R - 1n }), (profile, salt) => {
        assert.equal(requestCommitment(profile, salt), referenceCommitment(profile, salt));
      }),
      { numRuns: 25 },
    );
  });

  it('computes the fingerprint chain as the reference does, for both shapes and boundary readings', () => {
    const reading = fc.oneof(fc.constantFrom(0n, MAX_READING), fc.bigInt({ min: 0n, max: MAX_READING }));
    for (const n of [4, 60]) {
      fc.assert(
        fc.property(
          fc.array(reading, { minLength: n, maxLength: n }),
          fc.bigInt({ min: 0n, max: R - 1n }),
          fc.bigInt({ min: 0n, max: R - 1n }),
          fc.integer({ min: 0, max: 23 }),
          (readings, prev, salt, period) => {
            assert.equal(fingerprint(prev, salt, period, readings), referenceFingerprint(prev, salt, period, readings));
          },
        ),
        { numRuns: 10 },
      );
    }
  });

  it('binds the fingerprint to salt, period, previous head, and the order of readings', () => {
    const readings = [1n, 2n, 3n, 4n];
    const base = fingerprint(7n, 11n, 3, readings);
    assert.notEqual(fingerprint(7n, 12n, 3, readings), base);
    assert.notEqual(fingerprint(7n, 11n, 4, readings), base);
    assert.notEqual(fingerprint(8n, 11n, 3, readings), base);
    assert.notEqual(fingerprint(7n, 11n, 3, [2n, 1n, 3n, 4n]), base);
  });

  it('accepts bigint, safe integers and decimal strings alike', () => {
    assert.equal(fingerprint('7', 11, 3, ['1', 2, 3n, '4']), fingerprint(7n, 11n, 3, [1n, 2n, 3n, 4n]));
  });

  it('rejects out-of-range values with INPUT_OUT_OF_RANGE and non-integers with INVALID_INPUT', async () => {
    const profile = profileOf(() => 0n);
    await expectCircuitError(() => fingerprint(0n, 0n, 0, [2n ** 32n, 0n, 0n, 0n]), 'INPUT_OUT_OF_RANGE');
    await expectCircuitError(() => fingerprint(0n, 0n, 0, [-1n, 0n, 0n, 0n]), 'INPUT_OUT_OF_RANGE');
    await expectCircuitError(() => fingerprint(0n, 0n, 24, [0n, 0n, 0n, 0n]), 'INPUT_OUT_OF_RANGE');
    await expectCircuitError(() => fingerprint(R, 0n, 0, [0n, 0n, 0n, 0n]), 'INPUT_OUT_OF_RANGE');
    await expectCircuitError(() => fingerprint(0n, R, 0, [0n, 0n, 0n, 0n]), 'INPUT_OUT_OF_RANGE');
    await expectCircuitError(() => fingerprint(0n, 0n, 0, [1.5, 0n, 0n, 0n]), 'INVALID_INPUT');
    await expectCircuitError(() => fingerprint(0n, 0n, 0, ['0x10', 0n, 0n, 0n]), 'INVALID_INPUT');
    await expectCircuitError(() => fingerprint(0n, 0n, 0, ['01', 0n, 0n, 0n]), 'INVALID_INPUT');
    await expectCircuitError(() => requestCommitment(profileOf((i) => (i === 5 ? 2n ** 40n : 0n)), 1n), 'INPUT_OUT_OF_RANGE');
    await expectCircuitError(() => requestCommitment(profile.slice(1), 1n), 'INVALID_INPUT');
    await expectCircuitError(() => requestCommitment(profile, R), 'INPUT_OUT_OF_RANGE');
  });

  it('derives deviation and direction: above, below and equal', () => {
    const profile = profileOf((i) => BigInt(1000 * i));
    assert.deepEqual(periodDeviation([300n, 300n, 300n, 300n], profile, 1), { measured: 1200n, requested: 1000n, deviation: 200n, direction: 1 });
    assert.deepEqual(periodDeviation([200n, 200n, 200n, 200n], profile, 1), { measured: 800n, requested: 1000n, deviation: 200n, direction: 0 });
    assert.deepEqual(periodDeviation([250n, 250n, 250n, 250n], profile, 1), { measured: 1000n, requested: 1000n, deviation: 0n, direction: 0 });
    const r = referenceDeviation([250n, 250n, 250n, 251n], profile, 1);
    assert.deepEqual(r, { deviation: 1n, direction: 1n });
  });

  it('makes random salts of at most 248 bits, all different, below the field order', () => {
    const salts = Array.from({ length: 64 }, () => randomSalt());
    assert.equal(new Set(salts).size, salts.length);
    for (const s of salts) assert.ok(s >= 0n && s < 2n ** 248n && s < R);
    // 64 draws of 248 bits: the top byte is never zero in all of them unless the source is broken.
    assert.ok(salts.some((s) => s >= 2n ** 240n));
  });

  it('derives salts deterministically per secret and context, and refuses short secrets', async () => {
    const secret = Buffer.alloc(32, 7);
    assert.equal(deriveSalt(secret, 'meter-1/2025-06-01/13'), deriveSalt(secret, 'meter-1/2025-06-01/13'));
    assert.notEqual(deriveSalt(secret, 'meter-1/2025-06-01/13'), deriveSalt(secret, 'meter-1/2025-06-01/14'));
    assert.notEqual(deriveSalt(secret, 'x'), deriveSalt(Buffer.alloc(32, 8), 'x'));
    assert.ok(deriveSalt(secret, 'x') < 2n ** 248n);
    await expectCircuitError(() => deriveSalt(Buffer.alloc(15), 'x'), 'INVALID_INPUT');
  });

  it('builds the witness input as decimal strings and the expected public signals', async () => {
    const params = {
      circuitId: 'flexdev-v1-r4' as const,
      prevFingerprint: 5n,
      periodIndex: 23,
      readings: [0n, MAX_READING, 1n, 2n],
      requestProfile: profileOf((i) => BigInt(i)),
      commitmentSalt: 99n,
      fingerprintSalt: 98n,
    };
    const input = buildDeviationInput(params);
    assert.deepEqual(input.readings, ['0', '4294967295', '1', '2']);
    assert.equal(input.periodIndex, '23');
    assert.equal(input.requestCommitment, referenceCommitment(params.requestProfile, 99n).toString());
    const expected = expectedPublicSignals(params);
    assert.deepEqual(
      Object.values(expected),
      referenceSignals({ prev: 5n, fingerprintSalt: 98n, period: 23, readings: params.readings, profile: params.requestProfile, commitmentSalt: 99n }),
    );
    await expectCircuitError(() => buildDeviationInput({ ...params, readings: [1n, 2n, 3n] }), 'INVALID_INPUT');
    await expectCircuitError(() => buildDeviationInput({ ...params, circuitId: 'flexdev-v1-r5' as never }), 'INVALID_CIRCUIT_ID');
    await expectCircuitError(() => buildDeviationInput({ ...params, requestCommitment: 1n }), 'COMMITMENT_MISMATCH');
    assert.equal(buildDeviationInput({ ...params, requestCommitment: input.requestCommitment }).requestCommitment, input.requestCommitment);
  });
});
