/**
 * `npm run demo`: a full demand-response day on the real network.
 *
 * The DSO registers the meters, mints tokens and asks for flexibility; the aggregator
 * offers and the DSO orders; both organisations govern the verification key; the
 * aggregator enrolls every prosumer with its own request profile and reward, each edge
 * client accepts with its site key and the rewards are escrowed. The day then runs
 * accelerated: every hour every edge client proves its deviation and submits it. One
 * prosumer tampers with its proof at hour 10 and is excluded; another's raw readings of
 * hour 8 are altered in the off-chain store and the audit finds exactly that hour. At
 * the end the programs close, the order settles, and the report is drawn and checked in
 * headless Chromium.
 *
 * The first household has solar on its roof: its meter has an import and an export
 * register and exports at noon. It is enrolled on the signed net energy circuit
 * (flexnet-v2-r4, its key governed like the v1 one), and its request asks it to absorb
 * half of the midday surplus (a negative requested net energy, but less negative than
 * its natural export) and to shed the evening peak. Its proofs, penalties and audit work
 * as everyone else's; the others stay on the v1 consumption circuit.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { SMALL_CIRCUIT_ID, SMALL_NET_CIRCUIT_ID, circuitShape, ensureArtifacts, randomSalt, readVerificationKey, requestCommitmentFor, type CircuitId } from '@flexproof/circuits';
import { EdgeStateFile, LoadModel, STATE_FILE, loadConfig, type BrokerAccount } from '@flexproof/edge-client';
import { hashToken, readEmbeddedStoreCredentials, tamperWithSealedDocument } from '@flexproof/gateway-api';
import { GatewayClient, GatewayError, generateSealingKeyPair, sealingKeyHash, verificationKeyHash, type GatewayClientOptions, type schemas, type Submitted } from '@flexproof/protocol';

type Enrollment = schemas.Enrollment;
type PeriodResult = schemas.PeriodResult;
import { ProcessGroup, waitForHttp, waitForListener } from './processes';
import { renderReport } from './report/html-report';
import type { AuditPeriod, DemoReportModel, LedgerTransaction, PeriodOutcome, ProsumerDay, SettlementRow } from './report/report-model';
import { verifyReportInBrowser } from './report/verify-report';

const ROOT = path.resolve(__dirname, '..', '..');
export const HOURS = 24;
// The third persona tampers with its proof at TAMPER_HOUR; the second one's stored
// sealed document of ALTERED_HOUR (or the first hour after it that has one) is swapped after submission.
// Ada has rooftop solar (peak 4.5 kW): a bidirectional meter, the v2 net energy circuit.
export const PERSONAS: { name: string; compliance: number; solar?: { peakW: number } }[] = [
  { name: 'Ada', compliance: 1.0, solar: { peakW: 4500 } },
  { name: 'Bruno', compliance: 0.9 },
  { name: 'Dara', compliance: 1.0 },
  { name: 'Chiara', compliance: 0.6 },
  { name: 'Emil', compliance: 0.3 },
  { name: 'Farah', compliance: 0.8 },
  { name: 'Goran', compliance: 0.5 },
  { name: 'Hana', compliance: 0.95 },
];
const TAMPER_HOUR = 10;
const ALTERED_HOUR = 8;
export const REWARD = 24_000n; // token base units per prosumer-day; penalties are 1 per Wh beyond the tolerance
export const RATE_PER_WH = 1n;
export const TOLERANCE_WH = 100n;
/**
 * FLEXPROOF_DEMO_PORT_OFFSET shifts every port of the demo's own processes, so a demo on
 * another network (the fault suite's, on network.env's ports + 10000) can run beside one
 * on the default network.
 */
const PORT_OFFSET = Number(process.env.FLEXPROOF_DEMO_PORT_OFFSET ?? 0);
if (!Number.isInteger(PORT_OFFSET) || PORT_OFFSET < 0 || PORT_OFFSET > 50_000) {
  throw new Error('FLEXPROOF_DEMO_PORT_OFFSET: an integer from 0 to 50000 (added to every port of the demo\'s own processes)');
}
export const PORTS = {
  aggregatorGateway: 7080 + PORT_OFFSET, dsoGateway: 9080 + PORT_OFFSET, aggregatorStore: 7984 + PORT_OFFSET, dsoStore: 9984 + PORT_OFFSET,
  mqtt: Number(process.env.FLEXPROOF_DEMO_MQTT_PORT ?? 1883 + PORT_OFFSET),
};
/** Where each organisation's store keeps its data (and the gateway its nonce log, beside it). */
const GATEWAY_STATE_DIR = path.resolve(process.env.FLEXPROOF_DEMO_GATEWAY_DIR ?? path.join(ROOT, '.flexproof', 'gateway'));
export const storeDirOf = (org: 'dso' | 'aggregator') => path.join(GATEWAY_STATE_DIR, org, 'store');
/**
 * How long one call of the demo's driver keeps retrying (503 after its Retry-After, lost
 * connections): long enough to ride through a peer, chaincode server, gateway or store
 * being restarted.
 */
const RIDE_THROUGH_MS = 120_000;

export function gatewayClient(baseUrl: string, token: string, retry: GatewayClientOptions['retry'] = { deadlineMs: RIDE_THROUGH_MS }): GatewayClient {
  // Each retry is one line on stderr: the printed figures on stdout stay those of the day.
  return new GatewayClient({ baseUrl, token, retry, onRetry: (line) => console.error(`[retry] ${line}`) });
}

/** A write the ledger refused because its outcome is already there: a lost race, or a retry that reached a restarted gateway after the first attempt committed. */
export function alreadyDone(err: unknown): err is GatewayError {
  return err instanceof GatewayError && err.kind === 'refused' && (err.code === 'CONFLICT' || err.code === 'RULE_VIOLATION');
}

/** What `network:up` wrote about the running network (channel, chaincode, clock skew). */
export function readNetworkFacts(): { channel: string; chaincode: string; maxClockSkewSeconds: number } {
  const file = path.join(process.env.FLEXPROOF_NETWORK_DIR ?? path.join(ROOT, '.flexproof', 'network'), 'network.json');
  const json = JSON.parse(readFileSync(file, 'utf8')) as { channel: string; chaincode: string; maxClockSkewSeconds?: number };
  if (typeof json.maxClockSkewSeconds !== 'number') throw new Error(`${file} has no maxClockSkewSeconds: restart the network (npm run network:down)`);
  return { channel: json.channel, chaincode: json.chaincode, maxClockSkewSeconds: json.maxClockSkewSeconds };
}

const HELP = `usage: npm run demo [-- options]

  --prosumers N          prosumers (edge client + meter simulator each), 3 to ${PERSONAS.length}; default 5
  --seconds-per-hour S   real seconds per simulated hour, default 6
  --short                the short mode of the tests: 3 prosumers, 4 s per hour
  --keep-running         leave network, gateways, broker and edge clients up; print URLs
  --summary FILE         also write the outcome as JSON (used by the test)
  --help                 this text

Starts what is missing, runs a demand-response day, prints the settlement and the
path of the HTML report, and stops everything it started (unless --keep-running).
Gateways, stores, broker, edge clients and meters that die are restarted by its
supervisor ([supervisor] lines).

Environment: FLEXPROOF_DEMO_PORT_OFFSET (added to the ports of its own processes),
FLEXPROOF_DEMO_MQTT_PORT, FLEXPROOF_DEMO_GATEWAY_DIR (the stores' data, default
.flexproof/gateway), FLEXPROOF_DEMO_PID_DIR (pid files, and NAME.hold to hold a restart).`;

interface Site {
  name: string;
  compliance: number;
  /** Rooftop solar: the site exports at noon and proves signed net energy (v2). */
  solar?: { peakW: number };
  /** The circuit shape its enrollment proves with (the ledger id is `${shape}.${runId}`). */
  shape: CircuitId;
  tamperAtHour?: number;
  meterId: string;
  prosumerId: string;
  enrollmentId: string;
  dir: string;
  configFile: string;
  requestWh: number[];
  flexWh: number[];
}

interface Options {
  prosumers: number;
  secondsPerHour: number;
  keepRunning: boolean;
  summaryFile?: string;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      prosumers: { type: 'string' },
      'seconds-per-hour': { type: 'string' },
      short: { type: 'boolean' },
      'keep-running': { type: 'boolean' },
      summary: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return undefined;
  }
  const prosumers = Number(values.prosumers ?? (values.short ? 3 : 5));
  const secondsPerHour = Number(values['seconds-per-hour'] ?? (values.short ? 4 : 6));
  if (!Number.isInteger(prosumers) || prosumers < 3 || prosumers > PERSONAS.length) {
    throw new Error(`--prosumers: an integer from 3 to ${PERSONAS.length} (an honest one, one whose stored data is altered, one who tampers)`);
  }
  if (!Number.isInteger(secondsPerHour) || secondsPerHour < 3 || secondsPerHour > 3600) {
    throw new Error('--seconds-per-hour: an integer from 3 to 3600');
  }
  return { prosumers, secondsPerHour, keepRunning: values['keep-running'] ?? false, summaryFile: values.summary };
}

class Stages {
  readonly done: { name: string; seconds: number }[] = [];
  private current?: { name: string; started: number };
  begin(name: string): void {
    this.end();
    this.current = { name, started: Date.now() };
    console.log(`\n==> ${name}`);
  }
  end(): void {
    if (this.current) this.done.push({ name: this.current.name, seconds: (Date.now() - this.current.started) / 1000 });
    this.current = undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const fmtDuration = (s: number) => (s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`);

/**
 * The aggregator's request: the household's natural profile with evening load shifted to
 * the night. For a household with solar (net energy, negative when it exports): half of
 * the midday export absorbed (10h-15h, a negative request, less so than its natural
 * export) and the evening consumption shed by 40%; its flexibility is the size of both.
 */
export function requestProfileFor(seed: number, solar?: { peakW: number }): { requestWh: number[]; flexWh: number[] } {
  const natural = Array.from({ length: HOURS }, (_, h) => new LoadModel({ seed, ...(solar ? { solar } : {}) }).naturalHourWh(h));
  if (solar) {
    const request = natural.map((wh, h) => Math.round(h >= 10 && h <= 15 && wh < 0 ? wh * 0.5 : h >= 17 && h <= 21 && wh > 0 ? wh * 0.6 : wh));
    return { requestWh: request, flexWh: natural.map((wh, h) => Math.abs(Math.round(wh - request[h]!))) };
  }
  const requestWh = natural.map((wh, h) => (h >= 17 && h <= 21 ? wh * 0.6 : wh));
  const shifted = natural.reduce((sum, wh, h) => sum + (wh - requestWh[h]!), 0);
  for (let h = 1; h <= 4; h++) requestWh[h]! += shifted / 4;
  const rounded = requestWh.map((wh) => Math.round(wh));
  return { requestWh: rounded, flexWh: natural.map((wh, h) => Math.max(0, Math.round(wh - rounded[h]!))) };
}

/** The bearer tokens of the demo's organisations and of its auditor. */
export interface DemoTokens {
  dso: string;
  aggregator: string;
  auditor: string;
}

/**
 * Both organisations' stores and gateways as the demo (and the soak) run them, under
 * `processes` (its supervisor restarts them), each store's password in a file of `dir`;
 * returns their URLs, a client per organisation, and a reader of enrollments that asks the
 * DSO's gateway when the aggregator's does not answer within a few seconds (the ledger is
 * the same).
 */
export async function startOrgServices(processes: ProcessGroup, dir: string, tokens: DemoTokens) {
  // Each organisation's store is a process of its own (it can die and restart apart from
  // the gateway), reached by the gateway as a CouchDB with the admin credentials the
  // store keeps in its data directory.
  const stores = {
    aggregator: processes.start('store-aggregator', process.execPath, [path.join(__dirname, 'store-process.js'), storeDirOf('aggregator'), String(PORTS.aggregatorStore)]),
    dso: processes.start('store-dso', process.execPath, [path.join(__dirname, 'store-process.js'), storeDirOf('dso'), String(PORTS.dsoStore)]),
  };
  await Promise.all([
    waitForListener(`http://127.0.0.1:${PORTS.aggregatorStore}/`, 30_000, 'aggregator store', () => stores.aggregator.alive()),
    waitForListener(`http://127.0.0.1:${PORTS.dsoStore}/`, 30_000, 'DSO store', () => stores.dso.alive()),
  ]);
  const gatewayEnv = (org: 'dso' | 'aggregator') => {
    const credentials = readEmbeddedStoreCredentials(storeDirOf(org));
    const passwordFile = path.join(dir, `store-password-${org}`);
    writeFileSync(passwordFile, credentials.password, { mode: 0o600 });
    return {
      FLEXPROOF_GATEWAY_ORG: org,
      FLEXPROOF_GATEWAY_PORT: String(org === 'dso' ? PORTS.dsoGateway : PORTS.aggregatorGateway),
      FLEXPROOF_STORE_DIR: storeDirOf(org),
      COUCHDB_URL: `http://127.0.0.1:${org === 'dso' ? PORTS.dsoStore : PORTS.aggregatorStore}`,
      COUCHDB_USER: credentials.username,
      COUCHDB_PASSWORD_FILE: passwordFile,
      FLEXPROOF_GATEWAY_TOKENS: JSON.stringify([
        { name: `${org}-ops`, role: org, sha256: hashToken(tokens[org]) },
        { name: 'auditor', role: 'auditor', sha256: hashToken(tokens.auditor) },
      ]),
      FLEXPROOF_LOG_LEVEL: 'warn',
    };
  };
  const gateways = {
    aggregator: processes.start('gateway-aggregator', process.execPath, [path.join(ROOT, 'gateway-api', 'dist', 'server.js')], gatewayEnv('aggregator')),
    dso: processes.start('gateway-dso', process.execPath, [path.join(ROOT, 'gateway-api', 'dist', 'server.js')], gatewayEnv('dso')),
  };
  const aggUrl = `http://127.0.0.1:${PORTS.aggregatorGateway}`;
  const dsoUrl = `http://127.0.0.1:${PORTS.dsoGateway}`;
  await Promise.all([
    waitForHttp(`${aggUrl}/readyz`, 60_000, 'aggregator gateway', () => gateways.aggregator.alive()),
    waitForHttp(`${dsoUrl}/readyz`, 60_000, 'DSO gateway', () => gateways.dso.alive()),
  ]);
  const dso = gatewayClient(dsoUrl, tokens.dso);
  const aggregator = gatewayClient(aggUrl, tokens.aggregator);
  const aggregatorQuick = gatewayClient(aggUrl, tokens.aggregator, { deadlineMs: 4_000, attemptTimeoutMs: 3_000 });
  const readEnrollment = async (enrollmentId: string) => {
    try {
      return await aggregatorQuick.enrollment(enrollmentId);
    } catch (err) {
      if (!(err instanceof GatewayError && err.kind === 'unavailable')) throw err;
      return dso.enrollment(enrollmentId);
    }
  };
  return { aggUrl, dsoUrl, dso, aggregator, readEnrollment };
}

export async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (!options) return 0;
  const S = options.secondsPerHour;
  const runId = `d${Date.now().toString(36)}`;
  const demoDir = path.join(ROOT, '.flexproof', 'demo', runId);
  mkdirSync(demoDir, { recursive: true });
  const stages = new Stages();
  const processes = new ProcessGroup(path.join(demoDir, 'logs'), process.env.FLEXPROOF_DEMO_PID_DIR ?? path.join(demoDir, 'run'));
  const transactions: LedgerTransaction[] = [];
  const record = (org: string) => (transaction: string, txId: string, detail: string) =>
    transactions.push({ time: new Date().toISOString().slice(11, 19), org, transaction, txId, detail });
  /** One transaction, listed in the report once it committed. */
  const send = async <T>(org: 'DsoMSP' | 'AggregatorMSP', transaction: string, detail: string, call: () => Promise<Submitted<T>>): Promise<Submitted<T>> => {
    const answer = await call();
    record(org)(transaction, answer.txId, detail);
    return answer;
  };
  let keepRunning = false;
  let networkStartedHere = false;
  const started = Date.now();
  // Stopped from outside (Ctrl-C, a test's SIGTERM): the children go too, rather than
  // living on as orphans holding the demo's ports. --keep-running waits for these itself.
  const onSignal = (signal: NodeJS.Signals) => {
    if (keepRunning) return;
    console.error(`demo: ${signal}: stopping the gateways, stores, broker, edge clients and meters it started`);
    void processes.stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    stages.begin('network');
    // A network that already runs is used and left running; one started here is stopped at the end.
    networkStartedHere = spawnSync('bash', [path.join(ROOT, 'network', 'scripts', 'status.sh')], { stdio: 'ignore' }).status !== 0;
    const up = spawnSync('bash', [path.join(ROOT, 'network', 'scripts', 'up.sh')], { stdio: 'inherit' });
    if (up.status !== 0) throw new Error('network:up failed');
    const network = readNetworkFacts();

    stages.begin('gateways, off-chain store and MQTT broker');
    const tokens = { dso: randomBytes(24).toString('hex'), aggregator: randomBytes(24).toString('hex'), auditor: randomBytes(24).toString('hex') };
    const { aggUrl, dsoUrl, dso, aggregator, readEnrollment } = await startOrgServices(processes, demoDir, tokens);
    console.log(`gateways ${aggUrl} (aggregator) and ${dsoUrl} (DSO) ready; raw-data store on 127.0.0.1:${PORTS.aggregatorStore}`);

    stages.begin('sites: key pairs at the edge, meters registered by the DSO');
    const sites: Site[] = PERSONAS.slice(0, options.prosumers).map((p, i) => {
      const id = `${runId}-${p.name.toLowerCase()}`;
      const dir = path.join(demoDir, 'sites', p.name.toLowerCase());
      mkdirSync(dir, { recursive: true });
      return {
        name: p.name,
        compliance: p.compliance,
        ...(p.solar ? { solar: p.solar } : {}),
        shape: p.solar ? SMALL_NET_CIRCUIT_ID : SMALL_CIRCUIT_ID,
        ...(i === 2 ? { tamperAtHour: TAMPER_HOUR } : {}),
        meterId: `meter-${id}`,
        prosumerId: `prosumer-${id}`,
        enrollmentId: `enr-${id}`,
        dir,
        configFile: path.join(dir, 'flexproof-edge.json'),
        ...requestProfileFor(i + 1, p.solar),
      };
    });
    const alteredSite = sites[1]!;
    const solarSite = sites.find((s) => s.solar !== undefined);
    const tamperer = sites.find((s) => s.tamperAtHour !== undefined)!;
    const congestionPoint = `cp-${runId}`;
    for (const site of sites) {
      const init = spawnSync(process.execPath, [path.join(ROOT, 'edge-client', 'dist', 'cli.js'), 'init', '--config', site.configFile, '--meter-id', site.meterId, '--key-type', 'ec-p256'], { encoding: 'utf8' });
      if (init.status !== 0) throw new Error(`flexproof-edge init for ${site.name} failed: ${init.stderr}`);
      await send('DsoMSP', 'RegisterMeter', site.meterId, () => dso.registerMeter({ meterId: site.meterId, prosumerId: site.prosumerId, publicKeyPem: init.stdout, congestionPoint }));
    }
    console.log(`${sites.length} meters registered at congestion point ${congestionPoint}`);
    // The broker authenticates every client (THREATS.md T10): each meter publishes only on
    // its own topic, each edge client only subscribes to its meter's topic.
    const mqttAccounts = new Map(sites.map((site) => [site.name, {
      meter: { username: `meter-${site.name.toLowerCase()}`, password: randomBytes(18).toString('base64url') },
      edge: { username: `edge-${site.name.toLowerCase()}`, password: randomBytes(18).toString('base64url') },
    }]));
    const topicOf = (site: Site) => `flexproof/meters/${site.meterId}/energy`;
    // The broker is a process of its own, supervised like the others; it reads the accounts (passwords) from a 0600 file.
    const brokerAccounts: BrokerAccount[] = sites.flatMap((site) => {
      const a = mqttAccounts.get(site.name)!;
      return [{ ...a.meter, publishTopic: topicOf(site) }, { ...a.edge, subscribeTopics: [topicOf(site)] }];
    });
    const brokerAccountsFile = path.join(demoDir, 'broker-accounts.json');
    writeFileSync(brokerAccountsFile, JSON.stringify(brokerAccounts), { mode: 0o600 });
    const broker = processes.start('broker', process.execPath, [path.join(__dirname, 'broker-process.js'), brokerAccountsFile, String(PORTS.mqtt)]);
    await waitForBroker(PORTS.mqtt, broker.logFile, () => broker.alive());
    console.log(`MQTT broker on 127.0.0.1:${PORTS.mqtt}, one account per meter and per edge client`);

    stages.begin('market: tokens, flexibility request, offer, order; verification key');
    const price = 200n * BigInt(sites.length);
    await send('DsoMSP', 'Mint', 'rewards budget of the aggregator', () => dso.mint({ account: 'org:AggregatorMSP', amount: (REWARD * BigInt(sites.length)).toString() }));
    await send('DsoMSP', 'Mint', 'flexibility budget of the DSO', () => dso.mint({ account: 'org:DsoMSP', amount: price.toString() }));
    const offeredWh = Array.from({ length: HOURS }, (_, h) => sites.reduce((sum, s) => sum + s.flexWh[h]!, 0).toString());
    const day = new Date().toISOString().slice(0, 10);
    const requestId = `req-${runId}`;
    await send('DsoMSP', 'CreateFlexRequest', `${congestionPoint} ${day}`, () => dso.createFlexRequest({ requestId, congestionPoint, day, requestedWh: offeredWh }));
    await onceVisible(() => send('AggregatorMSP', 'SubmitFlexOffer', `price ${price}`, () => aggregator.submitFlexOffer(requestId, { offerId: `offer-${runId}`, offeredWh, price: price.toString() })));
    const orderId = `order-${runId}`;
    await onceVisible(() => send('DsoMSP', 'AcceptFlexOffer', orderId, () => dso.acceptFlexOffer(`offer-${runId}`, orderId)));
    // One key per circuit in use: v1 (consumption) for most, v2 (signed net energy) for the solar household.
    const circuitIds = new Map<CircuitId, string>();
    for (const shape of new Set(sites.map((s) => s.shape))) {
      const verificationKey = readVerificationKey(await ensureArtifacts(shape));
      const id = `${shape}.${runId}`;
      await send('DsoMSP', 'ProposeVerificationKey', id, () => dso.proposeVerificationKey(id, verificationKey));
      await onceVisible(() => send('AggregatorMSP', 'ApproveVerificationKey', 'reviewed and approved by the other organisation', () => aggregator.approveVerificationKey(id, verificationKeyHash(verificationKey))));
      circuitIds.set(shape, id);
    }
    const circuitOf = (site: Site): string => circuitIds.get(site.shape)!;
    const circuitId = [...circuitIds.values()].join(', ');
    console.log(`order ${orderId} at price ${price}; verification keys ${[...circuitIds.values()].join(' and ')} active after both organisations`);
    // The auditor's key pair is made where the auditor works; only its public half goes on
    // the ledger, through both organisations. Every edge seals each hour's readings to it.
    const auditorKey = generateSealingKeyPair();
    const auditorKeyFile = path.join(demoDir, 'auditor-key.pem');
    writeFileSync(auditorKeyFile, auditorKey.privateKeyPem, { mode: 0o600 });
    const auditorId = `regulator-${runId}`;
    await send('DsoMSP', 'ProposeAuditorKey', auditorId, () => dso.proposeAuditorKey({ auditorId, publicKeyPem: auditorKey.publicKeyPem, description: 'the regulator of the demo' }));
    await auditorKeyVisibleTo(aggregator, auditorId);
    await send('AggregatorMSP', 'ApproveAuditorKey', 'reviewed and approved by the other organisation', () => aggregator.approveAuditorKey(auditorId, sealingKeyHash(auditorKey.publicKeyPem)));
    console.log(`auditor key ${auditorId} active: every hour's raw readings are sealed to it and to the prosumer's own key`);

    stages.begin('enrollments: offered, accepted by each edge client, rewards escrowed');
    const leadMs = (20 + 2 * sites.length) * 1000;
    const startMs = Math.ceil((Date.now() + leadMs) / 1000) * 1000;
    const startTime = new Date(startMs).toISOString().replace('.000Z', 'Z');
    const graceSeconds = Math.max(60, 4 * S);
    const commitmentSalts = new Map<string, bigint>();
    for (const [i, site] of sites.entries()) {
      const commitmentSalt = randomSalt();
      commitmentSalts.set(site.name, commitmentSalt);
      // v1 commits to a non-negative profile, v2 to a signed one (with its own domain tag).
      const commitment = requestCommitmentFor(site.shape, commitmentSalt, site.requestWh).toString();
      await onceVisible(() => send('AggregatorMSP', 'OfferEnrollment', site.enrollmentId, () => aggregator.offerEnrollment({
        enrollmentId: site.enrollmentId, orderId, meterId: site.meterId, circuitId: circuitOf(site), requestCommitment: commitment,
        reward: REWARD.toString(), ratePerWh: RATE_PER_WH.toString(), toleranceWh: TOLERANCE_WH.toString(),
        flexWh: site.flexWh.map(String), startTime, periodSeconds: S, graceSeconds,
      })));
      // The private terms reach the prosumer off-chain: written into its site config.
      const config = JSON.parse(readFileSync(site.configFile, 'utf8')) as Record<string, unknown>;
      // `init` gives a lone site its own embedded broker; the demo's sites share the demo's broker.
      delete config.embeddedBrokerPort;
      delete config.embeddedBroker;
      // The starter config names one gateway; the demo's sites know both.
      delete config.gatewayUrl;
      delete config.gatewayMspId;
      const accounts = mqttAccounts.get(site.name)!;
      const meterPasswordFile = path.join(site.dir, 'meter-mqtt-password');
      writeFileSync(meterPasswordFile, accounts.meter.password, { mode: 0o600 });
      Object.assign(config, {
        prosumerId: site.prosumerId,
        // Both organisations' gateways: the edge submits through the DSO's when the
        // aggregator's is down (the prosumer's signature is inside every body).
        gateways: [{ url: aggUrl, mspId: 'AggregatorMSP' }, { url: dsoUrl, mspId: 'DsoMSP' }],
        ledger: { channel: network.channel, chaincode: network.chaincode },
        mqtt: { url: `mqtt://127.0.0.1:${PORTS.mqtt}`, topic: topicOf(site), username: accounts.edge.username, password: accounts.edge.password },
        // Time runs 3600/S times faster than on a real meter, and so does the power a
        // register increase implies: the bound scales with it (50 kW at real time).
        ratedPowerW: Math.ceil((50_000 * 3600) / S),
        closeDelaySeconds: Math.min(2, Math.max(1, Math.floor(S / 3))),
        retry: { initialMs: 500, maxMs: 5000 },
        logLevel: 'info',
        // The site consents to the demo's regulator only: a network reused across runs holds
        // the auditor keys of earlier runs too, and a document has room for 15.
        auditors: [auditorId],
        enrollments: [{ enrollmentId: site.enrollmentId, circuitId: circuitOf(site), startTime, periodSeconds: S, graceSeconds,
          requestProfile: site.requestWh.map(String), commitmentSalt: commitmentSalt.toString(), requestCommitment: commitment,
          // The economics this prosumer agreed to off-chain; the edge signs no other offer.
          acceptPolicy: { orderId, minReward: REWARD.toString(), maxRatePerWh: RATE_PER_WH.toString(), minToleranceWh: TOLERANCE_WH.toString(), maxFlexWh: site.flexWh.map(String) } }],
      });
      writeFileSync(site.configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
      const edgeArgs = [path.join(ROOT, 'edge-client', 'dist', 'cli.js'), 'run', '--config', site.configFile];
      if (site.tamperAtHour !== undefined) edgeArgs.push('--tamper-period', String(site.tamperAtHour));
      processes.start(`edge-${site.name.toLowerCase()}`, process.execPath, edgeArgs);
      processes.start(`meter-${site.name.toLowerCase()}`, process.execPath, [path.join(ROOT, 'edge-client', 'dist', 'cli.js'), 'simulate',
        '--config', site.configFile, '--enrollment', site.enrollmentId, '--compliance', String(site.compliance), '--seed', String(i + 1),
        '--username', accounts.meter.username, '--password-file', meterPasswordFile,
        ...(site.solar ? ['--solar-peak-w', String(site.solar.peakW)] : []),
        // 40 samples per simulated hour at 4 s/hour: the heat pump cycles every 30 minutes.
        '--interval-ms', String(Math.max(50, Math.min(1000, Math.round((S * 1000) / 40))))]);
    }
    const funded = new Set<string>();
    const fundDeadline = startMs + S * 1000;
    while (funded.size < sites.length) {
      for (const site of sites) {
        if (funded.has(site.enrollmentId)) continue;
        const view = await aggregator.enrollment(site.enrollmentId);
        if (view.enrollment.status === 'accepted') {
          try {
            await send('AggregatorMSP', 'DepositReward', `${site.enrollmentId}: ${REWARD} into escrow`, () => aggregator.fundEnrollment(site.enrollmentId));
          } catch (err) {
            // Funded already (a retry after a lost answer): the enrollment says so.
            if (!(alreadyDone(err) && (await aggregator.enrollment(site.enrollmentId)).enrollment.status === 'active')) throw err;
          }
          funded.add(site.enrollmentId);
          console.log(`${site.name.padEnd(7)} accepted (signed by its site key); reward ${REWARD} escrowed`);
        }
      }
      if (funded.size < sites.length) {
        if (Date.now() > fundDeadline) throw new Error('edge clients did not accept their enrollments in time (see the logs in ' + path.join(demoDir, 'logs') + ')');
        await sleep(500);
      }
    }

    stages.begin(`the day: 24 hours of ${S} s, starting ${startTime}`);
    const views = new Map<string, { enrollment: Enrollment; escrow: string }>();
    const refresh = async () => {
      for (const site of sites) views.set(site.enrollmentId, (await readEnrollment(site.enrollmentId)) as unknown as { enrollment: Enrollment; escrow: string });
    };
    let altered: number | undefined; // the hour whose sealed document the insider replaced
    for (let h = 0; h < HOURS; h++) {
      const hourEnd = startMs + (h + 1) * S * 1000;
      const waitUntil = hourEnd + Math.max(3, S) * 1000;
      for (;;) {
        await sleep(Math.min(1000, waitUntil - Date.now()));
        await refresh();
        const settledAll = sites.every((s) => {
          const v = views.get(s.enrollmentId)!;
          return v.enrollment.status === 'excluded' || v.enrollment.results[h] !== null;
        });
        if (settledAll || Date.now() >= waitUntil + 30_000) break;
      }
      if (altered === undefined && h > ALTERED_HOUR) altered = await alterStoredHour(`http://127.0.0.1:${PORTS.aggregatorStore}`, alteredSite, aggregator);
      printHourLine(h, sites, views, startMs, S);
    }

    stages.begin('close: missed periods claimed, programs closed, order settled, audit');
    // A missed hour is claimable once its deadline plus the ledger's clock skew has passed.
    const lastDeadline = startMs + (HOURS * S + graceSeconds + network.maxClockSkewSeconds) * 1000;
    await refresh();
    for (const site of sites) {
      const v = views.get(site.enrollmentId)!;
      if (v.enrollment.status !== 'active') continue;
      const missing = v.enrollment.results.map((r, p) => (r === null ? p : -1)).filter((p) => p >= 0);
      if (missing.length > 0) {
        console.log(`${site.name}: ${missing.length} hour(s) without a proof; waiting for their deadline to claim them`);
        await sleep(lastDeadline + 1000 - Date.now());
        for (const p of missing) {
          try {
            await send('AggregatorMSP', 'ClaimMissedPeriod', `${site.enrollmentId} hour ${p}`, () => aggregator.claimMissedPeriod(site.enrollmentId, p));
          } catch (err) {
            // A proof that landed just before its deadline won the race (or the claim's
            // first attempt committed before a restart): the ledger's period says which.
            const settled = alreadyDone(err) ? (await aggregator.enrollment(site.enrollmentId)).periods[p]?.result : undefined;
            if (!settled) throw err;
            console.log(`${site.name}: hour ${p} was settled by a late proof before the claim`);
          }
        }
      }
      try {
        await send('AggregatorMSP', 'CloseEnrollment', `${site.enrollmentId}: rest released to the prosumer`, () => aggregator.closeEnrollment(site.enrollmentId));
      } catch (err) {
        if (!(alreadyDone(err) && (await aggregator.enrollment(site.enrollmentId)).enrollment.status === 'closed')) throw err;
      }
    }
    try {
      await send('AggregatorMSP', 'SettleFlexOrder', orderId, () => aggregator.settleFlexOrder(orderId));
    } catch (err) {
      if (!(alreadyDone(err) && (await aggregator.flexOrder(orderId)).order.status === 'settled')) throw err;
    }
    altered ??= await alterStoredHour(`http://127.0.0.1:${PORTS.aggregatorStore}`, alteredSite, aggregator);
    if (altered === undefined) throw new Error(`${alteredSite.name} has no two consecutive stored hours from hour ${ALTERED_HOUR} on for the insider to swap`);
    const audit = runAudit({ gatewayUrl: aggUrl, token: tokens.auditor, keyFile: auditorKeyFile, enrollmentId: alteredSite.enrollmentId, dir: demoDir });
    // The solar household's audit: both registers, and each deviation recomputed from the
    // request (the aggregator's copy of the profile and salt, checked against the ledger's commitment).
    let netAudit: AuditResult | undefined;
    if (solarSite) {
      const requestFile = path.join(demoDir, `request-${solarSite.name.toLowerCase()}.json`);
      writeFileSync(requestFile, JSON.stringify({ requestProfile: solarSite.requestWh.map(String), commitmentSalt: commitmentSalts.get(solarSite.name)!.toString() }), { mode: 0o600 });
      netAudit = runAudit({ gatewayUrl: aggUrl, token: tokens.auditor, keyFile: auditorKeyFile, enrollmentId: solarSite.enrollmentId, dir: demoDir, requestFile });
    }
    await refresh();

    stages.begin('report');
    const model = await buildModel({ runId, sites, views, dso, aggregator, orderId, audit, alteredSite, alteredHour: altered, transactions, stages: stages.done, S, circuitId, circuitOf, ...(solarSite && netAudit ? { netAudit: { site: solarSite, result: netAudit } } : {}) });
    const reportPath = path.join(demoDir, 'report.html');
    // The report draws each prosumer's private view: only the person running the demo may read it.
    writeFileSync(reportPath, renderReport(model), { mode: 0o600 });
    const screenshotPath = path.join(demoDir, 'report.png');
    const solarIndex = solarSite ? sites.indexOf(solarSite) : -1;
    const problems = await verifyReportInBrowser(reportPath, {
      finalBalances: Object.fromEntries(model.settlement.map((r) => [r.name, r.finalBalance])),
      flaggedHours: flaggedHours(model),
      chartIds: ['chart-balances', 'chart-deviation', ...sites.map((_, i) => `chart-private-${i}`)],
      ...(solarSite ? { belowZeroCharts: [`chart-private-${solarIndex}`] } : {}),
      ...(model.netAudit ? { netAuditMatches: model.netAudit.periods.filter((p) => p.status === 'match').length } : {}),
      screenshotPath,
    });
    if (problems.length > 0) throw new Error(`the report failed its browser check:\n  ${problems.join('\n  ')}`);
    stages.end();

    printSettlement(model, tamperer.name);
    console.log('\nstages:');
    for (const s of stages.done) console.log(`  ${s.name.padEnd(72)} ${s.seconds.toFixed(1).padStart(6)} s`);
    console.log(`  ${'total'.padEnd(72)} ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s`);
    console.log(`\nreport: ${reportPath}  (checked in headless Chromium; screenshot ${screenshotPath})`);
    if (options.summaryFile) {
      const meter = await dso.meter(tamperer.meterId);
      const solar = solarSite ? await solarSummary(solarSite, circuitOf(solarSite), views, dso, netAudit) : undefined;
      writeFileSync(options.summaryFile, `${JSON.stringify({ ...summaryOf(model, sites, tamperer, alteredSite, meter.status), ...(solar ? { solar } : {}) }, null, 2)}\n`);
    }

    if (options.keepRunning) {
      keepRunning = true;
      console.log(`\nStill running:
  API docs      ${aggUrl}/docs (aggregator)  ${dsoUrl}/docs (DSO)
  events        curl -N -H 'authorization: Bearer ${tokens.dso}' ${dsoUrl}/v1/events
  report        ${reportPath}
  processes     ${processes.pids().map((p) => `${p.name}:${p.pid}`).join(' ')}
Stop with Ctrl-C (gateways, edge clients, broker), then: npm run network:down`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    }
    return 0;
  } finally {
    stages.end();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await processes.stopAll();
    // --keep-running leaves the network up after Ctrl-C; network:down stops it.
    if (!keepRunning && networkStartedHere) spawnSync('bash', [path.join(ROOT, 'network', 'scripts', 'down.sh')], { stdio: 'inherit' });
  }
}

/**
 * The insider at the store: it holds only sealed documents, so it swaps them. The first
 * hour from ALTERED_HOUR on whose document and the previous hour's are both stored gets
 * a copy of the previous hour's (the insider edits the store's database with the admin
 * credentials it finds on the store's disk). Returns that hour, or undefined if there is
 * none yet (on a loaded machine an hour may have been missed).
 */
async function alterStoredHour(storeUrl: string, site: Site, aggregator: GatewayClient): Promise<number | undefined> {
  const { periods } = await aggregator.storedPeriods(site.enrollmentId);
  const stored = new Set(periods.map((p) => p.periodIndex));
  // The store holds missed hours' readings too; the audit checks verified hours against
  // the ledger, so the insider alters one of those (a missed hour would only read notVerified).
  const view = await aggregator.enrollment(site.enrollmentId);
  const verified = new Set((view.periods ?? []).filter((p) => p.result?.outcome === 'verified').map((p) => p.periodIndex));
  const hour = Array.from({ length: HOURS }, (_, h) => h).find((h) => h >= ALTERED_HOUR && stored.has(h) && stored.has(h - 1) && verified.has(h));
  if (hour === undefined) return undefined;
  const credentials = readEmbeddedStoreCredentials(storeDirOf('aggregator'));
  await tamperWithSealedDocument({ url: storeUrl, credentials }, { meterId: site.meterId, enrollmentId: site.enrollmentId, periodIndex: hour }, { replaceWithPeriod: hour - 1 });
  console.log(`  (an insider at the store replaces ${site.name}'s sealed document of hour ${hour} with a copy of hour ${hour - 1}'s)`);
  return hour;
}

/**
 * Sends a transaction that reads what the other organisation just wrote: its peer may
 * commit that block a moment later, and until then the ledger answers 404 (nothing is
 * written), so it is sent again, for up to 10 s.
 */
export async function onceVisible<T>(send: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await send();
    } catch (err) {
      if (!(err instanceof GatewayError && err.status === 404) || i >= 50) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Waits until the auditor key is visible at this organisation's gateway: its peer may commit another organisation's block a moment later. */
export async function auditorKeyVisibleTo(api: GatewayClient, auditorId: string): Promise<void> {
  for (let i = 0; ; i++) {
    const { keys } = await api.auditorKeys();
    if (keys.some((k) => k.auditorId === auditorId)) return;
    if (i >= 50) throw new Error(`auditor key ${auditorId} not visible at the other organisation's gateway after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Waits until the broker process says it listens (an MQTT port answers no HTTP). */
export async function waitForBroker(port: number, logFile: string, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    let log = '';
    try {
      log = readFileSync(logFile, 'utf8');
    } catch {
      // not written yet
    }
    if (log.includes(`broker listening on 127.0.0.1:${port}`)) return;
    if (/EADDRINUSE|address already in use/i.test(log)) throw new Error(`MQTT port ${port} is taken: stop what holds it or set FLEXPROOF_DEMO_MQTT_PORT`);
    if (!alive() && log.includes('broker-process:')) throw new Error(`the MQTT broker did not start: see ${logFile}`);
    if (Date.now() > deadline) throw new Error(`the MQTT broker did not start in 30 s: see ${logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** What the demo reads of flexproof-audit --json. */
export interface AuditResult {
  circuitId?: string;
  deviationsChecked?: boolean;
  periods: { periodIndex: number; verdict: string; reason?: string }[];
}

/** The auditor's own audit, where its private key is: flexproof-audit, as an auditor runs it. */
export function runAudit(input: { gatewayUrl: string; token: string; keyFile: string; enrollmentId: string; dir: string; requestFile?: string }): AuditResult {
  const tokenFile = path.join(input.dir, 'auditor-token');
  writeFileSync(tokenFile, input.token, { mode: 0o600 });
  const cli = path.join(ROOT, 'auditor', 'dist', 'cli.js');
  const args = [cli, '--gateway', input.gatewayUrl, '--token-file', tokenFile, '--key-file', input.keyFile, '--enrollment', input.enrollmentId, '--json'];
  if (input.requestFile !== undefined) args.push('--request-file', input.requestFile);
  const run = spawnSync(process.execPath, args, { encoding: 'utf8' });
  // Exit 1 is an audit that found something, which is what the insider made sure of.
  if (run.status !== 0 && run.status !== 1) throw new Error(`flexproof-audit failed (exit ${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as AuditResult;
}

function auditPeriods(result: AuditResult): AuditPeriod[] {
  return result.periods.map((p) => ({
    periodIndex: p.periodIndex,
    status: p.verdict === 'match' ? 'match' : p.verdict === 'mismatch' ? 'mismatch' : p.verdict === 'unreadable' ? 'unreadable' : p.verdict === 'missingData' ? 'missing' : 'notVerified',
  }));
}

function printHourLine(h: number, sites: Site[], views: Map<string, { enrollment: Enrollment; escrow: string }>, startMs: number, S: number): void {
  let verified = 0;
  let penalties = 0n;
  let excluded = 0;
  for (const site of sites) {
    const v = views.get(site.enrollmentId)!;
    if (v.enrollment.status === 'excluded') excluded += 1;
    const r = v.enrollment.results[h];
    if (r?.outcome === 'verified') {
      verified += 1;
      penalties += BigInt(r.penalty);
    }
  }
  const done = h + 1;
  const bar = '█'.repeat(done) + '░'.repeat(HOURS - done);
  const left = Math.max(0, (startMs + HOURS * S * 1000 - Date.now()) / 1000);
  console.log(`hour ${String(h).padStart(2, '0')} ${bar} proofs verified ${verified}/${sites.length}  penalties ${String(penalties).padStart(4)}  excluded ${excluded}  ~${fmtDuration(left)} left`);
}

interface ModelInput {
  runId: string;
  sites: Site[];
  views: Map<string, { enrollment: Enrollment; escrow: string }>;
  dso: GatewayClient;
  aggregator: GatewayClient;
  orderId: string;
  audit: { periods: { periodIndex: number; verdict: string }[] };
  alteredSite: Site;
  /** The hour whose sealed document the insider replaced. */
  alteredHour: number;
  transactions: LedgerTransaction[];
  stages: { name: string; seconds: number }[];
  S: number;
  circuitId: string;
  circuitOf: (site: Site) => string;
  /** The solar household and its audit (both registers, deviations recomputed). */
  netAudit?: { site: Site; result: AuditResult };
}

async function buildModel(input: ModelInput): Promise<DemoReportModel> {
  const { sites, views, dso } = input;
  const prosumers: ProsumerDay[] = [];
  const settlement: SettlementRow[] = [];
  for (const site of sites) {
    const { enrollment } = views.get(site.enrollmentId)!;
    const results = enrollment.results;
    // The prosumer's private view comes from its edge client's own store, not from the ledger.
    const state = await EdgeStateFile.open(path.join(loadConfig(site.configFile, {}).dataDir, STATE_FILE), site.meterId);
    const local = state.data.enrollments[site.enrollmentId]?.periods ?? {};
    // Net energy for the solar household (import − export, negative when it exported).
    const actualWh = Array.from({ length: HOURS }, (_, h) => {
      const period = local[String(h)];
      if (!period?.readings) return null;
      return period.readings.reduce((sum, r) => sum + Number(r), 0) - (period.exportReadings ?? []).reduce((sum, r) => sum + Number(r), 0);
    });
    const outcomes: PeriodOutcome[] = results.map((r) => (r === null ? (enrollment.status === 'excluded' ? 'excluded' : 'pending') : r.outcome));
    let escrow = Number(REWARD);
    const tokensOverDay = [escrow];
    let penalties = 0;
    let forfeited = 0;
    let claimed = 0;
    for (const r of results as (PeriodResult | null)[]) {
      if (r?.outcome === 'verified') penalties += Number(r.penalty);
      if (r?.outcome === 'invalidProof') forfeited += Number(r.forfeited);
      if (r?.outcome === 'missed') claimed += Number(r.claimed);
      escrow = Number(REWARD) - penalties - forfeited - claimed;
      tokensOverDay.push(escrow);
    }
    const balance = Number((await dso.balance(`prosumer:${site.prosumerId}`)).balance);
    tokensOverDay[tokensOverDay.length - 1] = enrollment.status === 'closed' ? balance : escrow;
    prosumers.push({
      name: site.name, meterId: site.meterId, prosumerId: site.prosumerId, enrollmentId: site.enrollmentId, compliance: site.compliance,
      circuitId: input.circuitOf(site), ...(circuitShape(site.shape).kind === 'net' ? { netEnergy: true } : {}),
      ...(site.tamperAtHour !== undefined ? { tamperAtHour: site.tamperAtHour } : {}),
      requestWh: site.requestWh, actualWh,
      deviationWh: results.map((r) => (r?.outcome === 'verified' ? Number(r.deviationWh) : null)),
      outcomes, tokensOverDay,
    });
    settlement.push({ name: site.name, reward: Number(REWARD), penalties, forfeited, claimed, released: Number(enrollment.released ?? 0), finalBalance: balance, status: enrollment.status });
    for (const r of results) {
      if (r) input.transactions.push({ time: r.settledAt.slice(11, 19), txId: r.txId, org: 'edge (relayed)', transaction: r.outcome === 'missed' ? 'ClaimMissedPeriod' : 'SubmitPeriod', detail: `${site.name} hour ${r.periodIndex}: ${r.outcome}` });
    }
  }
  const order = (await dso.flexOrder(input.orderId)) as unknown as { order: { price: string; settlement?: { penalty: string; aggregatorAmount?: string; dsoAmount?: string } } };
  const price = Number(order.order.price);
  const penalty = Number(order.order.settlement?.penalty ?? 0);
  const supply = await dso.supply();
  const accounts = await dso.balances();
  const audit = auditPeriods(input.audit);
  input.transactions.sort((a, b) => a.time.localeCompare(b.time));
  return {
    title: 'flexproof: a demand-response day',
    generatedAt: new Date().toISOString(),
    parameters: { prosumers: sites.length, secondsPerHour: input.S, circuitId: input.circuitId },
    prosumers,
    settlement,
    order: { orderId: input.orderId, price, penalty, aggregatorReceived: price - penalty, dsoRefund: penalty },
    supply: {
      minted: Number(supply.minted), burned: Number(supply.burned), outstanding: Number(supply.outstanding),
      sumOfAccounts: accounts.accounts.reduce((sum, a) => sum + Number(a.balance), 0),
    },
    audit: { prosumer: input.alteredSite.name, enrollmentId: input.alteredSite.enrollmentId, alteredHour: input.alteredHour, periods: audit },
    ...(input.netAudit
      ? { netAudit: { prosumer: input.netAudit.site.name, enrollmentId: input.netAudit.site.enrollmentId, periods: auditPeriods(input.netAudit.result) } }
      : {}),
    transactions: input.transactions,
    stages: input.stages,
  };
}

function printSettlement(m: DemoReportModel, tamperer: string): void {
  console.log('\nsettlement (tokens):');
  const header = ['prosumer', 'status', 'reward', 'penalties', 'forfeited', 'claimed', 'released', 'balance'];
  const rows = m.settlement.map((r) => [r.name + (r.name === tamperer ? ' (tampered)' : ''), r.status, r.reward, r.penalties, r.forfeited, r.claimed, r.released, r.finalBalance].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`  ${line(header)}`);
  for (const r of rows) console.log(`  ${line(r)}`);
  console.log(`order ${m.order.orderId}: price ${m.order.price}, deficiency penalty ${m.order.penalty} → aggregator ${m.order.aggregatorReceived}, DSO ${m.order.dsoRefund}`);
  console.log(`supply: minted ${m.supply.minted} − burned ${m.supply.burned} = ${m.supply.outstanding}; all accounts and escrows ${m.supply.sumOfAccounts} ${m.supply.outstanding === m.supply.sumOfAccounts ? '✓' : '✗'}`);
  const flagged = m.audit.periods.filter((p) => p.status === 'mismatch' || p.status === 'unreadable').map((p) => `${p.periodIndex} (${p.status})`);
  console.log(`audit of ${m.audit.prosumer} (with the auditor's key): hours whose sealed readings are not the ones the ledger fingerprinted: ${flagged.join(', ') || 'none'}`);
  const solar = m.prosumers.find((p) => p.netEnergy);
  if (solar && m.netAudit) {
    const exporting = solar.actualWh.filter((wh) => wh !== null && wh < 0).length;
    const matched = m.netAudit.periods.filter((p) => p.status === 'match').length;
    const verified = solar.outcomes.filter((o) => o === 'verified').length;
    console.log(`${solar.name} (solar, ${solar.circuitId}): ${verified}/24 hours verified on the net energy circuit, ${exporting} hours net export; audit over both registers and the request: ${matched} hours match`);
  }
}

/** The solar household's public facts (from the ledger and the audit; its readings stay in its own state file). */
export interface SolarSummary {
  name: string;
  enrollmentId: string;
  meterId: string;
  /** The enrollment's circuit id on the ledger, and the hash and status of the key registered under it. */
  circuitId: string;
  keyHash: string;
  keyStatus: string;
  status: string;
  reward: number;
  ratePerWh: number;
  toleranceWh: number;
  /** Per hour, from the ledger: outcome, deviation and penalty of a verified hour. */
  hours: { periodIndex: number; outcome: string | null; deviationWh?: number; direction?: string; penalty?: number }[];
  audit: { circuitId?: string; deviationsChecked: boolean; verdicts: Record<string, number> };
}

export interface DemoSummary {
  /** Where the run wrote its files (logs, sites, report), for the tests that inspect them. */
  runDir: string;
  sites: { name: string; configFile: string; meterId: string; enrollmentId: string }[];
  tamperer: { name: string; status: string; forfeited: number; meterExcluded: boolean };
  audit: { prosumer: string; alteredHour: number; flaggedHours: number[] };
  supply: DemoReportModel['supply'];
  settlement: SettlementRow[];
  /** The household with solar, when the run has one (it always has: the first persona). */
  solar?: SolarSummary;
}

async function solarSummary(
  site: Site,
  circuitId: string,
  views: Map<string, { enrollment: Enrollment; escrow: string }>,
  dso: GatewayClient,
  audit: AuditResult | undefined,
): Promise<SolarSummary> {
  const { enrollment } = views.get(site.enrollmentId)!;
  const key = await dso.verificationKey(enrollment.circuitId);
  const verdicts: Record<string, number> = {};
  for (const p of audit?.periods ?? []) verdicts[p.verdict] = (verdicts[p.verdict] ?? 0) + 1;
  if (enrollment.circuitId !== circuitId) throw new Error(`${site.name}'s enrollment names circuit ${enrollment.circuitId} on the ledger, not ${circuitId}`);
  return {
    name: site.name,
    enrollmentId: site.enrollmentId,
    meterId: site.meterId,
    circuitId: enrollment.circuitId,
    keyHash: key.keyHash,
    keyStatus: key.status,
    status: enrollment.status,
    reward: Number(REWARD),
    ratePerWh: Number(RATE_PER_WH),
    toleranceWh: Number(TOLERANCE_WH),
    hours: enrollment.results.map((r, periodIndex) =>
      r?.outcome === 'verified'
        ? { periodIndex, outcome: r.outcome, deviationWh: Number(r.deviationWh), direction: r.direction, penalty: Number(r.penalty) }
        : { periodIndex, outcome: r?.outcome ?? null },
    ),
    audit: { ...(audit?.circuitId !== undefined ? { circuitId: audit.circuitId } : {}), deviationsChecked: audit?.deviationsChecked === true, verdicts },
  };
}

/** Hours the audit flags: readings that differ from the fingerprinted ones, or documents that do not open as that hour's. */
function flaggedHours(m: DemoReportModel): number[] {
  return m.audit.periods.filter((p) => p.status === 'mismatch' || p.status === 'unreadable').map((p) => p.periodIndex);
}

function summaryOf(m: DemoReportModel, sites: Site[], tamperer: Site, altered: Site, meterStatus: string): DemoSummary {
  const row = m.settlement.find((r) => r.name === tamperer.name)!;
  return {
    runDir: path.dirname(path.dirname(sites[0]!.dir)), // <run>/sites/<name>
    sites: sites.map((s) => ({ name: s.name, configFile: s.configFile, meterId: s.meterId, enrollmentId: s.enrollmentId })),
    tamperer: { name: tamperer.name, status: row.status, forfeited: row.forfeited, meterExcluded: meterStatus === 'excluded' },
    audit: { prosumer: altered.name, alteredHour: m.audit.alteredHour, flaggedHours: flaggedHours(m) },
    supply: m.supply,
    settlement: m.settlement,
  };
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
