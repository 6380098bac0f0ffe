// The v2 circuit (signed net energy) on its small shape, flexnet-v2-r4: real proofs whose
// public signals come from the independent reference, the boundaries of the signed
// encoding and of the registers, refusals by the circuit of witnesses built by hand
// (the library would refuse them first), and verification with both verifiers.

import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sinon from 'sinon';
import {
  CircuitArtifacts,
  DeviationInput,
  DeviationProof,
  NetDeviationInput,
  VerificationKey,
  buildNetDeviationInput,
  decodePublicSignals,
  ensureArtifacts,
  netRequestCommitment,
  proveDeviation,
  readVerificationKey,
  verifyDeviationProof,
  verifyDeviationProofPrepared,
} from '@flexproof/circuits';
import { expectCircuitError } from './helpers';
import { NET_OFFSET, R, referenceCommitment, referenceNetCommitment, referenceNetSignals } from './reference';

const ID = 'flexnet-v2-r4' as const;
const MAX = 2n ** 32n - 1n;
const LOWEST = -(2n ** 39n);
const HIGHEST = 2n ** 39n - 1n;

interface Case {
  prev: bigint;
  fingerprintSalt: bigint;
  period: number;
  importWh: bigint[];
  exportWh: bigint[];
  /** Signed Wh per hour. */
  profile: bigint[];
  commitmentSalt: bigint;
}

// A noon hour of a household with solar: 50 Wh imported, 1,450 Wh exported (net -1,400 Wh)
// against a requested net of -1,500 Wh.
const baseCase = (over: Partial<Case> = {}): Case => ({
  prev: 987654321n,
  fingerprintSalt: 0xfeedfacecafebeefn * 2n ** 180n + 23n,
  period: 12,
  importWh: [20n, 0n, 0n, 30n],
  exportWh: [300n, 420n, 450n, 280n],
  profile: Array.from({ length: 24 }, (_, h) => BigInt(h >= 10 && h <= 14 ? -1500 : 600 + 10 * h)),
  commitmentSalt: 0xabcdef0123456789n * 2n ** 170n + 9n,
  ...over,
});

const withRequest = (period: number, value: bigint): bigint[] => {
  const profile = baseCase().profile;
  profile[period] = value;
  return profile;
};

const inputOf = (c: Case): NetDeviationInput =>
  buildNetDeviationInput({
    circuitId: ID,
    prevFingerprint: c.prev,
    periodIndex: c.period,
    importWh: c.importWh,
    exportWh: c.exportWh,
    requestProfile: c.profile,
    commitmentSalt: c.commitmentSalt,
    fingerprintSalt: c.fingerprintSalt,
  }) as NetDeviationInput;

describe('circuits: signed net energy proof (flexnet-v2-r4)', function () {
  let artifacts: CircuitArtifacts;
  let vk: VerificationKey;
  let v1Key: VerificationKey;
  let reference: { c: Case; proof: DeviationProof };

  before(async function () {
    // Built by the default set-up; from nothing about 1 minute on 2 cores (the 2^12 powers
    // of tau are shared with v1).
    this.timeout(15 * 60_000);
    const log = (e: { elapsedMs: number; step: string; message: string }): void => console.log(`      [setup ${(e.elapsedMs / 1000).toFixed(1)}s] ${e.step}: ${e.message}`);
    artifacts = await ensureArtifacts(ID, { onProgress: log });
    vk = readVerificationKey(artifacts);
    v1Key = readVerificationKey(await ensureArtifacts('flexdev-v1-r4', { onProgress: log }));
    const c = baseCase();
    reference = { c, proof: await proveDeviation(ID, inputOf(c), artifacts) };
  });

  async function proveAndCheck(c: Case): Promise<{ deviation: string; direction: string }> {
    const proof = await proveDeviation(ID, inputOf(c), artifacts);
    assert.deepEqual(proof.publicSignals, referenceNetSignals(c));
    assert.equal(await verifyDeviationProof(vk, proof.proof, proof.publicSignals), true);
    assert.equal(await verifyDeviationProofPrepared(vk, proof.proof, proof.publicSignals), true);
    const { deviation, direction } = decodePublicSignals(proof.publicSignals);
    return { deviation, direction };
  }

  describe('values (expected public signals from the JS reference)', () => {
    it('a net-exporting hour above its negative request: measured -1,400 vs requested -1,500', async () => {
      assert.deepEqual(await proveAndCheck(baseCase()), { deviation: '100', direction: '1' });
    });

    it('measured == requested: deviation 0, direction 0', async () => {
      assert.deepEqual(await proveAndCheck(baseCase({ profile: withRequest(12, -1400n) })), { deviation: '0', direction: '0' });
    });

    it('measured = requested + 1 and requested - 1', async () => {
      assert.deepEqual(await proveAndCheck(baseCase({ profile: withRequest(12, -1401n) })), { deviation: '1', direction: '1' });
      assert.deepEqual(await proveAndCheck(baseCase({ profile: withRequest(12, -1399n) })), { deviation: '1', direction: '0' });
    });

    it('an all-export hour (no import) against a positive request', async () => {
      const c = baseCase({ importWh: [0n, 0n, 0n, 0n], exportWh: [100n, 200n, 300n, 400n], profile: withRequest(12, 250n) });
      assert.deepEqual(await proveAndCheck(c), { deviation: '1250', direction: '0' });
    });

    it('a consuming hour (no export) against a negative request crosses zero', async () => {
      const c = baseCase({ importWh: [100n, 100n, 100n, 100n], exportWh: [0n, 0n, 0n, 0n] });
      assert.deepEqual(await proveAndCheck(c), { deviation: '1900', direction: '1' });
    });

    it('the most negative request, -(2^39), against the largest import: the widest gap above', async () => {
      const c = baseCase({ importWh: [MAX, MAX, MAX, MAX], exportWh: [0n, 0n, 0n, 0n], profile: withRequest(12, LOWEST) });
      assert.deepEqual(await proveAndCheck(c), { deviation: (4n * MAX + 2n ** 39n).toString(), direction: '1' });
    });

    it('the most positive request, 2^39 - 1, against the largest export: the widest gap below', async () => {
      const c = baseCase({ importWh: [0n, 0n, 0n, 0n], exportWh: [MAX, MAX, MAX, MAX], profile: withRequest(12, HIGHEST) });
      assert.deepEqual(await proveAndCheck(c), { deviation: (HIGHEST + 4n * MAX).toString(), direction: '0' });
    });

    it('both extremes in one profile, and 2^32 - 1 in both registers of one interval', async () => {
      const profile = withRequest(0, LOWEST);
      profile[23] = HIGHEST;
      const c = baseCase({ period: 0, profile, importWh: [MAX, 0n, 0n, 0n], exportWh: [MAX, 0n, 0n, 1n] });
      assert.deepEqual(await proveAndCheck(c), { deviation: (2n ** 39n - 1n).toString(), direction: '1' });
      assert.deepEqual(await proveAndCheck({ ...c, period: 23 }), { deviation: (HIGHEST + 1n).toString(), direction: '0' });
    });

    it('random signed profiles and registers agree with the reference', async () => {
      for (let run = 0; run < 3; run++) {
        const energy = (): bigint => BigInt(randomInt(2 ** 24));
        const c = baseCase({
          period: randomInt(24),
          importWh: Array.from({ length: 4 }, energy),
          exportWh: Array.from({ length: 4 }, energy),
          profile: Array.from({ length: 24 }, () => BigInt(randomInt(2 ** 26)) - 2n ** 25n),
        });
        await proveAndCheck(c);
      }
    });
  });

  describe('witnesses the circuit refuses (WITNESS_FAILED), built by hand past the library', () => {
    // circom's witness calculator reports the failing template on console.error.
    let quiet: sinon.SinonStub | undefined;
    beforeEach(() => (quiet = sinon.stub(console, 'error')));
    afterEach(() => quiet?.restore());

    /** The raw input with profile entry `period` set to an encoded value, committed to so that only the range check can refuse it. */
    const withRawEncoding = (encoded: bigint): NetDeviationInput => {
      const raw = inputOf(baseCase());
      raw.requestProfile[12] = encoded.toString();
      const salt = BigInt(raw.commitmentSalt);
      // The commitment over the raw encoded values (the reference takes signed values).
      raw.requestCommitment = referenceNetCommitment(raw.requestProfile.map((e) => BigInt(e) - NET_OFFSET), salt).toString();
      return raw;
    };

    it('the encodings of the extremes pass, their neighbours outside the range do not', async () => {
      // Positive control: the raw path itself is sound (a committed in-range value proves).
      for (const encoded of [0n, 2n ** 40n - 1n]) {
        const proof = await proveDeviation(ID, withRawEncoding(encoded), artifacts);
        assert.equal(await verifyDeviationProof(vk, proof.proof, proof.publicSignals), true);
      }
      // v = 2^39 -> 2^40; v = -(2^39) - 1 -> -1, i.e. r - 1 in the field.
      for (const encoded of [2n ** 40n, R - 1n, 2n ** 41n]) {
        await expectCircuitError(() => proveDeviation(ID, withRawEncoding(encoded), artifacts), 'WITNESS_FAILED');
      }
    });

    it('a reading of 2^32 in either register', async () => {
      for (const register of ['importWh', 'exportWh'] as const) {
        const raw = inputOf(baseCase());
        raw[register][1] = (2n ** 32n).toString();
        await expectCircuitError(() => proveDeviation(ID, raw, artifacts), 'WITNESS_FAILED');
      }
    });

    it('a "negative" export (r - 1) that would turn into an import', async () => {
      const raw = inputOf(baseCase());
      raw.exportWh[0] = (R - 1n).toString();
      raw.importWh[0] = (BigInt(raw.importWh[0] as string) + 301n).toString();
      await expectCircuitError(() => proveDeviation(ID, raw, artifacts), 'WITNESS_FAILED');
    });

    it('a v1 commitment to the same profile, a wrong salt, and period 24', async () => {
      const c = baseCase();
      // The v1 commitment of the very field elements the circuit reads.
      const v1Commitment = inputOf(c);
      v1Commitment.requestCommitment = referenceCommitment(c.profile.map((v) => v + NET_OFFSET), c.commitmentSalt).toString();
      await expectCircuitError(() => proveDeviation(ID, v1Commitment, artifacts), 'WITNESS_FAILED');
      const salt = inputOf(c);
      salt.commitmentSalt = (c.commitmentSalt + 1n).toString();
      await expectCircuitError(() => proveDeviation(ID, salt, artifacts), 'WITNESS_FAILED');
      const period = inputOf(c);
      period.periodIndex = '24';
      await expectCircuitError(() => proveDeviation(ID, period, artifacts), 'WITNESS_FAILED');
    });

    it('an input of the other version is refused by name before the circuit', async () => {
      const raw = inputOf(baseCase());
      const { importWh, exportWh: _exports, ...rest } = raw;
      const v1Shaped = { ...rest, readings: importWh } as DeviationInput;
      await expectCircuitError(() => proveDeviation(ID, v1Shaped, artifacts), 'INVALID_INPUT');
      await expectCircuitError(() => proveDeviation('flexdev-v1-r4', raw), 'INVALID_INPUT');
      await expectCircuitError(() => proveDeviation(ID, { ...raw, exportWh: raw.exportWh.slice(1) }, artifacts), 'INVALID_INPUT');
    });
  });

  describe('verification', () => {
    it('the artifacts are the v2 template at this shape, with the six public signals of v1', () => {
      assert.match(readFileSync(path.join(artifacts.dir, 'circuit.circom'), 'utf8'), /include "net-deviation\.circom";\ncomponent main \{public \[prevFingerprint, requestCommitment, periodIndex\]\} = NetDeviation\(4\);/);
      assert.equal(artifacts.manifest.publicSignals, 6);
      assert.equal(vk.nPublic, 6);
      assert.equal(artifacts.manifest.constraints, 3375);
    });

    it('changing any public signal, or flipping the direction, makes the proof fail', async () => {
      const { proof, publicSignals } = reference.proof;
      assert.equal(await verifyDeviationProof(vk, proof, publicSignals), true);
      for (let i = 0; i < publicSignals.length; i++) {
        const changed = [...publicSignals];
        changed[i] = ((BigInt(changed[i] as string) + 1n) % R).toString();
        assert.equal(await verifyDeviationProof(vk, proof, changed), false, `signal ${i} changed`);
        assert.equal(await verifyDeviationProofPrepared(vk, proof, changed), false, `signal ${i} changed (prepared)`);
      }
      const flipped = [...publicSignals];
      flipped[2] = flipped[2] === '1' ? '0' : '1';
      assert.equal(await verifyDeviationProof(vk, proof, flipped), false);
    });

    it('a v2 proof does not verify under the v1 key (same six signals, another circuit), and carries the v2 commitment', async () => {
      const { proof, publicSignals } = reference.proof;
      assert.equal(await verifyDeviationProof(v1Key, proof, publicSignals), false);
      assert.equal(await verifyDeviationProofPrepared(v1Key, proof, publicSignals), false);
      const c = reference.c;
      assert.equal(publicSignals[4], netRequestCommitment(c.profile, c.commitmentSalt).toString());
    });

    it('the same net energy from other registers gives another fingerprint (the chain covers both)', async () => {
      const other = await proveDeviation(ID, inputOf(baseCase({ importWh: [120n, 100n, 100n, 130n], exportWh: [400n, 520n, 550n, 380n] })), artifacts);
      const a = decodePublicSignals(reference.proof.publicSignals);
      const b = decodePublicSignals(other.publicSignals);
      assert.deepEqual([b.deviation, b.direction], [a.deviation, a.direction]);
      assert.notEqual(b.newFingerprint, a.newFingerprint);
      // And a proof of the one does not verify with the other's fingerprint.
      const swapped = [...other.publicSignals];
      swapped[0] = a.newFingerprint;
      assert.equal(await verifyDeviationProof(vk, other.proof, swapped), false);
    });
  });
});
