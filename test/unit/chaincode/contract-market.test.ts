import assert from 'node:assert/strict';
import {
  activeEnrollment,
  AGGREGATOR,
  ChaincodeHarness,
  DSO,
  expectCode,
  flat,
  GRACE_SECONDS,
  newProsumer,
  offerInput,
  openOrder,
  OUTSIDER,
  periodEnd,
  registerCircuit,
  registerMeter,
  SKEW_MS,
  submission,
  T0,
  tokenImbalance,
} from './support/harness';

describe('contract org.flexproof.market', () => {
  it('the DSO requests and orders, the aggregator offers; each is refused the other role', async () => {
    const h = new ChaincodeHarness();
    await h.call(DSO, 'tokens', 'Mint', { account: 'org:DsoMSP', amount: '5000' });
    const request = { requestId: 'r1', congestionPoint: 'cp-north', day: '2030-03-01', requestedWh: flat('500') };
    await expectCode(h.call(AGGREGATOR, 'market', 'CreateFlexRequest', request), 'FORBIDDEN');
    await expectCode(h.call(OUTSIDER, 'market', 'CreateFlexRequest', request), 'FORBIDDEN');
    await expectCode(h.call(DSO, 'market', 'CreateFlexRequest', { ...request, requestedWh: flat('500').slice(1) }), 'BAD_INPUT');
    await h.call(DSO, 'market', 'CreateFlexRequest', request);
    assert.equal(h.lastEvent()?.name, 'FlexRequestCreated');
    await expectCode(h.call(DSO, 'market', 'CreateFlexRequest', request), 'CONFLICT');
    const offer = { offerId: 'o1', requestId: 'r1', offeredWh: flat('400'), price: '1200' };
    await expectCode(h.call(DSO, 'market', 'SubmitFlexOffer', offer), 'FORBIDDEN');
    await h.call(AGGREGATOR, 'market', 'SubmitFlexOffer', offer);
    await expectCode(h.call(AGGREGATOR, 'market', 'AcceptFlexOffer', { orderId: 'ord1', offerId: 'o1' }), 'FORBIDDEN');
    await h.call(DSO, 'market', 'AcceptFlexOffer', { orderId: 'ord1', offerId: 'o1' });
    assert.equal(h.lastEvent()?.name, 'FlexOrderCreated');
    await expectCode(h.call(DSO, 'market', 'AcceptFlexOffer', { orderId: 'ord2', offerId: 'o1' }), 'CONFLICT');
    assert.equal((await h.call(DSO, 'tokens', 'GetBalance', { account: 'escrow:order:ord1' })).balance, '1200');
    const view = await h.call(AGGREGATOR, 'market', 'GetFlexRequest', { requestId: 'r1' });
    assert.deepEqual([view.offers.length, view.orders.length, view.offers[0].status], [1, 1, 'accepted']);
    await expectCode(h.call(AGGREGATOR, 'market', 'CloseFlexRequest', { requestId: 'r1' }), 'FORBIDDEN');
    await h.call(DSO, 'market', 'CloseFlexRequest', { requestId: 'r1' });
    await expectCode(h.call(AGGREGATOR, 'market', 'SubmitFlexOffer', { ...offer, offerId: 'o2' }), 'RULE_VIOLATION');
    assert.equal(await tokenImbalance(h), 0n);
  });

  it('an order settles after its enrollments: price - penalty to the aggregator, penalty to the DSO', async () => {
    const h = new ChaincodeHarness();
    await registerCircuit(h);
    const a = newProsumer(0);
    const b = newProsumer(1);
    await registerMeter(h, a);
    await registerMeter(h, b);
    // Offered 1000 Wh per ISP for 2400; enrollments contribute 600 + 400 Wh per period.
    await openOrder(h, 'order-1', '2400', flat('1000'));
    await activeEnrollment(h, a, 'enr-a', 'order-1', { flexWh: flat('600'), toleranceWh: '0', ratePerWh: '0' });
    await activeEnrollment(h, b, 'enr-b', 'order-1', { flexWh: flat('400'), toleranceWh: '0', ratePerWh: '0' });
    let headA = '0';
    for (let q = 0; q < 24; q++) {
      h.advanceTo(periodEnd(q));
      // a deviates 100 Wh in period 5; b submits an invalid proof in period 10 (excluded).
      await h.call(DSO, 'programs', 'SubmitPeriod', await submission(h, a, 'enr-a', q, headA, { deviation: q === 5 ? '100' : '0' }));
      headA = String(1000 + q);
      if (q <= 10) {
        await h.call(DSO, 'programs', 'SubmitPeriod', await submission(h, b, 'enr-b', q, q === 0 ? '0' : String(1000 + q - 1), { valid: q !== 10 }));
      }
    }
    await expectCode(h.call(AGGREGATOR, 'market', 'SettleFlexOrder', { orderId: 'order-1' }), 'RULE_VIOLATION');
    await h.call(AGGREGATOR, 'programs', 'CloseEnrollment', { enrollmentId: 'enr-a' });
    h.advanceTo(periodEnd(23) + GRACE_SECONDS * 1000);
    assert.ok(h.nowMs < T0 + 86_400_000);
    await expectCode(h.call(DSO, 'market', 'SettleFlexOrder', { orderId: 'order-1' }), 'RULE_VIOLATION');
    await expectCode(h.call(OUTSIDER, 'market', 'SettleFlexOrder', { orderId: 'order-1' }), 'FORBIDDEN');
    const dsoBefore = BigInt((await h.call(DSO, 'tokens', 'GetBalance', { account: 'org:DsoMSP' })).balance);
    const settled = await h.call(AGGREGATOR, 'market', 'SettleFlexOrder', { orderId: 'order-1' });
    // delivered: 1000 for periods 0-9 except 900 in period 5; 600 for 10-23.
    // deficiency = 100 + 14 * 400 = 5700 of 24000 offered; penalty = floor(2400 * 5700 / 24000) = 570.
    assert.equal(settled.settlement.deliveredWh[5], '900');
    assert.equal(settled.settlement.deliveredWh[10], '600');
    assert.equal(settled.settlement.penalty, '570');
    assert.equal(settled.settlement.toAggregator, '1830');
    assert.equal(h.lastEvent()?.name, 'FlexOrderSettled');
    assert.equal(BigInt((await h.call(DSO, 'tokens', 'GetBalance', { account: 'org:DsoMSP' })).balance), dsoBefore + 570n);
    assert.equal((await h.call(DSO, 'tokens', 'GetBalance', { account: 'escrow:order:order-1' })).balance, '0');
    await expectCode(h.call(AGGREGATOR, 'market', 'SettleFlexOrder', { orderId: 'order-1' }), 'CONFLICT');
    const order = await h.call(DSO, 'market', 'GetFlexOrder', { orderId: 'order-1' });
    assert.deepEqual(order.enrollments.map((e: { status: string }) => e.status), ['closed', 'excluded']);
    assert.equal(await tokenImbalance(h), 0n);
  });

  it('the DSO may settle only after the end of the day plus the clock skew', async () => {
    const h = new ChaincodeHarness();
    await openOrder(h, 'order-1', '2400');
    h.advanceTo(T0 + 86_400_000 + SKEW_MS);
    const before = new Map(h.stub.snapshot());
    await expectCode(h.call(DSO, 'market', 'SettleFlexOrder', { orderId: 'order-1' }), 'RULE_VIOLATION');
    assert.deepEqual(h.stub.snapshot(), before);
    h.advanceTo(T0 + 86_400_000 + SKEW_MS + 1);
    const settled = await h.call(DSO, 'market', 'SettleFlexOrder', { orderId: 'order-1' });
    assert.equal(settled.settlement.penalty, '2400');
  });

  it('T2: enrollments book the order: flexWh beyond the offer is refused and changes nothing; cancelling gives it back', async () => {
    const h = new ChaincodeHarness();
    await registerCircuit(h);
    const [a, b, c] = [newProsumer(0), newProsumer(1), newProsumer(2)];
    for (const p of [a, b, c]) await registerMeter(h, p);
    await openOrder(h, 'order-1', '2400', flat('1000'));
    await h.call(AGGREGATOR, 'programs', 'OfferEnrollment', offerInput('enr-a', 'order-1', a, { flexWh: flat('600') }));
    assert.deepEqual((await h.call(DSO, 'market', 'GetFlexOrder', { orderId: 'order-1' })).order.enrolledWh, flat('600'));

    const before = new Map(h.stub.snapshot());
    const events = h.stub.events.length;
    const over = flat('400');
    over[7] = '401';
    const err = await expectCode(h.call(AGGREGATOR, 'programs', 'OfferEnrollment', offerInput('enr-b', 'order-1', b, { flexWh: over })), 'RULE_VIOLATION');
    assert.match(err.message, /flexWh\[7\]: .*1001 Wh in period 7, above the 1000 Wh offered/);
    const absurd = flat('0');
    absurd[0] = (10n ** 30n).toString();
    await expectCode(h.call(AGGREGATOR, 'programs', 'OfferEnrollment', offerInput('enr-b', 'order-1', b, { flexWh: absurd })), 'RULE_VIOLATION');
    assert.deepEqual(h.stub.snapshot(), before, 'refused offers leave the ledger untouched');
    assert.equal(h.stub.events.length, events);

    await h.call(AGGREGATOR, 'programs', 'OfferEnrollment', offerInput('enr-b', 'order-1', b, { flexWh: flat('400') }));
    await expectCode(h.call(AGGREGATOR, 'programs', 'OfferEnrollment', offerInput('enr-c', 'order-1', c, { flexWh: flat('1') })), 'RULE_VIOLATION');
    await h.call(AGGREGATOR, 'programs', 'CancelEnrollment', { enrollmentId: 'enr-b' });
    assert.deepEqual((await h.call(DSO, 'market', 'GetFlexOrder', { orderId: 'order-1' })).order.enrolledWh, flat('600'));
    await h.call(AGGREGATOR, 'programs', 'OfferEnrollment', offerInput('enr-c', 'order-1', c, { flexWh: flat('400') }));
    assert.deepEqual((await h.call(DSO, 'market', 'GetFlexOrder', { orderId: 'order-1' })).order.enrolledWh, flat('1000'));
  });

  it('T2: enrollments that deliver exactly what they booked earn the whole price, no more', async () => {
    const h = new ChaincodeHarness();
    await registerCircuit(h);
    const a = newProsumer(0);
    await registerMeter(h, a);
    // Offered 100 Wh per ISP; the enrollment books exactly that and delivers it every period.
    await openOrder(h, 'order-1', '2400', flat('100'));
    await activeEnrollment(h, a, 'enr-a', 'order-1', { flexWh: flat('100'), toleranceWh: '0', ratePerWh: '0' });
    let head = '0';
    for (let q = 0; q < 24; q++) {
      h.advanceTo(periodEnd(q));
      await h.call(DSO, 'programs', 'SubmitPeriod', await submission(h, a, 'enr-a', q, head));
      head = String(1000 + q);
    }
    await h.call(AGGREGATOR, 'programs', 'CloseEnrollment', { enrollmentId: 'enr-a' });
    const settled = await h.call(AGGREGATOR, 'market', 'SettleFlexOrder', { orderId: 'order-1' });
    assert.deepEqual(settled.settlement.deliveredWh, flat('100'));
    assert.equal(settled.settlement.penalty, '0');
    assert.equal(settled.settlement.toAggregator, '2400');
    assert.equal(await tokenImbalance(h), 0n);
  });
});
