import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { ACTION_AUTHORIZE_METER, ACTION_WITHDRAW, signPayload, type AuthorizeMeterPayload, type LedgerTarget, type WithdrawPayload } from '@flexproof/protocol';
import { AGGREGATOR, ChaincodeHarness, DSO, expectCode, newProsumer, OUTSIDER, registerMeter, TARGET, type Prosumer } from './support/harness';

/** The owner's consent to `meterId` with `publicKeyPem` under its prosumer id, signed with `key`. */
function authorization(
  owner: Prosumer,
  meterId: string,
  publicKeyPem: string,
  nonce: string,
  o: { key?: KeyObject; target?: LedgerTarget; prosumerId?: string } = {},
) {
  const payload: AuthorizeMeterPayload = {
    type: ACTION_AUTHORIZE_METER,
    ...(o.target ?? TARGET),
    prosumerId: o.prosumerId ?? owner.prosumerId,
    meterId,
    publicKeyPem,
    nonce,
  };
  return { payload, signature: signPayload(payload, o.key ?? owner.privateKey) };
}

function meterInput(owner: Prosumer, meterId: string, publicKeyPem: string, auth?: unknown) {
  return { meterId, prosumerId: owner.prosumerId, publicKeyPem, congestionPoint: 'cp-north', ...(auth ? { authorization: auth } : {}) };
}

describe('contract org.flexproof.meters', () => {
  it('the DSO registers a meter with a P-256 or Ed25519 key; the event names it', async () => {
    const h = new ChaincodeHarness();
    const ec = newProsumer(0, 'ec');
    const ed = newProsumer(1, 'ed25519');
    await registerMeter(h, ec);
    assert.deepEqual(h.lastEvent()?.name, 'MeterRegistered');
    assert.equal(h.lastEvent()?.payload.meterId, ec.meterId);
    await registerMeter(h, ed, 'cp-south');
    const meter = await h.call(AGGREGATOR, 'meters', 'GetMeter', { meterId: ec.meterId });
    assert.equal(meter.keyType, 'ec-p256');
    assert.equal(meter.status, 'active');
    assert.equal(meter.nonce, '0');
    const north = await h.call(AGGREGATOR, 'meters', 'ListMetersByCongestionPoint', { congestionPoint: 'cp-north' });
    assert.deepEqual(north.meters.map((m: { meterId: string }) => m.meterId), [ec.meterId]);
  });

  it('refuses the aggregator and non-members (FORBIDDEN), duplicates (CONFLICT), bad keys (BAD_INPUT)', async () => {
    const h = new ChaincodeHarness();
    const p = newProsumer(0);
    const input = { meterId: p.meterId, prosumerId: p.prosumerId, publicKeyPem: p.publicKeyPem, congestionPoint: 'cp-north' };
    await expectCode(h.call(AGGREGATOR, 'meters', 'RegisterMeter', input), 'FORBIDDEN');
    await expectCode(h.call(OUTSIDER, 'meters', 'RegisterMeter', input), 'FORBIDDEN');
    await expectCode(h.call(OUTSIDER, 'meters', 'GetMeter', { meterId: p.meterId }), 'FORBIDDEN');
    await h.call(DSO, 'meters', 'RegisterMeter', input);
    await expectCode(h.call(DSO, 'meters', 'RegisterMeter', input), 'CONFLICT');
    const rsa = (await import('node:crypto')).generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const err = await expectCode(h.call(DSO, 'meters', 'RegisterMeter', { ...input, meterId: 'm2', publicKeyPem: rsa }), 'BAD_INPUT');
    assert.match(err.message, /publicKeyPem/);
    const bad = await expectCode(h.call(DSO, 'meters', 'RegisterMeter', { ...input, meterId: 'has:colon' }), 'BAD_INPUT');
    assert.match(bad.message, /meterId/);
    await expectCode(h.call(DSO, 'meters', 'RegisterMeter', { ...input, extra: 1 }), 'BAD_INPUT');
    await expectCode(h.call(DSO, 'meters', 'GetMeter', { meterId: 'nope' }), 'NOT_FOUND');
  });

  it('only the DSO suspends and reactivates', async () => {
    const h = new ChaincodeHarness();
    const p = newProsumer(0);
    await registerMeter(h, p);
    await expectCode(h.call(AGGREGATOR, 'meters', 'SuspendMeter', { meterId: p.meterId, reason: 'x' }), 'FORBIDDEN');
    assert.equal((await h.call(DSO, 'meters', 'SuspendMeter', { meterId: p.meterId, reason: 'tamper alarm' })).status, 'suspended');
    await expectCode(h.call(DSO, 'meters', 'SuspendMeter', { meterId: p.meterId, reason: 'again' }), 'CONFLICT');
    await expectCode(h.call(AGGREGATOR, 'meters', 'ReactivateMeter', { meterId: p.meterId, reason: 'x' }), 'FORBIDDEN');
    assert.equal((await h.call(DSO, 'meters', 'ReactivateMeter', { meterId: p.meterId, reason: 'fixed' })).status, 'active');
  });

  it('a failed transaction leaves no state and no event', async () => {
    const h = new ChaincodeHarness();
    const before = h.stub.snapshot().size;
    await expectCode(h.call(AGGREGATOR, 'meters', 'RegisterMeter', {}), 'FORBIDDEN');
    assert.equal(h.stub.snapshot().size, before);
    assert.equal(h.stub.events.length, 0);
  });

  it('T5: the first meter binds the prosumer id to its key; a further meter with the same key needs nothing', async () => {
    const h = new ChaincodeHarness();
    const p = newProsumer(0);
    await registerMeter(h, p);
    const bound = await h.call(AGGREGATOR, 'meters', 'GetProsumer', { prosumerId: p.prosumerId });
    assert.equal(bound.publicKeyPem, p.publicKeyPem);
    assert.equal(bound.nonce, '0');
    // The same key in another PEM layout (CRLF line ends) is the same key.
    await h.call(DSO, 'meters', 'RegisterMeter', meterInput(p, 'meter-0b', p.publicKeyPem.replace(/\n/g, '\r\n')));
    assert.equal((await h.call(DSO, 'meters', 'GetMeter', { meterId: 'meter-0b' })).prosumerId, p.prosumerId);
    await expectCode(h.call(DSO, 'meters', 'GetProsumer', { prosumerId: 'nobody' }), 'NOT_FOUND');
  });

  it('T5: the DSO cannot put its own key under an existing prosumer id; every bad authorization changes nothing', async () => {
    const h = new ChaincodeHarness();
    const p = newProsumer(0);
    const dsoKey = newProsumer(1);
    await registerMeter(h, p);
    await h.call(DSO, 'tokens', 'Mint', { account: `prosumer:${p.prosumerId}`, amount: '100' });
    const before = new Map(h.stub.snapshot());
    const events = h.stub.events.length;
    const attempts: [string, unknown, string, RegExp][] = [
      ['no authorization', undefined, 'FORBIDDEN', /publicKeyPem: prosumer prosumer-0 is bound to another key/],
      ['signed by the new key itself', authorization(p, 'meter-x', dsoKey.publicKeyPem, '1', { key: dsoKey.privateKey }), 'BAD_SIGNATURE', /authorization\.signature/],
      ['for another meter', authorization(p, 'meter-y', dsoKey.publicKeyPem, '1'), 'FORBIDDEN', /authorization\.payload\.meterId/],
      ['for another key', authorization(p, 'meter-x', newProsumer(2).publicKeyPem, '1'), 'FORBIDDEN', /authorization\.payload\.publicKeyPem/],
      ['for another prosumer', authorization(p, 'meter-x', dsoKey.publicKeyPem, '1', { prosumerId: 'prosumer-9' }), 'FORBIDDEN', /authorization\.payload\.prosumerId/],
      ['for another channel', authorization(p, 'meter-x', dsoKey.publicKeyPem, '1', { target: { ...TARGET, channel: 'otherchannel' } }), 'BAD_SIGNATURE', /payload\.channel: signed for channel otherchannel, this is channel flexchannel/],
      ['for another chaincode', authorization(p, 'meter-x', dsoKey.publicKeyPem, '1', { target: { ...TARGET, chaincode: 'other' } }), 'BAD_SIGNATURE', /payload\.chaincode: signed for chaincode other, this is chaincode flexproof/],
    ];
    for (const [name, auth, code, message] of attempts) {
      const err = await expectCode(h.call(DSO, 'meters', 'RegisterMeter', meterInput(p, 'meter-x', dsoKey.publicKeyPem, auth)), code as 'FORBIDDEN');
      assert.match(err.message, message, name);
    }
    assert.deepEqual(h.stub.snapshot(), before, 'the ledger is unchanged');
    assert.equal(h.stub.events.length, events);
    // So the DSO's key cannot withdraw the prosumer's tokens: it is no meter's key.
    const payload: WithdrawPayload = { type: ACTION_WITHDRAW, ...TARGET, meterId: 'meter-x', prosumerId: p.prosumerId, amount: '100', nonce: '1' };
    await expectCode(h.call(DSO, 'tokens', 'Withdraw', { payload, signature: signPayload(payload, dsoKey.privateKey) }), 'NOT_FOUND');
    assert.equal((await h.call(DSO, 'tokens', 'GetBalance', { account: `prosumer:${p.prosumerId}` })).balance, '100');
  });

  it('T5: a key rotation signed by the bound key registers the new meter once; its nonce cannot be reused', async () => {
    const h = new ChaincodeHarness();
    const p = newProsumer(0);
    const next = newProsumer(1);
    await registerMeter(h, p);
    await h.call(DSO, 'tokens', 'Mint', { account: `prosumer:${p.prosumerId}`, amount: '100' });
    const auth = authorization(p, 'meter-new', next.publicKeyPem, '5');
    const meter = await h.call(DSO, 'meters', 'RegisterMeter', meterInput(p, 'meter-new', next.publicKeyPem, auth));
    assert.equal(meter.prosumerId, p.prosumerId);
    assert.equal(h.lastEvent()?.payload.authorized, true);
    const record = await h.call(DSO, 'meters', 'GetProsumer', { prosumerId: p.prosumerId });
    assert.equal(record.nonce, '5');
    assert.equal(record.publicKeyPem, p.publicKeyPem, 'the id stays bound to its first key');
    // The new meter's key now acts for the prosumer.
    const payload: WithdrawPayload = { type: ACTION_WITHDRAW, ...TARGET, meterId: 'meter-new', prosumerId: p.prosumerId, amount: '40', nonce: '1' };
    await h.call(AGGREGATOR, 'tokens', 'Withdraw', { payload, signature: signPayload(payload, next.privateKey) });
    // Replays: the same authorization again, and an older nonce for another meter.
    await expectCode(h.call(DSO, 'meters', 'RegisterMeter', meterInput(p, 'meter-new', next.publicKeyPem, auth)), 'CONFLICT');
    const before = new Map(h.stub.snapshot());
    const third = newProsumer(2);
    await expectCode(h.call(DSO, 'meters', 'RegisterMeter', meterInput(p, 'meter-3', third.publicKeyPem, authorization(p, 'meter-3', third.publicKeyPem, '5'))), 'REPLAY');
    await expectCode(h.call(DSO, 'meters', 'RegisterMeter', meterInput(p, 'meter-3', third.publicKeyPem, authorization(p, 'meter-3', third.publicKeyPem, '6', { key: next.privateKey }))), 'BAD_SIGNATURE');
    assert.deepEqual(h.stub.snapshot(), before);
    await h.call(DSO, 'meters', 'RegisterMeter', meterInput(p, 'meter-3', third.publicKeyPem, authorization(p, 'meter-3', third.publicKeyPem, '6')));
  });

  it('an authorization for a prosumer without a meter is refused (BAD_INPUT): nothing is bound yet', async () => {
    const h = new ChaincodeHarness();
    const p = newProsumer(0);
    const err = await expectCode(h.call(DSO, 'meters', 'RegisterMeter', meterInput(p, p.meterId, p.publicKeyPem, authorization(p, p.meterId, p.publicKeyPem, '1'))), 'BAD_INPUT');
    assert.match(err.message, /^\[BAD_INPUT\] authorization: /);
    assert.equal(h.stub.snapshot().size, 0);
  });

  it('a private key sent as publicKeyPem is refused and never stored', async () => {
    const h = new ChaincodeHarness();
    const p = newProsumer(0);
    const privatePem = p.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const err = await expectCode(h.call(DSO, 'meters', 'RegisterMeter', meterInput(p, p.meterId, privatePem)), 'BAD_INPUT');
    assert.match(err.message, /publicKeyPem/);
    assert.equal(h.stub.snapshot().size, 0);
  });
});
