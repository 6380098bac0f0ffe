/**
 * What the chaincode's former client entry (`@flexproof/chaincode/client`) held lives in
 * the protocol, once, and the entry is gone: importing it fails to resolve, and neither
 * the built chaincode entry nor its sources hand out a second copy of a protocol name.
 * The account names the protocol builds are the ones the chaincode's rules accept.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import * as chaincodeEntry from '@flexproof/chaincode';
import * as chaincode from '../chaincode/support/chaincode';
import { AGGREGATOR, ChaincodeHarness, DSO } from '../chaincode/support/harness';
import * as protocol from '@flexproof/protocol';

/** The names the client entry re-exported from the protocol (each the protocol's). */
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

describe('protocol: the chaincode client entry, moved here and gone', () => {
  it('the client entry is gone: its specifier does not resolve, in code or from the package', () => {
    assert.throws(() => require.resolve('@flexproof/chaincode/client'), (e: NodeJS.ErrnoException) => e.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED');
    const manifest = JSON.parse(readFileSync(require.resolve('@flexproof/chaincode/package.json'), 'utf8')) as { exports: Record<string, unknown> };
    assert.deepEqual(Object.keys(manifest.exports).sort(), ['.', './package.json']);
  });

  it('the chaincode hands out no protocol name again: its entry and its sources export none of the moved ones', () => {
    const built = chaincodeEntry as unknown as Record<string, unknown>;
    const sources = chaincode as unknown as Record<string, unknown>;
    for (const name of MOVED) {
      assert.ok((protocol as unknown as Record<string, unknown>)[name] !== undefined, `${name} is exported by the protocol`);
      assert.equal(built[name], undefined, `@flexproof/chaincode still exports ${name}`);
      assert.equal(sources[name], undefined, `chaincode/src/index.ts still exports ${name}`);
    }
    // Its own error class and parser stay; the schemas it checks with are the protocol's objects.
    assert.equal(typeof built.ChaincodeError, 'function');
    assert.equal(typeof built.parseErrorCode, 'function');
    assert.equal(built.schemas, protocol.schemas);
  });

  it('the chaincode\'s rules name accounts with the protocol\'s functions', () => {
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
