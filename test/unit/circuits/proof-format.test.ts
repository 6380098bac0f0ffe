import assert from 'node:assert/strict';
import {
  PUBLIC_SIGNAL_NAMES,
  canonicalSubmission,
  checkVerificationKey,
  decodePublicSignals,
  encodePublicSignals,
  parseSubmission,
  submissionHash,
} from '@flexproof/circuits';
import { expectCircuitError } from './helpers';
import { G1_GENERATOR, G2_GENERATOR, G2_TWIST_POINT_OUTSIDE_SUBGROUP, Q, R, wellFormedProof } from './reference';

const SIGNALS = ['11', '0', '1', '22', '33', '23'];

describe('circuits: public signals, proof shape and canonical submission (no circuit)', () => {
  it('decodes public signals in snarkjs order (outputs, then public inputs) and encodes them back', () => {
    assert.deepEqual([...PUBLIC_SIGNAL_NAMES], ['newFingerprint', 'deviation', 'direction', 'prevFingerprint', 'requestCommitment', 'periodIndex']);
    const decoded = decodePublicSignals(SIGNALS);
    assert.deepEqual(decoded, { newFingerprint: '11', deviation: '0', direction: '1', prevFingerprint: '22', requestCommitment: '33', periodIndex: '23' });
    assert.deepEqual(encodePublicSignals(decoded), SIGNALS);
  });

  it('rejects a wrong count, non-canonical text and values at or above the field order', async () => {
    await expectCircuitError(() => decodePublicSignals(SIGNALS.slice(1)), 'PUBLIC_SIGNAL_COUNT');
    await expectCircuitError(() => decodePublicSignals([...SIGNALS, '0']), 'PUBLIC_SIGNAL_COUNT');
    await expectCircuitError(() => decodePublicSignals('1,2,3,4,5,6' as unknown as string[]), 'PUBLIC_SIGNAL_COUNT');
    for (const bad of ['01', '+1', '-1', ' 1', '1 ', '0x1', '1e3', '', '1'.repeat(79)]) {
      const signals = [...SIGNALS];
      signals[2] = bad;
      const error = await expectCircuitError(() => decodePublicSignals(signals), 'PUBLIC_SIGNAL_NOT_CANONICAL');
      assert.equal(error.details.index, 2);
    }
    await expectCircuitError(() => decodePublicSignals([1, 2, 3, 4, 5, 6] as unknown as string[]), 'PUBLIC_SIGNAL_NOT_CANONICAL');
    for (const big of [R, R + 1n, 2n ** 256n - 1n]) {
      const signals = [...SIGNALS];
      signals[4] = big.toString();
      await expectCircuitError(() => decodePublicSignals(signals), 'PUBLIC_SIGNAL_OUT_OF_FIELD');
    }
    const top = [...SIGNALS];
    top[0] = (R - 1n).toString();
    assert.equal(decodePublicSignals(top).newFingerprint, (R - 1n).toString());
  });

  it('serialises a submission canonically whatever the key order of its input', () => {
    const proof = wellFormedProof();
    const shuffled = { curve: proof.curve, protocol: proof.protocol, pi_c: proof.pi_c, pi_b: proof.pi_b, pi_a: proof.pi_a };
    const text = canonicalSubmission(proof, SIGNALS);
    assert.equal(canonicalSubmission(shuffled, SIGNALS), text);
    assert.ok(text.startsWith('{"proof":{"curve":"bn128","pi_a":["1","2","1"],"pi_b":[["'));
    assert.ok(text.endsWith(`"protocol":"groth16"},"publicSignals":["11","0","1","22","33","23"]}`));
    assert.ok(!/\s/.test(text));
    assert.match(submissionHash(proof, SIGNALS), /^[0-9a-f]{64}$/);
    assert.equal(submissionHash(shuffled, SIGNALS), submissionHash(proof, SIGNALS));
    const other = [...SIGNALS];
    other[1] = '1';
    assert.notEqual(submissionHash(proof, other), submissionHash(proof, SIGNALS));
  });

  it('keeps the canonical form stable (a signed hash must not change under a refactor)', () => {
    assert.equal(submissionHash(wellFormedProof(), SIGNALS), '11345ac8b758d9f789f2364bea767e10295b46d877c9b9106051c82fe835fab5');
  });

  it('parses only canonical submissions', async () => {
    const text = canonicalSubmission(wellFormedProof(), SIGNALS);
    assert.deepEqual(parseSubmission(text).publicSignals, SIGNALS);
    await expectCircuitError(() => parseSubmission(text.replace('{"proof"', '{ "proof"')), 'MALFORMED_SUBMISSION');
    await expectCircuitError(() => parseSubmission('not json'), 'MALFORMED_SUBMISSION');
    await expectCircuitError(() => parseSubmission('[]'), 'MALFORMED_SUBMISSION');
    await expectCircuitError(() => parseSubmission(JSON.stringify({ proof: wellFormedProof(), publicSignals: SIGNALS })), 'MALFORMED_SUBMISSION');
  });

  it('rejects malformed proofs with MALFORMED_PROOF', async () => {
    type Mutable = Record<string, unknown> & { pi_a: string[]; pi_b: string[][]; pi_c: string[] };
    const cases: [string, (p: Mutable) => void][] = [
      ['missing pi_c', (p) => delete (p as Record<string, unknown>).pi_c],
      ['extra key', (p) => (p.extra = 1)],
      ['other protocol', (p) => (p.protocol = 'plonk')],
      ['other curve', (p) => (p.curve = 'bls12381')],
      ['projective z', (p) => (p.pi_a[2] = '2')],
      ['point at infinity', (p) => (p.pi_a = ['0', '1', '0'])],
      ['short point', (p) => (p.pi_a = ['1', '2'])],
      ['coordinate not canonical', (p) => (p.pi_c[0] = '01')],
      ['coordinate as number', (p) => ((p.pi_c as unknown[])[0] = 1)],
      ['coordinate at q', (p) => (p.pi_a[0] = Q.toString())],
      ['G1 point off the curve', (p) => (p.pi_a = ['1', '3', '1'])],
      ['G1 point shifted by q', (p) => (p.pi_a = [(1n + Q).toString(), '2', '1'])],
      ['G2 point off the twist', (p) => (p.pi_b[1] = ['1', '2'])],
      ['G2 z not ["1","0"]', (p) => (p.pi_b[2] = ['1', '1'])],
      ['G2 coordinate not a pair', (p) => (p.pi_b[0] = ['1'])],
    ];
    for (const [name, mutate] of cases) {
      const proof = wellFormedProof() as unknown as Mutable;
      mutate(proof);
      const error = await expectCircuitError(() => canonicalSubmission(proof, SIGNALS), 'MALFORMED_PROOF').catch((e: unknown) => {
        throw new Error(`${name}: ${String(e)}`);
      });
      assert.equal(typeof error.details.path, 'string', name);
    }
    await expectCircuitError(() => canonicalSubmission(null, SIGNALS), 'MALFORMED_PROOF');
    await expectCircuitError(() => canonicalSubmission('proof', SIGNALS), 'MALFORMED_PROOF');
  });

  it('accepts a G2 twist point outside the subgroup as well-formed (the verifier checks the subgroup)', () => {
    const proof = wellFormedProof();
    proof.pi_b = G2_TWIST_POINT_OUTSIDE_SUBGROUP.map((c) => [...c]);
    assert.ok(canonicalSubmission(proof, SIGNALS).length > 0);
  });

  it('checks verification keys: 6 public signals, 7 IC points on the curve', async () => {
    const vk = {
      protocol: 'groth16',
      curve: 'bn128',
      nPublic: 6,
      vk_alpha_1: G1_GENERATOR,
      vk_beta_2: G2_GENERATOR,
      vk_gamma_2: G2_GENERATOR,
      vk_delta_2: G2_GENERATOR,
      vk_alphabeta_12: [],
      IC: Array.from({ length: 7 }, () => G1_GENERATOR),
    };
    assert.equal(checkVerificationKey(vk).IC.length, 7);
    await expectCircuitError(() => checkVerificationKey({ ...vk, nPublic: 5 }), 'MALFORMED_VERIFICATION_KEY');
    await expectCircuitError(() => checkVerificationKey({ ...vk, IC: vk.IC.slice(1) }), 'MALFORMED_VERIFICATION_KEY');
    await expectCircuitError(() => checkVerificationKey({ ...vk, vk_alpha_1: ['1', '3', '1'] }), 'MALFORMED_VERIFICATION_KEY');
    await expectCircuitError(() => checkVerificationKey({ ...vk, protocol: 'plonk' }), 'MALFORMED_VERIFICATION_KEY');
    await expectCircuitError(() => checkVerificationKey([]), 'MALFORMED_VERIFICATION_KEY');
  });
});
