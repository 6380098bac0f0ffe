// Auditor keys (issue 12, T9): the sealing-key hash and the strict reading of an auditor's
// public key (signing.ts), and the two-organisation governance rules (rules/auditors.ts,
// rules/governance.ts) as pure functions.
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import type { schemas } from '@flexproof/protocol';
import { canonicalSealingKeyPem, ChaincodeError, rules, sealingKeyHash } from './support/chaincode';

type AuditorKeyRecord = schemas.AuditorKeyRecord;
import { badSealingKeys } from './support/sealing-keys';

const DSO = 'DsoMSP';
const AGG = 'AggregatorMSP';
const NOW = '2030-03-01T00:00:00.000Z';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ChaincodeError ? err.code : 'NOT_A_CHAINCODE_ERROR';
  }
  return undefined;
}

function p256() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { publicKey, privateKey, der, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

describe('signing: sealing keys (S3)', () => {
  it('sealingKeyHash is sha256 hex of the DER SPKI, whatever the PEM line breaks', () => {
    const key = p256();
    const expected = createHash('sha256').update(key.der).digest('hex');
    assert.equal(sealingKeyHash(key.pem), expected);
    assert.equal(sealingKeyHash(createPublicKey(key.pem).export({ type: 'spki', format: 'pem' }).toString()), expected);
    const oneLine = `-----BEGIN PUBLIC KEY-----\n${key.der.toString('base64')}\n-----END PUBLIC KEY-----`;
    const crlf = key.pem.replace(/\n/g, '\r\n');
    for (const variant of [oneLine, crlf, `  \n${key.pem}\n\n`]) {
      assert.equal(sealingKeyHash(variant), expected);
      assert.equal(canonicalSealingKeyPem(variant), key.pem, 'the canonical PEM is node:crypto\'s SPKI export');
    }
    assert.notEqual(sealingKeyHash(p256().pem), expected);
  });

  it('the strictness matters: node:crypto alone takes a private key, a compressed point, trailing bytes', () => {
    const lenient = new Map(badSealingKeys());
    for (const name of ['a P-256 private key (PKCS#8)', 'a compressed point', 'bytes after the key']) {
      const key = createPublicKey(lenient.get(name)!);
      assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1', name);
    }
  });

  for (const [name, text] of badSealingKeys()) {
    it(`refuses ${name}`, () => {
      assert.equal(canonicalSealingKeyPem(text), undefined);
      assert.throws(
        () => sealingKeyHash(text),
        (err: unknown) => err instanceof TypeError && err.message === 'publicKeyPem: must be an EC P-256 public key in SPKI PEM',
      );
    });
  }
});

function proposed(auditorId = 'auditor-1', by = DSO): AuditorKeyRecord {
  const key = p256();
  return rules.proposeAuditorKey(undefined, undefined, { auditorId, publicKeyPem: key.pem, keyHash: sealingKeyHash(key.pem) }, by, NOW);
}

describe('rules/auditors', () => {
  it('a proposal is a proposed record without a description unless one is given', () => {
    const record = proposed();
    assert.equal(record.status, 'proposed');
    assert.equal(record.proposedBy, DSO);
    assert.equal('description' in record, false);
    const described = rules.proposeAuditorKey(undefined, undefined, { auditorId: 'a2', publicKeyPem: 'p', keyHash: 'h', description: 'Audit office' }, AGG, NOW);
    assert.equal(described.description, 'Audit office');
  });

  it('ids are never reused and a key is held by one id', () => {
    const record = proposed();
    const proposal = { auditorId: record.auditorId, publicKeyPem: record.publicKeyPem, keyHash: record.keyHash };
    for (const existing of [record, { ...record, status: 'active' as const }, { ...record, status: 'retired' as const }]) {
      assert.equal(codeOf(() => rules.proposeAuditorKey(existing, undefined, proposal, AGG, NOW)), 'CONFLICT');
    }
    assert.throws(() => rules.proposeAuditorKey(undefined, 'auditor-0', { ...proposal, auditorId: 'auditor-9' }, AGG, NOW), /^ChaincodeError: \[CONFLICT\] publicKeyPem: this key is already registered for auditor auditor-0$/);
  });

  it('only the other organisation approves, naming the hash; then retirement the same way', () => {
    const record = proposed('a1', DSO);
    assert.equal(codeOf(() => rules.approveAuditorKey(record, record.keyHash, DSO, NOW)), 'FORBIDDEN');
    assert.equal(codeOf(() => rules.approveAuditorKey(record, 'f'.repeat(64), AGG, NOW)), 'RULE_VIOLATION');
    assert.equal(codeOf(() => rules.proposeAuditorKeyRetirement(record, AGG, NOW)), 'CONFLICT');
    const active = rules.approveAuditorKey(record, record.keyHash, AGG, NOW);
    assert.deepEqual([active.status, active.approvedBy], ['active', AGG]);
    assert.equal(codeOf(() => rules.approveAuditorKey(active, active.keyHash, AGG, NOW)), 'CONFLICT');
    assert.equal(codeOf(() => rules.approveAuditorKeyRetirement(active, DSO, NOW)), 'CONFLICT', 'nothing pending');
    const pending = rules.proposeAuditorKeyRetirement(active, AGG, NOW);
    assert.equal(pending.status, 'active', 'still sealed to until the retirement is approved');
    assert.equal(codeOf(() => rules.proposeAuditorKeyRetirement(pending, DSO, NOW)), 'CONFLICT');
    assert.equal(codeOf(() => rules.approveAuditorKeyRetirement(pending, AGG, NOW)), 'FORBIDDEN');
    const retired = rules.approveAuditorKeyRetirement(pending, DSO, NOW);
    assert.deepEqual([retired.status, retired.retiredBy], ['retired', DSO]);
    assert.equal(codeOf(() => rules.approveAuditorKeyRetirement(retired, DSO, NOW)), 'CONFLICT');
    assert.equal(codeOf(() => rules.proposeAuditorKeyRetirement(retired, DSO, NOW)), 'CONFLICT');
  });

  it('property: whatever the sequence of actions and callers, no organisation alone activates or retires a key', () => {
    const org = fc.constantFrom(DSO, AGG);
    const action = fc.record({
      kind: fc.constantFrom('approve', 'approveWrongHash', 'proposeRetirement', 'approveRetirement'),
      by: org,
    });
    fc.assert(
      fc.property(org, fc.array(action, { maxLength: 12 }), (proposer, actions) => {
        let record = rules.proposeAuditorKey(undefined, undefined, { auditorId: 'a', publicKeyPem: 'p', keyHash: 'h'.repeat(64) }, proposer, NOW);
        const order = ['proposed', 'active', 'retired'];
        for (const { kind, by } of actions) {
          const before = record;
          try {
            if (kind === 'approve') record = rules.approveAuditorKey(record, record.keyHash, by, NOW);
            else if (kind === 'approveWrongHash') record = rules.approveAuditorKey(record, '0'.repeat(64), by, NOW);
            else if (kind === 'proposeRetirement') record = rules.proposeAuditorKeyRetirement(record, by, NOW);
            else record = rules.approveAuditorKeyRetirement(record, by, NOW);
          } catch (err) {
            assert.ok(err instanceof ChaincodeError);
            assert.equal(record, before, 'a refusal returns nothing new');
          }
          assert.ok(order.indexOf(record.status) >= order.indexOf(before.status), 'status never goes back');
          if (record.status !== 'proposed') assert.ok(record.approvedBy !== undefined && record.approvedBy !== record.proposedBy);
          if (record.status === 'retired') assert.ok(record.retiredBy !== undefined && record.retiredBy !== record.retirementProposedBy);
          assert.equal(record.keyHash, 'h'.repeat(64), 'the key never changes');
        }
      }),
    );
  });
});
