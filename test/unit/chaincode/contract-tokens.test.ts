import assert from 'node:assert/strict';
import { ACTION_WITHDRAW, signPayload, type WithdrawPayload } from '@flexproof/protocol';
import { AGGREGATOR, ChaincodeHarness, DSO, expectCode, newProsumer, OUTSIDER, registerMeter, TARGET, tokenImbalance, type Prosumer } from './support/harness';

function withdraw(p: Prosumer, amount: string, nonce: string, key = p.privateKey, target = TARGET) {
  const payload: WithdrawPayload = { type: ACTION_WITHDRAW, ...target, meterId: p.meterId, prosumerId: p.prosumerId, amount, nonce };
  return { payload, signature: signPayload(payload, key) };
}

describe('contract org.flexproof.tokens', () => {
  it('only the DSO mints and burns; the aggregator and outsiders are refused', async () => {
    const h = new ChaincodeHarness();
    await expectCode(h.call(AGGREGATOR, 'tokens', 'Mint', { account: 'org:AggregatorMSP', amount: '5' }), 'FORBIDDEN');
    await expectCode(h.call(OUTSIDER, 'tokens', 'Mint', { account: 'org:DsoMSP', amount: '5' }), 'FORBIDDEN');
    await h.call(DSO, 'tokens', 'Mint', { account: 'org:AggregatorMSP', amount: '500' });
    assert.equal(h.lastEvent()?.name, 'TokensMinted');
    await expectCode(h.call(AGGREGATOR, 'tokens', 'Burn', { account: 'org:AggregatorMSP', amount: '5' }), 'FORBIDDEN');
    await h.call(DSO, 'tokens', 'Burn', { account: 'org:AggregatorMSP', amount: '100' });
    assert.equal((await h.call(AGGREGATOR, 'tokens', 'GetBalance', { account: 'org:AggregatorMSP' })).balance, '400');
    assert.deepEqual(await h.call(DSO, 'tokens', 'GetSupply', {}), { minted: '500', burned: '100', outstanding: '400' });
    assert.equal(await tokenImbalance(h), 0n);
  });

  it('escrow accounts cannot be minted, burned or transferred into directly; overdrafts are refused', async () => {
    const h = new ChaincodeHarness();
    await expectCode(h.call(DSO, 'tokens', 'Mint', { account: 'escrow:order:o1', amount: '5' }), 'RULE_VIOLATION');
    await expectCode(h.call(DSO, 'tokens', 'Mint', { account: 'org:OutsiderMSP', amount: '5' }), 'BAD_INPUT');
    await expectCode(h.call(DSO, 'tokens', 'Mint', { account: 'org:DsoMSP', amount: '0' }), 'BAD_INPUT');
    await expectCode(h.call(DSO, 'tokens', 'Mint', { account: 'org:DsoMSP', amount: '-5' }), 'BAD_INPUT');
    await expectCode(h.call(DSO, 'tokens', 'Burn', { account: 'org:DsoMSP', amount: '1' }), 'RULE_VIOLATION');
    await h.call(DSO, 'tokens', 'Mint', { account: 'org:AggregatorMSP', amount: '10' });
    await expectCode(h.call(AGGREGATOR, 'tokens', 'Transfer', { to: 'escrow:enrollment:e1', amount: '5' }), 'RULE_VIOLATION');
    await h.call(AGGREGATOR, 'tokens', 'Transfer', { to: 'prosumer:p9', amount: '4' });
    await expectCode(h.call(AGGREGATOR, 'tokens', 'Transfer', { to: 'prosumer:p9', amount: '7' }), 'RULE_VIOLATION');
    await expectCode(h.call(OUTSIDER, 'tokens', 'Transfer', { to: 'prosumer:p9', amount: '1' }), 'FORBIDDEN');
    assert.equal(await tokenImbalance(h), 0n);
  });

  it('a prosumer withdraws with a signed request: burned, redemption recorded; replay, wrong key and altered payloads refused', async () => {
    const h = new ChaincodeHarness();
    const p = newProsumer(0);
    const other = newProsumer(1);
    await registerMeter(h, p);
    await h.call(DSO, 'tokens', 'Mint', { account: `prosumer:${p.prosumerId}`, amount: '100' });
    const ok = withdraw(p, '30', '1');
    const redemption = await h.call(AGGREGATOR, 'tokens', 'Withdraw', ok);
    assert.equal(redemption.amount, '30');
    assert.equal(h.lastEvent()?.name, 'ProsumerWithdrew');
    await expectCode(h.call(AGGREGATOR, 'tokens', 'Withdraw', ok), 'REPLAY');
    await expectCode(h.call(DSO, 'tokens', 'Withdraw', withdraw(p, '10', '1')), 'REPLAY');
    await expectCode(h.call(DSO, 'tokens', 'Withdraw', withdraw(p, '10', '2', other.privateKey)), 'BAD_SIGNATURE');
    const altered = withdraw(p, '10', '3');
    await expectCode(h.call(DSO, 'tokens', 'Withdraw', { ...altered, payload: { ...altered.payload, amount: '70' } }), 'BAD_SIGNATURE');
    await expectCode(h.call(DSO, 'tokens', 'Withdraw', withdraw(p, '71', '4')), 'RULE_VIOLATION');
    await h.call(DSO, 'tokens', 'Withdraw', withdraw(p, '70', '5'));
    assert.equal((await h.call(DSO, 'tokens', 'GetBalance', { account: `prosumer:${p.prosumerId}` })).balance, '0');
    const { redemptions } = await h.call(DSO, 'tokens', 'ListRedemptions', { account: `prosumer:${p.prosumerId}` });
    assert.deepEqual(redemptions.map((r: { amount: string }) => r.amount), ['30', '70']);
    assert.deepEqual(await h.call(DSO, 'tokens', 'GetSupply', {}), { minted: '100', burned: '100', outstanding: '0' });
    assert.equal((await h.call(DSO, 'meters', 'GetMeter', { meterId: p.meterId })).nonce, '5');
  });

  it('T5: the DSO cannot burn a prosumer balance (FORBIDDEN, nothing changes); organisation accounts it can', async () => {
    const h = new ChaincodeHarness();
    const p = newProsumer(0);
    await registerMeter(h, p);
    await h.call(DSO, 'tokens', 'Mint', { account: `prosumer:${p.prosumerId}`, amount: '100' });
    await h.call(DSO, 'tokens', 'Mint', { account: 'org:DsoMSP', amount: '100' });
    const before = new Map(h.stub.snapshot());
    const err = await expectCode(h.call(DSO, 'tokens', 'Burn', { account: `prosumer:${p.prosumerId}`, amount: '100' }), 'FORBIDDEN');
    assert.match(err.message, /account: prosumer:prosumer-0 is burned only by the prosumer's signed withdrawal/);
    await expectCode(h.call(DSO, 'tokens', 'Burn', { account: 'prosumer:someone-else', amount: '1' }), 'FORBIDDEN');
    assert.deepEqual(h.stub.snapshot(), before);
    await h.call(DSO, 'tokens', 'Burn', { account: 'org:DsoMSP', amount: '40' });
    await h.call(AGGREGATOR, 'tokens', 'Withdraw', withdraw(p, '100', '1'));
    assert.deepEqual(await h.call(DSO, 'tokens', 'GetSupply', {}), { minted: '200', burned: '140', outstanding: '60' });
  });

  it('T6: a withdrawal signed for another channel or chaincode, or in the v1 format, is refused and changes nothing', async () => {
    const h = new ChaincodeHarness();
    const p = newProsumer(0);
    await registerMeter(h, p);
    await h.call(DSO, 'tokens', 'Mint', { account: `prosumer:${p.prosumerId}`, amount: '100' });
    const before = new Map(h.stub.snapshot());
    const channel = await expectCode(h.call(DSO, 'tokens', 'Withdraw', withdraw(p, '10', '1', p.privateKey, { ...TARGET, channel: 'otherchannel' })), 'BAD_SIGNATURE');
    assert.match(channel.message, /^\[BAD_SIGNATURE\] payload\.channel: signed for channel otherchannel, this is channel flexchannel$/);
    const chaincode = await expectCode(h.call(DSO, 'tokens', 'Withdraw', withdraw(p, '10', '1', p.privateKey, { ...TARGET, chaincode: 'flexproof2' })), 'BAD_SIGNATURE');
    assert.match(chaincode.message, /^\[BAD_SIGNATURE\] payload\.chaincode: signed for chaincode flexproof2, this is chaincode flexproof$/);
    // The same signed bytes replayed on another channel of the same network.
    const signed = withdraw(p, '10', '1');
    h.channelId = 'otherchannel';
    await expectCode(h.call(DSO, 'tokens', 'Withdraw', signed), 'BAD_SIGNATURE');
    h.channelId = 'flexchannel';
    const v1 = { type: 'flexproof.withdraw.v1', meterId: p.meterId, prosumerId: p.prosumerId, amount: '10', nonce: '1' };
    await expectCode(h.call(DSO, 'tokens', 'Withdraw', { payload: v1, signature: signPayload(v1 as unknown as WithdrawPayload, p.privateKey) }), 'BAD_INPUT');
    const { channel: _c, ...noChannel } = signed.payload;
    await expectCode(h.call(DSO, 'tokens', 'Withdraw', { payload: noChannel, signature: signed.signature }), 'BAD_INPUT');
    assert.deepEqual(h.stub.snapshot(), before);
    await h.call(DSO, 'tokens', 'Withdraw', signed);
  });
});
