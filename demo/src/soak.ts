/**
 * `npm run soak`: several consecutive demand-response days on one set of long-lived
 * processes, sampling every component's memory and open files (issue 13, "Soak").
 *
 * One network (scripts/soak.sh gives it its own state and ports), one pair of gateways
 * and stores, one broker, one edge client and one meter simulator per household, all
 * started once. Each day has its own flexibility request, offer, order and enrollments
 * (offered and funded during the day before, so days follow each other without a gap);
 * every edge client was given all its days' enrollments in its config at the start, and
 * accepts each one when the ledger offers it. After each day its missed periods are
 * claimed, its programs closed, its order settled and the day checked: every period of
 * every enrollment settled exactly once (verified or claimed), both organisations' peers
 * agreeing, the supply invariant holding, the solar household's audit matching.
 *
 * Every household is honest here: the demo's tampering and the insider at the store are
 * the demo's day (npm run demo); a tamperer's meter would be excluded for good and could
 * not be enrolled the next day.
 *
 * A sampler reads VmRSS and the number of open fds of each component (and its children)
 * every --sample-seconds; the samples, the verdict and a chart go to .flexproof/soak/<run>/.
 * The exit status is non-zero when a day did not settle or check, or a component's
 * end-of-day RSS or fd count grew beyond the bounds (soak-metrics.ts) after day 1.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { SMALL_CIRCUIT_ID, SMALL_NET_CIRCUIT_ID, ensureArtifacts, randomSalt, readVerificationKey, requestCommitmentFor, type CircuitId } from '@flexproof/circuits';
import type { BrokerAccount } from '@flexproof/edge-client';
import { generateSealingKeyPair, sealingKeyHash, verificationKeyHash, type schemas } from '@flexproof/protocol';
import {
  HOURS, PERSONAS, PORTS, RATE_PER_WH, REWARD, TOLERANCE_WH, alreadyDone, auditorKeyVisibleTo, onceVisible, readNetworkFacts, requestProfileFor,
  runAudit, startOrgServices, waitForBroker,
} from './day';
import { ProcessGroup } from './processes';
import { DEFAULT_BOUNDS, judge, processParents, readProcessTree, renderSoakChart, type ComponentVerdict, type DayWindow, type Sample } from './soak-metrics';

type Enrollment = schemas.Enrollment;

const ROOT = path.resolve(__dirname, '..', '..');
const NETWORK_COMPONENTS = ['orderer', 'peer-aggregator', 'peer-dso', 'chaincode-aggregator', 'chaincode-dso'];

const HELP = `usage: npm run soak [-- options]

  --days N               consecutive demand-response days, 1 to 14; default 3
  --prosumers N          households (edge client + meter simulator each), 1 to ${PERSONAS.length}; default ${PERSONAS.length}
  --seconds-per-hour S   real seconds per simulated hour, 6 to 3600; default 27 (every
                         household proves each hour: on a loaded 2-core machine a proof
                         takes 3 to 13 s, and 8 of them must fit in an hour)
  --sample-seconds T     seconds between two samples of every component, 5 to 300; default 20
  --help                 this text

Runs on a network of its own (scripts/soak.sh: state in .flexproof/network-soak, every
port of network.env and of the demo's processes + 20000, one orderer), created fresh and
removed after. One set of gateways, stores, broker, edge clients and meters serves every
day; each day is settled and checked before the soak judges the next. Samples VmRSS and
open fds of the orderer, both peers, both chaincode servers, both gateways, both stores,
the broker and every edge client and meter; writes samples.json, verdict.json and
chart.html to .flexproof/soak/<run>/. Exits 1, naming the component and the figure, when
after day 1 a component's RSS grows by more than max(${DEFAULT_BOUNDS.rssMiBPerDay} MiB, ${DEFAULT_BOUNDS.rssPercentPerDay} % of its day-1 RSS)
per day or its open fds by more than ${DEFAULT_BOUNDS.fdsPerDay} per day, when a component restarted, or when a
day does not settle every period exactly once or the supply invariant fails.`;

interface Options {
  days: number;
  prosumers: number;
  secondsPerHour: number;
  sampleSeconds: number;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      days: { type: 'string' },
      prosumers: { type: 'string' },
      'seconds-per-hour': { type: 'string' },
      'sample-seconds': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return undefined;
  }
  const int = (raw: string | undefined, fallback: number, name: string, min: number, max: number) => {
    const n = Number(raw ?? fallback);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: an integer from ${min} to ${max}`);
    return n;
  };
  return {
    days: int(values.days, 3, 'days', 1, 14),
    prosumers: int(values.prosumers, PERSONAS.length, 'prosumers', 1, PERSONAS.length),
    secondsPerHour: int(values['seconds-per-hour'], 27, 'seconds-per-hour', 6, 3600),
    sampleSeconds: int(values['sample-seconds'], 20, 'sample-seconds', 5, 300),
  };
}

interface Site {
  name: string;
  compliance: number;
  solar?: { peakW: number };
  shape: CircuitId;
  meterId: string;
  prosumerId: string;
  dir: string;
  configFile: string;
  requestWh: number[];
  flexWh: number[];
}

/** One day's market objects and, per household, its enrollment and private terms. */
interface DayPlan {
  day: number;
  tag: string;
  requestId: string;
  offerId: string;
  orderId: string;
  startMs: number;
  startTime: string;
  enrollments: Map<string, { enrollmentId: string; commitmentSalt: bigint; commitment: string }>;
}

/** What the soak found of one day. */
interface DayOutcome {
  day: number;
  orderId: string;
  verified: number;
  claimed: number;
  lateProofsBeforeClaim: number;
  penalties: number;
  supply: { minted: string; burned: string; outstanding: string; sumOfAccounts: string };
  audit?: { prosumer: string; verdicts: Record<string, number> };
  problems: string[];
  settledAt: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const mib = (kib: number) => (kib / 1024).toFixed(1);

export async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (!options) return 0;
  const S = options.secondsPerHour;
  const runId = `s${Date.now().toString(36)}`;
  const soakDir = path.join(ROOT, '.flexproof', 'soak', runId);
  mkdirSync(soakDir, { recursive: true });
  const processes = new ProcessGroup(path.join(soakDir, 'logs'), path.join(soakDir, 'run'));
  const networkRunDir = path.join(process.env.FLEXPROOF_NETWORK_DIR ?? path.join(ROOT, '.flexproof', 'network'), 'run');
  const samples: Sample[] = [];
  const windows: DayWindow[] = [];
  const outcomes: DayOutcome[] = [];
  const failures: string[] = [];
  let sampler: NodeJS.Timeout | undefined;
  let plans: DayPlan[] = [];
  const started = Date.now();
  console.log(`soak ${runId}: ${options.days} day(s), ${options.prosumers} households, ${S} s per simulated hour, a sample every ${options.sampleSeconds} s; output in ${soakDir}`);

  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`soak: ${signal}: stopping the gateways, stores, broker, edge clients and meters it started`);
    void processes.stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const roles = (): { role: string; pid: number }[] => {
    const list: { role: string; pid: number }[] = [];
    for (const c of NETWORK_COMPONENTS) {
      const file = path.join(networkRunDir, `${c}.pid`);
      if (!existsSync(file)) continue;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0) list.push({ role: c, pid });
    }
    for (const p of processes.pids()) if (p.pid !== undefined) list.push({ role: p.name, pid: p.pid });
    return list;
  };
  const where = (ms: number): { day: number | null; hour: number | null } => {
    for (const plan of plans) {
      if (ms >= plan.startMs && ms < plan.startMs + HOURS * S * 1000) return { day: plan.day, hour: Math.floor((ms - plan.startMs) / (S * 1000)) };
    }
    return { day: null, hour: null };
  };
  const takeSample = () => {
    const ms = Date.now();
    const parents = processParents();
    const values: Sample['values'] = {};
    for (const { role, pid } of roles()) {
      const reading = readProcessTree(pid, parents);
      if (reading) values[role] = reading;
    }
    samples.push({ t: new Date(ms).toISOString(), ms, ...where(ms), values });
  };
  const writeOutputs = (final: boolean): ComponentVerdict[] => {
    const verdicts = judge(samples, windows.filter((w) => outcomes.some((o) => o.day === w.day)), DEFAULT_BOUNDS);
    const settings = { days: options.days, prosumers: options.prosumers, secondsPerHour: S, sampleSeconds: options.sampleSeconds, bounds: DEFAULT_BOUNDS,
      networkDir: path.dirname(networkRunDir), portOffset: Number(process.env.FLEXPROOF_DEMO_PORT_OFFSET ?? 0), orderers: Number(process.env.ORDERERS ?? 1) };
    writeFileSync(path.join(soakDir, 'samples.json'), `${JSON.stringify({ runId, settings, days: windows, samples }, null, 1)}\n`);
    writeFileSync(path.join(soakDir, 'verdict.json'), `${JSON.stringify({ runId, settings, final, startedAt: new Date(started).toISOString(), days: outcomes, components: verdicts, failures }, null, 2)}\n`);
    writeFileSync(path.join(soakDir, 'chart.html'), renderSoakChart({
      title: `flexproof soak ${runId}: ${outcomes.length}/${options.days} day(s), ${options.prosumers} households, ${S} s per hour`,
      samples, days: windows, verdicts,
      notes: [`A sample every ${options.sampleSeconds} s (${samples.length} samples). Each component is its process and every process it started. End of a day: the median of the samples in its last eighth.`,
        ...outcomes.map((o) => `day ${o.day + 1}: ${o.verified} verified, ${o.claimed} claimed, supply ${o.supply.outstanding} = accounts ${o.supply.sumOfAccounts}${o.problems.length ? `; problems: ${o.problems.join('; ')}` : ''}`)],
    }));
    return verdicts;
  };

  try {
    const network = readNetworkFacts();
    console.log('\n==> gateways, off-chain stores and MQTT broker');
    const tokens = { dso: randomBytes(24).toString('hex'), aggregator: randomBytes(24).toString('hex'), auditor: randomBytes(24).toString('hex') };
    const { aggUrl, dsoUrl, dso, aggregator, readEnrollment } = await startOrgServices(processes, soakDir, tokens);
    console.log(`gateways ${aggUrl} (aggregator) and ${dsoUrl} (DSO) ready`);

    console.log('\n==> sites: key pairs at the edge, meters registered once for every day');
    const sites: Site[] = PERSONAS.slice(0, options.prosumers).map((p, i) => {
      const id = `${runId}-${p.name.toLowerCase()}`;
      const dir = path.join(soakDir, 'sites', p.name.toLowerCase());
      mkdirSync(dir, { recursive: true });
      return {
        name: p.name, compliance: p.compliance, ...(p.solar ? { solar: p.solar } : {}),
        shape: p.solar ? SMALL_NET_CIRCUIT_ID : SMALL_CIRCUIT_ID,
        meterId: `meter-${id}`, prosumerId: `prosumer-${id}`, dir, configFile: path.join(dir, 'flexproof-edge.json'),
        ...requestProfileFor(i + 1, p.solar),
      };
    });
    const congestionPoint = `cp-${runId}`;
    for (const site of sites) {
      const init = spawnSync(process.execPath, [path.join(ROOT, 'edge-client', 'dist', 'cli.js'), 'init', '--config', site.configFile, '--meter-id', site.meterId, '--key-type', 'ec-p256'], { encoding: 'utf8' });
      if (init.status !== 0) throw new Error(`flexproof-edge init for ${site.name} failed: ${init.stderr}`);
      await dso.registerMeter({ meterId: site.meterId, prosumerId: site.prosumerId, publicKeyPem: init.stdout, congestionPoint });
    }
    const mqttAccounts = new Map(sites.map((site) => [site.name, {
      meter: { username: `meter-${site.name.toLowerCase()}`, password: randomBytes(18).toString('base64url') },
      edge: { username: `edge-${site.name.toLowerCase()}`, password: randomBytes(18).toString('base64url') },
    }]));
    const topicOf = (site: Site) => `flexproof/meters/${site.meterId}/energy`;
    const brokerAccounts: BrokerAccount[] = sites.flatMap((site) => {
      const a = mqttAccounts.get(site.name)!;
      return [{ ...a.meter, publishTopic: topicOf(site) }, { ...a.edge, subscribeTopics: [topicOf(site)] }];
    });
    const brokerAccountsFile = path.join(soakDir, 'broker-accounts.json');
    writeFileSync(brokerAccountsFile, JSON.stringify(brokerAccounts), { mode: 0o600 });
    const broker = processes.start('broker', process.execPath, [path.join(__dirname, 'broker-process.js'), brokerAccountsFile, String(PORTS.mqtt)]);
    await waitForBroker(PORTS.mqtt, broker.logFile, () => broker.alive());
    console.log(`${sites.length} meters registered; MQTT broker on 127.0.0.1:${PORTS.mqtt}`);

    console.log('\n==> verification keys and the auditor key (once, for every day)');
    const circuitIds = new Map<CircuitId, string>();
    for (const shape of new Set(sites.map((s) => s.shape))) {
      const verificationKey = readVerificationKey(await ensureArtifacts(shape));
      const id = `${shape}.${runId}`;
      await dso.proposeVerificationKey(id, verificationKey);
      await onceVisible(() => aggregator.approveVerificationKey(id, verificationKeyHash(verificationKey)));
      circuitIds.set(shape, id);
    }
    const circuitOf = (site: Site): string => circuitIds.get(site.shape)!;
    const auditorKey = generateSealingKeyPair();
    const auditorKeyFile = path.join(soakDir, 'auditor-key.pem');
    writeFileSync(auditorKeyFile, auditorKey.privateKeyPem, { mode: 0o600 });
    const auditorId = `regulator-${runId}`;
    await dso.proposeAuditorKey({ auditorId, publicKeyPem: auditorKey.publicKeyPem, description: 'the regulator of the soak' });
    await auditorKeyVisibleTo(aggregator, auditorId);
    await aggregator.approveAuditorKey(auditorId, sealingKeyHash(auditorKey.publicKeyPem));

    // Every day planned now (ids, start times, salts): each edge client is started once, knowing all its days.
    const graceSeconds = Math.max(60, 4 * S);
    const firstStartMs = Math.ceil((Date.now() + (30 + 8 * sites.length) * 1000) / 1000) * 1000;
    plans = Array.from({ length: options.days }, (_, d) => {
      const tag = `${runId}-day${d + 1}`;
      const startMs = firstStartMs + d * HOURS * S * 1000;
      return {
        day: d, tag, requestId: `req-${tag}`, offerId: `offer-${tag}`, orderId: `order-${tag}`, startMs,
        startTime: new Date(startMs).toISOString().replace('.000Z', 'Z'),
        enrollments: new Map(sites.map((site) => {
          const commitmentSalt = randomSalt();
          return [site.name, { enrollmentId: `enr-${tag}-${site.name.toLowerCase()}`, commitmentSalt, commitment: requestCommitmentFor(site.shape, commitmentSalt, site.requestWh).toString() }];
        })),
      };
    });
    for (const plan of plans) windows.push({ day: plan.day, startMs: plan.startMs, endMs: plan.startMs + HOURS * S * 1000 });

    console.log('\n==> edge clients and meters (started once, every day in their config)');
    for (const [i, site] of sites.entries()) {
      const config = JSON.parse(readFileSync(site.configFile, 'utf8')) as Record<string, unknown>;
      delete config.embeddedBrokerPort;
      delete config.embeddedBroker;
      delete config.gatewayUrl;
      delete config.gatewayMspId;
      const accounts = mqttAccounts.get(site.name)!;
      const meterPasswordFile = path.join(site.dir, 'meter-mqtt-password');
      writeFileSync(meterPasswordFile, accounts.meter.password, { mode: 0o600 });
      Object.assign(config, {
        prosumerId: site.prosumerId,
        gateways: [{ url: aggUrl, mspId: 'AggregatorMSP' }, { url: dsoUrl, mspId: 'DsoMSP' }],
        ledger: { channel: network.channel, chaincode: network.chaincode },
        mqtt: { url: `mqtt://127.0.0.1:${PORTS.mqtt}`, topic: topicOf(site), username: accounts.edge.username, password: accounts.edge.password },
        ratedPowerW: Math.ceil((50_000 * 3600) / S),
        closeDelaySeconds: Math.min(2, Math.max(1, Math.floor(S / 3))),
        retry: { initialMs: 500, maxMs: 5000 },
        logLevel: 'info',
        auditors: [auditorId],
        enrollments: plans.map((plan) => {
          const e = plan.enrollments.get(site.name)!;
          return { enrollmentId: e.enrollmentId, circuitId: circuitOf(site), startTime: plan.startTime, periodSeconds: S, graceSeconds,
            requestProfile: site.requestWh.map(String), commitmentSalt: e.commitmentSalt.toString(), requestCommitment: e.commitment,
            acceptPolicy: { orderId: plan.orderId, minReward: REWARD.toString(), maxRatePerWh: RATE_PER_WH.toString(), minToleranceWh: TOLERANCE_WH.toString(), maxFlexWh: site.flexWh.map(String) } };
        }),
      });
      writeFileSync(site.configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
      processes.start(`edge-${site.name.toLowerCase()}`, process.execPath, [path.join(ROOT, 'edge-client', 'dist', 'cli.js'), 'run', '--config', site.configFile]);
      // The meter follows day 1's enrollment; every day asks for the same profile, and the
      // meter's simulated time of day wraps every 24 hours, so it follows every day.
      processes.start(`meter-${site.name.toLowerCase()}`, process.execPath, [path.join(ROOT, 'edge-client', 'dist', 'cli.js'), 'simulate',
        '--config', site.configFile, '--enrollment', plans[0]!.enrollments.get(site.name)!.enrollmentId, '--compliance', String(site.compliance), '--seed', String(i + 1),
        '--username', accounts.meter.username, '--password-file', meterPasswordFile,
        ...(site.solar ? ['--solar-peak-w', String(site.solar.peakW)] : []),
        '--interval-ms', String(Math.max(50, Math.min(1000, Math.round((S * 1000) / 40))))]);
    }
    takeSample();
    sampler = setInterval(takeSample, options.sampleSeconds * 1000);

    /** A day's market and enrollments: on the ledger before the day starts, funded as each edge client accepts. */
    const openDay = async (plan: DayPlan) => {
      const price = 200n * BigInt(sites.length);
      await dso.mint({ account: 'org:AggregatorMSP', amount: (REWARD * BigInt(sites.length)).toString() });
      await dso.mint({ account: 'org:DsoMSP', amount: price.toString() });
      const offeredWh = Array.from({ length: HOURS }, (_, h) => sites.reduce((sum, s) => sum + s.flexWh[h]!, 0).toString());
      const day = new Date(plan.startMs).toISOString().slice(0, 10);
      await dso.createFlexRequest({ requestId: plan.requestId, congestionPoint, day, requestedWh: offeredWh });
      await onceVisible(() => aggregator.submitFlexOffer(plan.requestId, { offerId: plan.offerId, offeredWh, price: price.toString() }));
      await onceVisible(() => dso.acceptFlexOffer(plan.offerId, plan.orderId));
      for (const site of sites) {
        const e = plan.enrollments.get(site.name)!;
        await onceVisible(() => aggregator.offerEnrollment({
          enrollmentId: e.enrollmentId, orderId: plan.orderId, meterId: site.meterId, circuitId: circuitOf(site), requestCommitment: e.commitment,
          reward: REWARD.toString(), ratePerWh: RATE_PER_WH.toString(), toleranceWh: TOLERANCE_WH.toString(),
          flexWh: site.flexWh.map(String), startTime: plan.startTime, periodSeconds: S, graceSeconds,
        }));
      }
      const funded = new Set<string>();
      const deadline = plan.startMs + S * 1000;
      while (funded.size < sites.length) {
        for (const site of sites) {
          const { enrollmentId } = plan.enrollments.get(site.name)!;
          if (funded.has(enrollmentId)) continue;
          const view = await aggregator.enrollment(enrollmentId);
          if (view.enrollment.status === 'accepted') {
            try {
              await aggregator.fundEnrollment(enrollmentId);
            } catch (err) {
              if (!(alreadyDone(err) && (await aggregator.enrollment(enrollmentId)).enrollment.status === 'active')) throw err;
            }
            funded.add(enrollmentId);
          }
        }
        if (funded.size < sites.length) {
          if (Date.now() > deadline) throw new Error(`day ${plan.day + 1}: edge clients did not accept their enrollments before the day's first hour ended (see ${path.join(soakDir, 'logs')})`);
          await sleep(1000);
        }
      }
      console.log(`day ${plan.day + 1}: order ${plan.orderId}, ${sites.length} enrollments accepted by their edge clients and funded; starts ${plan.startTime}`);
    };

    const views = new Map<string, { enrollment: Enrollment; escrow: string }>();
    const refresh = async (plan: DayPlan) => {
      for (const site of sites) {
        const { enrollmentId } = plan.enrollments.get(site.name)!;
        views.set(enrollmentId, (await readEnrollment(enrollmentId)) as unknown as { enrollment: Enrollment; escrow: string });
      }
    };

    /** The day's hours as they settle: one progress line per simulated hour. */
    const runHours = async (plan: DayPlan) => {
      for (let h = 0; h < HOURS; h++) {
        const waitUntil = plan.startMs + (h + 1) * S * 1000 + Math.max(3, S) * 1000;
        for (;;) {
          await sleep(Math.min(1000, waitUntil - Date.now()));
          await refresh(plan);
          const settledAll = sites.every((s) => views.get(plan.enrollments.get(s.name)!.enrollmentId)!.enrollment.results[h] !== null);
          if (settledAll || Date.now() >= waitUntil + 30_000) break;
        }
        let verified = 0;
        let settled = 0;
        for (const s of sites) {
          const r = views.get(plan.enrollments.get(s.name)!.enrollmentId)!.enrollment.results[h];
          if (r) settled += 1;
          if (r?.outcome === 'verified') verified += 1;
        }
        const last = samples[samples.length - 1];
        const rss = last ? Object.values(last.values).reduce((sum, v) => sum + v.rssKiB, 0) : 0;
        const fds = last ? Object.values(last.values).reduce((sum, v) => sum + v.fds, 0) : 0;
        console.log(`day ${plan.day + 1}/${options.days} hour ${String(h).padStart(2, '0')}: settled ${settled}/${sites.length}, verified ${verified}  samples ${samples.length}  all components ${mib(rss)} MiB, ${fds} fds`);
      }
    };

    /** Claims what was missed, closes the programs, settles the order, audits the solar household and checks the day. */
    const closeDay = async (plan: DayPlan): Promise<DayOutcome> => {
      const problems: string[] = [];
      const lastDeadline = plan.startMs + (HOURS * S + graceSeconds + network.maxClockSkewSeconds) * 1000;
      let lateProofs = 0;
      await refresh(plan);
      for (const site of sites) {
        const { enrollmentId } = plan.enrollments.get(site.name)!;
        const v = views.get(enrollmentId)!;
        if (v.enrollment.status !== 'active') {
          problems.push(`${site.name}: enrollment ${v.enrollment.status}, not active, at the end of the day`);
          continue;
        }
        const missing = v.enrollment.results.map((r, p) => (r === null ? p : -1)).filter((p) => p >= 0);
        if (missing.length > 0) {
          console.log(`day ${plan.day + 1}: ${site.name}: ${missing.length} hour(s) without a proof (${missing.join(', ')}); claiming them after their deadline`);
          await sleep(lastDeadline + 1000 - Date.now());
          for (const p of missing) {
            try {
              await aggregator.claimMissedPeriod(enrollmentId, p);
            } catch (err) {
              const settled = alreadyDone(err) ? (await aggregator.enrollment(enrollmentId)).periods[p]?.result : undefined;
              if (!settled) throw err;
              lateProofs += 1;
            }
          }
        }
        try {
          await aggregator.closeEnrollment(enrollmentId);
        } catch (err) {
          if (!(alreadyDone(err) && (await aggregator.enrollment(enrollmentId)).enrollment.status === 'closed')) throw err;
        }
      }
      try {
        await aggregator.settleFlexOrder(plan.orderId);
      } catch (err) {
        if (!(alreadyDone(err) && (await aggregator.flexOrder(plan.orderId)).order.status === 'settled')) throw err;
      }
      // The check: every period settled exactly once, the same on both organisations' peers.
      let verified = 0;
      let claimed = 0;
      let penalties = 0;
      for (const site of sites) {
        const { enrollmentId } = plan.enrollments.get(site.name)!;
        const [atAggregator, atDso] = (await Promise.all([aggregator.enrollment(enrollmentId), dso.enrollment(enrollmentId)])) as unknown as [{ enrollment: Enrollment }, { enrollment: Enrollment }];
        // The audit below judges the final results, late proofs included.
        views.set(enrollmentId, atAggregator as unknown as { enrollment: Enrollment; escrow: string });
        const results = atAggregator.enrollment.results;
        if (atAggregator.enrollment.status !== 'closed') problems.push(`${site.name}: enrollment ${enrollmentId} is ${atAggregator.enrollment.status}, not closed`);
        if (results.length !== HOURS) problems.push(`${site.name}: ${results.length} periods on the ledger, not ${HOURS}`);
        results.forEach((r, p) => {
          if (r === null) problems.push(`${site.name}: period ${p} not settled`);
          else if (r.outcome === 'verified') {
            verified += 1;
            penalties += Number(r.penalty);
          } else if (r.outcome === 'missed') claimed += 1;
          else problems.push(`${site.name}: period ${p} settled as ${r.outcome}`);
          if (r !== null && r.periodIndex !== p) problems.push(`${site.name}: period ${p} holds the result of period ${r.periodIndex}`);
        });
        const txIds = results.map((r) => r?.txId ?? null);
        if (new Set(txIds.filter((t) => t !== null)).size !== txIds.filter((t) => t !== null).length) problems.push(`${site.name}: one transaction settled two periods`);
        if (JSON.stringify(txIds) !== JSON.stringify(atDso.enrollment.results.map((r) => r?.txId ?? null))) problems.push(`${site.name}: the DSO's peer holds other results than the aggregator's`);
      }
      const order = await aggregator.flexOrder(plan.orderId);
      if (order.order.status !== 'settled') problems.push(`order ${plan.orderId} is ${order.order.status}, not settled`);
      const supply = await dso.supply();
      const accounts = await dso.balances();
      const sumOfAccounts = accounts.accounts.reduce((sum, a) => sum + BigInt(a.balance), 0n);
      if (BigInt(supply.minted) - BigInt(supply.burned) !== BigInt(supply.outstanding) || BigInt(supply.outstanding) !== sumOfAccounts) {
        problems.push(`supply invariant: minted ${supply.minted} − burned ${supply.burned} vs outstanding ${supply.outstanding} vs all accounts ${sumOfAccounts}`);
      }
      let audit: DayOutcome['audit'];
      const solar = sites.find((s) => s.solar !== undefined);
      if (solar) {
        const e = plan.enrollments.get(solar.name)!;
        const requestFile = path.join(soakDir, `request-${solar.name.toLowerCase()}-day${plan.day + 1}.json`);
        writeFileSync(requestFile, JSON.stringify({ requestProfile: solar.requestWh.map(String), commitmentSalt: e.commitmentSalt.toString() }), { mode: 0o600 });
        const result = runAudit({ gatewayUrl: aggUrl, token: tokens.auditor, keyFile: auditorKeyFile, enrollmentId: e.enrollmentId, dir: soakDir, requestFile });
        const verdicts: Record<string, number> = {};
        for (const p of result.periods) verdicts[p.verdict] = (verdicts[p.verdict] ?? 0) + 1;
        audit = { prosumer: solar.name, verdicts };
        const verifiedHours = new Set(views.get(e.enrollmentId)?.enrollment.results.filter((r) => r?.outcome === 'verified').map((r) => r!.periodIndex));
        const bad = result.periods.filter((p) => verifiedHours.has(p.periodIndex) && p.verdict !== 'match');
        if (bad.length > 0) problems.push(`audit of ${solar.name}: verified hours that do not match: ${bad.map((p) => `${p.periodIndex} (${p.verdict})`).join(', ')}`);
      }
      return {
        day: plan.day, orderId: plan.orderId, verified, claimed, lateProofsBeforeClaim: lateProofs, penalties,
        supply: { minted: supply.minted, burned: supply.burned, outstanding: supply.outstanding, sumOfAccounts: sumOfAccounts.toString() },
        ...(audit ? { audit } : {}), problems, settledAt: new Date().toISOString(),
      };
    };

    console.log(`\n==> day 1: market and enrollments`);
    await openDay(plans[0]!);
    for (const plan of plans) {
      const next = plans[plan.day + 1];
      if (next) {
        console.log(`\n==> day ${next.day + 1}: market and enrollments, during day ${plan.day + 1}`);
        await openDay(next);
      }
      console.log(`\n==> day ${plan.day + 1}: 24 hours of ${S} s from ${plan.startTime}`);
      await runHours(plan);
      console.log(`\n==> day ${plan.day + 1}: claims, close, settlement, audit, check`);
      const outcome = await closeDay(plan);
      outcomes.push(outcome);
      console.log(`day ${plan.day + 1}: ${outcome.verified} verified, ${outcome.claimed} claimed (${outcome.lateProofsBeforeClaim} late proofs won the claim), penalties ${outcome.penalties}; supply ${outcome.supply.outstanding} = accounts ${outcome.supply.sumOfAccounts}${outcome.audit ? `; audit of ${outcome.audit.prosumer}: ${JSON.stringify(outcome.audit.verdicts)}` : ''}`);
      for (const p of outcome.problems) {
        console.log(`  day ${plan.day + 1} FAILED: ${p}`);
        failures.push(`day ${plan.day + 1}: ${p}`);
      }
      writeOutputs(false);
    }
    // The last day's window ends with its last hour; one more sample closes it.
    takeSample();
  } catch (err) {
    failures.push(`the soak stopped: ${err instanceof Error ? err.message : String(err)}`);
    console.error(`soak failed: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    if (sampler) clearInterval(sampler);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await processes.stopAll();
  }

  const verdicts = writeOutputs(true);
  if (outcomes.length < options.days) failures.push(`${outcomes.length} of ${options.days} day(s) completed`);
  for (const v of verdicts) failures.push(...v.problems);
  console.log('\ncomponent               RSS end day 1   RSS end last day   MiB/day (bound)   fds day 1   fds last   fds/day (bound)   verdict');
  for (const v of verdicts) {
    const f = (x: number | undefined, digits = 1) => (x === undefined ? '-' : x.toFixed(digits));
    console.log(`${v.role.padEnd(22)}  ${(v.firstDay ? mib(v.firstDay.rssKiB) : '-').padStart(10)} MiB  ${(v.lastDay ? mib(v.lastDay.rssKiB) : '-').padStart(12)} MiB  ${`${f(v.rssMiBPerDay)} (${f(v.rssBoundMiB)})`.padStart(16)}  ${String(v.firstDay?.fds ?? '-').padStart(10)}  ${String(v.lastDay?.fds ?? '-').padStart(9)}  ${`${f(v.fdsPerDay)} (${DEFAULT_BOUNDS.fdsPerDay})`.padStart(16)}   ${v.pass ? 'pass' : 'FAIL'}`);
  }
  console.log(`\n${samples.length} samples in ${((Date.now() - started) / 60_000).toFixed(1)} min; ${path.join(soakDir, 'samples.json')}, ${path.join(soakDir, 'verdict.json')}, chart ${path.join(soakDir, 'chart.html')}`);
  if (failures.length > 0) {
    console.log(`\nsoak FAILED:\n  ${[...new Set(failures)].join('\n  ')}`);
    return 1;
  }
  console.log(`\nsoak passed: ${outcomes.length} day(s) settled and checked, every component within its bounds`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`soak failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}

