import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChaincodeError, ledger, MAX_BATCH_ITEMS } from './support/chaincode';
import {
  activeEnrollment,
  AGGREGATOR,
  ChaincodeHarness,
  CIRCUIT_ID,
  DSO,
  expectCode,
  flat,
  newProsumer,
  offerInput,
  openOrder,
  OUTSIDER,
  periodEnd,
  registerCircuit,
  registerMeter,
  signedAccept,
  submission,
  type Json,
  type Prosumer,
} from './support/harness';

const { KEY } = ledger;
/** Inside the window of period 0 (ended, deadline 5 s later); period 1 has not ended. */
const IN_WINDOW = periodEnd(0) + 1000;

const PROSUMERS: Prosumer[] = Array.from({ length: 32 }, (_, i) => newProsumer(i));

/**
 * A harness with `count` active enrollments enr-0.. of prosumers 0.. under order-1, and
 * (with `shared`) a second enrollment enr-0b of prosumer 0's meter under order-2.
 */
async function setup(count: number, shared = false): Promise<ChaincodeHarness> {
  const h = new ChaincodeHarness();
  await registerCircuit(h);
  await openOrder(h, 'order-1', '2400', flat('100000'));
  if (shared) await openOrder(h, 'order-2', '2400', flat('100000'));
  await h.call(DSO, 'tokens', 'Mint', { account: 'org:AggregatorMSP', amount: String(3000 * (count + 1)) });
  for (let i = 0; i < count; i++) {
    const p = PROSUMERS[i] as Prosumer;
    await registerMeter(h, p);
    await activeEnrollment(h, p, `enr-${i}`, 'order-1');
  }
  if (shared) await activeEnrollment(h, PROSUMERS[0] as Prosumer, 'enr-0b', 'order-2');
  h.advanceTo(IN_WINDOW);
  return h;
}

type Kind = 'valid' | 'invalid' | 'malformed' | 'outOfWindow' | 'wrongHead' | 'badSchema' | 'penalty';

async function item(h: ChaincodeHarness, kind: Kind, enrollment: number | 'shared'): Promise<Json> {
  const p = PROSUMERS[enrollment === 'shared' ? 0 : enrollment] as Prosumer;
  const id = enrollment === 'shared' ? 'enr-0b' : `enr-${enrollment}`;
  switch (kind) {
    case 'valid':
      return submission(h, p, id, 0, '0');
    case 'penalty':
      return submission(h, p, id, 0, '0', { deviation: '60' });
    case 'invalid':
      return submission(h, p, id, 0, '0', { valid: false });
    case 'malformed':
      return submission(h, p, id, 0, '0', { proof: { fake: 'bogus' } });
    case 'outOfWindow':
      return submission(h, p, id, 1, '0');
    case 'wrongHead':
      return submission(h, p, id, 0, '77');
    case 'badSchema': {
      const s = await submission(h, p, id, 0, '0');
      return { ...s, payload: { ...s.payload, periodIndex: 99 } };
    }
  }
}

/** World state with the fields that name a transaction (txId, settledAt) removed. */
function normalisedState(h: ChaincodeHarness): Record<string, unknown> {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>)
          .filter(([k]) => k !== 'txId' && k !== 'settledAt')
          .map(([k, x]) => [k, strip(x)]),
      );
    }
    return v;
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of h.stub.snapshot()) {
    const text = v.toString('utf8');
    out[k] = text.startsWith('{') ? strip(JSON.parse(text)) : text;
  }
  return out;
}

function keysOfType(h: ChaincodeHarness, type: string): string[] {
  return [...h.stub.snapshot().keys()].filter((k) => h.stub.splitCompositeKey(k).objectType === type);
}

async function sequentialOutcome(h: ChaincodeHarness, input: Json): Promise<{ outcome: string; code?: string }> {
  try {
    return { outcome: (await h.call(AGGREGATOR, 'programs', 'SubmitPeriod', input)).outcome };
  } catch (err) {
    assert.ok(err instanceof ChaincodeError, String(err));
    return { outcome: 'refused', code: err.code };
  }
}

describe('contract org.flexproof.programs: SubmitPeriods', () => {
  it('refuses a bad argument as a whole (BAD_INPUT naming items) and changes nothing', async () => {
    const h = await setup(1);
    const before = new Map(h.stub.snapshot());
    const ok = await item(h, 'valid', 0);
    for (const bad of [{}, { items: 'x' }, { items: [] }, { items: Array.from({ length: MAX_BATCH_ITEMS + 1 }, () => ok) }]) {
      const err = await expectCode(h.call(DSO, 'programs', 'SubmitPeriods', bad), 'BAD_INPUT');
      assert.match(err.message, /^\[BAD_INPUT\] items: must be an array of 1 to 64 submissions$/);
    }
    const extra = await expectCode(h.call(DSO, 'programs', 'SubmitPeriods', { items: [ok], more: 1 }), 'BAD_INPUT');
    assert.match(extra.message, /^\[BAD_INPUT\] more: unknown field/);
    await expectCode(h.call(OUTSIDER, 'programs', 'SubmitPeriods', { items: [ok] }), 'FORBIDDEN');
    assert.deepEqual(h.stub.snapshot(), before);
  });

  it('one answer per item: verified, invalidProof and each refusal with its code; one batch verification; one PeriodsSettled event', async () => {
    const h = await setup(6);
    const items = [
      await item(h, 'penalty', 0),
      await item(h, 'invalid', 1),
      await item(h, 'malformed', 2),
      await item(h, 'valid', 0), // a second item for enr-0
      await item(h, 'badSchema', 3),
      await item(h, 'wrongHead', 4),
      await item(h, 'valid', 5),
      'not an object',
    ];
    const { outcomes } = await h.call(DSO, 'programs', 'SubmitPeriods', { items });
    const batchTx = h.lastEvent()?.payload.txId as string;
    assert.deepEqual(
      outcomes.map((o: Json) => [o.index, o.outcome, o.code]),
      [
        [0, 'verified', undefined],
        [1, 'invalidProof', undefined],
        [2, 'refused', 'BAD_INPUT'],
        [3, 'refused', 'CONFLICT'],
        [4, 'refused', 'BAD_INPUT'],
        [5, 'refused', 'CONFLICT'],
        [6, 'verified', undefined],
        [7, 'refused', 'BAD_INPUT'],
      ],
    );
    assert.equal(outcomes[0].result.penalty, '100'); // 2 * (60 - 10)
    assert.equal(outcomes[0].enrollmentId, 'enr-0');
    assert.equal(outcomes[0].periodIndex, 0);
    assert.equal(outcomes[1].result.forfeited, '2400');
    assert.match(outcomes[2].message, /^proof: MALFORMED_PROOF: /);
    assert.equal(outcomes[3].message, 'items[3]: the batch already holds a submission for enrollment enr-0');
    assert.match(outcomes[4].message, /^items\[4\]\.payload\.periodIndex: /);
    assert.equal(outcomes[5].message, 'publicSignals.prevFingerprint: differs from the chain head');
    assert.deepEqual([outcomes[5].enrollmentId, outcomes[5].periodIndex], ['enr-4', 0]);
    assert.equal(outcomes[7].message, 'items[7]: must be a JSON object');
    assert.equal(outcomes[7].enrollmentId, undefined);

    assert.equal(h.verifier.batches.length, 1, 'one batch verification for the circuit');
    assert.equal(h.verifier.batches[0]?.size, 4, 'the items that passed their checks: 0, 1, 2, 6');
    assert.equal(h.verifier.batches[0]?.seed, batchTx, 'seeded by the transaction id');
    assert.match(String(h.verifier.batches[0]?.cacheKey), new RegExp(`^${CIRCUIT_ID}\\n[0-9a-f]{64}$`));
    assert.equal(h.verifier.singleCalls, 0);

    const event = h.lastEvent();
    assert.equal(event?.name, 'PeriodsSettled');
    assert.deepEqual(event?.payload, {
      txId: batchTx,
      items: [
        { enrollmentId: 'enr-0', meterId: 'meter-0', periodIndex: 0, outcome: 'verified', deviationWh: '60', penalty: '100', newFingerprint: '1000' },
        { enrollmentId: 'enr-1', meterId: 'meter-1', periodIndex: 0, outcome: 'invalidProof', forfeited: '2400' },
        { enrollmentId: 'enr-5', meterId: 'meter-5', periodIndex: 0, outcome: 'verified', deviationWh: '0', penalty: '0', newFingerprint: '1000' },
      ],
    });
    const e0 = await h.call(DSO, 'programs', 'GetEnrollment', { enrollmentId: 'enr-0' });
    assert.equal(e0.enrollment.chainHead, '1000');
    assert.equal(e0.escrow, '2300');
    assert.equal((await h.call(DSO, 'meters', 'GetMeter', { meterId: 'meter-1' })).status, 'excluded');
    const e4 = await h.call(DSO, 'programs', 'GetEnrollment', { enrollmentId: 'enr-4' });
    assert.equal(e4.enrollment.results[0], null, 'a refused item leaves no write');
    assert.equal((await h.call(DSO, 'tokens', 'AuditSupply', {})).imbalance, '0');
    // The aggregator's account changed once in this transaction: one delta for the batch.
    const deltasOfBatch = keysOfType(h, KEY.accountDelta).filter((k) => h.stub.splitCompositeKey(k).attributes[1] === batchTx);
    assert.equal(deltasOfBatch.length, 1);
  });

  it('an item an earlier item made impossible is refused as it would be sequentially (its meter was just excluded)', async () => {
    const h = await setup(2, true);
    const { outcomes } = await h.call(DSO, 'programs', 'SubmitPeriods', {
      items: [await item(h, 'invalid', 0), await item(h, 'valid', 'shared'), await item(h, 'valid', 1)],
    });
    assert.deepEqual(outcomes.map((o: Json) => [o.outcome, o.code]), [['invalidProof', undefined], ['refused', 'EXCLUDED'], ['verified', undefined]]);
    assert.equal(outcomes[1].message, 'meter meter-0 is excluded');
    assert.equal(h.verifier.batches[0]?.size, 3, 'verified with the batch on the state before it');
  });

  it('a batch of 32 with one tampered proof: exactly that item is invalidProof, the 31 others verified', async () => {
    const h = await setup(32);
    const items: Json[] = [];
    for (let i = 0; i < 32; i++) items.push(await item(h, i === 17 ? 'invalid' : 'penalty', i));
    const { outcomes } = await h.call(AGGREGATOR, 'programs', 'SubmitPeriods', { items });
    assert.equal(outcomes.length, 32);
    outcomes.forEach((o: Json, i: number) => assert.equal(o.outcome, i === 17 ? 'invalidProof' : 'verified', `item ${i}`));
    assert.deepEqual(h.verifier.batches.map((b) => b.size), [32]);
    assert.equal((h.lastEvent()?.payload.items as unknown[]).length, 32);
    const audit = await h.call(DSO, 'tokens', 'AuditSupply', {});
    assert.equal(audit.imbalance, '0');
  });

  it('property: a batch gives the same ledger state and the same answers as its items one by one', async () => {
    const kinds: Kind[] = ['valid', 'penalty', 'invalid', 'malformed', 'outOfWindow', 'wrongHead', 'badSchema'];
    const spec = fc.array(
      fc.record({ kind: fc.constantFrom(...kinds), enrollment: fc.constantFrom<number | 'shared'>(0, 1, 2, 3, 4, 'shared') }),
      { minLength: 1, maxLength: 12 },
    );
    await fc.assert(
      fc.asyncProperty(spec, async (specs) => {
        const batched = await setup(5, true);
        const single = await setup(5, true);
        const items: Json[] = [];
        for (const s of specs) items.push(await item(batched, s.kind, s.enrollment));
        const { outcomes } = await batched.call(DSO, 'programs', 'SubmitPeriods', { items });
        assert.equal(outcomes.length, items.length);
        for (let i = 0; i < items.length; i++) {
          const o = outcomes[i];
          assert.equal(o.index, i);
          if (o.outcome === 'refused' && o.code === 'CONFLICT' && /the batch already holds/.test(o.message)) {
            // The batch takes one item per enrollment; the duplicate leaves nothing.
            continue;
          }
          const seq = await sequentialOutcome(single, items[i]);
          assert.deepEqual([o.outcome, o.code], [seq.outcome, seq.code], `item ${i} (${specs[i]?.kind})`);
        }
        // Deltas are per transaction by design: fold them, then compare the whole state.
        await batched.call(DSO, 'tokens', 'CompactBalances', {});
        await single.call(DSO, 'tokens', 'CompactBalances', {});
        assert.deepEqual(normalisedState(batched), normalisedState(single));
      }),
      { numRuns: 20 },
    );
  });
});

describe('contract org.flexproof.programs: OfferEnrollments and DepositRewards', () => {
  async function funded(count: number): Promise<ChaincodeHarness> {
    const h = new ChaincodeHarness();
    await registerCircuit(h);
    await openOrder(h, 'order-1', '2400', flat('1000'));
    for (let i = 0; i < count; i++) await registerMeter(h, PROSUMERS[i] as Prosumer);
    return h;
  }

  it('offers many enrollments in one transaction: the order books them once; one EnrollmentsOffered event', async () => {
    const h = await funded(3);
    const offers = [0, 1, 2].map((i) => offerInput(`enr-${i}`, 'order-1', PROSUMERS[i] as Prosumer, { flexWh: flat('300') }));
    const { enrollments } = await h.call(AGGREGATOR, 'programs', 'OfferEnrollments', { offers });
    assert.deepEqual(enrollments.map((e: Json) => [e.enrollmentId, e.status]), [['enr-0', 'offered'], ['enr-1', 'offered'], ['enr-2', 'offered']]);
    const { order } = await h.call(DSO, 'market', 'GetFlexOrder', { orderId: 'order-1' });
    assert.deepEqual(order.enrolledWh, flat('900'));
    const event = h.lastEvent();
    assert.equal(event?.name, 'EnrollmentsOffered');
    assert.deepEqual(event?.payload.items, [0, 1, 2].map((i) => ({ enrollmentId: `enr-${i}`, orderId: 'order-1', meterId: `meter-${i}`, prosumerId: `prosumer-${i}` })));
  });

  it('OfferEnrollments is all or nothing: one refused offer refuses the transaction, named offers[i]', async () => {
    const h = await funded(3);
    const before = new Map(h.stub.snapshot());
    const over = [0, 1, 2].map((i) => offerInput(`enr-${i}`, 'order-1', PROSUMERS[i] as Prosumer, { flexWh: flat('400') }));
    const err = await expectCode(h.call(AGGREGATOR, 'programs', 'OfferEnrollments', { offers: over }), 'RULE_VIOLATION');
    assert.match(err.message, /^\[RULE_VIOLATION\] offers\[2\]: /, 'the third exceeds what the order offered');
    const twice = [offerInput('enr-0', 'order-1', PROSUMERS[0] as Prosumer), offerInput('enr-0', 'order-1', PROSUMERS[1] as Prosumer)];
    const dup = await expectCode(h.call(AGGREGATOR, 'programs', 'OfferEnrollments', { offers: twice }), 'CONFLICT');
    assert.equal(dup.message, '[CONFLICT] offers[1]: enrollment enr-0 already exists');
    const bad = await expectCode(h.call(AGGREGATOR, 'programs', 'OfferEnrollments', { offers: [offerInput('enr-0', 'order-1', PROSUMERS[0] as Prosumer), { junk: 1 }] }), 'BAD_INPUT');
    assert.match(bad.message, /^\[BAD_INPUT\] offers\[1\]: /);
    await expectCode(h.call(AGGREGATOR, 'programs', 'OfferEnrollments', { offers: [] }), 'BAD_INPUT');
    await expectCode(h.call(DSO, 'programs', 'OfferEnrollments', { offers: [offerInput('enr-0', 'order-1', PROSUMERS[0] as Prosumer)] }), 'FORBIDDEN');
    assert.deepEqual(h.stub.snapshot(), before);
  });

  it('deposits many rewards in one transaction: one debit (one delta) of the total, each escrow credited, each enrollment active', async () => {
    const h = await funded(3);
    const offers = [0, 1, 2].map((i) => offerInput(`enr-${i}`, 'order-1', PROSUMERS[i] as Prosumer, { reward: String(100 * (i + 1)) }));
    const { enrollments } = await h.call(AGGREGATOR, 'programs', 'OfferEnrollments', { offers });
    for (let i = 0; i < 3; i++) await h.call(DSO, 'programs', 'AcceptEnrollment', signedAccept(PROSUMERS[i] as Prosumer, enrollments[i], '1'));
    const before = BigInt((await h.call(DSO, 'tokens', 'GetBalance', { account: 'org:AggregatorMSP' })).balance);
    const out = await h.call(AGGREGATOR, 'programs', 'DepositRewards', { enrollmentIds: ['enr-0', 'enr-1', 'enr-2'] });
    assert.deepEqual(out.enrollments.map((e: Json) => e.status), ['active', 'active', 'active']);
    const after = BigInt((await h.call(DSO, 'tokens', 'GetBalance', { account: 'org:AggregatorMSP' })).balance);
    assert.equal(before - after, 600n);
    for (let i = 0; i < 3; i++) {
      assert.equal((await h.call(DSO, 'tokens', 'GetBalance', { account: `escrow:enrollment:enr-${i}` })).balance, String(100 * (i + 1)));
    }
    const event = h.lastEvent();
    assert.equal(event?.name, 'RewardsDeposited');
    assert.deepEqual(event?.payload.items, [0, 1, 2].map((i) => ({ enrollmentId: `enr-${i}`, orderId: 'order-1', meterId: `meter-${i}`, amount: String(100 * (i + 1)) })));
    const deltas = keysOfType(h, KEY.accountDelta).filter((k) => h.stub.splitCompositeKey(k).attributes[1] === event?.payload.txId);
    assert.equal(deltas.length, 1);
    assert.equal((await h.call(DSO, 'tokens', 'AuditSupply', {})).imbalance, '0');
  });

  it('DepositRewards is all or nothing: a wrong status, a repeated id, an unknown id or too small a balance refuses it all', async () => {
    const h = await funded(2);
    const { enrollments } = await h.call(AGGREGATOR, 'programs', 'OfferEnrollments', {
      offers: [0, 1].map((i) => offerInput(`enr-${i}`, 'order-1', PROSUMERS[i] as Prosumer, { reward: '60000' })),
    });
    await h.call(DSO, 'programs', 'AcceptEnrollment', signedAccept(PROSUMERS[0] as Prosumer, enrollments[0], '1'));
    const before = new Map(h.stub.snapshot());
    const status = await expectCode(h.call(AGGREGATOR, 'programs', 'DepositRewards', { enrollmentIds: ['enr-0', 'enr-1'] }), 'RULE_VIOLATION');
    assert.match(status.message, /^\[RULE_VIOLATION\] enrollmentIds\[1\]: DepositRewards: the enrollment is offered, needs accepted$/);
    const twice = await expectCode(h.call(AGGREGATOR, 'programs', 'DepositRewards', { enrollmentIds: ['enr-0', 'enr-0'] }), 'RULE_VIOLATION');
    assert.match(twice.message, /^\[RULE_VIOLATION\] enrollmentIds\[1\]: /);
    await expectCode(h.call(AGGREGATOR, 'programs', 'DepositRewards', { enrollmentIds: ['enr-0', 'nope'] }), 'NOT_FOUND');
    const bad = await expectCode(h.call(AGGREGATOR, 'programs', 'DepositRewards', { enrollmentIds: ['enr-0', 'a:b'] }), 'BAD_INPUT');
    assert.match(bad.message, /^\[BAD_INPUT\] enrollmentIds\[1\]\.enrollmentId: /);
    await expectCode(h.call(DSO, 'programs', 'DepositRewards', { enrollmentIds: ['enr-0'] }), 'FORBIDDEN');
    await h.call(DSO, 'programs', 'AcceptEnrollment', signedAccept(PROSUMERS[1] as Prosumer, enrollments[1], '1'));
    const afterAccept = new Map(h.stub.snapshot());
    const poor = await expectCode(h.call(AGGREGATOR, 'programs', 'DepositRewards', { enrollmentIds: ['enr-0', 'enr-1'] }), 'RULE_VIOLATION');
    assert.equal(poor.message, '[RULE_VIOLATION] insufficient balance in org:AggregatorMSP: has 100000, needs 120000 for 2 rewards');
    assert.deepEqual(h.stub.snapshot(), afterAccept);
    assert.notDeepEqual(before, afterAccept);
  });
});
