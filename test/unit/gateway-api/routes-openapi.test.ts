/**
 * The gateway's routes after the move to typed routes and the protocol's schemas
 * (issue 15): the OpenAPI document keeps every route and status code it had, its answer
 * schemas show the chaincode's records (the protocol's), and a relayed record reaches the
 * caller as the ledger wrote it: unknown fields kept, missing ones not invented.
 */
import assert from 'node:assert/strict';
import { schemas, TX } from '@flexproof/protocol';
import { bearer, buildTestGateway, registerTestMeter, signed, type TestGateway } from './support/gateway';

/** Method, path and response statuses of every operation, as /docs/json listed them before issue 15's typed routes. */
const OPERATIONS_BEFORE = [
  'GET /healthz 200',
  'GET /readyz 200,503',
  'GET /metrics 200',
  'POST /v1/meters 201,400,401,403,404,409,413,422,503',
  'POST /v1/meters/{meterId}/suspend 200,400,401,403,404,409,413,422,503',
  'POST /v1/meters/{meterId}/reactivate 200,400,401,403,404,409,413,422,503',
  'GET /v1/meters/{meterId} 200,400,401,403,404,409,413,422,503',
  'GET /v1/congestion-points/{congestionPoint}/meters 200,400,401,403,404,409,413,422,503',
  'POST /v1/tokens/mint 200,400,401,403,404,409,413,422,503',
  'POST /v1/tokens/burn 200,400,401,403,404,409,413,422,503',
  'POST /v1/tokens/transfer 200,400,401,403,404,409,413,422,503',
  'GET /v1/tokens/supply 200,400,401,403,404,409,413,422,503',
  'POST /v1/tokens/compact 200,400,401,403,404,409,413,422,503',
  'GET /v1/tokens/supply-audit 200,400,401,403,404,409,413,422,503',
  'GET /v1/accounts/{accountId}/balance 200,400,401,403,404,409,413,422,503',
  'GET /v1/accounts 200,400,401,403,404,409,413,422,503',
  'GET /v1/accounts/{accountId}/redemptions 200,400,401,403,404,409,413,422,503',
  'POST /v1/flex-requests 201,400,401,403,404,409,413,422,503',
  'POST /v1/flex-requests/{requestId}/close 200,400,401,403,404,409,413,422,503',
  'GET /v1/flex-requests/{requestId} 200,400,401,403,404,409,413,422,503',
  'POST /v1/flex-requests/{requestId}/offers 201,400,401,403,404,409,413,422,503',
  'POST /v1/flex-offers/{offerId}/order 201,400,401,403,404,409,413,422,503',
  'POST /v1/flex-orders/{orderId}/settle 200,400,401,403,404,409,413,422,503',
  'GET /v1/flex-orders/{orderId} 200,400,401,403,404,409,413,422,503',
  'POST /v1/enrollments 201,400,401,403,404,409,413,422,503',
  'POST /v1/enrollments/batch 201,400,401,403,404,409,413,422,503',
  'POST /v1/enrollments/deposits 200,400,401,403,404,409,413,422,503',
  'POST /v1/enrollments/{enrollmentId}/cancel 200,400,401,403,404,409,413,422,503',
  'POST /v1/enrollments/{enrollmentId}/fund 200,400,401,403,404,409,413,422,503',
  'POST /v1/enrollments/{enrollmentId}/periods/{periodIndex}/claim 200,400,401,403,404,409,413,422,503',
  'POST /v1/enrollments/{enrollmentId}/close 200,400,401,403,404,409,413,422,503',
  'GET /v1/enrollments/{enrollmentId} 200,400,401,403,404,409,413,422,503',
  'GET /v1/enrollments/{enrollmentId}/history 200,400,401,403,404,409,413,422,503',
  'POST /v1/verification-keys 201,400,401,403,404,409,413,422,503',
  'GET /v1/verification-keys 200,400,401,403,404,409,413,422,503',
  'POST /v1/verification-keys/{circuitId}/approve 200,400,401,403,404,409,413,422,503',
  'POST /v1/verification-keys/{circuitId}/retire 200,400,401,403,404,409,413,422,503',
  'POST /v1/verification-keys/{circuitId}/retire/approve 200,400,401,403,404,409,413,422,503',
  'GET /v1/verification-keys/{circuitId} 200,400,401,403,404,409,413,422,503',
  'POST /v1/auditor-keys 201,400,401,403,404,409,413,422,503',
  'GET /v1/auditor-keys 200,400,401,403,404,409,413,422,503',
  'POST /v1/auditor-keys/{auditorId}/approve 200,400,401,403,404,409,413,422,503',
  'POST /v1/auditor-keys/{auditorId}/retire 200,400,401,403,404,409,413,422,503',
  'POST /v1/auditor-keys/{auditorId}/retire/approve 200,400,401,403,404,409,413,422,503',
  'GET /v1/auditor-keys/{auditorId} 200,400,401,403,404,409,413,422,503',
  'GET /v1/meters/{meterId}/sealed-periods 200,400,401,403,404,413,503',
  'GET /v1/enrollments/{enrollmentId}/stored-periods 200,400,401,403,404,413,422,503',
  'GET /v1/events 200,400,401,403,413,503',
  'POST /v1/edge/enrollments/{enrollmentId}/accept 200,400,401,403,404,409,413,422,429,503',
  'POST /v1/edge/enrollments/{enrollmentId}/periods/{periodIndex} 200,400,401,403,404,409,413,422,429,503',
  'PUT /v1/edge/meters/{meterId}/periods/{periodIndex}/sealed 200,201,400,401,403,404,409,413,429,503',
  'GET /v1/edge/enrollments/{enrollmentId} 200,400,401,403,404,409,413,429,503',
  'GET /v1/edge/enrollments/{enrollmentId}/verification-key 200,400,401,403,404,409,413,429,503',
  'GET /v1/edge/verification-keys/{circuitId} 200,400,401,403,404,409,413,429,503',
  'GET /v1/edge/meters/{meterId} 200,400,401,403,404,409,413,429,503',
  'GET /v1/edge/meters/{meterId}/sealed-periods 200,400,401,403,404,409,413,429,503',
  'GET /v1/edge/auditor-keys 200,400,401,403,409,413,429,503',
  'POST /v1/edge/withdrawals 201,400,401,403,404,409,413,422,429,503',
];

interface OpenApiOperation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
interface OpenApi {
  paths: Record<string, Record<string, OpenApiOperation>>;
}

function operations(doc: OpenApi): string[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => `${method.toUpperCase()} ${path} ${Object.keys(op.responses).join(',')}`),
  );
}

function okSchema(doc: OpenApi, method: string, path: string): Record<string, unknown> {
  const op = doc.paths[path]?.[method];
  assert.ok(op, `${method} ${path} is in the document`);
  const ok = op.responses['200'] ?? op.responses['201'];
  return ok?.content?.['application/json']?.schema as Record<string, unknown>;
}

describe('gateway routes: OpenAPI document and relayed protocol records', () => {
  let gw: TestGateway;
  let doc: OpenApi;
  before(async () => {
    gw = await buildTestGateway();
    doc = (await gw.app.inject({ url: '/docs/json' })).json() as OpenApi;
  });
  after(() => gw.app.close());

  it('lists the same operations with the same status codes as before', () => {
    assert.deepEqual([...operations(doc)].sort(), [...OPERATIONS_BEFORE].sort());
    assert.equal(OPERATIONS_BEFORE.length, 58);
  });

  it('documents answers with the chaincode record fields (the order split is toAggregator/toDso)', () => {
    const order = okSchema(doc, 'get', '/v1/flex-orders/{orderId}') as { properties: { order: { properties: Record<string, { properties?: Record<string, unknown> }> } } };
    const settlement = order.properties.order.properties.settlement?.properties ?? {};
    assert.deepEqual(Object.keys(settlement).sort(), ['deficiencyWh', 'deliveredWh', 'penalty', 'settledAt', 'toAggregator', 'toDso', 'txId']);
    const meter = okSchema(doc, 'get', '/v1/edge/meters/{meterId}') as { properties: Record<string, unknown>; additionalProperties: unknown };
    assert.deepEqual(Object.keys(meter.properties).sort(), Object.keys(schemas.Meter.properties).sort());
    assert.equal(meter.additionalProperties, true, 'a field a newer chaincode adds is passed on');
  });

  it('names each ledger route by its transaction in the protocol map', () => {
    const op = doc.paths['/v1/tokens/supply-audit']?.get as unknown as { description: string };
    assert.match(op.description, new RegExp(`Chaincode: ${TX.auditSupply}\\.`));
  });

  it('passes a chaincode-shaped order on unchanged, with an unknown field, and a partial record as it came', async () => {
    const settled = {
      aggregatorMsp: 'AggregatorMSP',
      createdAt: '2026-01-01T00:00:00.000Z',
      day: '2026-01-02',
      enrolledWh: Array.from({ length: 24 }, () => '10'),
      offerId: 'offer-1',
      offeredWh: Array.from({ length: 24 }, () => '10'),
      orderId: 'order-1',
      price: '1000',
      requestId: 'req-1',
      settlement: {
        deficiencyWh: Array.from({ length: 24 }, () => '0'),
        deliveredWh: Array.from({ length: 24 }, () => '10'),
        penalty: '0',
        settledAt: '2026-01-03T00:00:00.000Z',
        toAggregator: '1000',
        toDso: '0',
        txId: 'tx-settle',
      },
      status: 'settled',
      aFieldOfANewerChaincode: { kept: true },
    };
    const enrollments = [{ enrollmentId: 'enr-1', meterId: 'meter-1', status: 'closed' }];
    gw.ledger.on('org.flexproof.market:GetFlexOrder', () => ({ order: settled, enrollments }));
    const full = await gw.app.inject({ method: 'GET', url: '/v1/flex-orders/order-1', headers: bearer('auditor') });
    assert.equal(full.statusCode, 200);
    assert.deepEqual(full.json(), { order: settled, enrollments });

    gw.ledger.on('org.flexproof.market:GetFlexOrder', () => ({ order: { orderId: 'order-1', status: 'open' }, enrollments: [] }));
    const partial = await gw.app.inject({ method: 'GET', url: '/v1/flex-orders/order-1', headers: bearer('auditor') });
    assert.equal(partial.statusCode, 200);
    assert.deepEqual(partial.json(), { order: { orderId: 'order-1', status: 'open' }, enrollments: [] });
  });

  it('relays an enrollment view with every kind of period result, field for field', async () => {
    const m = registerTestMeter(gw.ledger, 'meter-r');
    const e = gw.ledger.addEnrollment({ enrollmentId: 'enr-r', meterId: 'meter-r' });
    const verified = {
      outcome: 'verified', periodIndex: 0, deviationWh: '12', direction: '1', prevFingerprint: '0', newFingerprint: '77',
      penalty: '0', submissionHash: 'a'.repeat(64), txId: 'tx0', settledAt: '2026-01-02T01:00:00.000Z',
    };
    const invalid = { outcome: 'invalidProof', periodIndex: 1, forfeited: '500', submissionHash: 'b'.repeat(64), txId: 'tx1', settledAt: '2026-01-02T02:00:00.000Z' };
    const missed = { outcome: 'missed', periodIndex: 2, claimed: '20', txId: 'tx2', settledAt: '2026-01-02T04:00:00.000Z' };
    e.results[0] = verified;
    e.results[1] = invalid;
    e.results[2] = missed;
    const res = await gw.app.inject(signed(m, 'GET', '/v1/edge/enrollments/enr-r'));
    assert.equal(res.statusCode, 200);
    const body = res.json() as { enrollment: { results: unknown[] }; periods: { result: unknown }[] };
    assert.deepEqual(body.enrollment.results.slice(0, 4), [verified, invalid, missed, null]);
    assert.deepEqual(body.periods.slice(0, 4).map((p) => p.result), [verified, invalid, missed, null]);
  });
});
