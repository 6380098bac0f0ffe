/**
 * T11 on the app: thousands of broken requests over every route (support/route-fuzz.ts,
 * built from the app's own OpenAPI document), with valid, bogus, crossed and no
 * credentials. Every one must be refused with a 4xx in the gateway's error shape, none
 * may reach a ledger submission, and the fake ledger's meters and enrollments must be
 * exactly as before.
 */
import assert from 'node:assert/strict';
import { signEdgeRequest } from '@flexproof/gateway-api';
import { fuzzRequests, type FuzzRequest, type OpenApiDocument } from './support/route-fuzz';
import { buildTestGateway, MSP_IDS, registerTestMeter, TOKENS, type TestGateway, type TestMeter } from './support/gateway';

const COUNT = 2_000;

describe('gateway route fuzz (fake ledger): broken input is a 4xx and changes nothing', function () {
  this.timeout(300_000);
  let gw: TestGateway;
  let meter: TestMeter;
  let openapi: OpenApiDocument;
  before(async () => {
    gw = await buildTestGateway();
    meter = registerTestMeter(gw.ledger, 'meter-1');
    gw.ledger.addEnrollment({ enrollmentId: 'enr-1', meterId: 'meter-1' });
    openapi = (await gw.app.inject({ url: '/docs/json' })).json() as OpenApiDocument;
  });
  after(() => gw.app.close());

  it(`answers ${COUNT} broken requests with 4xx, never touching the ledger's state`, async () => {
    const requests = fuzzRequests({
      openapi,
      count: COUNT,
      seed: 20_251_101,
      bearerTokens: TOKENS,
      signEdge: ({ method, pathWithQuery, body }) =>
        signEdgeRequest({ gatewayMspId: MSP_IDS.dso, method, pathWithQuery, body }, meter.meter.meterId, meter.privateKey),
      pathValues: { meterId: 'meter-1', enrollmentId: 'enr-1' },
    });
    assert.equal(requests.length, COUNT);
    const before = snapshot(gw);

    const wrong: string[] = [];
    const byStatus = new Map<number, number>();
    const operations = new Set<string>();
    let pastAuth = 0;
    for (const r of requests) {
      operations.add(r.operation);
      const res = await gw.app.inject({ method: r.method as 'GET', url: r.url, headers: r.headers, ...(r.payload === undefined ? {} : { payload: r.payload }) });
      byStatus.set(res.statusCode, (byStatus.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode !== 401 && res.statusCode !== 403) pastAuth++;
      const body = safeJson(res.body);
      const shaped = body !== undefined && typeof body.code === 'string' && typeof body.message === 'string';
      if (res.statusCode < 400 || res.statusCode >= 500 || !shaped) wrong.push(`${res.statusCode} ${describe_(r)} -> ${res.body.slice(0, 200)}`);
    }

    assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} requests were not refused with a 4xx {code, message}`);
    assert.deepEqual(gw.ledger.submitted, [], 'no broken request reached a ledger submission');
    assert.deepEqual(snapshot(gw), before, "the fake ledger's meters and enrollments are unchanged");
    // The fuzz must reach validation, not only the credential checks, and cover the routes.
    assert.ok(pastAuth > COUNT / 3, `only ${pastAuth} requests got past authentication`);
    const fuzzable = Object.entries(openapi.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    for (const op of fuzzable.filter((o) => o.startsWith('POST') || o.startsWith('PUT'))) assert.ok(operations.has(op), `${op} was fuzzed`);
    for (const status of [400, 401, 413, 415]) assert.ok((byStatus.get(status) ?? 0) > 0, `some answers are ${status}`);
  });

  it('is deterministic for a seed, and different across seeds', () => {
    const a = fuzzRequests({ openapi, count: 50, seed: 7 }).map((r) => `${r.method} ${r.url} ${r.mutation}`);
    const b = fuzzRequests({ openapi, count: 50, seed: 7 }).map((r) => `${r.method} ${r.url} ${r.mutation}`);
    const c = fuzzRequests({ openapi, count: 50, seed: 8 }).map((r) => `${r.method} ${r.url} ${r.mutation}`);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });
});

function snapshot(gw: TestGateway): unknown {
  return structuredClone({ meters: [...gw.ledger.meters.entries()], enrollments: [...gw.ledger.enrollments.entries()] });
}

function safeJson(text: string): { code?: unknown; message?: unknown } | undefined {
  try {
    return JSON.parse(text) as { code?: unknown; message?: unknown };
  } catch {
    return undefined;
  }
}

function describe_(r: FuzzRequest): string {
  return `${r.operation} [${r.auth}] ${r.mutation} (${r.method} ${r.url.slice(0, 120)})`;
}
