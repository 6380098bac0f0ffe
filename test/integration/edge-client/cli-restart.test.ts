// The real CLI process against Mosquitto and the gateway's edge routes (in front of an
// in-memory ledger): kill -9 in the middle of a period, restart, and check that no
// reading the broker acknowledged was lost and no period was submitted twice. The CLI
// runs as a site would: the proving artifacts in place (no --dev-artifacts), broker
// accounts, and a gateway organisation and ledger that are not the defaults, so a
// request or payload signed for the defaults would be refused.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ensureArtifacts, SMALL_CIRCUIT_ID } from '@flexproof/circuits';
import { LoadModel, MeterSimulator, type MeterReading } from '@flexproof/edge-client';
import { FakeGateway } from '../../unit/edge-client/support/fake-gateway';
import { verificationKey } from '../../unit/edge-client/support/node-harness';
import { makeSite, type TestSite } from '../../unit/edge-client/support/site';
import { buildEdgeClient, CliProcess, runCli } from './support/cli-process';
import { startFakeGatewayServer, type FakeGatewayServer } from './support/fake-gateway-server';
import { Mosquitto } from './support/mosquitto';

const PERIOD_SECONDS = 4;
const ACCELERATION = 3600 / PERIOD_SECONDS;
// The simulated household peaks near 6 kW; its hours last seconds, so its register rises
// ACCELERATION times faster than a real meter's could.
const RATED_POWER_W = 20_000 * ACCELERATION;
const GATEWAY_MSP_ID = 'DsoMSP';
const LEDGER = { channel: 'edgechannel', chaincode: 'flexproof-edge-it' };
const METER_USER = { username: 'meter-17', password: 'meter-17-password-0123456789' };
const EDGE_USER = { username: 'edge-17', password: 'edge-17-password-0123456789' };

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('edge-client: the CLI through kill -9 and restart', function () {
  this.timeout(120_000);
  let broker: Mosquitto | undefined;
  let server: FakeGatewayServer | undefined;
  let site: TestSite | undefined;
  const processes: CliProcess[] = [];
  let simulator: MeterSimulator | undefined;

  before(async () => {
    buildEdgeClient();
    // The artifacts a site installs before `run` (npm run setup -w @flexproof/circuits):
    // the CLI then starts without --dev-artifacts, on the normal path.
    await ensureArtifacts(SMALL_CIRCUIT_ID);
  });
  after(async () => {
    await simulator?.stop();
    for (const p of processes) await p.stop();
    await server?.close();
    await broker?.destroy();
    site?.cleanup();
  });

  it('init creates an owner-only key and prints its public key; --help and a bad command', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flexproof-init-'));
    try {
      const config = path.join(dir, 'new-site.json');
      const init = runCli(['init', '--config', config, '--meter-id', 'meter-99']);
      assert.equal(init.status, 0, init.stderr);
      assert.match(init.stdout, /^-----BEGIN PUBLIC KEY-----/);
      const written = JSON.parse(readFileSync(config, 'utf8')) as { keyFile: string; siteSecret: string };
      assert.equal(statSync(path.join(dir, written.keyFile)).mode & 0o777, 0o600);
      assert.equal(statSync(config).mode & 0o777, 0o600);
      assert.match(written.siteSecret, /^[0-9a-f]{64}$/);
      assert.equal(runCli(['init', '--config', config]).status, 1, 'a second init keeps the existing key');
      assert.match(runCli(['--help']).stdout, /init.*\n.*\n.*\n.*run/s);
      assert.equal(runCli(['frobnicate']).status, 2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kill -9 in the middle of a period, restart: no reading lost, no period duplicated, periods in order', async () => {
    const topic = 'flexproof/meters/meter-17/energy';
    broker = await Mosquitto.start({ users: [{ ...METER_USER, write: [topic] }, { ...EDGE_USER, read: [topic] }] });
    const startMs = Math.ceil((Date.now() + 3000) / 1000) * 1000;
    site = makeSite({ startMs, periodSeconds: PERIOD_SECONDS, graceSeconds: 600, closeDelaySeconds: 0.5, mqttUrl: broker.url });
    assert.equal(site.config.mqtt.topic, topic);
    // The ledger verifies every proof against its key, as the chaincode does.
    const gateway = new FakeGateway(site.siteKey.publicKeyPem, { ledgerKey: await verificationKey(), circuitId: site.enrollment.circuitId, verifyProofs: true, ledger: LEDGER });
    gateway.addEnrollment(site.enrollment);
    server = await startFakeGatewayServer(gateway, site.siteKey.publicKeyPem, GATEWAY_MSP_ID);
    const configFile = path.join(site.dir, 'site.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        ...site.rawConfig,
        gatewayUrl: server.url,
        gatewayMspId: GATEWAY_MSP_ID,
        ledger: LEDGER,
        ratedPowerW: RATED_POWER_W,
        mqtt: { url: broker.url, ...EDGE_USER },
      }),
      { mode: 0o600 },
    );

    const acked: MeterReading[] = [];
    simulator = new MeterSimulator({
      url: broker.url,
      topic: site.config.mqtt.topic,
      model: new LoadModel({ seed: 11 }),
      acceleration: ACCELERATION,
      realStartMs: startMs,
      intervalMs: 100,
      ...METER_USER,
      onPublished: (r) => acked.push(r),
    });

    const first = new CliProcess(['run', '--config', configFile]);
    processes.push(first);
    await until(() => first.saw('mqtt.subscribed'), 20_000, 'the first run to subscribe');
    simulator.start();
    // Into the middle of period 1, with period 0 settled.
    // Settled as the edge has recorded it (state.json is written before the log line), not
    // only at the gateway: a kill between the two makes the edge resend the identical body.
    await until(() => first.lines.some((l) => l.event === 'period.settled' && l.periodIndex === 0), 30_000, 'period 0 settled');
    const middle = startMs + 1.5 * PERIOD_SECONDS * 1000;
    await new Promise((r) => setTimeout(r, Math.max(0, middle - Date.now())));
    const killed = await first.kill9();
    assert.equal(killed.signal, 'SIGKILL');
    const ackedAtKill = acked.length;
    // The meter goes on while the client is dead; the broker keeps its messages (QoS 1, persistent session).
    await new Promise((r) => setTimeout(r, 1500));

    const second = new CliProcess(['run', '--config', configFile]);
    processes.push(second);
    await until(() => gateway.submitted().some((s) => s.ok && s.periodIndex === 3), 60_000, 'period 3 settled after the restart');
    await simulator.stop();
    simulator = undefined;
    const readingsFile = path.join(site.config.dataDir, 'readings.jsonl');
    const stored = (): Set<number> =>
      new Set(
        readFileSync(readingsFile, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => (JSON.parse(l) as { ts: number }).ts),
      );
    await until(() => {
      const now = stored();
      return acked.every((r) => now.has(r.ts));
    }, 10_000, 'every acknowledged reading stored');
    // Uploads follow settlement; stopping first would cut the last one off.
    await until(() => gateway.uploads.size >= 4, 10_000, 'the raw readings of periods 0 to 3 uploaded');
    const exit = await second.stop();
    assert.equal(exit.code, 0, `graceful stop: ${second.stderr.slice(-2000)}`);

    assert.ok(acked.length > ackedAtKill + 10, 'readings published while the client was dead');
    const storedAtEnd = stored();
    const missing = acked.filter((r) => !storedAtEnd.has(r.ts));
    assert.deepEqual(missing, [], 'no acknowledged reading lost');
    const settled = gateway.submitted().filter((s) => s.ok).map((s) => s.periodIndex);
    assert.deepEqual(settled.slice(0, 4), [0, 1, 2, 3], `each period settled once, in order: ${JSON.stringify(gateway.submitted())}`);
    assert.equal(new Set(settled).size, settled.length, 'no period settled twice');
    for (const [key, bodies] of gateway.bodies) assert.equal(new Set(bodies).size, 1, `${key}: only identical bodies were sent`);
    assert.equal(server.badSignatures, 0, `every request signed for ${GATEWAY_MSP_ID}`);
    const results = gateway.enrollments.get('enr-1')?.results ?? [];
    assert.deepEqual(results.slice(0, 4).map((r) => r?.outcome), ['verified', 'verified', 'verified', 'verified'], 'every proof verified against the ledger key');
    assert.ok(gateway.calls.some((c) => c.op === 'key' && c.ok), "the ledger's key was checked before submitting");
    // (A redelivered duplicate after kill -9 is dropped as such; a jump would be the bounds misjudging a genuine meter.)
    assert.ok(![...first.lines, ...second.lines].some((l) => l.event === 'reading.dropped' && l.reason === 'REGISTER_JUMP'), 'no genuine reading dropped by the register bounds');
    assert.ok(!first.stderr.includes(METER_USER.password) && !second.stderr.includes(EDGE_USER.password), 'no broker password in the logs');
    assert.ok(gateway.uploads.size >= 4, 'raw readings of the settled periods uploaded');

    const status = runCli(['status', '--json', '--config', configFile]);
    assert.equal(status.status, 0, status.stderr);
    const report = JSON.parse(status.stdout) as { readings: { count: number }; enrollments: { periods: { periodIndex: number; status: string }[] }[] };
    assert.equal(report.readings.count, stored().size);
    assert.deepEqual(report.enrollments[0]?.periods.slice(0, 4).map((p) => p.status), ['settled', 'settled', 'settled', 'settled']);
    assert.ok(!status.stdout.includes(site.config.siteSecret), 'status shows no secret');
  });
});
