// The circuit itself, on the small shape: values against the JS reference, every
// refusal the issue lists, and verification with its strict checks.

import assert from 'node:assert/strict';
import sinon from 'sinon';
import {
  CircuitArtifacts,
  DeviationInput,
  DeviationProof,
  VerificationKey,
  buildDeviationInput,
  canonicalSubmission,
  decodePublicSignals,
  ensureArtifacts,
  fingerprint,
  proveDeviation,
  readVerificationKey,
  requestCommitment,
  submissionHash,
  verifyDeviationProof,
} from '@flexproof/circuits';
import { expectCircuitError } from './helpers';
import { G2_TWIST_POINT_OUTSIDE_SUBGROUP, Q, R, referenceCommitment, referenceSignals } from './reference';

const ID = 'flexdev-v1-r4' as const;
const MAX = 2n ** 32n - 1n;

interface Case {
  prev: bigint;
  fingerprintSalt: bigint;
  period: number;
  readings: bigint[];
  profile: bigint[];
  commitmentSalt: bigint;
}

const baseCase = (over: Partial<Case> = {}): Case => ({
  prev: 123456789n,
  fingerprintSalt: 0xfeedfacecafebeefn * 2n ** 180n + 17n,
  period: 9,
  readings: [250n, 260n, 240n, 250n],
  profile: Array.from({ length: 24 }, (_, i) => BigInt(900 + 10 * i)),
  commitmentSalt: 0xabcdef0123456789n * 2n ** 170n + 5n,
  ...over,
});

const inputOf = (c: Case): DeviationInput =>
  buildDeviationInput({
    circuitId: ID,
    prevFingerprint: c.prev,
    periodIndex: c.period,
    readings: c.readings,
    requestProfile: c.profile,
    commitmentSalt: c.commitmentSalt,
    fingerprintSalt: c.fingerprintSalt,
  });

describe('circuits: hourly deviation proof (flexdev-v1-r4)', function () {
  let artifacts: CircuitArtifacts;
  let vk: VerificationKey;
  let reference: { c: Case; proof: DeviationProof };

  before(async function () {
    // Builds the small shape from nothing in about 2 minutes on 2 cores, else reuses the cache.
    this.timeout(15 * 60_000);
    artifacts = await ensureArtifacts(ID, { onProgress: (e) => console.log(`      [setup ${(e.elapsedMs / 1000).toFixed(1)}s] ${e.step}: ${e.message}`) });
    vk = readVerificationKey(artifacts);
    const c = baseCase();
    reference = { c, proof: await proveDeviation(ID, inputOf(c), artifacts) };
  });

  async function proveAndCheck(c: Case): Promise<DeviationProof> {
    const proof = await proveDeviation(ID, inputOf(c), artifacts);
    assert.deepEqual(proof.publicSignals, referenceSignals(c));
    assert.equal(await verifyDeviationProof(vk, proof.proof, proof.publicSignals), true);
    return proof;
  }

  describe('values (expected public signals from the JS reference)', () => {
    it('a period above the request: deviation = measured - requested, direction 1', async () => {
      const c = baseCase({ readings: [300n, 300n, 300n, 300n] }); // 1200 vs 990
      const { publicSignals } = await proveAndCheck(c);
      assert.deepEqual([decodePublicSignals(publicSignals).deviation, decodePublicSignals(publicSignals).direction], ['210', '1']);
    });

    it('a period below the request: deviation = requested - measured, direction 0', async () => {
      const c = baseCase({ readings: [100n, 100n, 100n, 100n] }); // 400 vs 990
      const decoded = decodePublicSignals((await proveAndCheck(c)).publicSignals);
      assert.deepEqual([decoded.deviation, decoded.direction], ['590', '0']);
    });

    it('a period on the request: deviation 0, direction 0', async () => {
      const c = baseCase({ readings: [250n, 240n, 250n, 250n] }); // 990 vs 990
      const decoded = decodePublicSignals((await proveAndCheck(c)).publicSignals);
      assert.deepEqual([decoded.deviation, decoded.direction], ['0', '0']);
    });

    it('zero readings', async () => {
      const decoded = decodePublicSignals((await proveAndCheck(baseCase({ readings: [0n, 0n, 0n, 0n] }))).publicSignals);
      assert.deepEqual([decoded.deviation, decoded.direction], ['990', '0']);
    });

    it('readings of 2^32 - 1 Wh, and a zero request', async () => {
      const profile = baseCase().profile;
      profile[9] = 0n;
      const decoded = decodePublicSignals((await proveAndCheck(baseCase({ readings: [MAX, MAX, MAX, MAX], profile }))).publicSignals);
      assert.deepEqual([decoded.deviation, decoded.direction], [(4n * MAX).toString(), '1']);
    });

    it('the largest request, 2^40 - 1 Wh', async () => {
      const profile = baseCase().profile;
      profile[9] = 2n ** 40n - 1n;
      const decoded = decodePublicSignals((await proveAndCheck(baseCase({ readings: [MAX, MAX, MAX, MAX], profile }))).publicSignals);
      assert.deepEqual([decoded.deviation, decoded.direction], [(2n ** 40n - 1n - 4n * MAX).toString(), '0']);
    });

    it('the first and the last period of the day pick their own request', async () => {
      const first = decodePublicSignals((await proveAndCheck(baseCase({ period: 0 }))).publicSignals);
      assert.deepEqual([first.periodIndex, first.deviation, first.direction], ['0', '100', '1']); // 1000 vs 900
      const last = decodePublicSignals((await proveAndCheck(baseCase({ period: 23 }))).publicSignals);
      assert.deepEqual([last.periodIndex, last.deviation, last.direction], ['23', '130', '0']); // 1000 vs 1130
    });

    it('field-sized chain head and salts (r - 1)', async () => {
      await proveAndCheck(baseCase({ prev: R - 1n, fingerprintSalt: R - 1n, commitmentSalt: R - 1n }));
    });

    it('chains: the new fingerprint of one period is the previous one of the next', async () => {
      const c1 = baseCase({ period: 3 });
      const p1 = await proveAndCheck(c1);
      const head = BigInt(decodePublicSignals(p1.publicSignals).newFingerprint);
      assert.equal(head, fingerprint(c1.prev, c1.fingerprintSalt, 3, c1.readings));
      await proveAndCheck(baseCase({ prev: head, period: 4, readings: [1n, 2n, 3n, 4n] }));
    });
  });

  describe('inputs the circuit refuses (WITNESS_FAILED), and the library refuses first', () => {
    // circom's witness calculator reports the failing template on console.error before
    // throwing; keep the test output readable (the code is what the tests assert).
    let quiet: sinon.SinonStub | undefined;
    beforeEach(() => (quiet = sinon.stub(console, 'error')));
    afterEach(() => quiet?.restore());

    it('a reading of 2^32', async () => {
      const c = baseCase({ readings: [2n ** 32n, 0n, 0n, 0n] });
      await expectCircuitError(() => inputOf(c), 'INPUT_OUT_OF_RANGE');
      const raw = inputOf(baseCase());
      raw.readings[0] = (2n ** 32n).toString();
      await expectCircuitError(() => proveDeviation(ID, raw, artifacts), 'WITNESS_FAILED');
    });

    it('a "negative" reading (r - 1) that would cancel another', async () => {
      const raw = inputOf(baseCase());
      raw.readings[0] = (R - 1n).toString();
      raw.readings[1] = (BigInt(raw.readings[1] as string) + 1n).toString();
      await expectCircuitError(() => proveDeviation(ID, raw, artifacts), 'WITNESS_FAILED');
    });

    it('a request value of 2^40, even when committed to', async () => {
      const raw = inputOf(baseCase());
      raw.requestProfile[9] = (2n ** 40n).toString();
      // Commit to the out-of-range profile, so that only the range check can refuse it.
      raw.requestCommitment = referenceCommitment(raw.requestProfile.map(BigInt), BigInt(raw.commitmentSalt)).toString();
      await expectCircuitError(() => proveDeviation(ID, raw, artifacts), 'WITNESS_FAILED');
    });

    it('period index 24 (and 31, which fits the 5-bit decomposition)', async () => {
      await expectCircuitError(() => inputOf(baseCase({ period: 24 })), 'INPUT_OUT_OF_RANGE');
      for (const period of ['24', '31', (R - 1n).toString()]) {
        const raw = inputOf(baseCase());
        raw.periodIndex = period;
        await expectCircuitError(() => proveDeviation(ID, raw, artifacts), 'WITNESS_FAILED');
      }
    });

    it('a wrong commitment', async () => {
      const raw = inputOf(baseCase());
      raw.requestCommitment = (BigInt(raw.requestCommitment) + 1n).toString();
      await expectCircuitError(() => proveDeviation(ID, raw, artifacts), 'WITNESS_FAILED');
      const c = baseCase();
      await expectCircuitError(
        () =>
          buildDeviationInput({
            circuitId: ID,
            prevFingerprint: c.prev,
            periodIndex: c.period,
            readings: c.readings,
            requestProfile: c.profile,
            commitmentSalt: c.commitmentSalt,
            fingerprintSalt: c.fingerprintSalt,
            requestCommitment: requestCommitment(c.profile, c.commitmentSalt + 1n),
          }),
        'COMMITMENT_MISMATCH',
      );
    });

    it('a wrong commitment salt, or a profile other than the committed one', async () => {
      const raw = inputOf(baseCase());
      raw.commitmentSalt = (BigInt(raw.commitmentSalt) + 1n).toString();
      await expectCircuitError(() => proveDeviation(ID, raw, artifacts), 'WITNESS_FAILED');
      const other = inputOf(baseCase());
      other.requestProfile[9] = '0';
      await expectCircuitError(() => proveDeviation(ID, other, artifacts), 'WITNESS_FAILED');
    });

    it('a wrong previous fingerprint: the proof does not verify against the ledger head', async () => {
      const ledgerHead = reference.c.prev;
      const c = baseCase({ prev: ledgerHead + 1n });
      const proof = await proveDeviation(ID, inputOf(c), artifacts);
      // The chaincode builds prevFingerprint from its own chain head, not from the submission.
      const asLedgerSees = [...proof.publicSignals];
      asLedgerSees[3] = ledgerHead.toString();
      assert.equal(await verifyDeviationProof(vk, proof.proof, asLedgerSees), false);
      // And its new head is not the one the readings give on the ledger's chain.
      assert.notEqual(decodePublicSignals(proof.publicSignals).newFingerprint, fingerprint(ledgerHead, c.fingerprintSalt, c.period, c.readings).toString());
    });

    it('a witness input of the wrong shape is refused before the circuit', async () => {
      const raw = inputOf(baseCase());
      await expectCircuitError(() => proveDeviation(ID, { ...raw, readings: raw.readings.slice(1) }, artifacts), 'INVALID_INPUT');
      await expectCircuitError(() => proveDeviation(ID, { ...raw, extra: '1' } as DeviationInput, artifacts), 'INVALID_INPUT');
      await expectCircuitError(() => proveDeviation(ID, { ...raw, periodIndex: '-1' }, artifacts), 'INVALID_INPUT');
      await expectCircuitError(() => proveDeviation(ID, { ...raw, prevFingerprint: R.toString() }, artifacts), 'INPUT_OUT_OF_RANGE');
      await expectCircuitError(() => proveDeviation('flexdev-v1-r60', raw, artifacts), 'INVALID_INPUT');
    });
  });

  describe('verification', () => {
    it('a proof verifies; changing any public signal makes it fail', async () => {
      const { proof, publicSignals } = reference.proof;
      assert.equal(await verifyDeviationProof(vk, proof, publicSignals), true);
      for (let i = 0; i < publicSignals.length; i++) {
        const changed = [...publicSignals];
        changed[i] = ((BigInt(changed[i] as string) + 1n) % R).toString();
        assert.equal(await verifyDeviationProof(vk, proof, changed), false, `signal ${i} changed`);
      }
      // Direction flipped with the same deviation.
      const flipped = [...publicSignals];
      flipped[2] = flipped[2] === '1' ? '0' : '1';
      assert.equal(await verifyDeviationProof(vk, proof, flipped), false);
    });

    it('concurrent verifications on the shared single-threaded curve each get their own answer', async () => {
      const { proof, publicSignals } = reference.proof;
      const tampered = [...publicSignals];
      tampered[1] = '12345';
      const expected = Array.from({ length: 12 }, (_, i) => i % 3 !== 0);
      const results = await Promise.all(expected.map((good) => verifyDeviationProof(vk, proof, good ? publicSignals : tampered)));
      assert.deepEqual(results, expected);
    });

    it('a proof for one enrollment does not verify against another enrollment commitment', async () => {
      const { proof, publicSignals } = reference.proof;
      const otherEnrollment = requestCommitment(reference.c.profile, reference.c.commitmentSalt + 1n);
      const sameProfileOtherSalt = [...publicSignals];
      sameProfileOtherSalt[4] = otherEnrollment.toString();
      assert.equal(await verifyDeviationProof(vk, proof, sameProfileOtherSalt), false);
      const otherProfile = reference.c.profile.map((v) => v + 1n);
      const otherProof = await proveDeviation(ID, inputOf(baseCase({ profile: otherProfile })), artifacts);
      const swapped = [...otherProof.publicSignals];
      swapped[4] = publicSignals[4] as string;
      assert.equal(await verifyDeviationProof(vk, otherProof.proof, swapped), false);
    });

    it('a proof does not verify with another proof swapped in', async () => {
      const other = await proveDeviation(ID, inputOf(baseCase({ readings: [1n, 1n, 1n, 1n] })), artifacts);
      assert.equal(await verifyDeviationProof(vk, other.proof, reference.proof.publicSignals), false);
    });

    it('rejects bad public signals before snarkjs runs (snarkjs itself would only return false)', async () => {
      const { proof, publicSignals } = reference.proof;
      const outOfField = [...publicSignals];
      outOfField[0] = (BigInt(publicSignals[0] as string) + R).toString(); // same value mod r
      await expectCircuitError(() => verifyDeviationProof(vk, proof, outOfField), 'PUBLIC_SIGNAL_OUT_OF_FIELD');
      const atOrder = [...publicSignals];
      atOrder[1] = R.toString();
      await expectCircuitError(() => verifyDeviationProof(vk, proof, atOrder), 'PUBLIC_SIGNAL_OUT_OF_FIELD');
      await expectCircuitError(() => verifyDeviationProof(vk, proof, publicSignals.slice(0, 5)), 'PUBLIC_SIGNAL_COUNT');
      await expectCircuitError(() => verifyDeviationProof(vk, proof, [...publicSignals, '0']), 'PUBLIC_SIGNAL_COUNT');
      const padded = [...publicSignals];
      padded[5] = `0${padded[5]}`;
      await expectCircuitError(() => verifyDeviationProof(vk, proof, padded), 'PUBLIC_SIGNAL_NOT_CANONICAL');
    });

    it('rejects malformed proofs before snarkjs runs, including pi_b outside the G2 subgroup', async () => {
      const { proof, publicSignals } = reference.proof;
      const copy = (): typeof proof => JSON.parse(JSON.stringify(proof)) as typeof proof;
      const offCurve = copy();
      offCurve.pi_a[1] = ((BigInt(offCurve.pi_a[1]) + 1n) % Q).toString();
      await expectCircuitError(() => verifyDeviationProof(vk, offCurve, publicSignals), 'MALFORMED_PROOF');
      const outside = copy();
      outside.pi_b = G2_TWIST_POINT_OUTSIDE_SUBGROUP.map((c) => [c[0], c[1]]) as typeof proof.pi_b;
      const error = await expectCircuitError(() => verifyDeviationProof(vk, outside, publicSignals), 'MALFORMED_PROOF');
      assert.equal(error.details.path, 'pi_b');
      await expectCircuitError(() => verifyDeviationProof(vk, { ...copy(), pi_c: undefined }, publicSignals), 'MALFORMED_PROOF');
      await expectCircuitError(() => verifyDeviationProof(vk, 'proof', publicSignals), 'MALFORMED_PROOF');
      await expectCircuitError(() => verifyDeviationProof({ ...vk, IC: vk.IC.slice(1) }, proof, publicSignals), 'MALFORMED_VERIFICATION_KEY');
    });

    it('a negated proof point (same x, y -> q - y) does not verify', async () => {
      const { proof, publicSignals } = reference.proof;
      const negated = JSON.parse(JSON.stringify(proof)) as typeof proof;
      negated.pi_a[1] = (Q - BigInt(negated.pi_a[1])).toString();
      assert.equal(await verifyDeviationProof(vk, negated, publicSignals), false);
    });

    it('leaves the process-wide snarkjs curve slot as it found it (no multi-threaded engine built)', async () => {
      const slot = globalThis as { curve_bn128?: unknown };
      const before = slot.curve_bn128;
      assert.equal(await verifyDeviationProof(vk, reference.proof.proof, reference.proof.publicSignals), true);
      assert.equal(slot.curve_bn128, before);
    });

    it('the submission hash covers the proof and every public signal', async () => {
      const { proof, publicSignals } = reference.proof;
      const text = canonicalSubmission(proof, publicSignals);
      assert.equal(JSON.parse(text).publicSignals.length, 6);
      const hash = submissionHash(proof, publicSignals);
      const changed = [...publicSignals];
      changed[1] = '1';
      assert.notEqual(submissionHash(proof, changed), hash);
      const other = await proveDeviation(ID, inputOf(reference.c), artifacts);
      // Groth16 proofs are randomised: the same statement proved twice signs differently.
      assert.deepEqual(other.publicSignals, publicSignals);
      assert.notEqual(submissionHash(other.proof, other.publicSignals), hash);
    });
  });
});
