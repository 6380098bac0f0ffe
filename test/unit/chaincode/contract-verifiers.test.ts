import assert from 'node:assert/strict';
import { verificationKeyHash } from './support/chaincode';
import { AGGREGATOR, ChaincodeHarness, DSO, expectCode, OUTSIDER, VKEY } from './support/harness';

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
});
