/**
 * What the chaincode's former client entry held now lives in the protocol, once: the
 * deprecated `@flexproof/chaincode/client` and the chaincode itself hand out the
 * protocol's own functions and constants (identity, so no second copy can drift), and the
 * account names the protocol builds are the ones the chaincode's rules accept.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import * as chaincode from '../chaincode/support/chaincode';
import { AGGREGATOR, ChaincodeHarness, DSO } from '../chaincode/support/harness';
import * as deprecatedClient from '@flexproof/chaincode/client';
import * as protocol from '@flexproof/protocol';

const MOVED = [
  'ACTION_ACCEPT_ENROLLMENT',
  'ACTION_AUTHORIZE_METER',
  'ACTION_SUBMIT_PERIOD',
  'ACTION_WITHDRAW',
  'DEFAULT_LEDGER_TARGET',
  'canonicalEncoding',
  'enrollmentTerms',
  'prosumerKeyType',
  'samePublicKey',
  'signPayload',
  'verifyPayloadSignature',
  'PERIODS_PER_DAY',
  'GENESIS_FINGERPRINT',
  'DEFAULT_PERIOD_SECONDS',
  'DEFAULT_GRACE_SECONDS',
  'schemas',
  'stableStringify',
  'verificationKeyHash',
  'DEFAULT_CHAINCODE_NAME',
  'DEFAULT_MAX_CLOCK_SKEW_SECONDS',
  'chaincodeNameFrom',
  'maxClockSkewSecondsFrom',
  'orgAccount',
  'prosumerAccount',
  'enrollmentEscrow',
  'orderEscrow',
  'CHAINCODE_ERROR_CODES',
] as const;

describe('protocol: the chaincode client entry, moved', () => {
  it('the deprecated entry holds the protocol\'s own objects, plus only the chaincode\'s error class and parser', () => {
    const client = deprecatedClient as unknown as Record<string, unknown>;
    const p = protocol as unknown as Record<string, unknown>;
    for (const name of MOVED) {
      assert.ok(p[name] !== undefined, `${name} is exported by the protocol`);
      assert.equal(client[name], p[name], name);
    }
    assert.deepEqual(Object.keys(client).filter((k) => !(MOVED as readonly string[]).includes(k)).sort(), ['ChaincodeError', 'parseErrorCode']);
  });

  it('the chaincode signs, hashes, names accounts and parses settings with the protocol\'s functions', () => {
    const cc = chaincode as unknown as Record<string, unknown>;
    const p = protocol as unknown as Record<string, unknown>;
    for (const name of MOVED) assert.equal(cc[name], p[name], name);
    for (const name of ['orgAccount', 'prosumerAccount', 'enrollmentEscrow', 'orderEscrow'] as const) {
      assert.equal(chaincode.rules[name], protocol[name], `rules.${name}`);
    }
    assert.equal(chaincode.rules.DECIMAL_PATTERN, protocol.schemas.DECIMAL_PATTERN);
  });

  it('a payload signed with the protocol verifies with it, and not once a field changes', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const payload = { type: protocol.ACTION_WITHDRAW, ...protocol.DEFAULT_LEDGER_TARGET, meterId: 'm1', prosumerId: 'p1', amount: '5', nonce: '1' } as const;
    const signature = protocol.signPayload(payload, privateKey);
    assert.equal(protocol.verifyPayloadSignature(payload, signature, pem), true);
    assert.equal(protocol.verifyPayloadSignature({ ...payload, amount: '6' }, signature, pem), false);
    assert.equal(protocol.prosumerKeyType(pem), 'ed25519');
  });

  it('the account names are AccountId values, and the chaincode credits the one it is named', async () => {
    const names = [protocol.orgAccount('DsoMSP'), protocol.prosumerAccount('p-1'), protocol.enrollmentEscrow('enr-1'), protocol.orderEscrow('order-1')];
    assert.deepEqual(names, ['org:DsoMSP', 'prosumer:p-1', 'escrow:enrollment:enr-1', 'escrow:order:order-1']);
    for (const name of names) assert.equal(Value.Check(protocol.schemas.AccountId, name), true, name);
    assert.equal(Value.Check(protocol.schemas.AccountId, protocol.prosumerAccount('p:1')), false, 'an id with a colon is no account');
    const h = new ChaincodeHarness();
    await h.call(DSO, 'tokens', 'Mint', { account: protocol.orgAccount(AGGREGATOR), amount: '7' });
    const balance = await h.call(AGGREGATOR, 'tokens', 'GetBalance', { account: protocol.orgAccount(AGGREGATOR) });
    assert.equal(balance.balance, '7');
  });

  it('settings parse as the chaincode server reads them', () => {
    assert.equal(protocol.chaincodeNameFrom(undefined), protocol.DEFAULT_CHAINCODE_NAME);
    assert.equal(protocol.maxClockSkewSecondsFrom('30'), 30);
    assert.throws(() => protocol.maxClockSkewSecondsFrom('-1'), /FLEXPROOF_MAX_CLOCK_SKEW_SECONDS/);
    assert.throws(() => protocol.chaincodeNameFrom('a--b'), /FLEXPROOF_CHAINCODE_NAME/);
  });
});
