/**
 * The period coalescer (services/period-submissions.ts) on the fake ledger: a lone period
 * goes at once as a plain SubmitPeriod; at the in-flight limit periods wait for N or the
 * window; a period is submitted without a read first (the record is read on CONFLICT); a batch never holds two periods of one enrollment; every request gets its own
 * item's answer, as SubmitPeriod would give it; a batch failing as a whole is answered or
 * resent as single submissions; exactly once throughout.
 */
import assert from 'node:assert/strict';
import {
  ChaincodeRefusal,
  CommitRejected,
  GatewayMetrics,
  IdempotencyKeyReused,
  LedgerUnavailable,
  PeriodSubmissions,
  type PeriodBatchingOptions,
  type SubmitPeriodInput,
} from '@flexproof/gateway-api';
import { FakeLedgerForTests } from './support/fake-ledger';
import { buildTestGateway, registerTestMeter, signed, type TestGateway, type TestMeter } from './support/gateway';
import { hashOf, LedgerHold, periodInput, submissionsOf, until } from './support/periods';

const METER = { meterId: 'meter-1', prosumerId: 'prosumer-of-meter-1' };
const SUBMIT_PERIOD = 'org.flexproof.programs:SubmitPeriod';
const SUBMIT_PERIODS = 'org.flexproof.programs:SubmitPeriods';

function ledgerWith(enrollments: number): FakeLedgerForTests {
  const ledger = new FakeLedgerForTests();
  for (let i = 0; i < enrollments; i++) ledger.addEnrollment({ enrollmentId: `enr-${i}`, meterId: METER.meterId });
  return ledger;
}

function input(enrollment: number, periodIndex = 0, variant = 0): SubmitPeriodInput {
  return periodInput(METER, `enr-${enrollment}`, periodIndex, hashOf(`enr-${enrollment}`, periodIndex, variant));
}

/** The `enr/period` ids a SubmitPeriod or SubmitPeriods argument carries. */
function submittedPeriods(argument: unknown): string[] {
  const items = ((argument as { items?: SubmitPeriodInput[] }).items ?? [argument]) as SubmitPeriodInput[];
  return items.map((i) => `${i.payload.enrollmentId}/${i.payload.periodIndex}`);
}

function service(ledger: FakeLedgerForTests, options: Partial<PeriodBatchingOptions>, metrics = new GatewayMetrics()) {
  return { periods: new PeriodSubmissions(ledger, options, { metrics }), metrics };
}

async function metricValue(metrics: GatewayMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number>; metricName?: string }[];
  const wanted = name.endsWith('_size') ? `${name}_count` : name;
  return values
    .filter((v) => (v.metricName ?? name) === wanted && Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

describe('period coalescing (fake ledger)', () => {
  describe('policy', () => {
    it('sends a lone period at once as a plain SubmitPeriod, with the answer SubmitPeriod gives', async () => {
      const ledger = ledgerWith(1);
      const { periods, metrics } = service(ledger, { maxItems: 32, windowMs: 10_000, maxInFlight: 4 });
      const started = Date.now();
      const outcome = await periods.settle(input(0));
      assert.ok(Date.now() - started < 1000, 'did not wait for the 10 s window');
      assert.deepEqual(ledger.submitted, [{ transaction: SUBMIT_PERIOD, argument: input(0) }]);
      assert.equal(outcome.outcome, 'verified');
      assert.equal(outcome.enrollmentId, 'enr-0');
      assert.equal(outcome.periodIndex, 0);
      assert.equal(outcome.replayed, false);
      assert.equal(outcome.txId, 'faketx1');
      assert.equal(outcome.result.submissionHash, hashOf('enr-0', 0));
      assert.equal(await metricValue(metrics, 'flexproof_gateway_period_batch_flushes_total', { reason: 'immediate' }), 1);
      assert.equal(await metricValue(metrics, 'flexproof_gateway_period_batch_size'), 1);
    });

    it('at the in-flight limit, waits for N periods (full), and sends what waits when a transaction answers', async () => {
      const ledger = ledgerWith(5);
      const hold = new LedgerHold(ledger);
      const { periods, metrics } = service(ledger, { maxItems: 3, windowMs: 10_000, maxInFlight: 1 });
      const a = periods.settle(input(0));
      await until(() => hold.held.length === 1, 'the first period in flight');
      const b = periods.settle(input(1));
      const c = periods.settle(input(2));
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(ledger.submitted.length, 1, 'two periods wait: fewer than N, window not over');
      const d = periods.settle(input(3));
      await until(() => hold.held.length === 2, 'the full batch sent');
      assert.deepEqual(submissionsOf(ledger)[1], { transaction: 'SubmitPeriods', enrollments: ['enr-1', 'enr-2', 'enr-3'], periods: ['enr-1/0', 'enr-2/0', 'enr-3/0'] });
      const e = periods.settle(input(4));
      hold.release(0);
      await a;
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(ledger.submitted.length, 2, 'still one in flight (the batch): the fifth waits');
      hold.release(1);
      await until(() => hold.held.length === 3, 'the fifth sent once the batch answered');
      assert.deepEqual(submissionsOf(ledger)[2], { transaction: 'SubmitPeriod', enrollments: ['enr-4'], periods: ['enr-4/0'] });
      hold.release(2);
      const answers = await Promise.all([b, c, d, e]);
      assert.deepEqual(answers.map((x) => [x.enrollmentId, x.outcome, x.txId]), [
        ['enr-1', 'verified', 'faketx2'],
        ['enr-2', 'verified', 'faketx2'],
        ['enr-3', 'verified', 'faketx2'],
        ['enr-4', 'verified', 'faketx3'],
      ]);
      assert.equal(await metricValue(metrics, 'flexproof_gateway_period_batch_flushes_total', { reason: 'full' }), 1);
      assert.equal(await metricValue(metrics, 'flexproof_gateway_period_batch_flushes_total', { reason: 'immediate' }), 2);
      assert.equal(await metricValue(metrics, 'flexproof_gateway_period_batch_size'), 3);
    });

    it('at the in-flight limit, sends what waits when the window of the first waiting period ends', async () => {
      const ledger = ledgerWith(3);
      const hold = new LedgerHold(ledger, (_tx, _arg, n) => n === 0);
      const { periods, metrics } = service(ledger, { maxItems: 10, windowMs: 60, maxInFlight: 1 });
      const a = periods.settle(input(0));
      await until(() => hold.held.length === 1, 'the first period in flight');
      const queuedAt = Date.now();
      const [b, c] = await Promise.all([periods.settle(input(1)), periods.settle(input(2))]);
      assert.ok(Date.now() - queuedAt >= 55, `waited for the window (${Date.now() - queuedAt} ms)`);
      assert.equal(b.txId, c.txId);
      assert.deepEqual(submissionsOf(ledger)[1]?.enrollments, ['enr-1', 'enr-2']);
      assert.equal(await metricValue(metrics, 'flexproof_gateway_period_batch_flushes_total', { reason: 'window' }), 1);
      hold.release(0);
      await a;
    });

    it('never puts two periods of one enrollment in one batch: the later waits for the next batch', async () => {
      const ledger = ledgerWith(4);
      const hold = new LedgerHold(ledger, (_tx, _arg, n) => n === 0);
      const { periods } = service(ledger, { maxItems: 3, windowMs: 30, maxInFlight: 1 });
      const first = periods.settle(input(0));
      await until(() => hold.held.length === 1, 'the first period in flight');
      const rest = Promise.all([periods.settle(input(1, 0)), periods.settle(input(1, 1)), periods.settle(input(2)), periods.settle(input(3))]);
      const answers = await rest;
      const sent = submissionsOf(ledger);
      assert.deepEqual(sent.slice(1), [
        { transaction: 'SubmitPeriods', enrollments: ['enr-1', 'enr-2', 'enr-3'], periods: ['enr-1/0', 'enr-2/0', 'enr-3/0'] },
        { transaction: 'SubmitPeriod', enrollments: ['enr-1'], periods: ['enr-1/1'] },
      ]);
      assert.deepEqual(answers.map((x) => `${x.enrollmentId}/${x.periodIndex}`), ['enr-1/0', 'enr-1/1', 'enr-2/0', 'enr-3/0']);
      hold.release(0);
      await first;
    });

    it('keeps every batch within N and one period per enrollment, and sends each period once, whatever the arrival order', async () => {
      for (const seed of [1, 2, 3, 4, 5]) {
        let state = seed;
        const random = (): number => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
        const ledger = ledgerWith(8);
        ledger.beforeSubmit = () => new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 8)));
        const maxItems = 2 + Math.floor(random() * 4);
        const { periods } = service(ledger, { maxItems, windowMs: Math.floor(random() * 5), maxInFlight: 1 + Math.floor(random() * 2) });
        const sent: Promise<unknown>[] = [];
        const expected: string[] = [];
        for (let period = 0; period < 3; period++) {
          for (const enrollment of [0, 1, 2, 3, 4, 5, 6, 7].sort(() => random() - 0.5)) {
            sent.push(periods.settle(input(enrollment, period)));
            expected.push(`enr-${enrollment}/${period}`);
            if (random() < 0.3) await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 3)));
          }
        }
        const answers = (await Promise.all(sent)) as { enrollmentId: string; periodIndex: number; outcome: string }[];
        assert.deepEqual(answers.map((a) => `${a.enrollmentId}/${a.periodIndex}`), expected, `seed ${seed}: each request its own answer`);
        assert.ok(answers.every((a) => a.outcome === 'verified'));
        const batches = submissionsOf(ledger);
        for (const b of batches) {
          assert.ok(b.enrollments.length <= maxItems, `seed ${seed}: batch of ${b.enrollments.length} > N = ${maxItems}`);
          assert.equal(new Set(b.enrollments).size, b.enrollments.length, `seed ${seed}: one period per enrollment in ${b.periods.join(',')}`);
          assert.equal(b.transaction === 'SubmitPeriod', b.enrollments.length === 1, 'one period: a plain SubmitPeriod');
        }
        assert.deepEqual(batches.flatMap((b) => b.periods).sort(), [...expected].sort(), `seed ${seed}: every period sent exactly once`);
      }
    });

    it('with N = 1 never batches: every period a plain SubmitPeriod, none waiting for another', async () => {
      const ledger = ledgerWith(10);
      const hold = new LedgerHold(ledger);
      const { periods, metrics } = service(ledger, { maxItems: 1, windowMs: 10_000, maxInFlight: 1 });
      const all = Promise.all(Array.from({ length: 10 }, (_, i) => periods.settle(input(i))));
      await until(() => hold.held.length === 10, 'all ten in flight at once');
      assert.ok(ledger.submitted.every((s) => s.transaction === SUBMIT_PERIOD));
      hold.held.forEach((h) => h.release());
      assert.equal((await all).length, 10);
      assert.equal(await metricValue(metrics, 'flexproof_gateway_period_batch_flushes_total', { reason: 'unbatched' }), 10);
    });

    it('sends what waits at once when closing, without waiting for the window', async () => {
      const ledger = ledgerWith(3);
      const hold = new LedgerHold(ledger, (_tx, _arg, n) => n === 0);
      const { periods, metrics } = service(ledger, { maxItems: 10, windowMs: 10_000, maxInFlight: 1 });
      const first = periods.settle(input(0));
      await until(() => hold.held.length === 1, 'the first period in flight');
      const waiting = Promise.all([periods.settle(input(1)), periods.settle(input(2))]);
      await new Promise((resolve) => setTimeout(resolve, 10));
      periods.close();
      const [b, c] = await waiting;
      assert.equal(b.txId, c.txId);
      assert.equal(await metricValue(metrics, 'flexproof_gateway_period_batch_flushes_total', { reason: 'close' }), 1);
      hold.release(0);
      await first;
    });

    it('refuses settings that cannot work', () => {
      const ledger = ledgerWith(0);
      assert.throws(() => new PeriodSubmissions(ledger, { maxItems: 0 }), /maxItems/);
      assert.throws(() => new PeriodSubmissions(ledger, { windowMs: -1 }), /windowMs/);
      assert.throws(() => new PeriodSubmissions(ledger, { maxInFlight: 1.5 }), /maxInFlight/);
    });
  });

  describe('answers per item', () => {
    /** A batch of the given periods: the first period held in flight, the others arriving together (N = their count). */
    async function inOneBatch(ledger: FakeLedgerForTests, periods: PeriodSubmissions, inputs: SubmitPeriodInput[], beforeBatch?: () => void) {
      const hold = new LedgerHold(ledger, (tx, _arg, n) => {
        if (tx === SUBMIT_PERIODS) beforeBatch?.();
        return n === 0;
      });
      const first = periods.settle(input(99));
      await until(() => hold.held.length === 1, 'the first period in flight');
      const settled = Promise.allSettled(inputs.map((i) => periods.settle(i)));
      const answers = await settled;
      hold.release(0);
      await first;
      return answers;
    }

    it('answers a refused item with its own refusal (code, message without the batch position, txId) while the others settle', async () => {
      const ledger = ledgerWith(4);
      ledger.addEnrollment({ enrollmentId: 'enr-99', meterId: METER.meterId });
      ledger.on(SUBMIT_PERIODS, ({ items }) => ({
        outcomes: (items as SubmitPeriodInput[]).map((item, index) => {
          const { enrollmentId, periodIndex } = item.payload;
          if (enrollmentId === 'enr-1') return { index, outcome: 'refused', code: 'DEADLINE_PASSED', message: `items[${index}]: period ${periodIndex} closed`, enrollmentId, periodIndex };
          if (enrollmentId === 'enr-2') return { index, outcome: 'refused', code: 'BAD_INPUT', message: `items[${index}].publicSignals.deviation: must be a canonical decimal field element` };
          return { index, ...(ledger.settlePeriodForTests(item as unknown as Record<string, unknown>) as object) };
        }),
      }));
      const { periods } = service(ledger, { maxItems: 4, windowMs: 10_000, maxInFlight: 1 });
      const answers = await inOneBatch(ledger, periods, [input(0), input(1), input(2), input(3)]);
      assert.equal(submissionsOf(ledger)[1]?.enrollments.length, 4, 'one batch of four');
      const [a, b, c, d] = answers;
      assert.ok(a?.status === 'fulfilled' && d?.status === 'fulfilled');
      assert.deepEqual([a.value.outcome, d.value.outcome], ['verified', 'verified']);
      assert.ok(b?.status === 'rejected' && b.reason instanceof ChaincodeRefusal);
      assert.deepEqual([b.reason.code, b.reason.message, b.reason.txId], ['DEADLINE_PASSED', 'period 0 closed', a.value.txId]);
      assert.ok(c?.status === 'rejected' && c.reason instanceof ChaincodeRefusal);
      assert.deepEqual([c.reason.code, c.reason.message], ['BAD_INPUT', 'publicSignals.deviation: must be a canonical decimal field element']);
      assert.equal(ledger.enrollments.get('enr-1')?.results[0], null, 'the refused item changed nothing');
    });

    it('answers a refused CONFLICT from the record: the same submission settled meanwhile is a replay, another a 409', async () => {
      const ledger = ledgerWith(3);
      ledger.addEnrollment({ enrollmentId: 'enr-99', meterId: METER.meterId });
      const { periods } = service(ledger, { maxItems: 3, windowMs: 10_000, maxInFlight: 1 });
      // Settled through the other organisation's gateway after this one read the record:
      // enr-1 by this same submission, enr-2 by another one.
      const [a, b, c] = await inOneBatch(ledger, periods, [input(0), input(1), input(2)], () => {
        ledger.currentTxId = 'tx-other-gateway';
        ledger.settlePeriodForTests(input(1) as unknown as Record<string, unknown>);
        ledger.settlePeriodForTests(input(2, 0, 7) as unknown as Record<string, unknown>);
      });
      assert.ok(a?.status === 'fulfilled');
      assert.equal(a.value.replayed, false);
      assert.ok(b?.status === 'fulfilled');
      assert.deepEqual([b.value.replayed, b.value.txId], [true, 'tx-other-gateway']);
      assert.ok(c?.status === 'rejected');
      assert.deepEqual([c.reason.statusCode, c.reason.code, c.reason.txId], [409, 'CONFLICT', 'tx-other-gateway']);
    });

    it('answers every item with the error of a batch that failed as a whole (503 unavailable, 503 contended), as a single submission', async () => {
      for (const failure of [new LedgerUnavailable('the ledger did not answer in time', 'tx-lost'), new CommitRejected('MVCC_READ_CONFLICT', 'tx-mvcc')]) {
        const ledger = ledgerWith(3);
        ledger.addEnrollment({ enrollmentId: 'enr-99', meterId: METER.meterId });
        ledger.on(SUBMIT_PERIODS, () => {
          throw failure;
        });
        const { periods } = service(ledger, { maxItems: 3, windowMs: 10_000, maxInFlight: 1 });
        const answers = await inOneBatch(ledger, periods, [input(0), input(1), input(2)]);
        for (const a of answers) assert.ok(a.status === 'rejected' && a.reason === failure, failure.name);
        assert.equal(submissionsOf(ledger).length, 2, 'not resent: the client retries, as after a single submission');
      }
    });

    it('on a retry after a batch that committed but timed out, answers from the record: nothing settles twice', async () => {
      const ledger = ledgerWith(3);
      ledger.addEnrollment({ enrollmentId: 'enr-99', meterId: METER.meterId });
      const real = ledger.submit.bind(ledger);
      let batches = 0;
      ledger.submit = async (tx, arg) => {
        const outcome = await real(tx, arg);
        if (tx === SUBMIT_PERIODS && batches++ === 0) throw new LedgerUnavailable('commit status timed out', outcome.txId);
        return outcome;
      };
      const { periods } = service(ledger, { maxItems: 3, windowMs: 10_000, maxInFlight: 1 });
      const first = await inOneBatch(ledger, periods, [input(0), input(1), input(2)]);
      assert.ok(first.every((a) => a.status === 'rejected' && a.reason instanceof LedgerUnavailable));
      const before = ledger.submitted.length;
      const retries = await Promise.all([0, 1, 2].map((i) => periods.settle(input(i))));
      const batchTx = ledger.enrollments.get('enr-0')?.results[0]?.txId;
      assert.ok(batchTx);
      assert.ok(first.every((a) => a.status === 'rejected' && a.reason.txId === batchTx), 'the 503 names the batch transaction');
      assert.ok(retries.every((r) => r.replayed && r.txId === batchTx));
      // No read first: the retries were submitted, refused CONFLICT, and answered from the record.
      assert.deepEqual(ledger.submitted.slice(before).flatMap((s) => submittedPeriods(s.argument)).sort(), ['enr-0/0', 'enr-1/0', 'enr-2/0']);
      for (const i of [0, 1, 2]) assert.equal(ledger.enrollments.get(`enr-${i}`)?.results[0]?.txId, batchTx, `enr-${i} settled once`);
      assert.equal(ledger.evaluated.filter((e) => e.transaction === 'org.flexproof.programs:GetEnrollment').length, 3, 'one read per refused retry');
    });

    it('submits without reading first: a first submission costs no evaluate', async () => {
      const ledger = ledgerWith(3);
      ledger.addEnrollment({ enrollmentId: 'enr-99', meterId: METER.meterId });
      const { periods } = service(ledger, { maxItems: 3, windowMs: 10_000, maxInFlight: 1 });
      const answers = await inOneBatch(ledger, periods, [input(0), input(1), input(2)]);
      assert.ok(answers.every((a) => a.status === 'fulfilled' && a.value.outcome === 'verified' && !a.value.replayed));
      assert.deepEqual(ledger.evaluated, [], 'no GetEnrollment before (or after) a submission that settles');
    });

    it('resends the items one by one when the batch is refused as a whole, each getting its own answer', async () => {
      const ledger = ledgerWith(3);
      ledger.addEnrollment({ enrollmentId: 'enr-99', meterId: METER.meterId });
      ledger.on(SUBMIT_PERIODS, () => {
        throw new ChaincodeRefusal('BAD_INPUT', 'items: at most 2 items');
      });
      const metrics = new GatewayMetrics();
      const { periods } = service(ledger, { maxItems: 3, windowMs: 10_000, maxInFlight: 1 }, metrics);
      const answers = await inOneBatch(ledger, periods, [input(0), input(1), input(2)]);
      assert.ok(answers.every((a) => a.status === 'fulfilled' && a.value.outcome === 'verified' && !a.value.replayed));
      assert.deepEqual(submissionsOf(ledger).slice(1).map((s) => s.transaction), ['SubmitPeriods', 'SubmitPeriod', 'SubmitPeriod', 'SubmitPeriod']);
      assert.equal(await metricValue(metrics, 'flexproof_gateway_period_batch_fallbacks_total'), 1);
    });

    it('answers 500 (not a guess) when the batch answer lacks an item or names another period', async () => {
      const ledger = ledgerWith(2);
      ledger.addEnrollment({ enrollmentId: 'enr-99', meterId: METER.meterId });
      ledger.on(SUBMIT_PERIODS, () => ({ outcomes: [{ index: 0, outcome: 'verified', enrollmentId: 'enr-7', periodIndex: 0, result: {} }] }));
      const { periods } = service(ledger, { maxItems: 2, windowMs: 10_000, maxInFlight: 1 });
      const [a, b] = await inOneBatch(ledger, periods, [input(0), input(1)]);
      assert.ok(a?.status === 'rejected' && /another period/.test(String(a.reason.message)));
      assert.ok(b?.status === 'rejected' && /no outcome for item 1/.test(String(b.reason.message)));
    });
  });

  describe('exactly once', () => {
    it('shares one item between identical concurrent requests, refuses the key with another body, replays after settling', async () => {
      const ledger = ledgerWith(2);
      ledger.addEnrollment({ enrollmentId: 'enr-99', meterId: METER.meterId });
      const hold = new LedgerHold(ledger, (_tx, _arg, n) => n === 0);
      const { periods } = service(ledger, { maxItems: 4, windowMs: 20, maxInFlight: 1 });
      const first = periods.settle(input(99));
      await until(() => hold.held.length === 1, 'the first period in flight');
      const altered = { ...input(0), signature: 'b3RoZXItc2lnbmF0dXJlLWJ5dGVz' } as SubmitPeriodInput;
      const [a, b, c, other] = await Promise.allSettled([periods.settle(input(0)), periods.settle(input(0)), periods.settle(altered), periods.settle(input(1))]);
      assert.ok(a?.status === 'fulfilled' && b?.status === 'fulfilled' && other?.status === 'fulfilled');
      assert.equal(a.value.txId, b.value.txId);
      assert.equal(a.value.replayed, false);
      assert.ok(c?.status === 'rejected' && c.reason instanceof IdempotencyKeyReused);
      assert.deepEqual(submissionsOf(ledger)[1]?.periods, ['enr-0/0', 'enr-1/0'], 'the shared period travels once');
      const again = await periods.settle(input(0));
      assert.deepEqual([again.replayed, again.txId, again.outcome], [true, a.value.txId, 'verified']);
      await assert.rejects(periods.settle(input(0, 0, 5)), (err: { statusCode?: number; code?: string }) => err.statusCode === 409 && err.code === 'CONFLICT');
      hold.release(0);
      await first;
    });
  });

  describe('over HTTP', () => {
    let gw: TestGateway;
    let meters: TestMeter[];
    const N = 8;
    beforeEach(async () => {
      const ledger = new FakeLedgerForTests();
      meters = Array.from({ length: 40 }, (_, i) => registerTestMeter(ledger, `meter-${i}`));
      meters.forEach((m, i) => ledger.addEnrollment({ enrollmentId: `enr-${i}`, meterId: m.meter.meterId }));
      gw = await buildTestGateway({ ledger, periodBatching: { maxItems: N, windowMs: 100, maxInFlight: 2 } });
    });
    afterEach(() => gw.app.close());

    const request = (i: number, variant = 0) => {
      const m = meters[i] as TestMeter;
      return signed(m, 'POST', `/v1/edge/enrollments/enr-${i}/periods/0`, periodInput(m.meter, `enr-${i}`, 0, hashOf(`enr-${i}`, 0, variant)));
    };

    it('settles 40 concurrent submissions in batches of at most N, each request getting its own outcome', async () => {
      gw.ledger.beforeSubmit = () => new Promise((resolve) => setTimeout(resolve, 15));
      const answers = await Promise.all(meters.map((_, i) => gw.app.inject(request(i))));
      answers.forEach((res, i) => {
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json();
        assert.deepEqual([body.outcome, body.enrollmentId, body.periodIndex, body.replayed], ['verified', `enr-${i}`, 0, false]);
        assert.equal(body.result.submissionHash, hashOf(`enr-${i}`, 0));
        assert.equal(body.txId, gw.ledger.enrollments.get(`enr-${i}`)?.results[0]?.txId, 'the txId of the transaction that settled it');
      });
      const sent = submissionsOf(gw.ledger);
      assert.ok(sent.every((s) => s.enrollments.length <= N));
      assert.ok(sent.some((s) => s.transaction === 'SubmitPeriods' && s.enrollments.length > 1), 'some periods went together');
      assert.ok(sent.length < 40, `${sent.length} transactions for 40 periods`);
      assert.deepEqual(sent.flatMap((s) => s.periods).sort(), meters.map((_, i) => `enr-${i}/0`).sort(), 'each period sent once');
      const metrics = (await gw.app.inject({ url: '/metrics' })).body;
      assert.match(metrics, /flexproof_gateway_period_batch_size_bucket\{le="8"\} \d+/);
      assert.match(metrics, /flexproof_gateway_period_batch_flushes_total\{reason="immediate"\} \d+/);
    });

    it("answers a refused item with the status its code gives today (422, 403, 409) while the others get 200", async () => {
      gw.ledger.on(SUBMIT_PERIOD, (item) => {
        const { enrollmentId } = item.payload as { enrollmentId: string };
        if (enrollmentId === 'enr-1') throw new ChaincodeRefusal('DEADLINE_PASSED', 'payload.periodIndex: the submission deadline has passed');
        if (enrollmentId === 'enr-2') throw new ChaincodeRefusal('FORBIDDEN', 'the meter is suspended');
        if (enrollmentId === 'enr-3') throw new ChaincodeRefusal('CONFLICT', 'publicSignals.prevFingerprint: differs from the chain head');
        return gw.ledger.settlePeriodForTests(item);
      });
      const hold = new LedgerHold(gw.ledger, (_tx, _arg, n) => n < 2);
      const busy = [gw.app.inject(request(10)), gw.app.inject(request(11))];
      await until(() => hold.held.length === 2, 'two transactions in flight');
      const answers = await Promise.all([0, 1, 2, 3, 4].map((i) => gw.app.inject(request(i))));
      assert.deepEqual(submissionsOf(gw.ledger)[2]?.enrollments, ['enr-0', 'enr-1', 'enr-2', 'enr-3', 'enr-4'], 'one batch');
      assert.deepEqual(answers.map((r) => r.statusCode), [200, 422, 403, 409, 200]);
      assert.deepEqual(answers[1]?.json(), { code: 'DEADLINE_PASSED', message: 'payload.periodIndex: the submission deadline has passed', txId: answers[0]?.json().txId });
      assert.equal(answers[3]?.json().code, 'CONFLICT');
      assert.equal(answers[0]?.json().txId, answers[4]?.json().txId);
      hold.held.forEach((h) => h.release());
      assert.deepEqual((await Promise.all(busy)).map((r) => r.statusCode), [200, 200]);
    });

    it('answers every request of a batch that timed out with 503 and Retry-After; the retries replay the committed outcome', async () => {
      const real = gw.ledger.submit.bind(gw.ledger);
      let batches = 0;
      gw.ledger.submit = async (tx, arg) => {
        const outcome = await real(tx, arg);
        if (tx === SUBMIT_PERIODS && batches++ === 0) throw new LedgerUnavailable('commit status timed out', outcome.txId);
        return outcome;
      };
      const hold = new LedgerHold(gw.ledger, (_tx, _arg, n) => n < 2);
      const busy = [gw.app.inject(request(10)), gw.app.inject(request(11))];
      await until(() => hold.held.length === 2, 'two transactions in flight');
      const first = await Promise.all([0, 1, 2].map((i) => gw.app.inject(request(i))));
      for (const res of first) {
        assert.equal(res.statusCode, 503);
        assert.equal(res.headers['retry-after'], '5');
        assert.equal(res.json().code, 'LEDGER_UNAVAILABLE');
      }
      const retries = await Promise.all([0, 1, 2].map((i) => gw.app.inject(request(i))));
      for (const res of retries) {
        assert.equal(res.statusCode, 200);
        assert.equal(res.json().replayed, true);
        assert.equal(res.json().txId, first[0]?.json().txId);
      }
      hold.held.forEach((h) => h.release());
      await Promise.all(busy);
    });
  });
});
