// Prepared and batched Groth16 verification against the reference path (strict checks +
// snarkjs's groth16.verify, i.e. verifyDeviationProof), on real proofs of the small shape:
// a few proofs are made once and every case is a variant of them.

import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BatchItem,
  BatchVerdict,
  CircuitError,
  DeviationProof,
  PreparedVerificationKey,
  VerificationKey,
  batchCoefficients,
  buildDeviationInput,
  ensureArtifacts,
  prepareVerificationKey,
  proveDeviation,
  readVerificationKey,
  verifyBatch,
  verifyBatchDetailed,
  verifyDeviationProof,
  verifyDeviationProofPrepared,
  verifyPrepared,
} from '@flexproof/circuits';
import { expectCircuitError } from './helpers';
import { G1_GENERATOR, G2_GENERATOR, G2_TWIST_POINT_OUTSIDE_SUBGROUP, Q, R, twistPointFromSeed, twistPointJson, twistTimes } from './reference';

const ID = 'flexdev-v1-r4' as const;
const COFACTOR_G2 = 2n * Q - R; // #E'(Fq2) = r · (2q - r) for BN254
const G2_GEN = { x: [BigInt(G2_GENERATOR[0]![0]!), BigInt(G2_GENERATOR[0]![1]!)], y: [BigInt(G2_GENERATOR[1]![0]!), BigInt(G2_GENERATOR[1]![1]!)] } as {
  x: [bigint, bigint];
  y: [bigint, bigint];
};

type Proof = DeviationProof['proof'];
interface Case {
  label: string;
  proof: unknown;
  publicSignals: unknown;
}
/** What the reference path says: a verdict, or the code of the CircuitError it throws. */
type Reference = 'valid' | 'invalid' | { code: string };

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

async function reference(vk: VerificationKey, c: Case): Promise<Reference> {
  try {
    return (await verifyDeviationProof(vk, c.proof, c.publicSignals)) ? 'valid' : 'invalid';
  } catch (error) {
    if (!(error instanceof CircuitError)) throw error;
    return { code: error.code };
  }
}

async function prepared(key: PreparedVerificationKey, c: Case): Promise<Reference> {
  try {
    return (await verifyPrepared(key, c.proof, c.publicSignals)) ? 'valid' : 'invalid';
  } catch (error) {
    if (!(error instanceof CircuitError)) throw error;
    return { code: error.code };
  }
}

const fromVerdict = (v: BatchVerdict): Reference => (v.status === 'malformed' ? { code: v.error.code } : v.status);

// Every place a coordinate of a proof lives.
const G1_PATHS = ['pi_a', 'pi_c'].flatMap((p) => [0, 1].map((i) => [p, i] as const));
const G2_PATHS = [0, 1].flatMap((i) => [0, 1].map((j) => ['pi_b', i, j] as const));

function withCoordinate(proof: Proof, path: readonly (string | number)[], change: (v: bigint) => bigint): Proof {
  const p = clone(proof) as unknown as Record<string, unknown>;
  let holder = p[path[0] as string] as unknown[];
  for (const step of path.slice(1, -1)) holder = holder[step as number] as unknown[];
  const last = path[path.length - 1] as number;
  holder[last] = change(BigInt(holder[last] as string)).toString();
  return p as unknown as Proof;
}

describe('circuits: prepared and batched verification', function () {
  let vk: VerificationKey;
  let key: PreparedVerificationKey;
  const proofs: DeviationProof[] = [];
  /** Valid proofs, proofs that are well formed but false, and malformed ones, each with the reference verdict. */
  const pool: { c: Case; expected: Reference }[] = [];

  before(async function () {
    this.timeout(15 * 60_000);
    const artifacts = await ensureArtifacts(ID);
    vk = readVerificationKey(artifacts);
    for (let i = 0; i < 3; i++) {
      const input = buildDeviationInput({
        circuitId: ID,
        prevFingerprint: 1000n + BigInt(i),
        periodIndex: 3 + i,
        readings: [250n + BigInt(i), 260n, 240n, 250n],
        requestProfile: Array.from({ length: 24 }, (_, h) => BigInt(900 + 10 * h)),
        commitmentSalt: 0xabcdef0123456789n * 2n ** 170n + BigInt(i),
        fingerprintSalt: 0xfeedfacecafebeefn * 2n ** 180n + BigInt(i),
      });
      proofs.push(await proveDeviation(ID, input, artifacts));
    }
    key = await prepareVerificationKey(vk);

    const [p0, p1, p2] = proofs as [DeviationProof, DeviationProof, DeviationProof];
    const cases: Case[] = [
      ...proofs.map((p, i) => ({ label: `valid ${i}`, proof: p.proof, publicSignals: p.publicSignals })),
      { label: 'proof 0 with the signals of proof 1', proof: p0.proof, publicSignals: p1.publicSignals },
      { label: 'pi_a of proof 1 in proof 0', proof: { ...clone(p0.proof), pi_a: p1.proof.pi_a }, publicSignals: p0.publicSignals },
      { label: 'pi_b of proof 2 in proof 0', proof: { ...clone(p0.proof), pi_b: p2.proof.pi_b }, publicSignals: p0.publicSignals },
      { label: 'pi_c of proof 2 in proof 1', proof: { ...clone(p1.proof), pi_c: p2.proof.pi_c }, publicSignals: p1.publicSignals },
      { label: 'pi_a negated', proof: withCoordinate(p1.proof, ['pi_a', 1], (y) => Q - y), publicSignals: p1.publicSignals },
      { label: 'deviation + 1', proof: p2.proof, publicSignals: p2.publicSignals.map((s, i) => (i === 1 ? String(BigInt(s) + 1n) : s)) },
      { label: 'period index r - 1', proof: p0.proof, publicSignals: p0.publicSignals.map((s, i) => (i === 5 ? String(R - 1n) : s)) },
      { label: 'pi_b the generator of G2', proof: { ...clone(p2.proof), pi_b: G2_GENERATOR }, publicSignals: p2.publicSignals },
      { label: 'signal not below r', proof: p0.proof, publicSignals: p0.publicSignals.map((s, i) => (i === 2 ? String(BigInt(s) + R) : s)) },
      { label: 'pi_b outside G2', proof: { ...clone(p1.proof), pi_b: G2_TWIST_POINT_OUTSIDE_SUBGROUP }, publicSignals: p1.publicSignals },
      { label: 'pi_c off the curve', proof: withCoordinate(p2.proof, ['pi_c', 0], (x) => (x + 1n) % Q), publicSignals: p2.publicSignals },
      { label: 'five signals', proof: p0.proof, publicSignals: p0.publicSignals.slice(0, 5) },
    ];
    for (const c of cases) pool.push({ c, expected: await reference(vk, c) });
  });

  it('the pool holds valid, invalid and malformed cases as the reference path judges them', () => {
    const summary = pool.map((p) => (typeof p.expected === 'string' ? p.expected : p.expected.code));
    assert.deepEqual(summary.slice(0, 3), ['valid', 'valid', 'valid']);
    assert.deepEqual(summary.slice(3, 11), Array(8).fill('invalid'));
    assert.deepEqual(summary.slice(11), ['PUBLIC_SIGNAL_OUT_OF_FIELD', 'MALFORMED_PROOF', 'MALFORMED_PROOF', 'PUBLIC_SIGNAL_COUNT']);
  });

  describe('verifyPrepared', () => {
    it('agrees with the reference on every case of the pool', async () => {
      for (const { c, expected } of pool) assert.deepEqual(await prepared(key, c), expected, c.label);
    });

    it('agrees with the reference when any one coordinate of a valid proof is changed', async function () {
      this.timeout(60_000);
      const paths = [...G1_PATHS, ...G2_PATHS];
      await fc.assert(
        fc.asyncProperty(fc.nat(2), fc.nat(paths.length - 1), fc.bigInt(1n, Q - 1n), async (which, at, delta) => {
          const p = proofs[which] as DeviationProof;
          const c = { label: '', proof: withCoordinate(p.proof, paths[at] as readonly (string | number)[], (v) => (v + delta) % Q), publicSignals: p.publicSignals };
          assert.deepEqual(await prepared(key, c), await reference(vk, c));
        }),
        { numRuns: 40 },
      );
    });

    it('agrees with the reference when a point is replaced by another point of its group (well formed, wrong)', async function () {
      this.timeout(60_000);
      await fc.assert(
        fc.asyncProperty(fc.nat(2), fc.constantFrom('pi_a', 'pi_b', 'pi_c'), fc.bigInt(2n, 2n ** 64n), async (which, point, k) => {
          const p = proofs[which] as DeviationProof;
          const proof = clone(p.proof) as unknown as Record<string, unknown>;
          // A G1 point from G1_GENERATOR·(1 or -1) and a G2 point k·G (both in their groups).
          if (point === 'pi_b') proof.pi_b = twistPointJson(twistTimes(G2_GEN, k) as { x: [bigint, bigint]; y: [bigint, bigint] });
          else proof[point] = k % 2n === 0n ? G1_GENERATOR : [G1_GENERATOR[0], String(Q - 2n), '1'];
          const c = { label: '', proof, publicSignals: p.publicSignals };
          assert.equal(await reference(vk, c), 'invalid');
          assert.equal(await prepared(key, c), 'invalid');
        }),
        { numRuns: 12 },
      );
    });

    it('agrees with the reference when any one public signal is changed', async function () {
      this.timeout(60_000);
      await fc.assert(
        fc.asyncProperty(
          fc.nat(2),
          fc.nat(5),
          fc.oneof(fc.bigInt(1n, R - 1n), fc.constant(R), fc.bigInt(1n, 2n ** 16n)),
          fc.boolean(),
          async (which, at, delta, wrap) => {
            const p = proofs[which] as DeviationProof;
            // wrap: stay a field element (mod r); otherwise the raw sum, which may reach r or beyond.
            const signals = p.publicSignals.map((s, i) => (i === at ? String(wrap ? (BigInt(s) + delta) % R : BigInt(s) + delta) : s));
            const c = { label: '', proof: p.proof, publicSignals: signals };
            const expected = await reference(vk, c);
            assert.deepEqual(await prepared(key, c), expected);
            if (wrap && delta !== R) assert.equal(expected, 'invalid');
          },
        ),
        { numRuns: 40 },
      );
    });

    it('refuses pi_b outside G2 exactly when [r]·pi_b is not zero (fast membership test against the definition)', async function () {
      this.timeout(60_000);
      const p = proofs[0] as DeviationProof;
      await fc.assert(
        fc.asyncProperty(fc.bigInt(1n, 2n ** 200n), fc.constantFrom('member', 'cleared', 'random'), async (seed, kind) => {
          let point = twistPointFromSeed(seed) as { x: [bigint, bigint]; y: [bigint, bigint] } | null;
          if (kind === 'member') point = twistTimes(G2_GEN, seed);
          if (kind === 'cleared') point = twistTimes(point, COFACTOR_G2);
          if (point === null) return; // the point at infinity has no affine form
          const inG2 = twistTimes(point, R) === null;
          if (kind !== 'random') assert.ok(inG2);
          const c = { label: '', proof: { ...clone(p.proof), pi_b: twistPointJson(point) }, publicSignals: p.publicSignals };
          const expected = await reference(vk, c);
          assert.deepEqual(expected, inG2 ? 'invalid' : { code: 'MALFORMED_PROOF' });
          assert.deepEqual(await prepared(key, c), expected);
        }),
        { numRuns: 12 },
      );
    });

    it('caches one preparation per key, and refuses what prepareVerificationKey did not make', async () => {
      assert.equal(await prepareVerificationKey(clone(vk)), key);
      assert.match(key.keyHash, /^[0-9a-f]{64}$/);
      const p = proofs[1] as DeviationProof;
      assert.equal(await verifyDeviationProofPrepared(vk, p.proof, p.publicSignals), true);
      await expectCircuitError(() => verifyPrepared({ keyHash: key.keyHash, nPublic: 6 }, p.proof, p.publicSignals), 'INVALID_INPUT');
    });

    it('refuses a malformed key, and a key with a G2 point outside the subgroup, naming the field', async () => {
      await expectCircuitError(() => prepareVerificationKey({ ...vk, IC: vk.IC.slice(1) }), 'MALFORMED_VERIFICATION_KEY');
      const error = await expectCircuitError(() => prepareVerificationKey({ ...vk, vk_gamma_2: G2_TWIST_POINT_OUTSIDE_SUBGROUP }), 'MALFORMED_VERIFICATION_KEY');
      assert.equal(error.details.path, 'vk_gamma_2');
    });
  });

  describe('verifyBatch', () => {
    const itemOf = (c: Case): BatchItem => ({ proof: c.proof, publicSignals: c.publicSignals });

    it('gives each item of a mixed batch the verdict of single verification', async function () {
      this.timeout(60_000);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat(pool.length - 1), { minLength: 1, maxLength: 12 }), fc.string({ minLength: 1 }), async (picks, seed) => {
          const verdicts = await verifyBatchDetailed(key, picks.map((i) => itemOf(pool[i]!.c)), seed);
          assert.deepEqual(verdicts.map(fromVerdict), picks.map((i) => pool[i]!.expected));
          assert.deepEqual(await verifyBatch(key, picks.map((i) => itemOf(pool[i]!.c)), seed), picks.map((i) => pool[i]!.expected === 'valid'));
        }),
        { numRuns: 20 },
      );
    });

    it('a batch of 32 with several invalid and malformed proofs, an all-invalid batch, a single item and an empty batch', async function () {
      this.timeout(60_000);
      const valid = pool.filter((p) => p.expected === 'valid');
      const rest = pool.filter((p) => p.expected !== 'valid');
      const picks = Array.from({ length: 32 }, (_, i) => ([5, 11, 12, 19, 30].includes(i) ? rest[i % rest.length]! : valid[i % valid.length]!));
      assert.deepEqual((await verifyBatchDetailed(key, picks.map((p) => itemOf(p.c)), 'tx-32')).map(fromVerdict), picks.map((p) => p.expected));

      const invalid = pool.filter((p) => p.expected === 'invalid');
      assert.deepEqual(await verifyBatch(key, invalid.map((p) => itemOf(p.c)), 'tx-all-invalid'), invalid.map(() => false));
      assert.deepEqual(await verifyBatch(key, [itemOf(pool[0]!.c)], 'tx-1'), [true]);
      assert.deepEqual(await verifyBatch(key, [itemOf(invalid[0]!.c)], 'tx-1'), [false]);
      assert.deepEqual(await verifyBatch(key, [], 'tx-0'), []);
      const malformed = await verifyBatchDetailed(key, [null as unknown as BatchItem, itemOf(pool[1]!.c)], 'tx-null');
      assert.deepEqual(malformed.map(fromVerdict), [{ code: 'PUBLIC_SIGNAL_COUNT' }, 'valid']);
    });

    it('derives coefficients of at least 128 bits from the seed and every item, deterministically', () => {
      const items = pool.map((p) => itemOf(p.c));
      const a = batchCoefficients(key, items, 'tx-a');
      assert.deepEqual(batchCoefficients(key, items, 'tx-a'), a);
      assert.deepEqual(batchCoefficients(key, items, new TextEncoder().encode('tx-a')), a, 'a string seed is its UTF-8 bytes');
      pool.forEach((p, i) => assert.equal(a[i] === undefined, typeof p.expected === 'object', `item ${i} has a coefficient iff it is well formed`));
      const defined = a.filter((x): x is bigint => x !== undefined);
      for (const x of defined) assert.ok(x >= 2n ** 128n && x < 2n ** 129n && x < R);
      assert.equal(new Set(defined).size, defined.length);
      const b = batchCoefficients(key, items, 'tx-b');
      defined.forEach((x, i) => assert.notEqual(b.filter((y) => y !== undefined)[i], x));
      // Changing one item changes every coefficient: a prover cannot fix its own in advance.
      const changed = batchCoefficients(key, [...items.slice(0, -2), items[1]!, items[items.length - 1]!], 'tx-a');
      assert.notEqual(changed[0], a[0]);
    });

    it('same seed, same verdicts; refuses a bad seed, items or key', async () => {
      const items = pool.map((p) => itemOf(p.c));
      const first = await verifyBatch(key, items, 'tx-same');
      assert.deepEqual(await verifyBatch(key, items, 'tx-same'), first);
      await expectCircuitError(() => verifyBatch(key, items, ''), 'INVALID_INPUT');
      await expectCircuitError(() => verifyBatch(key, items, 42 as unknown as string), 'INVALID_INPUT');
      await expectCircuitError(() => verifyBatch(key, 'items' as unknown as BatchItem[], 'tx'), 'INVALID_INPUT');
      await expectCircuitError(() => verifyBatch({ keyHash: 'x', nPublic: 6 }, items, 'tx'), 'INVALID_INPUT');
    });
  });
});
