/**
 * The edge client on the real network: the CLI process (`run`, with its embedded MQTT
 * broker) accepts its enrollment through the real gateway, ingests a simulated meter
 * following the request profile, proves and signs each period, and the chaincode
 * (endorsed by both organisations' peers, Groth16 verification) settles it; the raw
 * readings reach the off-chain store sealed, and the auditor, opening them with its own
 * key, finds them matching the ledger.
 * The site is configured as issue 11 requires: an acceptPolicy naming the offer's terms,
 * the aggregator gateway's MSP id (request signatures name it), the network's channel and
 * chaincode (every signed payload names them), broker accounts for the meter, and a
 * rated power that lets the accelerated simulated household through the register bounds.
 * It runs twice: a consumer on the v1 circuit, and a household with solar exporting at
 * noon on the v2 signed net energy circuit (issue 14), whose negative net energy is
 * proven against a negative request, penalised by |measured − requested| and audited
 * over both registers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { auditSealedEnrollment, type AuditCircuits } from '@flexproof/auditor';
import * as circuits from '@flexproof/circuits';
import { SMALL_CIRCUIT_ID, SMALL_NET_CIRCUIT_ID, ensureArtifacts, readVerificationKey, type CircuitId } from '@flexproof/circuits';
import { EdgeStateFile, LoadModel, MeterSimulator, STATE_FILE } from '@flexproof/edge-client';
import { generateSealingKeyPair, sealingKeyHash, verificationKeyHash } from '@flexproof/protocol';
import {
  readNetworkDescriptor,
  startGateway,
  type GatewayInstance,
} from '@flexproof/gateway-api';
import { AnswerLog, eventually, orgClient } from '../../support/gateway-clients';
import { testGatewayConfig } from '../../support/gateway-config';
import { ledgerTarget } from '../../support/ledger';
import { NETWORK_JSON } from '../../support/paths';
import { makeSite, type TestSite } from '../../unit/edge-client/support/site';
import { buildEdgeClient, CliProcess } from './support/cli-process';
import { freePort } from './support/mosquitto';

const TOKEN = { dso: 'edge-it-dso-token-0123456789abcdef', aggregator: 'edge-it-agg-token-0123456789abcdef', auditor: 'edge-it-aud-token-0123456789abcdef' };
const PERIOD_SECONDS = 6;
const GRACE_SECONDS = 60;
const PERIODS = 2;
const ACCELERATION = 3600 / PERIOD_SECONDS;
// The simulated household peaks near 6 kW (more when it follows a request); its hours
// last seconds, so its register rises ACCELERATION times faster than a real meter's.
const RATED_POWER_W = 20_000 * ACCELERATION;

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A consumer on v1; a household with solar on v2, its simulated periods at noon, asked to export 1500 Wh an hour. */
const VARIANTS: { name: string; shape: CircuitId; solar?: { peakW: number }; requestProfile?: string[] }[] = [
  { name: 'v1', shape: SMALL_CIRCUIT_ID },
  { name: 'v2', shape: SMALL_NET_CIRCUIT_ID, solar: { peakW: 4500 }, requestProfile: Array.from({ length: 24 }, () => '-1500') },
];

describe('edge-client on the real network: periods proven at the edge and settled by the chaincode', function () {
  this.timeout(300_000);
  const dirs: string[] = [];
  let dso: GatewayInstance | undefined;
  let agg: GatewayInstance | undefined;
  let site: TestSite | undefined;
  let edge: CliProcess | undefined;
  let simulator: MeterSimulator | undefined;
  let ledger: { channel: string; chaincode: string } | undefined;
  let aggregatorMspId: string | undefined;

  before(async () => {
    buildEdgeClient();
    // Read when the suite runs (the network is up by then), not when mocha loads the file.
    ledger = ledgerTarget();
    const network = await readNetworkDescriptor(NETWORK_JSON);
    aggregatorMspId = network.orgs.aggregator.mspId;
    for (const org of ['dso', 'aggregator'] as const) {
      const dir = mkdtempSync(path.join(tmpdir(), `flexproof-edge-gw-${org}-`));
      dirs.push(dir);
      const instance = await startGateway(testGatewayConfig(network, org, dir, TOKEN), { logger: false });
      if (org === 'dso') dso = instance;
      else agg = instance;
    }
  });

  after(async () => {
    await simulator?.stop();
    await edge?.stop();
    await dso?.close();
    await agg?.close();
    site?.cleanup();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const variant of VARIANTS) {
  const what = variant.solar ? `a household with solar exporting at noon (${variant.shape}, signed net energy)` : `a consumer (${variant.shape})`;
  it(`${what}: proves, signs and settles ${PERIODS} periods through the gateway; the audit matches the uploaded readings`, async () => {
    const run = `${Date.now().toString(36)}${variant.name}`;
    const auditorKey = generateSealingKeyPair();
    const auditorId = `eauditor-${run}`;
    const circuitId = `${variant.shape}.edge${run}`;
    const enrollmentId = `eenr-${run}`;
    const meterId = `emeter-${run}`;
    // Its own prosumer per run: a prosumer id is bound to the key of its first meter (T5).
    const prosumerId = `eprosumer-${run}`;
    const orderId = `eorder-${run}`;
    const meterUser = { username: meterId, password: `${run}-meter-password-0123456789`, meterId };
    const d = dso as GatewayInstance;
    const a = agg as GatewayInstance;
    // A loaded ledger answers 503 (a peer catching up, or LEDGER_CONTENDED: a read conflict
    // with concurrent writes, nothing committed): the client resends those. What one
    // organisation wrote reaches the other's peer a block later (a 404 for a moment):
    // `eventually` resends those, for up to 30 s.
    const log = new AnswerLog();
    const dsoApi = orgClient(d.url, TOKEN.dso, { log });
    const aggApi = orgClient(a.url, TOKEN.aggregator, { log });
    const ok = (answer: unknown, status: number, what: string): void => assert.equal(log.last.status, status, `${what}: ${JSON.stringify(answer)}`);
    const perIsp = (v: string) => Array.from({ length: 24 }, () => v);

    // Governance and market, as the organisations do it.
    const verificationKey = readVerificationKey(await ensureArtifacts(variant.shape));
    ok(await dsoApi.proposeVerificationKey(circuitId, verificationKey), 201, 'propose key');
    ok(await eventually(() => aggApi.approveVerificationKey(circuitId, verificationKeyHash(verificationKey))), 200, 'approve key');
    const brokerPort = await freePort();
    const startMs = Math.ceil((Date.now() + 25_000) / 1000) * 1000;
    site = makeSite({
      startMs,
      periodSeconds: PERIOD_SECONDS,
      graceSeconds: GRACE_SECONDS,
      closeDelaySeconds: 0.5,
      meterId,
      circuitId,
      ...(variant.requestProfile ? { requestProfile: variant.requestProfile } : {}),
      mqttUrl: `mqtt://127.0.0.1:${brokerPort}`,
      gatewayUrl: a.url,
      // Exactly the offer below: the edge signs nothing outside it (T3).
      acceptPolicy: { orderId, minReward: '2400', maxRatePerWh: '1', minToleranceWh: '50', maxFlexWh: '500' },
    });
    ok(await dsoApi.registerMeter({ meterId, prosumerId, publicKeyPem: site.siteKey.publicKeyPem, congestionPoint: `ecp-${run}` }), 201, 'register meter');
    ok(await dsoApi.mint({ account: 'org:AggregatorMSP', amount: '100000' }), 200, 'mint');
    ok(await dsoApi.mint({ account: 'org:DsoMSP', amount: '100000' }), 200, 'mint');
    const day = new Date(startMs).toISOString().slice(0, 10);
    ok(await dsoApi.createFlexRequest({ requestId: `ereq-${run}`, congestionPoint: `ecp-${run}`, day, requestedWh: perIsp('1000') }), 201, 'request');
    ok(await eventually(() => aggApi.submitFlexOffer(`ereq-${run}`, { offerId: `eoffer-${run}`, offeredWh: perIsp('1000'), price: '2400' })), 201, 'offer');
    ok(await eventually(() => dsoApi.acceptFlexOffer(`eoffer-${run}`, orderId)), 201, 'order');
    const terms = site.config.enrollments[0]!;
    ok(
      await eventually(() => aggApi.offerEnrollment({
        enrollmentId,
        orderId,
        meterId,
        circuitId,
        requestCommitment: terms.requestCommitment,
        reward: '2400',
        ratePerWh: '1',
        toleranceWh: '50',
        flexWh: perIsp('500'),
        startTime: terms.startTime,
        periodSeconds: PERIOD_SECONDS,
        graceSeconds: GRACE_SECONDS,
      })),
      201,
      'offer enrollment',
    );

    // The prosumer site: config with the private terms, the embedded broker, the real CLI
    // (the artifacts are in place, ensured above: no --dev-artifacts).
    const configFile = path.join(site.dir, 'site.json');
    const raw = site.rawConfig as { enrollments: Record<string, unknown>[] };
    writeFileSync(
      configFile,
      JSON.stringify({
        ...site.rawConfig,
        prosumerId,
        gatewayMspId: aggregatorMspId,
        ledger,
        ratedPowerW: RATED_POWER_W,
        embeddedBrokerPort: brokerPort,
        embeddedBroker: { users: [meterUser] },
        enrollments: raw.enrollments.map((e) => ({ ...e, enrollmentId })),
        retry: { initialMs: 200, maxMs: 1000 },
      }),
      { mode: 0o600 },
    );
    // The auditor's key, active on the ledger through both organisations: the edge seals every period to it.
    ok(await dsoApi.proposeAuditorKey({ auditorId, publicKeyPem: auditorKey.publicKeyPem }), 201, 'propose the auditor key');
    // The aggregator's peer may commit the proposal's block a moment after the DSO's.
    const known = () => aggApi.auditorKey(auditorId).then(() => true, () => false);
    for (let i = 0; i < 50 && !(await known()); i++) await new Promise((r) => setTimeout(r, 200));
    ok(await aggApi.approveAuditorKey(auditorId, sealingKeyHash(auditorKey.publicKeyPem)), 200, 'approve the auditor key');
    edge = new CliProcess(['run', '--config', configFile]);
    await until(() => edge!.saw('enrollment.accepted'), 60_000, 'the edge to accept its enrollment');
    // The acceptance reaches the aggregator's peer a block later under load.
    await until(() => aggApi.enrollment(enrollmentId).then((v) => v.enrollment.status === 'accepted', () => false), 60_000, 'the acceptance on the aggregator peer');
    ok(await eventually(() => aggApi.fundEnrollment(enrollmentId)), 200, 'fund');
    assert.ok(Date.now() < startMs + PERIOD_SECONDS * 1000, 'set-up ends before the first period does');

    simulator = new MeterSimulator({
      url: `mqtt://127.0.0.1:${brokerPort}`,
      topic: site.config.mqtt.topic,
      // The solar household's periods are simulated at noon (simStartHour), its own load as it is.
      model: variant.solar
        ? new LoadModel({ seed: 5, solar: variant.solar })
        : new LoadModel({ seed: 5, follow: { requestProfileWh: terms.requestProfile.map(Number), compliance: 0.9 } }),
      acceleration: ACCELERATION,
      realStartMs: startMs,
      ...(variant.solar ? { simStartHour: 11.5 } : {}),
      intervalMs: 100,
      username: meterUser.username,
      password: meterUser.password,
    });
    simulator.start();

    const settled = () => edge!.lines.filter((l) => l.event === 'period.settled');
    await until(() => settled().length >= PERIODS || edge!.lines.some((l) => l.event === 'period.rejected'), 120_000, `${PERIODS} periods settled`);
    assert.deepEqual(settled().map((l) => [l.periodIndex, l.outcome]), Array.from({ length: PERIODS }, (_, p) => [p, 'verified']), edge.stderr.slice(-3000));
    const proven = edge.lines.filter((l) => l.event === 'period.proven');
    console.log(`      edge proving time per period: ${proven.map((l) => `${String(l.provingMs)} ms`).join(', ')}`);

    // The ledger, read by the DSO (its peer may commit the aggregator's last block a moment later): verified periods on the fingerprint chain.
    type View = { periods: { periodIndex: number; result: { outcome: string; deviationWh: string; direction: string; penalty: string } | null }[] };
    let view = await dsoApi.enrollment(enrollmentId);
    for (let i = 0; i < 60 && !(view as unknown as View).periods.slice(0, PERIODS).every((p) => p.result !== null); i++) {
      await new Promise((r) => setTimeout(r, 500));
      view = await dsoApi.enrollment(enrollmentId);
    }
    ok(view, 200, 'enrollment view');
    const periods = (view as unknown as View).periods;
    for (let p = 0; p < PERIODS; p++) assert.equal(periods[p]?.result?.outcome, 'verified');
    assert.equal(view.enrollment.circuitId, circuitId);

    // What the site measured (its own state) against its request: the ledger's deviation and penalty follow it.
    const state = await EdgeStateFile.open(path.join(site.config.dataDir, STATE_FILE), meterId);
    const sum = (values: readonly string[] = []) => values.reduce((total, v) => total + BigInt(v), 0n);
    let escrow = 2400n;
    for (let p = 0; p < PERIODS; p++) {
      const local = state.data.enrollments[enrollmentId]?.periods[String(p)];
      assert.ok(local, `period ${p} in the edge's state`);
      const measured = sum(local.readings) - sum(local.exportReadings);
      const requested = BigInt(terms.requestProfile[p]!);
      const deviation = measured > requested ? measured - requested : requested - measured;
      const result = periods[p]!.result!;
      assert.equal(BigInt(result.deviationWh), deviation, `period ${p}: deviation = |measured - requested|`);
      assert.equal(result.direction, measured > requested ? '1' : '0', `period ${p}: direction`);
      const excess = deviation > 50n ? deviation - 50n : 0n;
      const penalty: bigint = excess < escrow ? excess : escrow;
      assert.equal(BigInt(result.penalty), penalty, `period ${p}: penalty = min(escrow, rate * max(0, deviation - tolerance))`);
      escrow -= penalty;
      if (variant.solar) {
        assert.ok(local.exportReadings && sum(local.exportReadings) > 0n, `period ${p}: the export register's energy is proven`);
        assert.ok(measured < 0n, `period ${p}: net export at noon (${measured} Wh)`);
      } else {
        assert.equal(local.exportReadings, undefined, `period ${p}: v1 proves import only`);
      }
    }

    // Off-chain: the readings were uploaded, and the audit recomputes the same fingerprints.
    await until(() => edge!.lines.filter((l) => l.event === 'readings.uploaded').length >= PERIODS, 30_000, 'the readings uploaded');
    // The auditor opens the sealed documents with its own key (the gateway holds only ciphertext).
    const sealed = await orgClient(a.url, TOKEN.auditor, { log }).sealedPeriods(meterId, enrollmentId);
    ok(sealed, 200, 'sealed documents');
    // By the enrollment's circuit, with the deviations recomputed from the request.
    const audit = await auditSealedEnrollment({
      enrollment: { enrollmentId, meterId, circuitId },
      ledgerPeriods: periods as never,
      documents: sealed.periods,
      privateKeyPem: auditorKey.privateKeyPem,
      circuits: circuits as AuditCircuits,
      request: { requestProfile: terms.requestProfile },
    });
    const { summary } = audit;
    assert.ok(summary.match >= PERIODS && summary.mismatch === 0 && summary.unreadable === 0, JSON.stringify(summary));
    assert.ok(audit.deviationsChecked);

    const exit = await edge.stop();
    assert.equal(exit.code, 0);
    assert.ok(!edge.stderr.includes(site.config.siteSecret) && !edge.stderr.includes(terms.commitmentSalt), 'no secret in the logs');
    assert.ok(!edge.stderr.includes(meterUser.password), 'no broker password in the logs');
    assert.ok(!edge.lines.some((l) => l.event === 'reading.dropped' && l.reason === 'REGISTER_JUMP'), 'no genuine reading dropped by the register bounds');
    await simulator.stop();
    simulator = undefined;
    edge = undefined;
    site.cleanup();
    site = undefined;
  });
  }
});
