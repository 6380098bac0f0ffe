import assert from 'node:assert/strict';
import { AGGREGATOR, ChaincodeHarness, DSO, expectCode, newProsumer, OUTSIDER, registerMeter } from './support/harness';

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
});
