// The typed gateway client against a real HTTP server on 127.0.0.1: the one retry policy
// (503 with Retry-After, dropped and refused connections, a deadline, never a 4xx), one
// Idempotency-Key per logical write reused across its retries, typed errors, edge calls
// signed per attempt (checked with the protocol's own verifier), and the event stream.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ACTION_SUBMIT_PERIOD,
  DEFAULT_LEDGER_TARGET,
  EDGE_HEADERS,
  EdgeGatewayClient,
  GatewayClient,
  GatewayError,
  readEdgeSignatureHeaders,
  verifyEdgeSignature,
} from '@flexproof/protocol';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
type Handler = (req: Seen, res: ServerResponse) => void;

interface TestServer {
  url: string;
  seen: Seen[];
  /** Answers in order; the last one repeats. */
  script: Handler[];
  close(): Promise<void>;
}

async function testServer(): Promise<TestServer> {
  const state = { seen: [] as Seen[], script: [] as Handler[] };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      state.seen.push(seen);
      const handler = state.script.length > 1 ? state.script.shift() : state.script[0];
      (handler ?? ok({}))(seen, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get seen() {
      return state.seen;
    },
    get script() {
      return state.script;
    },
    set script(s: Handler[]) {
      state.script = s;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Handler => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};
const ok = (body: unknown) => json(200, body);
const busy = (retryAfter = '0') => json(503, { code: 'LEDGER_UNAVAILABLE', message: 'the ledger is not reachable; retry later' }, { 'retry-after': retryAfter });
/** Closes the socket without an answer: the client sees a lost connection. */
const drop: Handler = (_req, res) => res.socket?.destroy();

const TOKEN = 'operator-token-0123456789abcdef';
const noSleep = async () => undefined;

describe('protocol: GatewayClient', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await testServer();
  });
  afterEach(async () => server.close());

  const client = (retry = {}, onRetry?: (line: string) => void) =>
    new GatewayClient({ baseUrl: server.url, token: TOKEN, retry: { backoffMs: 1, ...retry }, ...(onRetry ? { onRetry } : {}) });

  it('sends the bearer token and JSON, and returns the typed answer', async () => {
    server.script = [json(200, { txId: 'tx1', result: { amount: '5', account: 'org:DsoMSP' } })];
    const answer = await client().mint({ account: 'org:DsoMSP', amount: '5' });
    assert.equal(answer.txId, 'tx1');
    assert.equal(answer.result.amount, '5');
    const [req] = server.seen;
    assert.equal(req?.method, 'POST');
    assert.equal(req?.url, '/v1/tokens/mint');
    assert.equal(req?.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(req?.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(req?.body ?? ''), { account: 'org:DsoMSP', amount: '5' });
  });

  it('a POST without a body sends none (the gateway refuses a body on such routes); ids are percent-encoded', async () => {
    server.script = [json(200, { txId: 'tx2', result: { orderId: 'o/1', status: 'settled' } })];
    await client().settleFlexOrder('o/1');
    assert.equal(server.seen[0]?.url, '/v1/flex-orders/o%2F1/settle');
    assert.equal(server.seen[0]?.body, '');
    assert.equal(server.seen[0]?.headers['content-type'], undefined);
  });

  it('rides through 503 + Retry-After with one Idempotency-Key for all attempts of a write', async () => {
    server.script = [busy('0'), busy('0'), json(200, { txId: 'tx3', result: { amount: '1' } })];
    const notices: string[] = [];
    const answer = await client({}, (l) => notices.push(l)).burn({ account: 'org:DsoMSP', amount: '1' });
    assert.equal(answer.txId, 'tx3');
    assert.equal(server.seen.length, 3);
    const keys = server.seen.map((s) => s.headers['idempotency-key']);
    assert.match(String(keys[0]), /^[0-9a-f-]{36}$/);
    assert.deepEqual(new Set(keys).size, 1, 'every retry carries the first attempt\'s key');
    assert.equal(notices.length, 2);
    assert.match(notices[0] ?? '', /503 LEDGER_UNAVAILABLE; retrying/);
    // The next logical write gets a new key.
    server.script = [json(200, { txId: 'tx4', result: {} })];
    await client().burn({ account: 'org:DsoMSP', amount: '1' });
    assert.notEqual(server.seen[3]?.headers['idempotency-key'], keys[0]);
  });

  it('waits what Retry-After asks, capped by the policy', async () => {
    server.script = [busy('2'), ok({ minted: '1', burned: '0', outstanding: '1' })];
    const waits: number[] = [];
    const c = new GatewayClient({ baseUrl: server.url, token: TOKEN, sleep: async (ms) => void waits.push(ms), retry: { maxRetryAfterMs: 1500 } });
    await c.supply();
    assert.deepEqual(waits, [1500]);
    server.script = [busy('1'), ok({ minted: '1', burned: '0', outstanding: '1' })];
    const waits2: number[] = [];
    await new GatewayClient({ baseUrl: server.url, token: TOKEN, sleep: async (ms) => void waits2.push(ms) }).supply();
    assert.deepEqual(waits2, [1000]);
  });

  it('an explicit Idempotency-Key is sent as given; reads carry none', async () => {
    server.script = [ok({ txId: 'tx', result: {} })];
    await client().fundEnrollment('e1', { idempotencyKey: 'fund-e1-2025-06-01' });
    assert.equal(server.seen[0]?.headers['idempotency-key'], 'fund-e1-2025-06-01');
    server.script = [ok({ meterId: 'm1' })];
    await client().meter('m1');
    assert.equal(server.seen[1]?.headers['idempotency-key'], undefined);
  });

  it('retries a dropped connection, keeping the Idempotency-Key', async () => {
    server.script = [drop, drop, ok({ txId: 'tx5', result: { enrollmentId: 'e1' } })];
    const answer = await client().closeEnrollment('e1');
    assert.equal(answer.txId, 'tx5');
    assert.equal(server.seen.length, 3);
    assert.equal(new Set(server.seen.map((s) => s.headers['idempotency-key'])).size, 1);
  });

  it('never retries a 4xx; the error carries status, code and the gateway message', async () => {
    server.script = [json(422, { code: 'RULE_VIOLATION', message: 'account org:DsoMSP has 0, needs 100', txId: 'txr' })];
    const error = await client().acceptFlexOffer('of1', 'or1').then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e as GatewayError,
    );
    assert.ok(error instanceof GatewayError);
    assert.equal(error.kind, 'refused');
    assert.equal(error.status, 422);
    assert.equal(error.code, 'RULE_VIOLATION');
    assert.equal(error.txId, 'txr');
    assert.match(error.message, /POST \/v1\/flex-offers\/of1\/order answered 422 RULE_VIOLATION: account org:DsoMSP has 0/);
    assert.equal(server.seen.length, 1);
    for (const status of [400, 401, 404, 409, 429]) {
      server.script = [json(status, { code: 'X', message: 'no' }, { 'retry-after': '0' })];
      const sentBefore: number = server.seen.length;
      await assert.rejects(client().supply(), (e: GatewayError) => e.kind === 'refused' && e.status === status);
      assert.equal(server.seen.length, sentBefore + 1, `${status} is not retried`);
    }
  });

  it('500 and 502 are unexpected, not retried; a body that is not JSON is BAD_ANSWER', async () => {
    server.script = [json(502, { code: 'LEDGER_REJECTED', message: 'not committed' })];
    await assert.rejects(client().supply(), (e: GatewayError) => e.kind === 'unexpected' && e.code === 'LEDGER_REJECTED');
    assert.equal(server.seen.length, 1);
    server.script = [(_q, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('<html>')];
    await assert.rejects(client().supply(), (e: GatewayError) => e.kind === 'unexpected' && e.code === 'BAD_ANSWER');
    server.script = [ok({ amount: '1' })];
    await assert.rejects(client().mint({ account: 'a', amount: '1' }), (e: GatewayError) => e.code === 'BAD_ANSWER', 'a write answer must be { txId, result }');
  });

  it('gives up at the deadline as unavailable, naming the last reason', async () => {
    server.script = [busy('5')];
    await assert.rejects(client({ deadlineMs: 2000 }).supply(), (e: GatewayError) => {
      assert.equal(e.kind, 'unavailable');
      assert.equal(e.status, 503);
      assert.equal(e.code, 'LEDGER_UNAVAILABLE');
      assert.match(e.message, /gave up after 1 attempt/);
      return true;
    });
    assert.equal(server.seen.length, 1, 'a wait past the deadline is not started');
  });

  it('maxAttempts bounds the tries; the error keeps the Retry-After it gave up on, and the txId of the answer', async () => {
    server.script = [json(503, { code: 'LEDGER_CONTENDED', message: 'retry the request', txId: 'tx-mvcc' }, { 'retry-after': '1' })];
    const twice = new GatewayClient({ baseUrl: server.url, token: TOKEN, sleep: noSleep, retry: { maxAttempts: 2 } });
    await assert.rejects(twice.transfer({ to: 'org:DsoMSP', amount: '1' }), (e: GatewayError) => {
      assert.deepEqual([e.kind, e.status, e.code, e.retryAfterMs, e.txId], ['unavailable', 503, 'LEDGER_CONTENDED', 1000, 'tx-mvcc']);
      assert.match(e.message, /gave up after 2 attempts/);
      return true;
    });
    assert.equal(server.seen.length, 2);
    assert.throws(() => client({ maxAttempts: 0 }), /retry.maxAttempts/);
  });

  it('no answer within the attempt limit is TIMEOUT, retried like a lost connection', async () => {
    const silent: Handler = () => undefined;
    server.script = [silent, ok({ minted: '1', burned: '0', outstanding: '1' })];
    assert.equal((await client({ attemptTimeoutMs: 100 }).supply()).minted, '1');
    assert.equal(server.seen.length, 2);
    server.script = [silent];
    await assert.rejects(client({ attemptTimeoutMs: 100, maxAttempts: 1 }).supply(), (e: GatewayError) => e.kind === 'unavailable' && e.status === 0 && e.code === 'TIMEOUT');
  });

  it('a refused connection (nothing listening) is unavailable after the deadline', async () => {
    const url = server.url;
    await server.close();
    const c = new GatewayClient({ baseUrl: url, token: TOKEN, retry: { deadlineMs: 300, backoffMs: 50 } });
    await assert.rejects(c.supply(), (e: GatewayError) => e.kind === 'unavailable' && e.code === 'CONNECTION' && /ECONNREFUSED/.test(e.message));
    server = await testServer();
  });

  it('refuses a URL with credentials and a token that is not one', () => {
    assert.throws(() => new GatewayClient({ baseUrl: 'http://u:p@127.0.0.1:1', token: TOKEN }), /gatewayUrl: must not hold credentials/);
    assert.throws(() => new GatewayClient({ baseUrl: 'ftp://x', token: TOKEN }), /gatewayUrl/);
    assert.throws(() => new GatewayClient({ baseUrl: server.url, token: 'has space' }), /token:/);
  });

  it('follows the event stream: ready, events with block ids, and an error event ends it', async () => {
    server.script = [
      (_q, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: ready\ndata: {}\n\n: keep-alive\n\n');
        res.write('id: 7\nevent: PeriodSettled\ndata: {"enrollmentId":"e1","periodIndex":3,');
        setTimeout(() => {
          res.write('"txId":"t7"}\n\nid: 8\nevent: RewardDeposited\ndata: {"enrollmentId":"e1"}\n\n');
          res.end('event: error\ndata: {"code":"LEDGER_UNAVAILABLE","message":"the ledger is not reachable; retry later"}\n\n');
        }, 20);
      },
    ];
    const got: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const e of client().events({ enrollmentId: 'e1', fromBlock: '5' })) got.push(e);
      })(),
      (e: GatewayError) => e.kind === 'unavailable' && e.code === 'LEDGER_UNAVAILABLE',
    );
    assert.equal(server.seen[0]?.url, '/v1/events?enrollmentId=e1&fromBlock=5');
    assert.equal(server.seen[0]?.headers.accept, 'text/event-stream');
    assert.deepEqual(got, [
      { event: 'ready', data: {} },
      { event: 'PeriodSettled', id: '7', data: { enrollmentId: 'e1', periodIndex: 3, txId: 't7' } },
      { event: 'RewardDeposited', id: '8', data: { enrollmentId: 'e1' } },
    ]);
  });

  it('an aborted event stream ends quietly', async () => {
    server.script = [
      (_q, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: ready\ndata: {}\n\n');
      },
    ];
    const stop = new AbortController();
    const got: string[] = [];
    for await (const e of client().events({}, stop.signal)) {
      got.push(e.event);
      stop.abort();
    }
    assert.deepEqual(got, ['ready']);
  });
});

describe('protocol: EdgeGatewayClient', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await testServer();
  });
  afterEach(async () => server.close());

  it('signs each attempt afresh (new nonce) for the gateway organisation, over the exact bytes sent', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const edge = new EdgeGatewayClient({ baseUrl: server.url, meterId: 'meter-1', privateKey, gatewayMspId: 'AggregatorMSP', sleep: noSleep });
    server.script = [busy('0'), drop, ok({ outcome: 'verified', enrollmentId: 'e1', periodIndex: 2, result: {}, txId: 'tx', replayed: false })];
    const payload = { type: ACTION_SUBMIT_PERIOD, ...DEFAULT_LEDGER_TARGET, enrollmentId: 'e1', meterId: 'meter-1', prosumerId: 'p1', circuitId: 'c1', periodIndex: 2, submissionHash: 'ab' } as const;
    const body = { payload, signature: 'c2lnbmF0dXJlLXNpZ25hdHVyZQ==', proof: {}, publicSignals: ['1'] };
    await edge.submitPeriod('e1', 2, body);
    assert.equal(server.seen.length, 3);
    const nonces = new Set<string>();
    for (const req of server.seen) {
      const read = readEdgeSignatureHeaders(req.headers);
      assert.ok(read.ok, 'well-formed signature headers');
      if (!read.ok) continue;
      nonces.add(read.headers.nonce);
      const parts = { gatewayMspId: 'AggregatorMSP', method: req.method, pathWithQuery: req.url, timestamp: read.headers.timestamp, nonce: read.headers.nonce, body: req.body };
      assert.ok(verifyEdgeSignature(parts, read.headers.signature, publicKey), 'the gateway verifier accepts it');
      assert.ok(!verifyEdgeSignature({ ...parts, gatewayMspId: 'DsoMSP' }, read.headers.signature, publicKey), 'and only for that organisation');
      assert.equal(req.headers[EDGE_HEADERS.meter], 'meter-1');
      assert.equal(req.headers.authorization, undefined, 'no bearer token on edge calls');
    }
    assert.equal(nonces.size, 3, 'a retried request is signed with a new nonce');
    assert.equal(server.seen[0]?.url, '/v1/edge/enrollments/e1/periods/2');
    assert.deepEqual(JSON.parse(server.seen[2]?.body ?? ''), body);
  });

  it('reads the verification key of a circuit id, signed, the id percent-encoded; a 404 is refused', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const edge = new EdgeGatewayClient({ baseUrl: server.url, meterId: 'meter-3', privateKey, gatewayMspId: 'AggregatorMSP', sleep: noSleep });
    const answer = { circuitId: 'flex/v1', status: 'active', keyHash: 'ab'.repeat(32), verificationKey: { protocol: 'groth16' } };
    server.script = [busy('0'), ok(answer)];
    assert.deepEqual(await edge.verificationKeyFor('flex/v1'), answer);
    assert.equal(server.seen.length, 2, 'a 503 is retried');
    const req = server.seen[1] as Seen;
    assert.equal(req.method, 'GET');
    assert.equal(req.url, '/v1/edge/verification-keys/flex%2Fv1');
    const read = readEdgeSignatureHeaders(req.headers);
    assert.ok(read.ok && verifyEdgeSignature({ gatewayMspId: 'AggregatorMSP', method: 'GET', pathWithQuery: req.url, timestamp: read.headers.timestamp, nonce: read.headers.nonce, body: '' }, read.headers.signature, publicKey));
    server.script = [json(404, { code: 'NOT_FOUND', message: 'no verification key for circuit nope' })];
    await assert.rejects(edge.verificationKeyFor('nope'), (e: unknown) => e instanceof GatewayError && e.kind === 'refused' && e.status === 404 && e.code === 'NOT_FOUND');
  });

  it('sends a signed body given as JSON text byte for byte, on every attempt; text that is not JSON is refused before sending', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const edge = new EdgeGatewayClient({ baseUrl: server.url, meterId: 'meter-4', privateKey, gatewayMspId: 'DsoMSP', sleep: noSleep });
    const text = '{ "payload" : {"enrollmentId": "e1", "periodIndex": 0},\n "signature":"c2ln", "proof": {}, "publicSignals": ["1"] }';
    server.script = [busy('0'), ok({ outcome: 'verified', enrollmentId: 'e1', periodIndex: 0, result: {}, txId: 'tx', replayed: false })];
    const settled = await edge.submitPeriod('e1', 0, text);
    assert.equal(settled.outcome, 'verified');
    assert.deepEqual(server.seen.map((r) => r.body), [text, text]);
    await assert.rejects(edge.withdraw('{not json'), /body: must be JSON text/);
    assert.equal(server.seen.length, 2);
  });

  it('stores and reads sealed documents under its own meter id', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const edge = new EdgeGatewayClient({ baseUrl: server.url, meterId: 'meter 5', privateKey, gatewayMspId: 'DsoMSP' });
    server.script = [json(201, { stored: 'created' }), ok({ meterId: 'meter 5', enrollmentId: 'e/1', periods: [] })];
    assert.deepEqual(await edge.uploadSealedPeriod('e/1', 7, { protected: 'x' }), { stored: 'created' });
    assert.equal((await edge.sealedPeriods('e/1')).periods.length, 0);
    assert.deepEqual(server.seen.map((r) => `${r.method} ${r.url} ${r.headers['idempotency-key'] ?? '-'}`), [
      'PUT /v1/edge/meters/meter%205/periods/7/sealed?enrollmentId=e%2F1 -',
      'GET /v1/edge/meters/meter%205/sealed-periods?enrollmentId=e%2F1 -',
    ]);
    assert.deepEqual(JSON.parse(server.seen[0]?.body ?? ''), { jwe: { protected: 'x' } });
  });

  it('a GET is signed over an empty body; an unsignable MSP id is refused at construction', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const edge = new EdgeGatewayClient({ baseUrl: server.url, meterId: 'meter-2', privateKey, gatewayMspId: 'DsoMSP' });
    server.script = [ok({ meterId: 'meter-2', status: 'active' })];
    const meter = await edge.ownMeter();
    assert.equal(meter.status, 'active');
    const req = server.seen[0] as Seen;
    const read = readEdgeSignatureHeaders(req.headers);
    assert.ok(read.ok && verifyEdgeSignature({ gatewayMspId: 'DsoMSP', method: 'GET', pathWithQuery: '/v1/edge/meters/meter-2', timestamp: read.headers.timestamp, nonce: read.headers.nonce, body: '' }, read.headers.signature, publicKey));
    assert.throws(() => new EdgeGatewayClient({ baseUrl: server.url, meterId: 'm', privateKey, gatewayMspId: 'Dso MSP' }), /gatewayMspId/);
  });
});
