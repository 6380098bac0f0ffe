import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { canonicalVerificationKeyHash, verificationKeyHash } from '@flexproof/protocol';
import { SMALL_CIRCUIT_ID, ensureArtifacts, readVerificationKey } from '@flexproof/circuits';
import { twistPointFromSeed, twistPointJson } from '../circuits/reference';
import { AGGREGATOR, ChaincodeHarness, DSO, expectCode, G1_GENERATOR, OUTSIDER, VKEY } from './support/harness';

describe('contract org.flexproof.verifiers', () => {
  it('one organisation proposes, the other approves; approving your own proposal is FORBIDDEN', async () => {
    const h = new ChaincodeHarness();
    const proposed = await h.call(DSO, 'verifiers', 'ProposeVerificationKey', { circuitId: 'flexdev-v1-r60', verificationKey: VKEY });
    assert.equal(proposed.status, 'proposed');
    assert.equal(proposed.keyHash, verificationKeyHash(VKEY));
    assert.equal(h.lastEvent()?.name, 'VerificationKeyProposed');
    await expectCode(h.call(DSO, 'verifiers', 'ApproveVerificationKey', { circuitId: 'flexdev-v1-r60', keyHash: proposed.keyHash }), 'FORBIDDEN');
    await expectCode(h.call(OUTSIDER, 'verifiers', 'ApproveVerificationKey', { circuitId: 'flexdev-v1-r60', keyHash: proposed.keyHash }), 'FORBIDDEN');
    await expectCode(h.call(AGGREGATOR, 'verifiers', 'ApproveVerificationKey', { circuitId: 'flexdev-v1-r60', keyHash: 'a'.repeat(64) }), 'RULE_VIOLATION');
    const active = await h.call(AGGREGATOR, 'verifiers', 'ApproveVerificationKey', { circuitId: 'flexdev-v1-r60', keyHash: proposed.keyHash });
    assert.equal(active.status, 'active');
    await expectCode(h.call(AGGREGATOR, 'verifiers', 'ApproveVerificationKey', { circuitId: 'flexdev-v1-r60', keyHash: proposed.keyHash }), 'CONFLICT');
    await expectCode(h.call(AGGREGATOR, 'verifiers', 'ProposeVerificationKey', { circuitId: 'flexdev-v1-r60', verificationKey: VKEY }), 'CONFLICT');
  });

  it('retirement needs both organisations too; a retired id stays retired', async () => {
    const h = new ChaincodeHarness();
    const proposed = await h.call(AGGREGATOR, 'verifiers', 'ProposeVerificationKey', { circuitId: 'c1', verificationKey: VKEY });
    await h.call(DSO, 'verifiers', 'ApproveVerificationKey', { circuitId: 'c1', keyHash: proposed.keyHash });
    await expectCode(h.call(DSO, 'verifiers', 'ApproveVerificationKeyRetirement', { circuitId: 'c1' }), 'CONFLICT');
    await h.call(AGGREGATOR, 'verifiers', 'ProposeVerificationKeyRetirement', { circuitId: 'c1' });
    await expectCode(h.call(AGGREGATOR, 'verifiers', 'ApproveVerificationKeyRetirement', { circuitId: 'c1' }), 'FORBIDDEN');
    const retired = await h.call(DSO, 'verifiers', 'ApproveVerificationKeyRetirement', { circuitId: 'c1' });
    assert.equal(retired.status, 'retired');
    assert.equal(h.lastEvent()?.name, 'VerificationKeyRetired');
    await expectCode(h.call(DSO, 'verifiers', 'ProposeVerificationKey', { circuitId: 'c1', verificationKey: VKEY }), 'CONFLICT');
    const { keys } = await h.call(DSO, 'verifiers', 'ListVerificationKeys', {});
    assert.deepEqual(keys.map((k: { circuitId: string; status: string }) => [k.circuitId, k.status]), [['c1', 'retired']]);
    assert.equal(keys[0].verificationKey, undefined);
    await expectCode(h.call(DSO, 'verifiers', 'GetVerificationKey', { circuitId: 'nope' }), 'NOT_FOUND');
  });

  it('T4/T11: a proposed key must be a valid Groth16 key of the circuit; a refusal names the field and changes nothing', async () => {
    const h = new ChaincodeHarness();
    const outside = twistPointJson(twistPointFromSeed(5n));
    const cases: [string, unknown, RegExp][] = [
      ['junk', { junk: 1 }, /^\[BAD_INPUT\] verificationKey\.junk: unknown field/],
      ['wrong IC length', { ...VKEY, IC: VKEY.IC.slice(1) }, /^\[BAD_INPUT\] verificationKey\.IC: IC must hold 7 points$/],
      ['nPublic', { ...VKEY, nPublic: 7, IC: [...VKEY.IC, G1_GENERATOR] }, /verificationKey\.nPublic: nPublic must be 6/],
      ['a G1 point off the curve', { ...VKEY, IC: [...VKEY.IC.slice(0, 6), ['1', '3', '1']] }, /verificationKey\.IC\[6\]: point is not on the curve/],
      ['a G2 point outside the subgroup', { ...VKEY, vk_delta_2: outside }, /verificationKey\.vk_delta_2: point is not in the prime-order subgroup of G2/],
      ['a non-canonical coordinate', { ...VKEY, vk_alpha_1: ['01', '2', '1'] }, /verificationKey\.vk_alpha_1\[0\]: coordinate is not a canonical decimal string/],
      ['an empty object', {}, /verificationKey\.protocol: /],
    ];
    const before = new Map(h.stub.snapshot());
    for (const [name, verificationKey, message] of cases) {
      const err = await expectCode(h.call(AGGREGATOR, 'verifiers', 'ProposeVerificationKey', { circuitId: 'c-bad', verificationKey }), 'BAD_INPUT');
      assert.match(err.message, message, name);
    }
    assert.deepEqual(h.stub.snapshot(), before);
    assert.equal(h.stub.events.length, 0);
  });

  it('the real dev key passes in the normalised form the demo proposes, and is stored and hashed as given', async function () {
    this.timeout(600_000);
    const verificationKey = readVerificationKey(await ensureArtifacts(SMALL_CIRCUIT_ID));
    const h = new ChaincodeHarness();
    const proposed = await h.call(DSO, 'verifiers', 'ProposeVerificationKey', { circuitId: SMALL_CIRCUIT_ID, verificationKey });
    assert.equal(proposed.keyHash, verificationKeyHash(verificationKey));
    assert.deepEqual(proposed.verificationKey, verificationKey);
  });

  it('records snarkjs\'s raw verification_key.json in its canonical form: the same key, the same hash as the normalised file', async function () {
    this.timeout(600_000);
    const artifacts = await ensureArtifacts(SMALL_CIRCUIT_ID);
    const raw = JSON.parse(readFileSync(artifacts.verificationKeyPath, 'utf8')) as Record<string, unknown>;
    assert.ok('vk_alphabeta_12' in raw, 'snarkjs writes the derived pairing');
    const h = new ChaincodeHarness();
    const proposed = await h.call(DSO, 'verifiers', 'ProposeVerificationKey', { circuitId: SMALL_CIRCUIT_ID, verificationKey: raw });
    assert.equal(proposed.keyHash, canonicalVerificationKeyHash(raw));
    assert.equal(proposed.keyHash, verificationKeyHash(readVerificationKey(artifacts)));
    assert.ok(!('vk_alphabeta_12' in (proposed.verificationKey as Record<string, unknown>)));
  });
});
