/**
 * THREATS.md T6 and T11 played against both organisations' gateways on the real
 * network: a captured edge request replayed at the other gateway and at the same gateway
 * after a restart, unauthenticated deep JSON, and a fuzz of every route built from the
 * gateways' own OpenAPI documents. Each asserts the refusal and an unchanged ledger.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readNetworkDescriptor, signEdgeRequest, startGateway, type GatewayInstance, type NetworkDescriptor } from '@flexproof/gateway-api';
import { fuzzRequests, type OpenApiDocument } from '../../unit/gateway-api/support/route-fuzz';
import { testGatewayConfig, type TestTokens } from '../../support/gateway-config';
import { NETWORK_JSON } from '../../support/paths';
import { World, assertLedgerUnchanged, type Site } from './world';

const TOKEN: TestTokens = {
  dso: 'adv-dso-token-0123456789abcdef0123456',
  aggregator: 'adv-agg-token-0123456789abcdef0123456',
  auditor: 'adv-aud-token-0123456789abcdef0123456',
};
const FUZZ_COUNT = 2_000;

type Org = 'aggregator' | 'dso';

describe('adversarial: outsiders and members against the gateways (THREATS.md T6, T11)', function () {
  this.timeout(300_000);
  const world = new World();
  let network: NetworkDescriptor;
  const dirs: Record<Org, string> = { aggregator: '', dso: '' };
  const gateways: Partial<Record<Org, GatewayInstance>> = {};

  const start = async (org: Org): Promise<GatewayInstance> => {
    const gateway = await startGateway(testGatewayConfig(network, org, dirs[org], TOKEN));
    gateways[org] = gateway;
    return gateway;
  };
  const url = (org: Org): string => {
    const g = gateways[org];
    assert.ok(g, `the ${org} gateway is not running`);
    return g.url;
  };
  const mspOf = (org: Org) => network.orgs[org].mspId;

  /** An edge request signed by the site's key for `org`'s gateway; returns what to send and where. */
  const signed = (site: Site, org: Org, method: 'GET' | 'POST', pathWithQuery: string, body?: unknown) => {
    const raw = body === undefined ? '' : JSON.stringify(body);
    const headers = signEdgeRequest({ gatewayMspId: mspOf(org), method, pathWithQuery, body: raw }, site.meterId, site.privateKey);
    return { method, pathWithQuery, headers, raw };
  };
  /**
   * Sends exactly these bytes with exactly these headers: a captured request replayed, or
   * a body no client would send. Raw on purpose (the typed client signs afresh and
   * serialises its own JSON); the answer's status and JSON body.
   */
  const raw = async (
    org: Org,
    method: string,
    pathWithQuery: string,
    request: { headers?: Record<string, string>; body?: string } = {},
  ): Promise<{ status: number; body: { code?: string } & Record<string, unknown> }> => {
    const res = await fetch(`${url(org)}${pathWithQuery}`, {
      method,
      headers: { ...(request.body === undefined ? {} : { 'content-type': 'application/json' }), ...request.headers },
      ...(request.body === undefined ? {} : { body: request.body }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as { code?: string }) : {} };
  };
  const send = (org: Org, req: ReturnType<typeof signed>) =>
    raw(org, req.method, req.pathWithQuery, { headers: req.headers, ...(req.raw === '' ? {} : { body: req.raw }) });

  before(async () => {
    await world.start();
    network = await readNetworkDescriptor(NETWORK_JSON);
    for (const org of ['aggregator', 'dso'] as const) dirs[org] = mkdtempSync(path.join(tmpdir(), `flexproof-adv-${org}-`));
    await start('aggregator');
    await start('dso');
  });
  after(async () => {
    for (const g of Object.values(gateways)) await g?.close();
    world.close();
    for (const dir of Object.values(dirs)) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('T6: an edge request means one thing, once', () => {
    it('refuses a captured accept replayed at the other organisation\'s gateway (401) and at the same one after a restart (409 REPLAY)', async () => {
      const fresh = await world.freshEnrollment({ accept: false });
      const accept = await world.signedAccept(fresh, '1');
      const captured = signed(fresh.site, 'aggregator', 'POST', `/v1/edge/enrollments/${fresh.enrollmentId}/accept`, accept);
      const first = await send('aggregator', captured);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      await assertLedgerUnchanged(world, async () => {
        const atOther = await send('dso', captured);
        assert.equal(atOther.status, 401, JSON.stringify(atOther.body));
        await gateways.aggregator?.close();
        gateways.aggregator = undefined;
        await start('aggregator');
        const afterRestart = await send('aggregator', captured);
        assert.equal(afterRestart.status, 409, JSON.stringify(afterRestart.body));
        assert.equal(afterRestart.body.code, 'REPLAY');
      });
    });

    it('refuses a captured withdrawal replayed at the other gateway and after a restart; the ledger refuses the payload twice', async () => {
      const site = (await world.freshEnrollment({ accept: false })).site;
      await world.orgs.dso.submitTransaction('org.flexproof.tokens:Mint', JSON.stringify({ account: `prosumer:${site.prosumerId}`, amount: '300' }));
      const { ACTION_WITHDRAW, signPayload } = await import('@flexproof/protocol');
      const payload = { type: ACTION_WITHDRAW, ...world.target(), meterId: site.meterId, prosumerId: site.prosumerId, amount: '100', nonce: '7' };
      const body = { payload, signature: signPayload(payload as never, site.privateKey) };
      const captured = signed(site, 'dso', 'POST', '/v1/edge/withdrawals', body);
      const first = await send('dso', captured);
      assert.ok(first.status === 200 || first.status === 201, JSON.stringify(first.body));
      await assertLedgerUnchanged(world, async () => {
        assert.equal((await send('aggregator', captured)).status, 401);
        await gateways.dso?.close();
        gateways.dso = undefined;
        await start('dso');
        const again = await send('dso', captured);
        assert.equal(again.status, 409, JSON.stringify(again.body));
        assert.equal(again.body.code, 'REPLAY');
        // Freshly signed for the other gateway, the same prosumer payload is refused by the ledger's nonce.
        const resigned = await send('aggregator', signed(site, 'aggregator', 'POST', '/v1/edge/withdrawals', body));
        assert.equal(resigned.status, 409, JSON.stringify(resigned.body));
        assert.equal(resigned.body.code, 'REPLAY');
      });
    });
  });

  describe('T11: bad input changes nothing and never crashes a service', () => {
    it('answers deeply nested JSON without credentials with 400, at both gateways', async () => {
      const depth = 100_000;
      const deep = '['.repeat(depth) + ']'.repeat(depth);
      const objects = '{"a":'.repeat(depth / 4) + '1' + '}'.repeat(depth / 4); // under the body limit too
      await assertLedgerUnchanged(world, async () => {
        for (const org of ['aggregator', 'dso'] as const) {
          for (const body of [deep, objects, '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}']) {
            const answer = await raw(org, 'POST', '/v1/edge/withdrawals', { body });
            assert.equal(answer.status, 400, `${org}: ${body.slice(0, 30)}... answered ${answer.status} ${JSON.stringify(answer.body)}`);
          }
        }
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
      });
    });

    it(`answers ${FUZZ_COUNT} fuzzed requests on every route with a 4xx, never a 5xx, and the ledger does not change`, async () => {
      const fresh = await world.freshEnrollment();
      const pathValues = { meterId: fresh.site.meterId, enrollmentId: fresh.enrollmentId, orderId: world.orderId, requestId: world.requestId, circuitId: world.circuitId };
      const statuses = new Map<number, number>();
      const fiveHundreds: string[] = [];
      await assertLedgerUnchanged(world, async () => {
        for (const org of ['aggregator', 'dso'] as const) {
          const openapi = (await raw(org, 'GET', '/docs/json')).body as unknown as OpenApiDocument;
          const requests = fuzzRequests({
            openapi,
            count: FUZZ_COUNT / 2,
            seed: org === 'aggregator' ? 11 : 22,
            bearerTokens: { [org]: TOKEN[org], auditor: TOKEN.auditor },
            signEdge: (r) => signEdgeRequest({ gatewayMspId: mspOf(org), ...r }, fresh.site.meterId, fresh.site.privateKey),
            pathValues,
            bodyLimit: 256 * 1024,
          });
          let done = 0;
          for (const r of requests) {
            const res = await fetch(`${url(org)}${r.url}`, { method: r.method, headers: r.headers, body: r.payload });
            await res.arrayBuffer();
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (res.status >= 500) fiveHundreds.push(`${org} ${r.operation} [${r.mutation}] -> ${res.status}`);
            done += 1;
            if (done % 250 === 0) console.log(`      fuzz ${org}: ${done}/${requests.length}`);
          }
        }
      });
      console.log(`      statuses: ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}: ${n}`).join(', ')}`);
      assert.deepEqual(fiveHundreds, [], 'no request may answer 5xx');
      assert.equal([...statuses.values()].reduce((a, b) => a + b, 0), FUZZ_COUNT);
      for (const status of statuses.keys()) assert.ok(status >= 400 && status < 500, `every fuzzed request is refused (got ${status})`);
    });
  });
});
