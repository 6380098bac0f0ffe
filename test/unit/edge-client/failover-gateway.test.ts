import assert from 'node:assert/strict';
import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig } from '../../../edge-client/src/config';
import { edgeSigningString } from '../../../edge-client/src/edge-request-signing';
import { FailoverGateway } from '../../../edge-client/src/failover-gateway';
import { GatewayError } from '../../../edge-client/src/gateway-port';
import { HttpGateway } from '../../../edge-client/src/http-gateway';
import type { Logger, LogFields } from '../../../edge-client/src/log';
import { isEdgeError } from '../../../edge-client/src/errors';
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
