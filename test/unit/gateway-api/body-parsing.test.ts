/**
 * T11 at the front door: bodies that once crashed the parser (deep nesting overflowed a
 * recursive reviver: 500, before any credential check) and prototype keys are a 400
 * naming the rule; unknown fields anywhere, bodies on routes that take none, unknown
 * query fields, wrong content types and malformed URLs are 4xx in the gateway's shape.
 */
import assert from 'node:assert/strict';
import { MAX_JSON_DEPTH, parseJsonBody } from '@flexproof/gateway-api';
import { bearer, buildTestGateway, type TestGateway } from './support/gateway';
import type { JsonSchema, OpenApiDocument } from './support/route-fuzz';

const json = { 'content-type': 'application/json' };
const nested = (depth: number, leaf = '1') => '['.repeat(depth) + leaf + ']'.repeat(depth);

describe('gateway body parsing and unknown input (fake ledger)', () => {
  let gw: TestGateway;
  beforeEach(async () => {
    gw = await buildTestGateway();
  });
  afterEach(() => gw.app.close());

  it(`allows ${MAX_JSON_DEPTH} levels of nesting and refuses ${MAX_JSON_DEPTH + 1}, counting only outside strings`, () => {
    assert.deepEqual(parseJsonBody(Buffer.from(nested(MAX_JSON_DEPTH))), JSON.parse(nested(MAX_JSON_DEPTH)));
    assert.throws(() => parseJsonBody(Buffer.from(nested(MAX_JSON_DEPTH + 1))), /body: nested deeper than 64 levels/);
    // Brackets inside strings, and escaped quotes, are not nesting.
    const text = JSON.stringify({ a: '['.repeat(500), b: 'say \\"[[[[\\" ok', c: [['x']] });
    assert.deepEqual(parseJsonBody(Buffer.from(text)), JSON.parse(text));
    // Multi-byte UTF-8 around the brackets.
    assert.deepEqual(parseJsonBody(Buffer.from('{"é😀":["[ü]"]}')), { 'é😀': ['[ü]'] });
  });

  it('answers 400 (not 500) to 10,000 levels of nesting on an edge route, before any credential check', async () => {
    for (const payload of [nested(10_000), `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`, '['.repeat(100_000)]) {
      const res = await gw.app.inject({ method: 'POST', url: '/v1/edge/withdrawals', headers: json, payload });
      assert.equal(res.statusCode, 400, res.body);
      assert.deepEqual(res.json(), { code: 'BAD_INPUT', message: 'body: nested deeper than 64 levels of arrays and objects' });
    }
    assert.deepEqual(gw.ledger.evaluated, [], 'refused before the meter was even looked up');
  });

  it('refuses __proto__ keys and constructor.prototype anywhere, also \\u-escaped (400 naming the rule)', async () => {
    gw.ledger.on('org.flexproof.verifiers:ProposeVerificationKey', (arg) => ({ ...arg, keyHash: 'h', status: 'proposed' }));
    const bodies = [
      '{"account":"org:DsoMSP","amount":"1","__proto__":{"isAdmin":true}}',
      '{"circuitId":"c1","verificationKey":{"deep":{"__proto__":{"x":1}}}}',
      '{"circuitId":"c1","verificationKey":{"\\u005f_proto__":{"x":1}}}',
      '{"circuitId":"c1","verificationKey":{"constructor":{"prototype":{"x":1}}}}',
      '[{"__proto__":1}]',
    ];
    for (const payload of bodies) {
      const url = payload.includes('account') ? '/v1/tokens/mint' : '/v1/verification-keys';
      const res = await gw.app.inject({ method: 'POST', url, headers: { ...bearer('dso'), ...json }, payload });
      assert.equal(res.statusCode, 400, payload);
      assert.equal(res.json().code, 'BAD_INPUT');
      assert.match(res.json().message, /^body: a "__proto__" key or a "constructor" object with "prototype" is not allowed/);
    }
    assert.equal(gw.ledger.submitted.length, 0);
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
    // A key merely named "constructor" inside an open object is data, not pollution.
    const ok = await gw.app.inject({
      method: 'POST',
      url: '/v1/verification-keys',
      headers: { ...bearer('dso'), ...json },
      payload: '{"circuitId":"c1","verificationKey":{"constructor":"x"}}',
    });
    assert.equal(ok.statusCode, 201, ok.body);
  });

  it('refuses unknown fields, numbers out of range and wrong root types, naming the field', async () => {
    const cases: [string, string, RegExp][] = [
      ['/v1/tokens/mint', '{"account":"org:DsoMSP","amount":"1","constructor":"x"}', /^body\.constructor: is not allowed/],
      ['/v1/verification-keys/c1/approve', '{"keyHash":1e400}', /^body\.keyHash: must be string/],
      ['/v1/tokens/mint', '[]', /^body: must be object/],
      ['/v1/tokens/mint', '"mint"', /^body: must be object/],
    ];
    for (const [url, payload, message] of cases) {
      const res = await gw.app.inject({ method: 'POST', url, headers: { ...bearer('dso'), ...json }, payload });
      assert.equal(res.statusCode, 400, payload);
      assert.match(res.json().message, message);
    }
    assert.equal(gw.ledger.submitted.length, 0);
  });

  it('refuses a body on a route that takes none, and unknown query fields (400 naming the field)', async () => {
    const body = await gw.app.inject({ method: 'POST', url: '/v1/enrollments/enr-1/fund', headers: { ...bearer('aggregator'), ...json }, payload: '{"amount":"1000000"}' });
    assert.equal(body.statusCode, 400);
    assert.equal(body.json().message, 'body.amount: is not allowed');
    const array = await gw.app.inject({ method: 'POST', url: '/v1/enrollments/enr-1/fund', headers: { ...bearer('aggregator'), ...json }, payload: '[1]' });
    assert.equal(array.json().message, 'body: this route takes no body');
    const query = await gw.app.inject({ method: 'POST', url: '/v1/enrollments/enr-1/fund?asOrg=dso', headers: bearer('aggregator') });
    assert.equal(query.statusCode, 400);
    assert.equal(query.json().message, 'querystring.asOrg: is not allowed');
    const edgeQuery = await gw.app.inject({ method: 'GET', url: '/v1/edge/meters/meter-1?x=1' });
    assert.equal(edgeQuery.json().message, 'querystring.x: is not allowed');
    // An empty object is no body.
    gw.ledger.on('org.flexproof.programs:DepositReward', () => ({
      enrollmentId: 'enr-1',
      orderId: 'order-1',
      meterId: 'meter-1',
      prosumerId: 'prosumer-1',
      status: 'active',
      chainHead: '0',
    }));
    const empty = await gw.app.inject({ method: 'POST', url: '/v1/enrollments/enr-1/fund', headers: { ...bearer('aggregator'), ...json }, payload: '{}' });
    assert.equal(empty.statusCode, 200, empty.body);
    assert.equal(gw.ledger.submitted.length, 1);
  });

  it('answers 415 to anything but JSON, and malformed or over-long paths in its own error shape', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/jsonx']) {
      const res = await gw.app.inject({ method: 'POST', url: '/v1/tokens/mint', headers: { ...bearer('dso'), 'content-type': type }, payload: '{"account":"org:DsoMSP","amount":"1"}' });
      assert.equal(res.statusCode, 415, type);
      assert.equal(res.json().code, 'UNSUPPORTED_MEDIA_TYPE');
    }
    const bad = await gw.app.inject({ method: 'GET', url: '/v1/meters/%ZZ', headers: bearer('dso') });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(Object.keys(bad.json()).sort(), ['code', 'message']);
    const long = await gw.app.inject({ method: 'GET', url: `/v1/meters/${'a'.repeat(5000)}`, headers: bearer('dso') });
    assert.equal(long.statusCode, 414);
    assert.equal(long.json().code, 'URI_TOO_LONG');
    assert.ok(long.body.length < 200, 'the URL is not echoed back');
  });

  it('declares additionalProperties: false on every object of every request body, except the opaque proof and key', async () => {
    const spec = (await gw.app.inject({ url: '/docs/json' })).json() as OpenApiDocument;
    const open: string[] = [];
    const walk = (s: JsonSchema, where: string): void => {
      if (s.type === 'object') {
        if (s.additionalProperties !== false) open.push(where);
        for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${where}.${k}`);
      }
      if (s.items) walk(s.items, `${where}[]`);
      for (const v of s.anyOf ?? []) walk(v, where);
    };
    let bodies = 0;
    for (const [p, ops] of Object.entries(spec.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        const schema = op.requestBody?.content?.['application/json']?.schema;
        if (!schema) continue;
        bodies++;
        walk(schema, `${m.toUpperCase()} ${p} body`);
      }
    }
    assert.ok(bodies >= 15, `${bodies} request bodies`);
    // The proof's and the key's inner shapes are the verifier's to check (BAD_INPUT from the chaincode).
    assert.deepEqual(open.sort(), [
      'POST /v1/edge/enrollments/{enrollmentId}/periods/{periodIndex} body.proof',
      'POST /v1/verification-keys body.verificationKey',
    ]);
  });
});
