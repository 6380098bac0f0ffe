// SubmitPeriods with the real verifier of @flexproof/circuits (batched Groth16 with a
// prepared key) on real proofs of the small dev circuit: a batch with one tampered proof.
import assert from 'node:assert/strict';
import {
  buildDeviationInput,
  ensureArtifacts,
  proveDeviation,
  readVerificationKey,
  requestCommitment,
  submissionHash,
  type DeviationProof,
} from '@flexproof/circuits';
import { ACTION_SUBMIT_PERIOD, signPayload, type SubmitPeriodPayload } from '@flexproof/protocol';
import { CircuitsProofVerifier } from './support/chaincode';
import {
  activeEnrollment,
  AGGREGATOR,
  ChaincodeHarness,
  CIRCUIT_ID,
  DSO,
  flat,
  newProsumer,
  openOrder,
  periodEnd,
  registerCircuit,
  registerMeter,
  TARGET,
  type Json,
  type Prosumer,
} from './support/harness';

const PROFILE = Array.from({ length: 24 }, (_, h) => BigInt(900 + 10 * h));
const SALT = 0xabcdef0123456789n * 2n ** 170n;

describe('contract org.flexproof.programs: SubmitPeriods with the real verifier', () => {
  const proofs: DeviationProof[] = [];
  let verificationKey: unknown;

  before(async function () {
    this.timeout(15 * 60_000);
    const artifacts = await ensureArtifacts(CIRCUIT_ID);
    verificationKey = readVerificationKey(artifacts);
    for (let i = 0; i < 4; i++) {
      const input = buildDeviationInput({
        circuitId: CIRCUIT_ID,
        prevFingerprint: 0n,
        periodIndex: 0,
        readings: [250n + BigInt(10 * i), 260n, 240n, 250n],
        requestProfile: PROFILE,
        commitmentSalt: SALT,
        fingerprintSalt: 0xfeedfacecafebeefn * 2n ** 180n + BigInt(i),
      });
      proofs.push(await proveDeviation(CIRCUIT_ID, input, artifacts));
    }
  });

  it('a batch of 4 real proofs with one tampered: exactly that item is invalidProof, the others verified', async function () {
    this.timeout(120_000);
    const verifier = new CircuitsProofVerifier();
    const h = new ChaincodeHarness({ proofVerifier: verifier });
    await registerCircuit(h, CIRCUIT_ID, verificationKey as object);
    await openOrder(h, 'order-1', '2400', flat('100000'));
    const commitment = requestCommitment(PROFILE, SALT).toString();
    const prosumers: Prosumer[] = [0, 1, 2, 3].map((i) => newProsumer(i));
    for (const [i, p] of prosumers.entries()) {
      await registerMeter(h, p);
      await activeEnrollment(h, p, `enr-${i}`, 'order-1', { requestCommitment: commitment });
    }
    h.advanceTo(periodEnd(0) + 1000);
    const items: Json[] = proofs.map((dp, i) => {
      const p = prosumers[i] as Prosumer;
      const proof = i === 2 ? { ...dp.proof, pi_a: (proofs[0] as DeviationProof).proof.pi_a } : dp.proof;
      const payload: SubmitPeriodPayload = {
        type: ACTION_SUBMIT_PERIOD,
        ...TARGET,
        enrollmentId: `enr-${i}`,
        meterId: p.meterId,
        prosumerId: p.prosumerId,
        circuitId: CIRCUIT_ID,
        periodIndex: 0,
        submissionHash: submissionHash(proof, dp.publicSignals),
      };
      return { payload, signature: signPayload(payload, p.privateKey), proof, publicSignals: dp.publicSignals };
    });
    const { outcomes } = await h.call(AGGREGATOR, 'programs', 'SubmitPeriods', { items });
    assert.deepEqual(outcomes.map((o: Json) => o.outcome), ['verified', 'verified', 'invalidProof', 'verified']);
    assert.equal((await h.call(DSO, 'meters', 'GetMeter', { meterId: 'meter-2' })).status, 'excluded');
    assert.equal((await h.call(DSO, 'tokens', 'AuditSupply', {})).imbalance, '0');
  });
});
