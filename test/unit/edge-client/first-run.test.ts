// A newcomer's first run, as the README has it: `init` writes a config that runs as is,
// a misspelt field is named, a missing config points at `init`, a taken broker port
// names the setting to change, no broker at the URL says what to start, and the bin is
// on node_modules/.bin. The CLI runs as a real process through the bin npm links.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { isEdgeError, loadConfig, memoryLogger, MeterSubscription, parseConfig, startEmbeddedBroker } from '@flexproof/edge-client';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BIN = path.join(ROOT, 'node_modules', '.bin', 'flexproof-edge');

function edge(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 60_000, cwd: options.cwd, env: { ...process.env, ...options.env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A port nothing listens on (taken from the kernel, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function occupy(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

const baseConfig = {
  meterId: 'meter-1',
  prosumerId: 'prosumer-1',
  keyFile: 'key.pem',
  dataDir: 'data',
  mqtt: { url: 'mqtt://127.0.0.1:1883' },
  gatewayUrl: 'http://127.0.0.1:8080',
  siteSecret: 'ab'.repeat(16),
  enrollments: [],
};

describe('edge-client: first run (init, config mistakes, broker)', function () {
  this.timeout(60_000);
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'flexproof-first-run-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the flexproof-edge bin is a repository file with a shebang, executable, linked in node_modules/.bin, and answers --help with 0', () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'edge-client', 'package.json'), 'utf8')) as { bin?: Record<string, string> };
    const target = manifest.bin?.['flexproof-edge'];
    assert.ok(target !== undefined, 'edge-client/package.json bin names flexproof-edge');
    assert.doesNotMatch(target, /^(\.\/)?dist\//, 'not under dist/: npm ci runs before tsc and skips a missing bin');
    const file = path.join(ROOT, 'edge-client', target);
    assert.match(readFileSync(file, 'utf8'), /^#!\/usr\/bin\/env node\n/);
    assert.notEqual(statSync(file).mode & 0o111, 0);
    assert.equal(realpathSync(BIN), realpathSync(file));
    const help = edge(['--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^flexproof-edge: reads a meter over MQTT/);
  });

  it('init writes a config that runs as is: the embedded broker with a user for the meter, a password file (600), and run subscribes', async () => {
    const port = await freePort();
    const file = path.join(dir, 'site.json');
    const init = edge(['init', '--config', file, '--meter-id', 'meter-7', '--broker-port', String(port)]);
    assert.equal(init.status, 0, init.stderr);
    assert.match(init.stderr, new RegExp(`embedded MQTT broker on 127\\.0\\.0\\.1:${port}`));
    const written = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.equal(written.embeddedBrokerPort, port);
    assert.deepEqual((written.mqtt as { url: string }).url, `mqtt://127.0.0.1:${port}`);
    const passwordFile = path.join(dir, 'meter-broker.pass');
    assert.equal(statSync(passwordFile).mode & 0o777, 0o600);
    assert.ok(readFileSync(passwordFile, 'utf8').trim().length >= 16);
    const config = loadConfig(file, {});
    assert.deepEqual(config.embeddedBroker?.users.map((u) => [u.username, u.meterId, u.topic, u.passwordFile]), [
      ['meter-7', 'meter-7', 'flexproof/meters/meter-7/energy', passwordFile],
    ]);

    // run, as written: it starts the broker, subscribes, and stops cleanly on SIGTERM.
    const child = spawn(BIN, ['run', '--config', file], { cwd: dir, env: { ...process.env, FLEXPROOF_EDGE_LOG_LEVEL: 'info' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const until = Date.now() + 30_000;
    while (!stderr.includes('"mqtt.subscribed"') && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    assert.match(stderr, /"broker\.started"/);
    assert.match(stderr, /"mqtt\.subscribed"/, stderr);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);

    // With --mqtt-url: a broker of one's own, no embedded broker and no password file.
    const other = path.join(dir, 'other.json');
    assert.equal(edge(['init', '--config', other, '--meter-id', 'meter-8', '--mqtt-url', 'mqtts://broker.example.org:8883'], { env: { FLEXPROOF_EDGE_KEY_FILE: path.join(dir, 'k2', 'site-key.pem') } }).status, 0);
    const external = JSON.parse(readFileSync(other, 'utf8')) as Record<string, unknown>;
    assert.equal(external.embeddedBrokerPort, undefined);
    assert.equal((external.mqtt as { url: string }).url, 'mqtts://broker.example.org:8883');
    assert.equal(edge(['init', '--config', path.join(dir, 'x.json'), '--meter-id', 'm', '--broker-port', '70000']).status, 2);
  });

  it('init creates its directory (0700) and takes the prosumer id and gateway as flags, so nothing is left to edit but the enrollments', () => {
    const file = path.join(dir, 'new', 'site', 'flexproof-edge.json');
    const init = edge(['init', '--config', file, '--meter-id', 'meter-8', '--prosumer-id', 'prosumer-8', '--gateway-url', 'http://127.0.0.1:7080', '--gateway-msp-id', 'DsoMSP']);
    assert.equal(init.status, 0, init.stderr);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    const config = loadConfig(file);
    assert.deepEqual([config.prosumerId, config.gatewayUrl, config.gatewayMspId], ['prosumer-8', 'http://127.0.0.1:7080', 'DsoMSP']);
    assert.doesNotMatch(init.stderr, /set prosumerId/);
    assert.match(init.stderr, /add enrollments with `flexproof-edge enroll PACKAGE`/);
    const bare = edge(['init', '--config', path.join(dir, 'bare', 'site.json'), '--meter-id', 'meter-9']);
    assert.equal(bare.status, 0, bare.stderr);
    assert.match(bare.stderr, /set prosumerId \(--prosumer-id\) and gatewayUrl \(--gateway-url\)/);
    const empty = edge(['init', '--config', path.join(dir, 'empty', 'site.json'), '--meter-id', 'meter-9', '--gateway-url', '']);
    assert.equal(empty.status, 2);
    assert.match(empty.stderr, /--gateway-url must not be empty/);
    assert.ok(!existsSync(path.join(dir, 'empty')), 'nothing written');
  });

  it('names every unknown field, at every level, with the field it probably meant, in one CONFIG_INVALID', () => {
    const raw = {
      ...baseConfig,
      periodSecond: 60,
      mqtt: { url: 'mqtt://127.0.0.1:1883', tsl: { caFile: 'ca.pem', rejectUnauthorised: false } },
      ledger: { chanel: 'flexchannel' },
      retry: { initialMS: 10 },
      tamper: { periodIndex: 1, enrolmentId: 'e1' },
      embeddedBrokerPort: 1883,
      embeddedBroker: { users: [{ username: 'meter-1', password: 'p'.repeat(16), meterId: 'meter-1', topc: 'x' }], tls: { keyFile: 'k', certFile: 'c', caFile: 'a' } },
      enrollments: [{ enrollmentId: 'e1', circuitId: 'flexdev-v1-r4', startTime: '2026-06-01T00:00:00Z', periodSecond: 60, requestProfile: [], commitmentSalt: '1' }],
    };
    (raw.mqtt as Record<string, unknown>).tls = { caFile: 'ca.pem', rejectUnauthorised: false };
    let problems: string[] = [];
    assert.throws(
      () => parseConfig(raw, { baseDir: dir, env: {} }),
      (e: unknown) => {
        assert.ok(isEdgeError(e, 'CONFIG_INVALID'));
        problems = e.details.problems as string[];
        return true;
      },
    );
    for (const expected of [
      'periodSecond: unknown field (periodSeconds is a field of each entry of enrollments)',
      'mqtt.tsl: unknown field (did you mean tls?)',
      'mqtt.tls.rejectUnauthorised: unknown field (did you mean rejectUnauthorized?)',
      'ledger.chanel: unknown field (did you mean channel?)',
      'retry.initialMS: unknown field (did you mean initialMs?)',
      'tamper.enrolmentId: unknown field (did you mean enrollmentId?)',
      'embeddedBroker.users[0].topc: unknown field (did you mean topic?)',
      'embeddedBroker.tls.caFile: unknown field',
      'enrollments[0].periodSecond: unknown field (did you mean periodSeconds?)',
    ]) {
      assert.ok(problems.includes(expected), `${expected}\nin\n${problems.join('\n')}`);
    }
    assert.ok(problems.some((p) => p.startsWith('enrollments[0].requestProfile:')), 'the other problems are listed too');
    // An acceptPolicy term spelt wrong says which one it meant.
    assert.throws(() => parseConfig({ ...baseConfig, acceptPolicy: { minRewards: '1' } }, { baseDir: dir, env: {} }), /acceptPolicy\.minRewards: unknown term \(did you mean minReward\?/);
    // A config without unknown fields still parses.
    assert.equal(parseConfig(baseConfig, { baseDir: dir, env: {} }).meterId, 'meter-1');
  });

  it('run without a config names the file and points at init (exit 2)', () => {
    const missing = path.join(dir, 'nowhere', 'site.json');
    assert.throws(() => loadConfig(missing, {}), (e: unknown) => isEdgeError(e, 'CONFIG_MISSING') && e.message.includes(missing));
    const r = edge(['run', '--config', missing]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`no config file ${missing.replace(/[.]/g, '\\.')}: create it with \`flexproof-edge init --config ${missing.replace(/[.]/g, '\\.')} --meter-id METER_ID\``));
    assert.doesNotMatch(r.stderr, /ENOENT|\n\s+at /);
    // The default file, in the working directory, is named the same way.
    const d = edge(['run'], { cwd: dir, env: { FLEXPROOF_EDGE_CONFIG: '' } });
    assert.equal(d.status, 2);
    assert.match(d.stderr, /no config file .*flexproof-edge\.json: create it with `flexproof-edge init --config/);
  });

  it('a taken embedded broker port: BROKER_PORT_UNAVAILABLE naming embeddedBrokerPort and its variable; run exits 2 without a stack trace', async () => {
    const taken = await occupy();
    try {
      await assert.rejects(
        startEmbeddedBroker({ port: taken.port, logger: memoryLogger(), accounts: [] }),
        (e: unknown) =>
          isEdgeError(e, 'BROKER_PORT_UNAVAILABLE') &&
          e.message.includes(`127.0.0.1:${taken.port}: the port is in use`) &&
          e.message.includes('embeddedBrokerPort') &&
          e.message.includes('FLEXPROOF_EDGE_EMBEDDED_BROKER_PORT'),
      );
      const file = path.join(dir, 'site.json');
      assert.equal(edge(['init', '--config', file, '--meter-id', 'meter-3', '--broker-port', String(taken.port)]).status, 0);
      // spawnSync's timeout kills a process that keeps running: the status would then be null.
      const r = edge(['run', '--config', file]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /embeddedBrokerPort in the config \(or FLEXPROOF_EDGE_EMBEDDED_BROKER_PORT\)/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      await new Promise<void>((resolve) => taken.server.close(() => resolve()));
    }
  });

  it('no broker at mqtt.url: one error line saying what to start, then quiet retries', async () => {
    const port = await freePort();
    const logger = memoryLogger();
    const subscription = MeterSubscription.start({
      url: `mqtt://127.0.0.1:${port}`,
      topic: 't',
      clientId: 'c',
      reconnectPeriodMs: 200,
      unreachableHint: 'start one or set embeddedBrokerPort',
      onMessage: async () => {},
      onFatal: () => {},
      logger,
    });
    try {
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      await subscription.stop();
    }
    const errors = logger.lines.filter((l) => l.level === 'error' && l.event === 'mqtt.broker-unreachable');
    assert.equal(errors.length, 1, JSON.stringify(logger.lines));
    assert.equal(errors[0]?.fields.message, `no MQTT broker at mqtt://127.0.0.1:${port} (ECONNREFUSED): start one or set embeddedBrokerPort; retrying every 0.2 s`);
    assert.ok(logger.lines.filter((l) => l.event === 'mqtt.broker-unreachable' && l.level === 'debug').length >= 1, 'the retries are logged at debug only');
    assert.equal(logger.lines.filter((l) => l.event === 'mqtt.error').length, 0);
  });
});
