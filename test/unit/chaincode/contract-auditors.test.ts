// Auditor keys on the ledger (issue 12, S5; T9): one organisation proposes, the other
// approves naming the key hash; retirement the same way; ids never reused; only
// EC P-256 public keys, stored in canonical SPKI PEM; every refusal changes nothing.
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { sealingKeyHash } from './support/chaincode';
import {
  AGGREGATOR,
  ChaincodeHarness,
  DSO,
  expectCode,
  newAuditorKey,
  OUTSIDER,
  registerAuditor,
  T0,
  type Json,
} from './support/harness';
import { badSealingKeys } from './support/sealing-keys';
import type { ChaincodeErrorCode } from '@flexproof/protocol';

/** Runs a call that must be refused with `code`, and asserts it left the state and the events as they were. */
async function refused(h: ChaincodeHarness, code: ChaincodeErrorCode, call: () => Promise<unknown>) {
  const before = new Map(h.stub.snapshot());
  const events = h.stub.events.length;
  const err = await expectCode(call(), code);
  assert.deepEqual(h.stub.snapshot(), before, `${err.message}: the state is unchanged`);
  assert.equal(h.stub.events.length, events, `${err.message}: no event`);
  return err;
}

function stateText(h: ChaincodeHarness): string {
  return [...h.stub.snapshot()].map(([k, v]) => `${k}=${v.toString('utf8')}`).join('\n');
}

describe('contract org.flexproof.auditors', () => {
  it('one organisation proposes, the other approves naming the key hash; self-approval is FORBIDDEN, a wrong hash RULE_VIOLATION', async () => {
    const h = new ChaincodeHarness();
    const key = newAuditorKey();
    const keyHash = createHash('sha256').update(createPublicKey(key.publicKeyPem).export({ type: 'spki', format: 'der' })).digest('hex');
    const proposed = await h.call(DSO, 'auditors', 'ProposeAuditorKey', { auditorId: 'audit-office', publicKeyPem: key.publicKeyPem, description: 'Regional audit office' });
    assert.deepEqual(proposed, {
      auditorId: 'audit-office',
      publicKeyPem: key.publicKeyPem,
      keyHash,
      description: 'Regional audit office',
      status: 'proposed',
      proposedBy: DSO,
      proposedAt: new Date(T0).toISOString(),
    });
    assert.equal(sealingKeyHash(key.publicKeyPem), keyHash);
    assert.deepEqual(h.lastEvent(), { name: 'AuditorKeyProposed', payload: { auditorId: 'audit-office', keyHash, proposedBy: DSO, txId: 'tx00001' } });

    await refused(h, 'FORBIDDEN', () => h.call(DSO, 'auditors', 'ApproveAuditorKey', { auditorId: 'audit-office', keyHash }));
    await refused(h, 'FORBIDDEN', () => h.call(OUTSIDER, 'auditors', 'ApproveAuditorKey', { auditorId: 'audit-office', keyHash }));
    await refused(h, 'RULE_VIOLATION', () => h.call(AGGREGATOR, 'auditors', 'ApproveAuditorKey', { auditorId: 'audit-office', keyHash: sealingKeyHash(newAuditorKey().publicKeyPem) }));
    await refused(h, 'NOT_FOUND', () => h.call(AGGREGATOR, 'auditors', 'ApproveAuditorKey', { auditorId: 'nobody', keyHash }));
    await refused(h, 'BAD_INPUT', () => h.call(AGGREGATOR, 'auditors', 'ApproveAuditorKey', { auditorId: 'audit-office', keyHash: keyHash.toUpperCase() }));

    h.advanceTo(T0 + 1000);
    const active = await h.call(AGGREGATOR, 'auditors', 'ApproveAuditorKey', { auditorId: 'audit-office', keyHash });
    assert.equal(active.status, 'active');
    assert.equal(active.approvedBy, AGGREGATOR);
    assert.equal(active.approvedAt, new Date(T0 + 1000).toISOString());
    assert.deepEqual(h.lastEvent()?.name, 'AuditorKeyActivated');
    assert.deepEqual(h.lastEvent()?.payload, { auditorId: 'audit-office', keyHash, approvedBy: AGGREGATOR, txId: h.stub.getTxID() });
    await refused(h, 'CONFLICT', () => h.call(DSO, 'auditors', 'ApproveAuditorKey', { auditorId: 'audit-office', keyHash }));
    assert.deepEqual(await h.call(DSO, 'auditors', 'GetAuditorKey', { auditorId: 'audit-office' }), active);

    // The other way round: the aggregator proposes, only the DSO can approve.
    const other = newAuditorKey();
    const byAggregator = await h.call(AGGREGATOR, 'auditors', 'ProposeAuditorKey', { auditorId: 'auditor-2', publicKeyPem: other.publicKeyPem });
    assert.equal('description' in byAggregator, false);
    await refused(h, 'FORBIDDEN', () => h.call(AGGREGATOR, 'auditors', 'ApproveAuditorKey', { auditorId: 'auditor-2', keyHash: byAggregator.keyHash }));
    assert.equal((await h.call(DSO, 'auditors', 'ApproveAuditorKey', { auditorId: 'auditor-2', keyHash: byAggregator.keyHash })).status, 'active');
  });

  it('T9/T11: only an EC P-256 public key in SPKI PEM is taken (BAD_INPUT naming publicKeyPem); a refusal changes nothing and never echoes the key', async () => {
    const h = new ChaincodeHarness();
    for (const [name, publicKeyPem] of badSealingKeys()) {
      const err = await refused(h, 'BAD_INPUT', () => h.call(DSO, 'auditors', 'ProposeAuditorKey', { auditorId: 'auditor-bad', publicKeyPem }));
      assert.match(err.message, /^\[BAD_INPUT\] publicKeyPem: /, name);
      const body = publicKeyPem.split('\n').find((line) => line.length > 20 && !line.startsWith('-----'));
      if (body) assert.ok(!err.message.includes(body), `${name}: the message does not hold the key`);
    }
    await refused(h, 'BAD_INPUT', () => h.call(DSO, 'auditors', 'ProposeAuditorKey', { auditorId: 'auditor-bad', publicKeyPem: 'short' }));
    await refused(h, 'BAD_INPUT', () => h.call(DSO, 'auditors', 'ProposeAuditorKey', { auditorId: 'auditor-bad', publicKeyPem: 'x'.repeat(1025) }));
    assert.equal(h.stub.snapshot().size, 0);
    assert.equal(h.stub.events.length, 0);
  });

  it('a key given with other line breaks is stored in canonical SPKI PEM, and hashed as the edge hashes it', async () => {
    const h = new ChaincodeHarness();
    const key = newAuditorKey();
    const der = createPublicKey(key.publicKeyPem).export({ type: 'spki', format: 'der' });
    const given = `\r\n-----BEGIN PUBLIC KEY-----\r\n${der.toString('base64')}\r\n-----END PUBLIC KEY-----`;
    const record = await h.call(AGGREGATOR, 'auditors', 'ProposeAuditorKey', { auditorId: 'auditor-1', publicKeyPem: given });
    assert.equal(record.publicKeyPem, key.publicKeyPem);
    assert.equal(record.keyHash, createHash('sha256').update(der).digest('hex'));
    assert.equal(sealingKeyHash(record.publicKeyPem), record.keyHash);
  });

  it('the schema refuses unknown fields, bad ids and descriptions (BAD_INPUT naming the field), and non-members', async () => {
    const h = new ChaincodeHarness();
    const { publicKeyPem } = newAuditorKey();
    const cases: [unknown, RegExp][] = [
      [{ auditorId: 'a1', publicKeyPem, privateKeyPem: 'x' }, /^\[BAD_INPUT\] privateKeyPem: /],
      [{ auditorId: 'a:1', publicKeyPem }, /^\[BAD_INPUT\] auditorId: /],
      [{ auditorId: '', publicKeyPem }, /^\[BAD_INPUT\] auditorId: /],
      [{ publicKeyPem }, /^\[BAD_INPUT\] auditorId: /],
      [{ auditorId: 'a1' }, /^\[BAD_INPUT\] publicKeyPem: /],
      [{ auditorId: 'a1', publicKeyPem, description: '' }, /^\[BAD_INPUT\] description: /],
      [{ auditorId: 'a1', publicKeyPem, description: 'two\nlines' }, /^\[BAD_INPUT\] description: /],
      [{ auditorId: 'a1', publicKeyPem, description: 'd'.repeat(201) }, /^\[BAD_INPUT\] description: /],
    ];
    for (const [input, message] of cases) {
      const err = await refused(h, 'BAD_INPUT', () => h.call(DSO, 'auditors', 'ProposeAuditorKey', input));
      assert.match(err.message, message);
    }
    await refused(h, 'BAD_INPUT', () => h.call(DSO, 'auditors', 'ProposeAuditorKeyRetirement', { auditorId: 'a1', keyHash: 'x' }));
    await refused(h, 'BAD_INPUT', () => h.call(DSO, 'auditors', 'ListAuditorKeys', { status: 'active' }));
    await refused(h, 'FORBIDDEN', () => h.call(OUTSIDER, 'auditors', 'ProposeAuditorKey', { auditorId: 'a1', publicKeyPem }));
    await refused(h, 'FORBIDDEN', () => h.call(OUTSIDER, 'auditors', 'ListAuditorKeys', {}));
    await refused(h, 'FORBIDDEN', () => h.call(OUTSIDER, 'auditors', 'GetAuditorKey', { auditorId: 'a1' }));
    await refused(h, 'NOT_FOUND', () => h.call(DSO, 'auditors', 'GetAuditorKey', { auditorId: 'a1' }));
  });

  it('retirement needs both organisations too; the key stays active until the other approves', async () => {
    const h = new ChaincodeHarness();
    const { publicKeyPem } = newAuditorKey();
    await refused(h, 'NOT_FOUND', () => h.call(DSO, 'auditors', 'ProposeAuditorKeyRetirement', { auditorId: 'a1' }));
    const proposed = await h.call(DSO, 'auditors', 'ProposeAuditorKey', { auditorId: 'a1', publicKeyPem });
    await refused(h, 'CONFLICT', () => h.call(AGGREGATOR, 'auditors', 'ProposeAuditorKeyRetirement', { auditorId: 'a1' }));
    await h.call(AGGREGATOR, 'auditors', 'ApproveAuditorKey', { auditorId: 'a1', keyHash: proposed.keyHash });
    await refused(h, 'CONFLICT', () => h.call(DSO, 'auditors', 'ApproveAuditorKeyRetirement', { auditorId: 'a1' }));

    const pending = await h.call(AGGREGATOR, 'auditors', 'ProposeAuditorKeyRetirement', { auditorId: 'a1' });
    assert.equal(pending.status, 'active');
    assert.equal(pending.retirementProposedBy, AGGREGATOR);
    assert.deepEqual(h.lastEvent()?.name, 'AuditorKeyRetirementProposed');
    assert.deepEqual(h.lastEvent()?.payload, { auditorId: 'a1', keyHash: proposed.keyHash, proposedBy: AGGREGATOR, txId: h.stub.getTxID() });
    await refused(h, 'CONFLICT', () => h.call(DSO, 'auditors', 'ProposeAuditorKeyRetirement', { auditorId: 'a1' }));
    await refused(h, 'FORBIDDEN', () => h.call(AGGREGATOR, 'auditors', 'ApproveAuditorKeyRetirement', { auditorId: 'a1' }));
    await refused(h, 'FORBIDDEN', () => h.call(OUTSIDER, 'auditors', 'ApproveAuditorKeyRetirement', { auditorId: 'a1' }));

    const retired = await h.call(DSO, 'auditors', 'ApproveAuditorKeyRetirement', { auditorId: 'a1' });
    assert.equal(retired.status, 'retired');
    assert.equal(retired.retiredBy, DSO);
    assert.deepEqual(h.lastEvent()?.payload, { auditorId: 'a1', keyHash: proposed.keyHash, retiredBy: DSO, txId: h.stub.getTxID() });
    assert.equal(h.lastEvent()?.name, 'AuditorKeyRetired');
    await refused(h, 'CONFLICT', () => h.call(AGGREGATOR, 'auditors', 'ApproveAuditorKeyRetirement', { auditorId: 'a1' }));
    await refused(h, 'CONFLICT', () => h.call(AGGREGATOR, 'auditors', 'ApproveAuditorKey', { auditorId: 'a1', keyHash: proposed.keyHash }));
  });

  it('ids are never reused and a key is registered under one id only (CONFLICT)', async () => {
    const h = new ChaincodeHarness();
    const first = newAuditorKey();
    const proposed = await h.call(DSO, 'auditors', 'ProposeAuditorKey', { auditorId: 'a1', publicKeyPem: first.publicKeyPem });
    const fresh = () => newAuditorKey().publicKeyPem;
    await refused(h, 'CONFLICT', () => h.call(AGGREGATOR, 'auditors', 'ProposeAuditorKey', { auditorId: 'a1', publicKeyPem: fresh() }));
    await h.call(AGGREGATOR, 'auditors', 'ApproveAuditorKey', { auditorId: 'a1', keyHash: proposed.keyHash });
    await refused(h, 'CONFLICT', () => h.call(AGGREGATOR, 'auditors', 'ProposeAuditorKey', { auditorId: 'a1', publicKeyPem: fresh() }));
    const err = await refused(h, 'CONFLICT', () => h.call(AGGREGATOR, 'auditors', 'ProposeAuditorKey', { auditorId: 'a2', publicKeyPem: first.publicKeyPem }));
    assert.match(err.message, /^\[CONFLICT\] publicKeyPem: this key is already registered for auditor a1$/);
    await h.call(DSO, 'auditors', 'ProposeAuditorKeyRetirement', { auditorId: 'a1' });
    await h.call(AGGREGATOR, 'auditors', 'ApproveAuditorKeyRetirement', { auditorId: 'a1' });
    await refused(h, 'CONFLICT', () => h.call(AGGREGATOR, 'auditors', 'ProposeAuditorKey', { auditorId: 'a1', publicKeyPem: fresh() }));
    await refused(h, 'CONFLICT', () => h.call(AGGREGATOR, 'auditors', 'ProposeAuditorKey', { auditorId: 'a1', publicKeyPem: first.publicKeyPem }));
    await refused(h, 'CONFLICT', () => h.call(DSO, 'auditors', 'ProposeAuditorKey', { auditorId: 'a3', publicKeyPem: first.publicKeyPem }));
  });

  it('the list shows every record with its status, hash and public key, in id order; no record holds a secret', async () => {
    const h = new ChaincodeHarness();
    const keys = [newAuditorKey(), newAuditorKey(), newAuditorKey()];
    await registerAuditor(h, 'b-retired', keys[0]!.publicKeyPem);
    await h.call(AGGREGATOR, 'auditors', 'ProposeAuditorKeyRetirement', { auditorId: 'b-retired' });
    await h.call(DSO, 'auditors', 'ApproveAuditorKeyRetirement', { auditorId: 'b-retired' });
    await registerAuditor(h, 'a-active', keys[1]!.publicKeyPem);
    await h.call(AGGREGATOR, 'auditors', 'ProposeAuditorKey', { auditorId: 'c-proposed', publicKeyPem: keys[2]!.publicKeyPem });

    const { keys: listed } = await h.call(DSO, 'auditors', 'ListAuditorKeys', {});
    assert.deepEqual(
      listed.map((k: Json) => [k.auditorId, k.status, k.keyHash, k.publicKeyPem]),
      [
        ['a-active', 'active', sealingKeyHash(keys[1]!.publicKeyPem), keys[1]!.publicKeyPem],
        ['b-retired', 'retired', sealingKeyHash(keys[0]!.publicKeyPem), keys[0]!.publicKeyPem],
        ['c-proposed', 'proposed', sealingKeyHash(keys[2]!.publicKeyPem), keys[2]!.publicKeyPem],
      ],
    );
    assert.deepEqual(await h.call(AGGREGATOR, 'auditors', 'ListAuditorKeys', {}), { keys: listed });
    for (const record of listed) {
      assert.deepEqual(await h.call(AGGREGATOR, 'auditors', 'GetAuditorKey', { auditorId: record.auditorId }), record);
    }

    const state = stateText(h);
    assert.doesNotMatch(state, /PRIVATE/);
    for (const { privateKey } of keys) {
      const d = privateKey.export({ format: 'jwk' }).d!;
      const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
      assert.ok(!state.includes(d) && !state.includes(pkcs8.slice(-40)), 'no private key material in state');
    }
    const events = JSON.stringify(h.stub.events);
    assert.doesNotMatch(events, /BEGIN/, 'events carry ids and hashes, not keys');
  });
});
