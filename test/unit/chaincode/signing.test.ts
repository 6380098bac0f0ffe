import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import {
  ACTION_ACCEPT_ENROLLMENT,
  ACTION_AUTHORIZE_METER,
  ACTION_SUBMIT_PERIOD,
  ACTION_WITHDRAW,
  canonicalEncoding,
  CHAINCODE_ERROR_CODES,
  DEFAULT_LEDGER_TARGET,
  prosumerKeyType,
  samePublicKey,
  signPayload,
  verifyPayloadSignature,
  type WithdrawPayload,
} from '@flexproof/protocol';
import { contracts } from './support/chaincode';

const payload: WithdrawPayload = { type: ACTION_WITHDRAW, ...DEFAULT_LEDGER_TARGET, meterId: 'm1', prosumerId: 'p1', amount: '10', nonce: '1' };

describe('signing (prosumer signatures)', () => {
  it('v2 actions name their ledger: the default target is flexchannel / flexproof', () => {
    assert.deepEqual(
      [ACTION_ACCEPT_ENROLLMENT, ACTION_SUBMIT_PERIOD, ACTION_WITHDRAW, ACTION_AUTHORIZE_METER],
      ['flexproof.acceptEnrollment.v2', 'flexproof.submitPeriod.v2', 'flexproof.withdraw.v2', 'flexproof.authorizeMeter.v2'],
    );
    assert.deepEqual({ ...DEFAULT_LEDGER_TARGET }, { channel: 'flexchannel', chaincode: 'flexproof' });
    assert.ok(Object.isFrozen(DEFAULT_LEDGER_TARGET));
    assert.ok(CHAINCODE_ERROR_CODES.includes('CLOCK_SKEW'));
  });

  it('a signature over one channel does not verify for another', () => {
    const keys = generateKeyPairSync('ed25519');
    const pem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const sig = signPayload(payload, keys.privateKey);
    assert.equal(verifyPayloadSignature({ ...payload, channel: 'otherchannel' }, sig, pem), false);
    assert.equal(verifyPayloadSignature({ ...payload, chaincode: 'other' }, sig, pem), false);
  });

  it('samePublicKey compares keys, not PEM text, and never matches a private key', () => {
    const a = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const b = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = a.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    assert.equal(samePublicKey(pem, pem.replace(/\n/g, '\r\n')), true);
    assert.equal(samePublicKey(pem, b.publicKey.export({ type: 'spki', format: 'pem' }).toString()), false);
    assert.equal(samePublicKey(pem, a.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), false);
    assert.equal(samePublicKey(pem, 'garbage'), false);
  });

  it('the canonical encoding sorts keys at every level', () => {
    assert.equal(canonicalEncoding({ b: 1, a: { d: 2, c: [{ f: 1, e: 0 }] } }).toString(), '{"a":{"c":[{"e":0,"f":1}],"d":2},"b":1}');
  });

  for (const kind of ['ec', 'ed25519'] as const) {
    it(`${kind}: a signature verifies, and fails for another key or an altered payload`, () => {
      const keys = kind === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
      const other = generateKeyPairSync('ed25519');
      const pem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const sig = signPayload(payload, keys.privateKey);
      assert.equal(verifyPayloadSignature(payload, sig, pem), true);
      assert.equal(verifyPayloadSignature({ ...payload }, sig, pem), true, 'key order does not matter');
      assert.equal(verifyPayloadSignature({ ...payload, amount: '11' }, sig, pem), false);
      assert.equal(verifyPayloadSignature(payload, signPayload(payload, other.privateKey), pem), false);
      assert.equal(verifyPayloadSignature(payload, 'not base64!', pem), false);
      assert.equal(prosumerKeyType(pem), kind === 'ec' ? 'ec-p256' : 'ed25519');
    });
  }

  it('refuses keys of other kinds', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    assert.equal(prosumerKeyType(p384), undefined);
    assert.equal(prosumerKeyType('garbage'), undefined);
    const ed = generateKeyPairSync('ed25519');
    assert.equal(prosumerKeyType(ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), undefined, 'a private key is not a public key');
  });
});

describe('contracts: every public method is a transaction', () => {
  it('contract prototypes hold only PascalCase transactions', () => {
    for (const cls of contracts as (new () => object)[]) {
      const names = Object.getOwnPropertyNames(cls.prototype).filter((n) => n !== 'constructor');
      for (const n of names) assert.match(n, /^[A-Z][A-Za-z]+$/, `${cls.name}.${n}`);
    }
  });
});
