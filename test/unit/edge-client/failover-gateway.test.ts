import assert from 'node:assert/strict';
import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  edgeSigningString,
  FailoverGateway,
  GatewayError,
  HttpGateway,
  isEdgeError,
  parseConfig,
  type LogFields,
  type Logger,
} from '@flexproof/edge-client';
import { REQUEST_PROFILE } from './support/site';

const METER = 'meter-1';
const { privateKey, publicKey } = generateKeyPairSync('ed25519');

/** A tiny gateway: checks the request is signed for its own MSP id, then answers with `reply`. */
interface TinyGateway {
  url: string;
  mspId: string;
  calls: { method: string; url: string; body: string }[];
  reply: { status: number; body: unknown };
  close(): Promise<void>;
}

async function tinyGateway(mspId: string, reply: TinyGateway['reply'], key: KeyObject = publicKey): Promise<TinyGateway> {
  const calls: TinyGateway['calls'] = [];
  const state: Omit<TinyGateway, 'url' | 'close'> = { mspId, calls, reply };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = (name: string): string => String(req.headers[name] ?? '');
      const signed = edgeSigningString({ method: req.method ?? '', pathWithQuery: req.url ?? '', body }, mspId, header('x-flexproof-timestamp'), header('x-flexproof-nonce'));
      const ok = verify(null, Buffer.from(signed, 'utf8'), key, Buffer.from(header('x-flexproof-signature'), 'base64'));
      calls.push({ method: req.method ?? '', url: req.url ?? '', body });
      const answer = ok ? state.reply : { status: 401, body: { code: 'BAD_SIGNATURE', message: `not signed for ${mspId}` } };
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function recordingLogger(): Logger & { lines: { level: string; event: string; fields: LogFields }[] } {
  const lines: { level: string; event: string; fields: LogFields }[] = [];
  const at = (level: string) => (event: string, fields: LogFields = {}): void => void lines.push({ level, event, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function failover(entries: { url: string; mspId: string }[], logger?: Logger): FailoverGateway {
  return new FailoverGateway(
    entries.map((e) => ({ url: e.url, gateway: new HttpGateway({ baseUrl: e.url, meterId: METER, privateKey, gatewayMspId: e.mspId, timeoutMs: 2000 }) })),
    logger ? { logger } : {},
  );
}

const OUTCOME = { outcome: 'COMPLIANT', enrollmentId: 'e1', periodIndex: 3, txId: 'tx-1' };
const BODY = JSON.stringify({ payload: 'signed-by-the-prosumer' });

describe('edge-client: gateway failover', () => {
  const open: TinyGateway[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((g) => g.close()));
  });
  const up = async (mspId: string, reply: TinyGateway['reply']): Promise<TinyGateway> => {
    const g = await tinyGateway(mspId, reply);
    open.push(g);
    return g;
  };

  it('submits through the other gateway when the first does not answer (closed port), and stays there', async () => {
    const down = await closedPort();
    const dso = await up('DsoMSP', { status: 200, body: OUTCOME });
    const logger = recordingLogger();
    const gateway = failover([{ url: down, mspId: 'AggregatorMSP' }, { url: dso.url, mspId: 'DsoMSP' }], logger);
    assert.deepEqual(await gateway.submitPeriod('e1', 3, BODY), OUTCOME);
    assert.equal(dso.calls.length, 1);
    assert.equal(dso.calls[0]?.body, BODY, 'the identical signed body is resent');
    assert.equal(dso.calls[0]?.url, '/v1/edge/enrollments/e1/periods/3');
    const failovers = logger.lines.filter((l) => l.event === 'gateway.failover');
    assert.equal(failovers.length, 1);
    assert.deepEqual({ from: failovers[0]?.fields.from, to: failovers[0]?.fields.to, code: failovers[0]?.fields.code }, { from: down, to: dso.url, code: 'UNREACHABLE' });
    assert.ok(!JSON.stringify(logger.lines).includes('signed-by-the-prosumer'), 'no body in the log');
    // Sticks to the gateway that answered: the next call goes there first, no new failover.
    await gateway.getEnrollment('e1');
    assert.equal(dso.calls.length, 2);
    assert.equal(gateway.currentUrl, dso.url);
    assert.equal(logger.lines.filter((l) => l.event === 'gateway.failover').length, 1);
  });

  it('submits through the other gateway when the first answers 503, each signed for its own MSP id', async () => {
    const aggregator = await up('AggregatorMSP', { status: 503, body: { code: 'LEDGER_UNAVAILABLE', message: 'peer down' } });
    const dso = await up('DsoMSP', { status: 200, body: OUTCOME });
    const gateway = failover([{ url: aggregator.url, mspId: 'AggregatorMSP' }, { url: dso.url, mspId: 'DsoMSP' }]);
    assert.deepEqual(await gateway.submitPeriod('e1', 3, BODY), OUTCOME);
    assert.equal(aggregator.calls.length, 1);
    assert.equal(dso.calls.length, 1);
    // When the second goes down and the first is back, calls move back.
    aggregator.reply = { status: 200, body: OUTCOME };
    dso.reply = { status: 503, body: {} };
    assert.deepEqual(await gateway.submitPeriod('e1', 3, BODY), OUTCOME);
    assert.equal(gateway.currentUrl, aggregator.url);
  });

  it('does not resend a 409 or a 422 to the other gateway', async () => {
    for (const status of [409, 422]) {
      const first = await up('AggregatorMSP', { status, body: { code: 'REFUSED', message: 'no' } });
      const second = await up('DsoMSP', { status: 200, body: OUTCOME });
      const gateway = failover([{ url: first.url, mspId: 'AggregatorMSP' }, { url: second.url, mspId: 'DsoMSP' }]);
      await assert.rejects(gateway.submitPeriod('e1', 3, BODY), (e: unknown) => e instanceof GatewayError && e.status === status && !e.retryable && e.code === 'REFUSED');
      assert.equal(first.calls.length, 1);
      assert.equal(second.calls.length, 0, `a ${status} is not retried elsewhere`);
    }
  });

  it('throws the last retryable failure when every gateway is down, trying each once', async () => {
    const a = await up('AggregatorMSP', { status: 503, body: {} });
    const b = await up('DsoMSP', { status: 503, body: { code: 'LEDGER_UNAVAILABLE', message: 'down' } });
    const gateway = failover([{ url: a.url, mspId: 'AggregatorMSP' }, { url: b.url, mspId: 'DsoMSP' }]);
    await assert.rejects(gateway.getAuditorKeys(), (e: unknown) => e instanceof GatewayError && e.retryable && e.code === 'LEDGER_UNAVAILABLE');
    assert.equal(a.calls.length + b.calls.length, 2);
  });

  it('drops credentials of a URL from the failover log line', async () => {
    const down = (await closedPort()).replace('http://', 'http://user:secret-pass@');
    const dso = await up('DsoMSP', { status: 200, body: { keys: [] } });
    const logger = recordingLogger();
    const gateway = failover([{ url: down, mspId: 'AggregatorMSP' }, { url: dso.url, mspId: 'DsoMSP' }], logger);
    await gateway.getAuditorKeys().catch(() => undefined);
    assert.ok(logger.lines.some((l) => l.event === 'gateway.failover'));
    assert.ok(!JSON.stringify(logger.lines).includes('secret-pass'));
  });
});

describe('edge-client: gateways in the configuration', () => {
  const base = {
    meterId: 'meter-1',
    prosumerId: 'prosumer-1',
    keyFile: 'key.pem',
    dataDir: 'data',
    mqtt: { url: 'mqtt://127.0.0.1:1883' },
    siteSecret: 'ab'.repeat(16),
    enrollments: [{ enrollmentId: 'e1', circuitId: 'flexdev-v1-r4', startTime: '2026-06-01T00:00:00Z', requestProfile: REQUEST_PROFILE, commitmentSalt: '12345' }],
  };
  const problems = (raw: unknown): string[] => {
    try {
      parseConfig(raw, { baseDir: '/srv', env: {} });
    } catch (error) {
      if (isEdgeError(error) && error.code === 'CONFIG_INVALID') return (error.details as { problems: string[] }).problems;
      throw error;
    }
    assert.fail('the config was accepted');
  };

  it('reads gatewayUrl + gatewayMspId as one gateway', () => {
    const c = parseConfig({ ...base, gatewayUrl: 'https://agg.example/', gatewayMspId: 'AggregatorMSP' }, { baseDir: '/srv', env: {} });
    assert.deepEqual(c.gateways, [{ url: 'https://agg.example', mspId: 'AggregatorMSP' }]);
    assert.equal(c.gatewayUrl, 'https://agg.example');
  });

  it('reads gateways in order, the first standing as gatewayUrl/gatewayMspId', () => {
    const gateways = [{ url: 'https://agg.example/', mspId: 'AggregatorMSP' }, { url: 'https://dso.example', mspId: 'DsoMSP' }];
    const c = parseConfig({ ...base, gateways }, { baseDir: '/srv', env: {} });
    assert.deepEqual(c.gateways, [{ url: 'https://agg.example', mspId: 'AggregatorMSP' }, { url: 'https://dso.example', mspId: 'DsoMSP' }]);
    assert.equal(c.gatewayUrl, 'https://agg.example');
    assert.equal(c.gatewayMspId, 'AggregatorMSP');
  });

  it('refuses bad gateways by name', () => {
    const one = { url: 'https://agg.example', mspId: 'AggregatorMSP' };
    assert.ok(problems({ ...base, gateways: [one], gatewayUrl: 'https://x.example' }).some((p) => p.startsWith('gateways, gatewayUrl, gatewayMspId:')));
    assert.ok(problems({ ...base, gateways: [] }).some((p) => p.startsWith('gateways: a list of 1 to 4')));
    assert.ok(problems({ ...base, gateways: new Array(5).fill(one).map((g, i) => ({ ...g, url: `${g.url}/${i}` })) }).some((p) => p.startsWith('gateways: a list of 1 to 4')));
    assert.ok(problems({ ...base, gateways: one }).some((p) => p.startsWith('gateways: a list')));
    assert.ok(problems({ ...base, gateways: [{ url: 'ftp://x', mspId: 'A' }] }).some((p) => p.startsWith('gateways[0].url:')));
    assert.ok(problems({ ...base, gateways: [one, { url: 'https://dso.example' }] }).some((p) => p.startsWith('gateways[1].mspId:')));
    assert.ok(problems({ ...base, gateways: [one, { ...one, mspId: 'DsoMSP' }] }).some((p) => p.startsWith('gateways[1].url:') && p.includes('twice')));
    assert.ok(problems({ ...base, gateways: ['https://agg.example'] }).some((p) => p.startsWith('gateways[0]: an object')));
    assert.ok(problems({ ...base, gateways: [{ ...one, mspid: 'x' }] }).some((p) => p.startsWith('gateways[0].mspid: unknown field (did you mean mspId?)')));
    assert.ok(problems({ ...base }).some((p) => p.startsWith('gatewayUrl:')), 'one of the two forms is required');
  });
});

describe('edge-client: HttpGateway over the protocol client', () => {
  /** A fetch that answers each call with the next scripted answer, recording what was sent. */
  function scripted(answers: ((signal?: AbortSignal | null) => Response | Promise<Response>)[]) {
    const sent: { method: string; url: string; body: string }[] = [];
    const fetchStub = (async (url: string | URL, init?: RequestInit) => {
      sent.push({ method: init?.method ?? 'GET', url: String(url), body: typeof init?.body === 'string' ? init.body : '' });
      const next = answers.shift();
      if (!next) throw new Error('no more scripted answers');
      return next(init?.signal);
    }) as typeof fetch;
    const gateway = new HttpGateway({ baseUrl: 'http://gw.example', meterId: METER, privateKey, gatewayMspId: 'DsoMSP', fetch: fetchStub, timeoutMs: 200 });
    return { gateway, sent };
  }
  const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => () =>
    new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

  it('tries once per call: a 503 is retryable and carries the Retry-After; the next call is a new attempt', async () => {
    const { gateway, sent } = scripted([answer(503, { code: 'LEDGER_CONTENDED', message: 'busy', txId: 'tx-9' }, { 'retry-after': '1' }), answer(200, OUTCOME)]);
    await assert.rejects(
      gateway.submitPeriod('e1', 3, BODY),
      (e: unknown) => e instanceof GatewayError && e.retryable && e.status === 503 && e.code === 'LEDGER_CONTENDED' && e.retryAfterMs === 1000 && e.txId === 'tx-9',
    );
    assert.equal(sent.length, 1, 'not retried inside: the failover and the pipeline retry');
    assert.deepEqual(await gateway.submitPeriod('e1', 3, BODY), OUTCOME);
  });

  it('429 and 408 are retryable, other 4xx are refusals with their status and code; 5xx and answers that are not JSON are retryable', async () => {
    const cases: [() => Response, boolean, number, string][] = [
      [answer(429, { code: 'TOO_MANY_REQUESTS', message: 'slow down' }, { 'retry-after': '5' }), true, 429, 'TOO_MANY_REQUESTS'],
      [answer(408, {}), true, 408, 'REFUSED'],
      [answer(404, { code: 'NOT_FOUND', message: 'no enrollment e1' }), false, 404, 'NOT_FOUND'],
      [answer(409, { code: 'CONFLICT', message: 'settled' }), false, 409, 'CONFLICT'],
      [answer(500, { code: 'INTERNAL', message: 'internal error' }), true, 500, 'INTERNAL'],
      [answer(502, 'Bad Gateway'), true, 502, 'BAD_ANSWER'],
      [answer(200, 'not json'), true, 200, 'BAD_ANSWER'],
    ];
    for (const [reply, retryable, status, code] of cases) {
      const { gateway } = scripted([reply]);
      await assert.rejects(gateway.getEnrollment('e1'), (e: unknown) => e instanceof GatewayError && e.retryable === retryable && e.status === status && e.code === code, `${status} ${code}`);
    }
    const { gateway } = scripted([answer(429, { code: 'TOO_MANY_REQUESTS', message: 'slow down' }, { 'retry-after': '5' })]);
    await assert.rejects(gateway.getAuditorKeys(), (e: unknown) => e instanceof GatewayError && e.retryAfterMs === 5000);
  });

  it('no answer in time is TIMEOUT, a refused connection UNREACHABLE: both retryable, without a status', async () => {
    // Never answers; gives up when the attempt's time limit aborts it, as fetch does.
    const silent = (signal?: AbortSignal | null) => new Promise<Response>((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));
    const { gateway } = scripted([silent]);
    await assert.rejects(gateway.getEnrollment('e1'), (e: unknown) => e instanceof GatewayError && e.retryable && e.code === 'TIMEOUT' && e.status === undefined);
    const down = new HttpGateway({ baseUrl: await closedPort(), meterId: METER, privateKey, gatewayMspId: 'DsoMSP' });
    await assert.rejects(down.getEnrollment('e1'), (e: unknown) => e instanceof GatewayError && e.retryable && e.code === 'UNREACHABLE' && e.status === undefined);
  });

  it('sends the signed body byte for byte, whatever its spacing; a GET has none', async () => {
    const spaced = '{ "payload" : { "enrollmentId":"e1" },\n  "signature": "c2ln" }';
    const { gateway, sent } = scripted([answer(200, { txId: 'tx-1', result: {} }), answer(201, { txId: 'tx-2', result: {} }), answer(200, { keys: [] })]);
    await gateway.acceptEnrollment('e1', spaced);
    await gateway.withdraw(spaced);
    await gateway.getAuditorKeys();
    assert.deepEqual(sent.map((s) => [s.method, s.url, s.body]), [
      ['POST', 'http://gw.example/v1/edge/enrollments/e1/accept', spaced],
      ['POST', 'http://gw.example/v1/edge/withdrawals', spaced],
      ['GET', 'http://gw.example/v1/edge/auditor-keys', ''],
    ]);
  });

  it("refuses another meter's sealed documents before sending anything", async () => {
    const { gateway, sent } = scripted([]);
    await assert.rejects(gateway.getSealedPeriods('meter-2', 'e1'), (e: unknown) => e instanceof GatewayError && !e.retryable && e.code === 'FORBIDDEN');
    assert.equal(sent.length, 0);
  });
});
