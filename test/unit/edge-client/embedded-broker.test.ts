// T10: the embedded broker lets only known meters publish, each on its own topic, with
// passwords compared in constant time; optional TLS; the simulator publishes with
// credentials. Real in-process aedes broker and MQTT.js clients.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import {
  authenticateAccount,
  isEdgeError,
  LoadModel,
  memoryLogger,
  MeterSimulator,
  MeterSubscription,
  parseConfig,
  siteBrokerAccounts,
  startEmbeddedBroker,
  type BrokerAccount,
  type EmbeddedBroker,
} from '@flexproof/edge-client';
import { makeSite } from './support/site';

const M1 = 'flexproof/meters/m1/energy';
const M2 = 'flexproof/meters/m2/energy';
const ACCOUNTS: BrokerAccount[] = [
  { username: 'meter-m1', password: 'm1-password-0123456789', publishTopic: M1 },
  { username: 'meter-m2', password: 'm2-password-0123456789', publishTopic: M2 },
  { username: 'edge', password: 'edge-password-0123456789', subscribeTopics: [M1] },
];

function waitFor(predicate: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (predicate()) return resolve();
      if (Date.now() > until) return reject(new Error('timed out'));
      setTimeout(tick, 20);
    };
    tick();
  });
}

describe('edge-client: embedded broker authentication (T10)', function () {
  this.timeout(30_000);
  let broker: EmbeddedBroker | undefined;
  const clients: MqttClient[] = [];
  const logger = memoryLogger();
  const client = async (options: IClientOptions, url = broker!.url): Promise<MqttClient> => {
    const c = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000, ...options });
    clients.push(c);
    return c;
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
    await broker?.close();
    broker = undefined;
  });

  it('compares passwords in constant time over digests and refuses unknown users, missing and wrong passwords', () => {
    const accounts = new Map([['u', { username: 'u', digest: createHash('sha256').update('right-password-123').digest(), publishTopic: M1, subscribeTopics: new Set<string>() }]]);
    assert.equal(authenticateAccount(accounts, 'u', Buffer.from('right-password-123'))?.username, 'u');
    assert.equal(authenticateAccount(accounts, 'u', Buffer.from('right-password-124')), undefined);
    assert.equal(authenticateAccount(accounts, 'u', undefined), undefined);
    assert.equal(authenticateAccount(accounts, 'v', Buffer.from('right-password-123')), undefined);
    assert.equal(authenticateAccount(accounts, undefined, undefined), undefined);
  });

  it('refuses a connection without credentials, with a wrong password or an unknown user', async () => {
    broker = await startEmbeddedBroker({ port: 0, logger, accounts: ACCOUNTS });
    await assert.rejects(client({}), /Bad username or password|Not authorized/i);
    await assert.rejects(client({ username: 'meter-m1', password: 'wrong-password-0123456789' }), /Bad username or password/i);
    await assert.rejects(client({ username: 'nobody', password: 'm1-password-0123456789' }), /Bad username or password/i);
    assert.ok(logger.lines.some((l) => l.event === 'broker.connection-refused'));
    assert.ok(!JSON.stringify(logger.lines).includes('wrong-password'), 'no password in the logs');
  });

  it('delivers a meter publishing on its own topic; refuses it on another meter topic; meters may not subscribe', async () => {
    broker = await startEmbeddedBroker({ port: 0, logger, accounts: ACCOUNTS });
    const edge = await client({ username: 'edge', password: 'edge-password-0123456789' });
    const received: string[] = [];
    edge.on('message', (_t, payload) => received.push(payload.toString()));
    const granted = await edge.subscribeAsync(M1, { qos: 1 });
    assert.equal(granted[0]?.qos, 1);
    await assert.rejects(edge.subscribeAsync(M2, { qos: 1 }), /Subscribe error/, "the edge may not read another meter's data");
    const m1 = await client({ username: 'meter-m1', password: 'm1-password-0123456789' });
    await m1.publishAsync(M1, 'genuine', { qos: 1 });
    await waitFor(() => received.length === 1);
    const m2 = await client({ username: 'meter-m2', password: 'm2-password-0123456789' });
    await assert.rejects(m2.subscribeAsync(M1, { qos: 1 }), /Subscribe error/, 'a meter may not subscribe');
    m2.publish(M1, 'forged', { qos: 1 });
    await waitFor(() => logger.lines.some((l) => l.event === 'broker.publish-refused'));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(received, ['genuine'], 'the forged reading never reached the edge');
  });

  it('speaks MQTT over TLS with the configured key and certificate; a client that does not trust it is refused', async function () {
    const dir = mkdtempSync(path.join(tmpdir(), 'flexproof-tls-'));
    try {
      try {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
      } catch {
        this.skip();
      }
      const cert = readFileSync(path.join(dir, 'cert.pem'));
      broker = await startEmbeddedBroker({ port: 0, logger, accounts: ACCOUNTS, tls: { key: readFileSync(path.join(dir, 'key.pem')), cert } });
      assert.match(broker.url, /^mqtts:\/\//);
      const edge = await client({ username: 'edge', password: 'edge-password-0123456789', ca: cert });
      assert.equal(edge.connected, true);
      await assert.rejects(client({ username: 'edge', password: 'edge-password-0123456789' }), /self.signed|certificate/i);
      // The edge's own subscription with the config's TLS options and credentials.
      const subscription = MeterSubscription.start({
        url: broker.url,
        topic: M1,
        clientId: 'edge-sub',
        username: 'edge',
        password: 'edge-password-0123456789',
        tls: { ca: cert, rejectUnauthorized: true },
        onMessage: async () => undefined,
        onFatal: () => undefined,
        logger,
      });
      try {
        await waitFor(() => subscription.connected);
      } finally {
        await subscription.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the meter simulator publishes with its credentials, and without them publishes nothing', async () => {
    broker = await startEmbeddedBroker({ port: 0, logger, accounts: ACCOUNTS });
    const edge = await client({ username: 'edge', password: 'edge-password-0123456789' });
    const received: string[] = [];
    edge.on('message', (_t, payload) => received.push(payload.toString()));
    await edge.subscribeAsync(M1, { qos: 1 });
    const model = new LoadModel({ seed: 3 });
    const withCredentials = new MeterSimulator({ url: broker.url, topic: M1, model, acceleration: 60, intervalMs: 50, username: 'meter-m1', password: 'm1-password-0123456789' });
    withCredentials.start();
    await waitFor(() => received.length >= 2);
    await withCredentials.stop();
    const count = received.length;
    const anonymous = new MeterSimulator({ url: broker.url, topic: M1, model, acceleration: 60, intervalMs: 50 });
    anonymous.start();
    await new Promise((r) => setTimeout(r, 400));
    await anonymous.stop();
    assert.equal(received.length, count, 'nothing from a simulator without credentials');
    assert.equal(anonymous.published, 0);
  });

  describe('site configuration', () => {
    it('makes the meter users and the edge subscriber accounts; refuses a password file others can read', () => {
      const site = makeSite({ startMs: Date.parse('2026-06-01T00:00:00Z') });
      try {
        const file = path.join(site.dir, 'meter.pass');
        writeFileSync(file, 'a-meter-password-from-a-file\n', { mode: 0o600 });
        const config = parseConfig(
          { ...site.rawConfig, embeddedBrokerPort: 0, embeddedBroker: { users: [{ username: 'meter-17', passwordFile: 'meter.pass', meterId: 'meter-17' }, { username: 'other', password: 'another-meter-password', meterId: 'meter-18' }] } },
          { baseDir: site.dir, env: {} },
        );
        const { accounts, subscriber } = siteBrokerAccounts(config);
        assert.deepEqual(accounts[0], { username: 'meter-17', password: 'a-meter-password-from-a-file', publishTopic: 'flexproof/meters/meter-17/energy' });
        assert.equal(accounts[1]?.publishTopic, 'flexproof/meters/meter-18/energy');
        assert.deepEqual(accounts[2]?.subscribeTopics, ['flexproof/meters/meter-17/energy']);
        assert.ok(subscriber.password.length >= 32, 'made-up subscriber credentials when mqtt.username is not set');
        chmodSync(file, 0o644);
        assert.throws(() => siteBrokerAccounts(config), (e) => isEdgeError(e, 'CONFIG_INVALID') && /chmod 600/.test((e as Error).message));
      } finally {
        site.cleanup();
      }
    });

    it('requires users with the embedded broker, one password each, of at least 16 characters', () => {
      const site = makeSite({ startMs: Date.parse('2026-06-01T00:00:00Z') });
      try {
        const problems = (extra: Record<string, unknown>): string[] => {
          try {
            parseConfig({ ...site.rawConfig, ...extra }, { baseDir: site.dir, env: {} });
            return [];
          } catch (error) {
            return (error as { details: { problems: string[] } }).details.problems;
          }
        };
        assert.ok(problems({ embeddedBrokerPort: 1883 }).some((p) => p.startsWith('embeddedBroker.users')));
        assert.ok(problems({ embeddedBrokerPort: 1883, embeddedBroker: { users: [{ username: 'u', password: 'short', meterId: 'm' }] } }).some((p) => p.startsWith('embeddedBroker.users[0].password')));
        assert.ok(problems({ embeddedBrokerPort: 1883, embeddedBroker: { users: [{ username: 'u', password: 'x'.repeat(16), passwordFile: 'f', meterId: 'm' }] } }).some((p) => /exactly one of password, passwordFile/.test(p)));
        assert.ok(problems({ embeddedBrokerPort: 1883, embeddedBroker: { users: [{ username: 'u', password: 'x'.repeat(16), meterId: 'm' }], tls: { keyFile: 'k.pem' } } }).some((p) => p.startsWith('embeddedBroker.tls')));
        assert.deepEqual(problems({ embeddedBrokerPort: 1883, embeddedBroker: { users: [{ username: 'u', password: 'x'.repeat(16), meterId: 'm' }] } }), []);
      } finally {
        site.cleanup();
      }
    });
  });
});
