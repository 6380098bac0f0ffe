/**
 * The batch routes (offers, deposits, compaction, supply audit) on the fake ledger, the
 * event stream's expansion of batch events into the single events subscribers know,
 * and the route fuzzer over the new routes.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { ChaincodeRefusal, CommitRejected, expandBatchEvent, signEdgeRequest, type LedgerEvent } from '@flexproof/gateway-api';
import { bearer, buildTestGateway, MSP_IDS, registerTestMeter, TOKENS, type TestGateway } from './support/gateway';
import { fuzzRequests, type OpenApiDocument } from './support/route-fuzz';
import { readEvents } from './support/sse';

const OFFER_ENROLLMENTS = 'org.flexproof.programs:OfferEnrollments';
const DEPOSIT_REWARDS = 'org.flexproof.programs:DepositRewards';
const COMPACT_BALANCES = 'org.flexproof.tokens:CompactBalances';
const AUDIT_SUPPLY = 'org.flexproof.tokens:AuditSupply';

function offer(i: number) {
  return {
    enrollmentId: `enr-${i}`,
    orderId: 'order-1',
    meterId: `meter-${i}`,
    circuitId: 'flexdev-v1-r4',
    requestCommitment: '12345',
    reward: '2400',
    ratePerWh: '2',
    toleranceWh: '10',
    flexWh: Array.from({ length: 24 }, () => '100'),
    startTime: '2025-11-01T00:00:00Z',
  };
}

const enrollmentOf = (o: { enrollmentId: string; orderId: string; meterId: string }, status: string) => ({
  enrollmentId: o.enrollmentId,
  orderId: o.orderId,
  meterId: o.meterId,
  prosumerId: `p-${o.meterId}`,
  status,
  chainHead: '0',
});

describe('gateway batch routes (fake ledger)', () => {
  let gw: TestGateway;
  beforeEach(async () => {
    gw = await buildTestGateway({ org: 'aggregator' });
  });
  afterEach(() => gw.app.close());

  describe('POST /v1/enrollments/batch', () => {
    it('relays the offers to OfferEnrollments and answers 201 with the enrollments', async () => {
      gw.ledger.on(OFFER_ENROLLMENTS, ({ offers }) => ({ enrollments: (offers as ReturnType<typeof offer>[]).map((o) => enrollmentOf(o, 'offered')) }));
      const offers = [offer(1), offer(2), { ...offer(3), periodSeconds: 900, graceSeconds: 60 }];
      const res = await gw.app.inject({ method: 'POST', url: '/v1/enrollments/batch', headers: bearer('aggregator'), payload: { offers } });
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json().txId, 'faketx1');
      assert.deepEqual(res.json().result.enrollments.map((e: { enrollmentId: string; status: string }) => [e.enrollmentId, e.status]), [
        ['enr-1', 'offered'],
        ['enr-2', 'offered'],
        ['enr-3', 'offered'],
      ]);
      assert.deepEqual(gw.ledger.submitted, [{ transaction: OFFER_ENROLLMENTS, argument: { offers } }]);
    });

    it('refuses bad bodies with a 400 naming the field, before the ledger', async () => {
      const cases: [unknown, RegExp][] = [
        [{ offers: [] }, /^body\.offers: must NOT have fewer than 1 items/],
        [{ offers: Array.from({ length: 257 }, (_, i) => offer(i)) }, /^body\.offers: must NOT have more than 256 items/],
        [{ offers: [offer(1), { ...offer(2), role: 'x' }] }, /^body\.offers\.1\.role: is not allowed/],
        [{ offers: [{ ...offer(1), reward: '-5' }] }, /^body\.offers\.0\.reward: /],
        [{ offers: [offer(1)], extra: true }, /^body\.extra: is not allowed/],
        [{}, /^body\.offers: is required/],
      ];
      for (const [payload, message] of cases) {
        const res = await gw.app.inject({ method: 'POST', url: '/v1/enrollments/batch', headers: bearer('aggregator'), payload: payload as object });
        assert.equal(res.statusCode, 400, JSON.stringify(payload).slice(0, 80));
        assert.match(res.json().message, message);
      }
      assert.deepEqual(gw.ledger.submitted, []);
    });

    it("answers the chaincode's refusal of the whole batch with its status, code and message", async () => {
      gw.ledger.on(OFFER_ENROLLMENTS, () => {
        throw new ChaincodeRefusal('CONFLICT', 'offers[1]: enrollment enr-2 exists', 'tx-refused');
      });
      const res = await gw.app.inject({ method: 'POST', url: '/v1/enrollments/batch', headers: bearer('aggregator'), payload: { offers: [offer(1), offer(2)] } });
      assert.equal(res.statusCode, 409);
      assert.deepEqual(res.json(), { code: 'CONFLICT', message: 'offers[1]: enrollment enr-2 exists', txId: 'tx-refused' });
    });

    it('takes the aggregator role only, and an Idempotency-Key like the other write routes', async () => {
      gw.ledger.on(OFFER_ENROLLMENTS, ({ offers }) => ({ enrollments: (offers as ReturnType<typeof offer>[]).map((o) => enrollmentOf(o, 'offered')) }));
      const payload = { offers: [offer(1)] };
      for (const [headers, status] of [[{}, 401], [bearer('dso'), 403], [bearer('auditor'), 403]] as const) {
        const res = await gw.app.inject({ method: 'POST', url: '/v1/enrollments/batch', headers, payload });
        assert.equal(res.statusCode, status);
      }
      const headers = { ...bearer('aggregator'), 'idempotency-key': 'offers-2025-11-01' };
      const first = await gw.app.inject({ method: 'POST', url: '/v1/enrollments/batch', headers, payload });
      const retry = await gw.app.inject({ method: 'POST', url: '/v1/enrollments/batch', headers, payload });
      assert.equal(retry.statusCode, 201);
      assert.equal(retry.json().txId, first.json().txId);
      const other = await gw.app.inject({ method: 'POST', url: '/v1/enrollments/batch', headers, payload: { offers: [offer(2)] } });
      assert.equal(other.statusCode, 422);
      assert.equal(other.json().code, 'IDEMPOTENCY_KEY_REUSED');
      assert.equal(gw.ledger.submitted.length, 1);
    });
  });

  describe('POST /v1/enrollments/deposits', () => {
    it('relays the ids to DepositRewards and answers 200 with the funded enrollments', async () => {
      gw.ledger.on(DEPOSIT_REWARDS, ({ enrollmentIds }) => ({
        enrollments: (enrollmentIds as string[]).map((id) => enrollmentOf({ enrollmentId: id, orderId: 'order-1', meterId: `m-${id}` }, 'active')),
      }));
      const res = await gw.app.inject({ method: 'POST', url: '/v1/enrollments/deposits', headers: bearer('aggregator'), payload: { enrollmentIds: ['enr-1', 'enr-2'] } });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().result.enrollments.map((e: { status: string }) => e.status), ['active', 'active']);
      assert.deepEqual(gw.ledger.submitted, [{ transaction: DEPOSIT_REWARDS, argument: { enrollmentIds: ['enr-1', 'enr-2'] } }]);
    });

    it('refuses duplicates, an empty or too long list and bad ids (400), other roles (403), and maps a refusal', async () => {
      const cases: [unknown, RegExp][] = [
        [{ enrollmentIds: ['enr-1', 'enr-1'] }, /^body\.enrollmentIds: must NOT have duplicate items/],
        [{ enrollmentIds: [] }, /^body\.enrollmentIds: must NOT have fewer than 1 items/],
        [{ enrollmentIds: Array.from({ length: 257 }, (_, i) => `enr-${i}`) }, /^body\.enrollmentIds: must NOT have more than 256 items/],
        [{ enrollmentIds: ['../x'] }, /^body\.enrollmentIds\.0: must match pattern/],
      ];
      for (const [payload, message] of cases) {
        const res = await gw.app.inject({ method: 'POST', url: '/v1/enrollments/deposits', headers: bearer('aggregator'), payload: payload as object });
        assert.equal(res.statusCode, 400);
        assert.match(res.json().message, message);
      }
      const dso = await gw.app.inject({ method: 'POST', url: '/v1/enrollments/deposits', headers: bearer('dso'), payload: { enrollmentIds: ['enr-1'] } });
      assert.equal(dso.statusCode, 403);
      assert.deepEqual(gw.ledger.submitted, []);
      gw.ledger.on(DEPOSIT_REWARDS, () => {
        throw new ChaincodeRefusal('INSUFFICIENT_FUNDS', 'org:AggregatorMSP holds 10, needs 4800');
      });
      const poor = await gw.app.inject({ method: 'POST', url: '/v1/enrollments/deposits', headers: bearer('aggregator'), payload: { enrollmentIds: ['enr-1', 'enr-2'] } });
      assert.equal(poor.statusCode, 422);
      assert.equal(poor.json().code, 'INSUFFICIENT_FUNDS');
    });
  });

  describe('POST /v1/tokens/compact and GET /v1/tokens/supply-audit', () => {
    it('compacts one organisation account or everything, for either organisation; a concurrent credit is a 409 to retry', async () => {
      gw.ledger.on(COMPACT_BALANCES, (arg) => ({ compacted: arg.accountId ? [{ accountId: arg.accountId, deltas: 7 }] : [{ accountId: 'org:AggregatorMSP', deltas: 3 }, { supply: true, deltas: 2 }] }));
      const one = await gw.app.inject({ method: 'POST', url: '/v1/tokens/compact', headers: bearer('aggregator'), payload: { accountId: 'org:AggregatorMSP' } });
      assert.equal(one.statusCode, 200, one.body);
      assert.deepEqual(one.json().result, { compacted: [{ accountId: 'org:AggregatorMSP', deltas: 7 }] });
      const all = await gw.app.inject({ method: 'POST', url: '/v1/tokens/compact', headers: bearer('dso'), payload: {} });
      assert.equal(all.statusCode, 200);
      assert.equal(all.json().result.compacted.length, 2);
      assert.deepEqual(gw.ledger.submitted.map((s) => s.argument), [{ accountId: 'org:AggregatorMSP' }, {}]);
      gw.ledger.on(COMPACT_BALANCES, () => {
        throw new CommitRejected('MVCC_READ_CONFLICT', 'tx-mvcc');
      });
      const busy = await gw.app.inject({ method: 'POST', url: '/v1/tokens/compact', headers: bearer('aggregator'), payload: {} });
      assert.equal(busy.statusCode, 503);
      assert.equal(busy.json().code, 'LEDGER_CONTENDED');
    });

    it('refuses a prosumer or escrow account (only organisation accounts have deltas), unknown fields, auditors', async () => {
      for (const accountId of ['prosumer:p-1', 'escrow:enrollment:enr-1', 'org:', 'org:a b']) {
        const res = await gw.app.inject({ method: 'POST', url: '/v1/tokens/compact', headers: bearer('aggregator'), payload: { accountId } });
        assert.equal(res.statusCode, 400, accountId);
        assert.match(res.json().message, /^body\.accountId: must match pattern/);
      }
      const extra = await gw.app.inject({ method: 'POST', url: '/v1/tokens/compact', headers: bearer('aggregator'), payload: { all: true } });
      assert.match(extra.json().message, /^body\.all: is not allowed/);
      const auditor = await gw.app.inject({ method: 'POST', url: '/v1/tokens/compact', headers: bearer('auditor'), payload: {} });
      assert.equal(auditor.statusCode, 403);
      assert.deepEqual(gw.ledger.submitted, []);
    });

    it('answers the supply audit to either organisation (a query, no transaction)', async () => {
      const audit = { minted: '1000000', burned: '2500', balances: '997500', accounts: 4012, imbalance: '0' };
      gw.ledger.on(AUDIT_SUPPLY, (arg) => {
        assert.deepEqual(arg, {});
        return audit;
      });
      for (const role of ['aggregator', 'dso'] as const) {
        const res = await gw.app.inject({ url: '/v1/tokens/supply-audit', headers: bearer(role) });
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json(), audit);
      }
      assert.equal((await gw.app.inject({ url: '/v1/tokens/supply-audit', headers: bearer('auditor') })).statusCode, 403);
      assert.equal((await gw.app.inject({ url: '/v1/tokens/supply-audit?x=1', headers: bearer('dso') })).statusCode, 400);
      assert.deepEqual(gw.ledger.submitted, []);
      assert.equal(gw.ledger.evaluated.filter((e) => e.transaction === AUDIT_SUPPLY).length, 2);
    });

    it('are in the OpenAPI document with their roles, bodies and responses', async () => {
      const spec = (await gw.app.inject({ url: '/docs/json' })).json();
      const ops = {
        batch: spec.paths['/v1/enrollments/batch'].post,
        deposits: spec.paths['/v1/enrollments/deposits'].post,
        compact: spec.paths['/v1/tokens/compact'].post,
        audit: spec.paths['/v1/tokens/supply-audit'].get,
      };
      assert.match(ops.batch.description, /Roles: aggregator\. Chaincode: org\.flexproof\.programs:OfferEnrollments\..*Idempotency-Key/);
      assert.match(ops.deposits.description, /Roles: aggregator\. Chaincode: org\.flexproof\.programs:DepositRewards\./);
      assert.match(ops.compact.description, /Roles: dso, aggregator\. Chaincode: org\.flexproof\.tokens:CompactBalances\./);
      assert.match(ops.audit.description, /Roles: dso, aggregator\. Chaincode: org\.flexproof\.tokens:AuditSupply\./);
      assert.equal(ops.batch.requestBody.content['application/json'].schema.properties.offers.maxItems, 256);
      assert.ok(ops.batch.responses['201']);
      assert.ok(ops.deposits.responses['200']);
      assert.ok(ops.audit.responses['200']);
    });
  });

  describe('event stream: batch events expanded into the single events of their items', () => {
    const txId = 'tx-batch-1';
    const periodsSettled: LedgerEvent = {
      eventName: 'PeriodsSettled',
      txId,
      blockNumber: '42',
      payload: {
        items: [
          { enrollmentId: 'enr-1', meterId: 'meter-1', periodIndex: 3, outcome: 'verified', deviationWh: '120', penalty: '40', newFingerprint: '999' },
          { enrollmentId: 'enr-2', meterId: 'meter-2', periodIndex: 3, outcome: 'invalidProof', forfeited: '2400' },
          { enrollmentId: 'enr-3', meterId: 'meter-1', periodIndex: 5, outcome: 'verified', deviationWh: '0', penalty: '0', newFingerprint: '7' },
        ],
        txId,
      },
    };

    it('gives each item the name and exactly the fields of the single event, keys as the chaincode writes them', () => {
      const out = expandBatchEvent(periodsSettled);
      assert.deepEqual(out.map((e) => [e.eventName, e.txId, e.blockNumber]), [
        ['PeriodSettled', txId, '42'],
        ['EnrollmentExcluded', txId, '42'],
        ['PeriodSettled', txId, '42'],
      ]);
      // What SubmitPeriod's own events carry (stable JSON: sorted keys, txId included).
      assert.equal(JSON.stringify(out[0]?.payload), JSON.stringify({ deviationWh: '120', enrollmentId: 'enr-1', meterId: 'meter-1', newFingerprint: '999', penalty: '40', periodIndex: 3, txId }));
      assert.equal(JSON.stringify(out[1]?.payload), JSON.stringify({ enrollmentId: 'enr-2', forfeited: '2400', meterId: 'meter-2', periodIndex: 3, txId }));
      const offered = expandBatchEvent({
        eventName: 'EnrollmentsOffered',
        txId: 'tx2',
        blockNumber: '7',
        payload: { items: [{ enrollmentId: 'e1', orderId: 'o1', meterId: 'm1', prosumerId: 'p1' }], txId: 'tx2' },
      });
      assert.deepEqual(offered, [{ eventName: 'EnrollmentOffered', txId: 'tx2', blockNumber: '7', payload: { enrollmentId: 'e1', meterId: 'm1', orderId: 'o1', prosumerId: 'p1', txId: 'tx2' } }]);
      const deposited = expandBatchEvent({
        eventName: 'RewardsDeposited',
        txId: 'tx3',
        blockNumber: '8',
        payload: { items: [{ enrollmentId: 'e1', orderId: 'o1', meterId: 'm1', amount: '2400' }, 'junk', null], txId: 'tx3' },
      });
      assert.deepEqual(deposited.map((e) => [e.eventName, e.payload]), [['RewardDeposited', { amount: '2400', enrollmentId: 'e1', meterId: 'm1', orderId: 'o1', txId: 'tx3' }]]);
      // Any other event is itself.
      const single: LedgerEvent = { eventName: 'PeriodSettled', txId: 'tx4', blockNumber: '9', payload: { enrollmentId: 'e1' } };
      assert.deepEqual(expandBatchEvent(single), [single]);
    });

    it('streams the expanded events, filtered per item by enrollment and meter, with the batch block as id', async () => {
      await gw.app.listen({ host: '127.0.0.1', port: 0 });
      const port = (gw.app.server.address() as AddressInfo).port;
      let ready = 0;
      let byEnrollment!: ReturnType<typeof readEvents>;
      let byMeter!: ReturnType<typeof readEvents>;
      let everything!: ReturnType<typeof readEvents>;
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if (++ready === 3) resolve();
        };
        byEnrollment = readEvents(`http://127.0.0.1:${port}/v1/events?enrollmentId=enr-2`, bearer('auditor'), 1, check);
        byMeter = readEvents(`http://127.0.0.1:${port}/v1/events?meterId=meter-1`, bearer('aggregator'), 2, check);
        everything = readEvents(`http://127.0.0.1:${port}/v1/events`, bearer('aggregator'), 4, check);
      });
      gw.ledger.emit(periodsSettled);
      gw.ledger.emit({ eventName: 'EnrollmentClosed', txId: 'tx-close', blockNumber: '43', payload: { enrollmentId: 'enr-9', meterId: 'meter-9', txId: 'tx-close' } });
      const [e, m, all] = await Promise.all([byEnrollment, byMeter, everything]);
      assert.deepEqual(e.map((x) => [x.event, x.id, JSON.parse(x.data).enrollmentId]), [['EnrollmentExcluded', '42', 'enr-2']]);
      assert.deepEqual(m.map((x) => [x.event, JSON.parse(x.data).enrollmentId]), [['PeriodSettled', 'enr-1'], ['PeriodSettled', 'enr-3']]);
      assert.deepEqual(all.map((x) => x.event), ['PeriodSettled', 'EnrollmentExcluded', 'PeriodSettled', 'EnrollmentClosed']);
      assert.equal(m[0]?.data, JSON.stringify({ deviationWh: '120', enrollmentId: 'enr-1', meterId: 'meter-1', newFingerprint: '999', penalty: '40', periodIndex: 3, txId }));
      assert.ok(all.every((x) => !x.data.includes('items')), 'no batch payload reaches a subscriber');
    });
  });

  describe('route fuzz over the new routes', () => {
    it('answers 600 broken requests with a 4xx {code, message}, never touching the ledger', async function () {
      this.timeout(300_000);
      const meter = registerTestMeter(gw.ledger, 'meter-1');
      const openapi = (await gw.app.inject({ url: '/docs/json' })).json() as OpenApiDocument;
      const NEW = new Set(['POST /v1/enrollments/batch', 'POST /v1/enrollments/deposits', 'POST /v1/tokens/compact', 'GET /v1/tokens/supply-audit']);
      const requests = fuzzRequests({
        openapi,
        count: 600,
        seed: 20_251_117,
        bearerTokens: TOKENS,
        signEdge: ({ method, pathWithQuery, body }) =>
          signEdgeRequest({ gatewayMspId: MSP_IDS.aggregator, method, pathWithQuery, body }, meter.meter.meterId, meter.privateKey),
        include: (method, path) => NEW.has(`${method} ${path}`),
      });
      const operations = new Set(requests.map((r) => r.operation));
      assert.deepEqual([...operations].sort(), [...NEW].sort(), 'every new route fuzzed');
      const wrong: string[] = [];
      let pastAuth = 0;
      for (const r of requests) {
        const res = await gw.app.inject({ method: r.method as 'GET', url: r.url, headers: r.headers, ...(r.payload === undefined ? {} : { payload: r.payload }) });
        if (res.statusCode !== 401 && res.statusCode !== 403) pastAuth++;
        let body: { code?: unknown; message?: unknown } | undefined;
        try {
          body = JSON.parse(res.body) as typeof body;
        } catch {
          body = undefined;
        }
        const shaped = typeof body?.code === 'string' && typeof body.message === 'string';
        if (res.statusCode < 400 || res.statusCode >= 500 || !shaped) wrong.push(`${res.statusCode} ${r.operation} [${r.auth}] ${r.mutation} -> ${res.body.slice(0, 160)}`);
      }
      assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} requests were not refused with a 4xx`);
      assert.deepEqual(gw.ledger.submitted, [], 'no broken request reached a submission');
      assert.deepEqual(gw.ledger.evaluated.filter((e) => e.transaction === AUDIT_SUPPLY), [], 'nor the audit query');
      assert.ok(pastAuth > 150, `${pastAuth} requests got past authentication`);
    });
  });
});
