#!/usr/bin/env node
/**
 * npm run bench [-- options]: the throughput benchmark of settlement (see options.ts for
 * the options, docs/performance.md for the figures and what they mean).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import * as path from 'node:path';
import {
  CIRCUIT_IDS,
  SMALL_CIRCUIT_ID,
  PERIODS_PER_DAY,
  buildDeviationInput,
  circuitShape,
  ensureArtifacts,
  loadArtifacts,
  prepareVerificationKey,
  proveDeviation,
  randomSalt,
  readVerificationKey,
  verifyBatchDetailed,
  verifyDeviationProof,
  verifyPrepared,
  type CircuitArtifacts,
} from '@flexproof/circuits';
import { cpuDelta, cpuSamplingAvailable, machineBusyMs, sampleCpu } from './cpu-sampler';
import { freePort, GatewayFleet, type GatewayProcess } from './gateway-processes';
import { claimOffline, closeAll, compactBalances, settleOrder, supplyAudit, type ClaimResult, type OrgClient, type SupplyAudit } from './day';
import { runLoad } from './load-driver';
import { openNetwork, type NetworkSession } from './network-session';
import { gatewayEnv, parseOptions, USAGE, UsageError, type BenchOptions, type SettlementPath } from './options';
import { BENCH_DIR, NETWORK_STATE_DIR } from './paths';
import { createPortfolio, type Portfolio, type StageTiming } from './portfolio';
import { loadOrMakePool, type ProofPool } from './proof-pool';
import {
  PUBLISHED_PER_SECOND,
  cpuTable,
  failureClass,
  reportHtml,
  scenarioTable,
  stageTable,
  type BenchReport,
  type ScenarioResult,
  type ShapeTiming,
} from './report';
import { drawCohort, drawDeviations } from './workload';
import { percentile, perSecond, rateOverWindow, summariseLatencies, sustainedWindow } from './stats';

const t0 = Date.now();
function log(line: string): void {
  console.log(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${line}`);
}

function bar(done: number, total: number, width = 24): string {
  const filled = Math.round((done / Math.max(1, total)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  return [result, performance.now() - start];
}

/** Proving time per circuit shape at the edge: each shape whose artifacts are built. */
async function measureProving(runs: number): Promise<ShapeTiming[]> {
  const out: ShapeTiming[] = [];
  for (const circuitId of CIRCUIT_IDS) {
    let artifacts: CircuitArtifacts;
    try {
      artifacts = loadArtifacts(circuitId);
    } catch {
      out.push({ circuitId, constraints: 0, proveRuns: 0, note: `artifacts not built (npm run setup -w @flexproof/circuits -- ${circuitId})` });
      continue;
    }
    const { readingsPerPeriod } = circuitShape(circuitId);
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const input = buildDeviationInput({
        circuitId,
        prevFingerprint: randomSalt(),
        periodIndex: i % PERIODS_PER_DAY,
        readings: Array.from({ length: readingsPerPeriod }, () => 250n),
        requestProfile: Array.from({ length: PERIODS_PER_DAY }, () => 250n * BigInt(readingsPerPeriod)),
        commitmentSalt: randomSalt(),
        fingerprintSalt: randomSalt(),
      });
      samples.push((await timed(() => proveDeviation(circuitId, input, artifacts)))[1]);
    }
    out.push({ circuitId, constraints: artifacts.manifest.constraints, proveRuns: runs, proveMedianMs: percentile(samples, 50) });
    log(`proving ${circuitId} (${artifacts.manifest.constraints} constraints): median ${percentile(samples, 50).toFixed(0)} ms over ${runs}`);
  }
  return out;
}

function cpuMsOf<T>(work: () => Promise<T>): Promise<[T, number]> {
  const before = process.cpuUsage();
  return work().then((r) => {
    const d = process.cpuUsage(before);
    return [r, (d.user + d.system) / 1000];
  });
}

/**
 * CPU per proof of the three verifiers (this process, one thread; process CPU time, so
 * the machine's other work does not count): snarkjs with the strict checks
 * (verifyDeviationProof), the prepared key (verifyPrepared, what SubmitPeriod uses),
 * and a batch of `batchSize` (verifyBatchDetailed, what SubmitPeriods uses).
 */
async function measureVerification(pool: ProofPool, vk: unknown, runs: number, batchSize: number): Promise<BenchReport['verification']> {
  const proofs = pool.chains.flatMap((c) => c.proofs);
  await verifyDeviationProof(vk, proofs[0]?.proof, proofs[0]?.publicSignals); // builds the cached curve
  const single: number[] = [];
  const prepared: number[] = [];
  const key = await prepareVerificationKey(vk);
  for (let i = 0; i < runs; i++) {
    const item = proofs[i % proofs.length];
    const [ok, ms] = await cpuMsOf(() => verifyDeviationProof(vk, item?.proof, item?.publicSignals));
    const [ok2, ms2] = await cpuMsOf(() => verifyPrepared(key, item?.proof, item?.publicSignals));
    if (!ok || !ok2) throw new Error('a pooled proof did not verify');
    single.push(ms);
    prepared.push(ms2);
  }
  const batch: number[] = [];
  const batchRuns = Math.max(3, Math.ceil(runs / 4));
  for (let r = 0; r < batchRuns; r++) {
    const items = Array.from({ length: batchSize }, (_, k) => proofs[(r * batchSize + k) % proofs.length] as { proof: unknown; publicSignals: unknown });
    const [verdicts, ms] = await cpuMsOf(() => verifyBatchDetailed(key, items, randomBytes(32)));
    if (verdicts.some((v) => v.status !== 'valid')) throw new Error('a pooled proof did not verify in a batch');
    batch.push(ms / batchSize);
  }
  const out = {
    singleMedianMs: percentile(single, 50),
    preparedMsPerProof: percentile(prepared, 50),
    batchMsPerProof: percentile(batch, 50),
    batchSize,
    runs,
  };
  log(`verification CPU per proof (one thread): snarkjs + strict checks ${out.singleMedianMs.toFixed(1)} ms, prepared key ${out.preparedMsPerProof.toFixed(1)} ms, batch of ${batchSize} ${out.batchMsPerProof.toFixed(2)} ms (medians of ${runs}, ${runs}, ${batchRuns} runs)`);
  return out;
}

interface Ports {
  aggregator: number;
  dso: number;
  aggregatorStore: number;
  dsoStore: number;
}

async function choosePorts(): Promise<Ports> {
  const env = (name: string): number | undefined => (process.env[name] ? Number(process.env[name]) : undefined);
  return {
    aggregator: env('FLEXPROOF_BENCH_AGGREGATOR_PORT') ?? (await freePort()),
    dso: env('FLEXPROOF_BENCH_DSO_PORT') ?? (await freePort()),
    aggregatorStore: env('FLEXPROOF_BENCH_AGGREGATOR_STORE_PORT') ?? (await freePort()),
    dsoStore: env('FLEXPROOF_BENCH_DSO_STORE_PORT') ?? (await freePort()),
  };
}

async function startFleet(ports: Ports, tokens: { dso: string; aggregator: string }, env: Record<string, string>): Promise<{ fleet: GatewayFleet; dso: GatewayProcess; aggregator: GatewayProcess }> {
  const fleet = new GatewayFleet();
  try {
    const aggregator = await fleet.start('aggregator', { token: tokens.aggregator, port: ports.aggregator, storePort: ports.aggregatorStore, env });
    const dso = await fleet.start('dso', { token: tokens.dso, port: ports.dso, storePort: ports.dsoStore, env });
    return { fleet, dso, aggregator };
  } catch (err) {
    await fleet.stopAll();
    throw err;
  }
}

interface RunState {
  o: BenchOptions;
  pool: ProofPool;
  cached: boolean;
  file: string;
  poolSetupSeconds: number;
  verification: BenchReport['verification'];
  proving: ShapeTiming[];
  scenarios: ScenarioResult[];
  fullDay?: BenchReport['fullDay'];
  supplyAudit?: SupplyAudit;
}

function ratios(scenarios: readonly ScenarioResult[]): BenchReport['ratios'] {
  const out: BenchReport['ratios'] = [];
  for (const m of new Set(scenarios.map((r) => r.prosumers))) {
    const plain = scenarios.find((r) => r.prosumers === m && r.path === 'plain');
    const batched = scenarios.find((r) => r.prosumers === m && r.path === 'batched');
    if (plain && batched && plain.sustainedPerSecond > 0) out.push({ prosumers: m, batchedOverPlain: batched.sustainedPerSecond / plain.sustainedPerSecond });
  }
  return out;
}

function loadAverage(): string {
  return os.loadavg().map((v) => v.toFixed(2)).join(', ');
}

/** Writes the JSON and HTML report (after every scenario, so a failed run keeps what it measured). */
function writeReport(st: RunState): { jsonPath: string; htmlPath: string; report: BenchReport } {
  const { o, pool } = st;
  const cpus = os.cpus();
  const report: BenchReport = {
    generatedAt: new Date().toISOString(),
    machine: `${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, node ${process.version}`,
    network: `Fabric 2.5 native, 1 Raft orderer, 2 peers (AND endorsement), CCaaS; ${NETWORK_STATE_DIR}`,
    pool: {
      circuitId: pool.circuitId,
      chains: pool.chains.length,
      deviations: o.deviationWh === undefined ? `drawn (seed ${o.seed}): ${Math.round(o.penaltyShare * 100)} % of periods 11..60 Wh, the rest 0..10 Wh` : `fixed ${o.deviationWh} Wh`,
      cached: st.cached,
      file: st.file,
      proveMedianMs: percentile(pool.proveMs, 50),
      setupSeconds: st.poolSetupSeconds,
    },
    workload: { penaltyShare: o.penaltyShare, invalidShare: o.invalidShare, offlineShare: o.offlineShare, seed: o.seed, fixedDeviationWh: o.deviationWh ?? null },
    verification: st.verification,
    proving: st.proving,
    scenarios: st.scenarios,
    ratios: ratios(st.scenarios),
    ...(st.fullDay ? { fullDay: st.fullDay } : {}),
    ...(st.supplyAudit ? { supplyAudit: st.supplyAudit } : {}),
    loadAverage: loadAverage(),
  };
  const jsonPath = o.out ? path.resolve(process.env.INIT_CWD ?? process.cwd(), o.out) : path.join(BENCH_DIR, o.fullDay ? 'full-day.json' : 'throughput.json');
  mkdirSync(path.dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  const htmlPath = `${jsonPath.replace(/\.json$/, '')}.html`;
  writeFileSync(htmlPath, reportHtml(report));
  return { jsonPath, htmlPath, report };
}

/**
 * Settlement transactions the gateways sent and their sizes, from their /metrics
 * (flexproof_gateway_period_batch_size: 1 for a plain SubmitPeriod) and the flush
 * reasons; cumulative since the gateways started, which is this path's load only.
 */
async function batchMetrics(fleet: GatewayFleet): Promise<NonNullable<ScenarioResult['batches']>> {
  let sum = 0;
  let count = 0;
  const flushes: Record<string, number> = {};
  for (const g of fleet.gateways) {
    try {
      const text = await (await fetch(`${g.url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
      for (const line of text.split('\n')) {
        const m = /^flexproof_gateway_period_batch_(size_sum|size_count|flushes_total)(?:\{reason="(\w+)"\})? ([0-9.e+]+)$/.exec(line);
        if (!m) continue;
        const v = Number(m[3]);
        if (m[1] === 'size_sum') sum += v;
        else if (m[1] === 'size_count') count += v;
        else if (m[2]) flushes[m[2]] = (flushes[m[2]] ?? 0) + v;
      }
    } catch {
      // a gateway without metrics leaves the figure out
    }
  }
  return { transactions: count, meanSize: count > 0 ? sum / count : Number.NaN, flushes };
}

interface LoadSpec {
  pathName: SettlementPath;
  m: number;
  portfolio: Portfolio;
  setupSeconds: number;
  durationMs: number;
  env: Record<string, string>;
}

/** Runs the load of one path on its portfolio, claims its offline cohort, and makes the scenario row. */
async function runScenario(o: BenchOptions, pool: ProofPool, network: NetworkSession, fleet: GatewayFleet, spec: LoadSpec, agg: OrgClient): Promise<{ row: ScenarioResult; claims: ClaimResult }> {
  const { pathName, m, portfolio } = spec;
  // Capacity at the in-flight level where each path holds: plain at 512 queued past the
  // 10 s clock skew (CLOCK_SKEW refusals); batched needs more in flight to fill N-item batches.
  const concurrency = Math.min(m, o.concurrency ?? (pathName === 'plain' ? 128 : 256));
  const groups = cpuGroups(network, fleet);
  const cpuBefore = sampleCpu(groups);
  const driverBefore = process.cpuUsage();
  const machineBefore = machineBusyMs();
  log(`load: ${pathName} path, M = ${m}, ${o.mode === 'closed' ? `${concurrency} in flight` : `${o.rate}/s offered`}; uptime load average ${loadAverage()}`);
  const result = await runLoad(
    portfolio.prosumers,
    pool,
    portfolio.circuitId,
    {
      mode: o.mode,
      concurrency,
      ratePerSecond: o.rate,
      durationMs: spec.durationMs,
      timeoutMs: o.timeoutSeconds * 1000,
      maxAttempts: 3,
      gapMs: o.gapMs,
    },
    (p) => {
      const ok = p.committed;
      if (Math.round(p.elapsedMs / 1000) % 5 === 0) log(`${pathName} M=${m} ${(p.elapsedMs / 1000).toFixed(0).padStart(3)}s: ${ok} committed (${(ok / Math.max(0.001, p.elapsedMs / 1000)).toFixed(1)}/s), ${p.inFlight} in flight${o.mode === 'open' ? `, ${p.queued} queued` : ''}, ${p.failed} failed`);
    },
  );
  const cpuAfter = sampleCpu(groups);
  const driver = process.cpuUsage(driverBefore);
  const machineMs = machineBusyMs() - machineBefore;
  const loadAverage1m = os.loadavg()[0] ?? Number.NaN;
  const batches = await batchMetrics(fleet);
  log(`${pathName}: ${batches.transactions} settlement transactions, ${batches.meanSize.toFixed(1)} periods each on average; flushes ${JSON.stringify(batches.flushes)}`);
  const claims = await claimOffline(agg, portfolio.prosumers, o.setupConcurrency, log);
  const wallMs = result.loadEndMs - result.startMs;
  const ok = result.samples.filter((s) => s.ok);
  const window = sustainedWindow(result.startMs, result.loadEndMs);
  const sustained = rateOverWindow(ok.map((s) => s.endMs), window.fromMs, window.toMs);
  const verifiedRate = rateOverWindow(ok.filter((s) => s.outcome !== 'invalidProof').map((s) => s.endMs), window.fromMs, window.toMs);
  const errors: Record<string, number> = {};
  const errorExamples: Record<string, string> = {};
  const outcomes = { verified: 0, penalised: 0, invalidProof: 0, claimed: claims.claimed, refused: 0, transport: 0 };
  for (const s of result.samples) {
    if (s.ok) {
      outcomes[s.outcome ?? 'verified']++;
      continue;
    }
    const kind = s.kind ?? 'unknown';
    outcomes[failureClass(kind)]++;
    errors[kind] = (errors[kind] ?? 0) + 1;
    errorExamples[kind] ??= s.message ?? '';
  }
  for (const [code, n] of Object.entries(claims.refused)) {
    errors[`claim:${code}`] = n;
    outcomes.refused += n;
  }
  const cpuMs = cpuDelta(cpuBefore, cpuAfter);
  cpuMs.set('driver', (driver.user + driver.system) / 1000);
  const loadWallMs = Math.max(1, result.endMs - result.startMs);
  const row: ScenarioResult = {
    path: pathName,
    prosumers: m,
    mode: o.mode,
    concurrency,
    ...(o.mode === 'open' ? { ratePerSecond: o.rate } : {}),
    gatewaySettings: spec.env,
    batches,
    setupSeconds: spec.setupSeconds,
    durationSeconds: wallMs / 1000,
    committed: ok.length,
    outcomes,
    sustainedPerSecond: sustained,
    verifiedPerSecond: verifiedRate,
    window: { fromSeconds: (window.fromMs - result.startMs) / 1000, toSeconds: (window.toMs - result.startMs) / 1000 },
    ratioToPublished: sustained / PUBLISHED_PER_SECOND,
    latency: summariseLatencies(ok.map((s) => s.endMs - s.startMs)),
    errors,
    errorExamples,
    unserved: result.unserved,
    exhausted: result.exhausted,
    cpu: cpuSamplingAvailable
      ? [...cpuMs].map(([component, ms]) => ({
          component,
          cpuSeconds: ms / 1000,
          cores: ms / loadWallMs,
          msPerSettlement: ok.length > 0 ? ms / ok.length : Number.NaN,
        }))
      : [],
    machine: { busyCores: machineMs / loadWallMs, loadAverage1m },
    timeline: perSecond(ok.map((s) => s.endMs), result.startMs, result.endMs),
  };
  return { row, claims };
}

async function main(argv: string[]): Promise<void> {
  const parsed = parseOptions(argv);
  if (parsed === 'help') {
    console.log(USAGE);
    return;
  }
  const o = parsed;
  const runId = Date.now().toString(36);
  if (o.fullDay) log(`run ${runId}: full day of M = ${o.fullDay} on the batched path (N = ${o.batchItems}); uptime load average ${loadAverage()}`);
  else log(`run ${runId}: M = ${o.prosumers.join(', ')}; paths ${o.paths.join(', ')}; ${o.mode} loop; up to ${o.durationSeconds} s of load each; uptime load average ${loadAverage()}`);

  const artifacts = await ensureArtifacts(SMALL_CIRCUIT_ID, {
    onProgress: (e) => log(`circuit set-up ${SMALL_CIRCUIT_ID} ${e.step}: ${e.message}`),
  });
  const vk = readVerificationKey(artifacts);
  let lastBar = 0;
  const deviations = drawDeviations(o.chains, o.seed, { penaltyShare: o.penaltyShare, ...(o.deviationWh === undefined ? {} : { fixedDeviationWh: o.deviationWh }) });
  const poolStart = Date.now();
  const { pool, cached, file } = await loadOrMakePool(artifacts, deviations, (done, total) => {
    if (Date.now() - lastBar > 1000 || done === total) {
      lastBar = Date.now();
      log(`proof pool ${bar(done, total)} ${done}/${total} proofs (made once, cached)`);
    }
  });
  const poolSetupSeconds = (Date.now() - poolStart) / 1000;
  const penalised = deviations.flat().filter((d) => d > 10).length;
  log(`proof pool: ${pool.chains.length} chain(s) × ${PERIODS_PER_DAY} periods of ${pool.circuitId}, ${penalised}/${deviations.flat().length} periods above the tolerance${cached ? ' (cached)' : ''}, set-up ${poolSetupSeconds.toFixed(0)} s: ${file}`);
  const proving = o.proveRuns > 0 ? await measureProving(o.proveRuns) : [];
  const verification = await measureVerification(pool, vk, o.verifyRuns, o.batchItems);
  const st: RunState = { o, pool, cached, file, poolSetupSeconds, verification, proving, scenarios: [] };

  const tokens = { dso: randomBytes(24).toString('hex'), aggregator: randomBytes(24).toString('hex') };
  let network: NetworkSession | undefined;
  let fleet: GatewayFleet | undefined;
  const stopEverything = async (): Promise<void> => {
    await fleet?.stopAll();
    fleet = undefined;
    network?.stop();
    network = undefined;
  };
  const onSignal = (): void => {
    log('interrupted: stopping what the bench started');
    void stopEverything().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    network = openNetwork(log);
    const ports = await choosePorts();
    const runs: { pathName: SettlementPath; m: number }[] = o.fullDay
      ? [{ pathName: 'batched', m: o.fullDay }]
      : o.prosumers.flatMap((m) => o.paths.map((pathName) => ({ pathName, m })));
    for (const [k, { pathName, m }] of runs.entries()) {
      const env = gatewayEnv(pathName, o);
      const started = await startFleet(ports, tokens, env);
      fleet = started.fleet;
      const agg: OrgClient = { gateway: started.aggregator, token: tokens.aggregator };
      const dayStart = Date.now();
      const stages: StageTiming[] = [];
      const draws = drawCohort(m, o.seed + m, { invalidShare: o.invalidShare, offlineShare: o.offlineShare });
      const portfolio = await createPortfolio({
        runId: `${runId}${pathName[0]}${m}`,
        dso: started.dso,
        aggregator: started.aggregator,
        tokens,
        pool,
        verificationKey: vk,
        log,
        concurrency: o.setupConcurrency,
        draws,
        onStage: (t) => {
          stages.push(t);
          log(`stage: ${t.stage}: ${t.count} in ${(t.ms / 1000).toFixed(1)} s`);
        },
      });
      const setupSeconds = (Date.now() - dayStart) / 1000;
      const funding = stages.filter((t) => t.stage.startsWith('enrollments')).reduce((n, t) => n + t.ms, 0);
      log(`set-up of M = ${m} (${pathName}) done in ${setupSeconds.toFixed(0)} s: ${(m / Math.max(0.001, funding / 1000)).toFixed(1)} enrollments offered, accepted and funded per second`);
      const loadStart = Date.now();
      const { row, claims } = await runScenario(o, pool, network, fleet, {
        pathName,
        m,
        portfolio,
        setupSeconds,
        durationMs: o.fullDay ? 6 * 3600_000 : o.durationSeconds * 1000,
        env,
      }, agg);
      st.scenarios.push(row);
      console.log(`\n${scenarioTable([row])}\n`);
      if (o.fullDay) {
        const settleMs = Date.now() - loadStart;
        stages.push({ stage: `periods settled (batched, ${row.concurrency} in flight) + offline claims`, count: row.committed + claims.claimed, ms: settleMs });
        const timedStage = async <T>(name: string, count: (r: T) => number, work: () => Promise<T>): Promise<T> => {
          const t0 = Date.now();
          const r = await work();
          const t = { stage: name, count: count(r), ms: Date.now() - t0 };
          stages.push(t);
          log(`stage: ${t.stage}: ${t.count} in ${(t.ms / 1000).toFixed(1)} s`);
          return r;
        };
        const closes = await timedStage('enrollments closed', (r: ClaimResult) => r.claimed, () => closeAll(agg, portfolio.prosumers, o.setupConcurrency, log));
        for (const [code, n] of Object.entries(closes.refused)) log(`close refused ${n} × ${code}`);
        await timedStage('order settled', () => 1, () => settleOrder(agg, portfolio.orderId));
        const totalMs = Date.now() - dayStart;
        st.fullDay = { prosumers: m, stages, totalMs };
        console.log(`\nfull day, M = ${m}: every transaction of the day in ${(totalMs / 60_000).toFixed(1)} min (target 15 min for 2,000)\n${stageTable(stages, totalMs)}\n`);
      }
      writeReport(st);
      if (k === runs.length - 1) {
        st.supplyAudit = await supplyAudit(agg);
        log(`supply audit: minted ${st.supplyAudit.minted}, burned ${st.supplyAudit.burned}, balances ${st.supplyAudit.balances} over ${st.supplyAudit.accounts} accounts: imbalance ${st.supplyAudit.imbalance}`);
        if (o.compact) {
          const t0 = Date.now();
          const c = await compactBalances(agg);
          const ms = Date.now() - t0;
          log(`compaction: ${c.deltas} delta records of ${c.accounts} account(s) folded in ${(ms / 1000).toFixed(1)} s`);
          if (st.fullDay) st.fullDay.stages.push({ stage: 'balances compacted (delta records)', count: c.deltas, ms });
          const after = await supplyAudit(agg);
          if (after.imbalance !== st.supplyAudit.imbalance) throw new Error(`the compaction changed the imbalance: ${st.supplyAudit.imbalance} -> ${after.imbalance}`);
        }
      }
      await fleet.stopAll();
      fleet = undefined;
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await stopEverything();
  }

  const { jsonPath, htmlPath, report } = writeReport(st);
  console.log(`\n${scenarioTable(st.scenarios)}\n`);
  console.log(`CPU ms per committed settlement, by component:\n${cpuTable(st.scenarios)}\n`);
  for (const r of report.ratios) console.log(`M = ${r.prosumers}: batched / plain settled per second = ${r.batchedOverPlain.toFixed(2)}`);
  if (st.fullDay) console.log(`\nfull day, M = ${st.fullDay.prosumers}:\n${stageTable(st.fullDay.stages, st.fullDay.totalMs)}`);
  const v = verification;
  console.log(`verification CPU per proof (one thread): snarkjs + strict checks ${v.singleMedianMs.toFixed(1)} ms; prepared key ${v.preparedMsPerProof.toFixed(1)} ms; batch of ${v.batchSize} ${v.batchMsPerProof.toFixed(2)} ms`);
  console.log(`proof pool (set-up, not in any figure): ${pool.chains.length} chains × ${PERIODS_PER_DAY}, ${cached ? 'cached' : `made in ${poolSetupSeconds.toFixed(0)} s`}`);
  if (proving.length > 0) console.log(`proving per shape (edge, one thread): ${proving.map((p) => `${p.circuitId} ${p.proveMedianMs === undefined ? p.note : `${p.proveMedianMs.toFixed(0)} ms`}`).join('; ')}`);
  console.log(`${report.machine}; load average at the end ${report.loadAverage}\nJSON: ${jsonPath}\nchart: ${htmlPath}`);
  const audit = st.supplyAudit;
  console.log(`supply audit: imbalance ${audit?.imbalance ?? 'not checked'}`);
  if (!audit || audit.imbalance !== '0') throw new Error(`supply audit failed: imbalance ${audit?.imbalance ?? 'not checked'} (minted - burned must equal every balance and escrow)`);
}

function cpuGroups(network: NetworkSession, fleet: GatewayFleet): Map<string, number[]> {
  const groups = new Map<string, number[]>([
    ['peers', []],
    ['orderer', []],
    ['chaincode', []],
    ['gateways', fleet.gateways.map((g) => g.pid)],
  ]);
  for (const [name, pid] of network.components()) {
    const group = name.startsWith('peer') ? 'peers' : name.startsWith('chaincode') ? 'chaincode' : name.startsWith('orderer') ? 'orderer' : undefined;
    if (group) groups.get(group)?.push(pid);
  }
  return groups;
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
