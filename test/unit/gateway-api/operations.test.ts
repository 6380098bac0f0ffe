import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearer, buildTestGateway, MemorySealedStoreForTests, type TestGateway } from './support/gateway';

/** Reads server-sent events from a live server until `count` named events arrived. */
function readEvents(url: string, headers: Record<string, string>, count: number, onReady: () => void): Promise<{ event: string; data: string; id?: string }[]> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
      let buffer = '';
      const events: { event: string; data: string; id?: string }[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
          if (!fields.event) continue;
          if (fields.event === 'ready') {
            onReady();
            continue;
          }
          events.push({ event: fields.event, data: fields.data ?? '', id: fields.id });
          if (events.length === count) {
            req.destroy();
            resolve(events);
          }
        }
      });
    });
    req.on('error', (err) => (err.message === 'socket hang up' ? undefined : reject(err)));
    req.end();
  });
}

describe('gateway operations: health, readiness, metrics, OpenAPI, event stream (fake ledger)', () => {
  let gw: TestGateway;
  beforeEach(async () => {
    gw = await buildTestGateway();
  });
  afterEach(() => gw.app.close());

  it('/healthz answers while the process runs, /readyz only when peer and store answer', async () => {
    assert.deepEqual((await gw.app.inject({ url: '/healthz' })).json(), { status: 'ok' });
    const ready = await gw.app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready', checks: { ledger: 'up', store: 'up' } });
    gw.ledger.down = true;
    (gw.store as MemorySealedStoreForTests).down = true;
    const notReady = await gw.app.inject({ url: '/readyz' });
    assert.equal(notReady.statusCode, 503);
    assert.equal(notReady.headers['retry-after'], '5');
    assert.deepEqual(notReady.json().checks, { ledger: 'down', store: 'down' });
    assert.equal((await gw.app.inject({ url: '/healthz' })).statusCode, 200);
  });

  it('/metrics counts requests by route, ledger submit latency and errors by code', async () => {
    gw.ledger.on('org.flexproof.tokens:Mint', (arg) => arg);
    await gw.app.inject({ method: 'POST', url: '/v1/tokens/mint', headers: bearer('dso'), payload: { account: 'org:DsoMSP', amount: '1' } });
    await gw.app.inject({ method: 'POST', url: '/v1/tokens/mint', payload: { account: 'org:DsoMSP', amount: '1' } });
    const res = await gw.app.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain/);
    assert.match(res.body, /flexproof_gateway_http_requests_total\{method="POST",route="\/v1\/tokens\/mint",status="200"\} 1/);
    assert.match(res.body, /flexproof_gateway_http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/v1\/tokens\/mint"\}/);
    assert.match(res.body, /flexproof_gateway_ledger_submit_duration_seconds_count\{transaction="org.flexproof.tokens:Mint",outcome="committed"\} 1/);
    assert.match(res.body, /flexproof_gateway_errors_total\{code="UNAUTHORIZED",status="401"\} 1/);
  });

  it('serves OpenAPI at /docs with request and response schemas of every route', async () => {
    const ui = await gw.app.inject({ url: '/docs' });
    assert.ok([200, 302].includes(ui.statusCode));
    const spec = (await gw.app.inject({ url: '/docs/json' })).json();
    assert.equal(spec.openapi.slice(0, 2), '3.');
    const paths = Object.keys(spec.paths);
    for (const p of ['/v1/meters', '/v1/edge/enrollments/{enrollmentId}/periods/{periodIndex}', '/v1/edge/enrollments/{enrollmentId}/verification-key', '/v1/enrollments/{enrollmentId}/stored-periods', '/v1/meters/{meterId}/sealed-periods', '/v1/edge/meters/{meterId}/periods/{periodIndex}/sealed', '/v1/edge/auditor-keys', '/v1/auditor-keys', '/v1/events', '/metrics']) {
      assert.ok(paths.includes(p), p);
    }
    const register = spec.paths['/v1/meters'].post;
    assert.ok(register.requestBody.content['application/json'].schema.properties.publicKeyPem);
    assert.ok(register.responses['201']);
    assert.ok(register.responses['422']);
    for (const [p, ops] of Object.entries(spec.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>)) {
      for (const [method, op] of Object.entries(ops)) assert.ok(op.responses && Object.keys(op.responses).length > 0, `${method} ${p}`);
    }
  });

  it('streams chaincode events as server-sent events, filtered by enrollment or meter', async () => {
    const address = await gw.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (gw.app.server.address() as AddressInfo).port;
    assert.ok(address);
    let byEnrollment!: ReturnType<typeof readEvents>;
    let byMeter!: ReturnType<typeof readEvents>;
    let ready = 0;
    const emitted = new Promise<void>((resolve) => {
      const check = (): void => {
        ready++;
        if (ready === 2) resolve();
      };
      byEnrollment = readEvents(`http://127.0.0.1:${port}/v1/events?enrollmentId=enr-1`, bearer('auditor'), 2, check);
      byMeter = readEvents(`http://127.0.0.1:${port}/v1/events?meterId=meter-9`, bearer('dso'), 1, check);
    });
    await emitted;
    const event = (eventName: string, payload: Record<string, unknown>, n: number) => ({ eventName, payload, txId: `tx${n}`, blockNumber: String(10 + n) });
    gw.ledger.emit(event('PeriodSettled', { enrollmentId: 'enr-1', meterId: 'meter-1', periodIndex: 0 }, 1));
    gw.ledger.emit(event('PeriodSettled', { enrollmentId: 'enr-2', meterId: 'meter-9', periodIndex: 0 }, 2));
    gw.ledger.emit(event('EnrollmentClosed', { enrollmentId: 'enr-1', meterId: 'meter-1' }, 3));
    const [a, b] = await Promise.all([byEnrollment, byMeter]);
    assert.deepEqual(a.map((e) => [e.event, e.id]), [['PeriodSettled', '11'], ['EnrollmentClosed', '13']]);
    assert.deepEqual(JSON.parse(a[0]?.data ?? '{}'), { enrollmentId: 'enr-1', meterId: 'meter-1', periodIndex: 0, txId: 'tx1' });
    assert.deepEqual(b.map((e) => e.event), ['PeriodSettled']);
    // Closed streams are released; closing the app ends the rest.
    for (let i = 0; i < 50 && gw.ledger.subscriberCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(gw.ledger.subscriberCount, 0);
  });

  it('refuses the event stream without a token (401)', async () => {
    const res = await gw.app.inject({ url: '/v1/events' });
    assert.equal(res.statusCode, 401);
  });
});
