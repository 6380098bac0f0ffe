import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import {
  ACTION_WITHDRAW,
  canonicalEncoding,
  contracts,
  prosumerKeyType,
  signPayload,
  verifyPayloadSignature,
  type WithdrawPayload,
} from './support/chaincode';

const payload: WithdrawPayload = { type: ACTION_WITHDRAW, meterId: 'm1', prosumerId: 'p1', amount: '10', nonce: '1' };

describe('signing (prosumer signatures)', () => {
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
