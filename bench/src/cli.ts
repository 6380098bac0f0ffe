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
  proveDeviation,
  randomSalt,
  readVerificationKey,
  verifyDeviationProof,
  type CircuitArtifacts,
} from '@flexproof/circuits';
import { cpuDelta, cpuSamplingAvailable, machineBusyMs, sampleCpu } from './cpu-sampler';
import { freePort, GatewayFleet, type GatewayProcess } from './gateway-processes';
import { runLoad } from './load-driver';
import { openNetwork, type NetworkSession } from './network-session';
import { parseOptions, USAGE, UsageError, type BenchOptions, type SettlementPath } from './options';
import { BENCH_DIR, NETWORK_STATE_DIR } from './paths';
import { createPortfolio } from './portfolio';
import { loadOrMakePool, type ProofPool } from './proof-pool';
import {
  PUBLISHED_PER_SECOND,
  reportHtml,
  scenarioTable,
  type BenchReport,
  type ScenarioResult,
  type ShapeTiming,
} from './report';
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

/** Verification time per proof in the chaincode path: the function the chaincode calls, in this process. */
async function measureVerification(pool: ProofPool, vk: unknown, runs: number): Promise<BenchReport['verification']> {
  const proofs = pool.chains.flatMap((c) => c.proofs);
  await verifyDeviationProof(vk, proofs[0]?.proof, proofs[0]?.publicSignals); // builds the cached curve
  const single: number[] = [];
  for (let i = 0; i < runs; i++) {
    const item = proofs[i % proofs.length];
    const [ok, ms] = await timed(() => verifyDeviationProof(vk, item?.proof, item?.publicSignals));
    if (!ok) throw new Error('a pooled proof did not verify');
    single.push(ms);
  }
  log(`verification (strict checks + snarkjs, one thread): median ${percentile(single, 50).toFixed(1)} ms per proof over ${runs}`);
  return { singleMedianMs: percentile(single, 50), runs };
}

/** Gateway settings of a settlement path (the plain path runs the gateway as shipped). */
function gatewayEnv(_pathName: SettlementPath, _o: BenchOptions): Record<string, string> {
  return {};
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

/** Writes the JSON and HTML report (after every scenario, so a failed run keeps what it measured). */
function writeReport(
  o: BenchOptions,
  pool: ProofPool,
  cached: boolean,
  file: string,
  verification: BenchReport['verification'],
  proving: ShapeTiming[],
  scenarios: ScenarioResult[],
): { jsonPath: string; htmlPath: string; report: BenchReport } {
  const cpus = os.cpus();
  const report: BenchReport = {
    generatedAt: new Date().toISOString(),
    machine: `${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, node ${process.version}`,
    network: `Fabric 2.5 native, 1 Raft orderer, 2 peers (AND endorsement), CCaaS; ${NETWORK_STATE_DIR}`,
    pool: { circuitId: pool.circuitId, chains: pool.chains.length, deviationWh: pool.deviationWh, cached, file, proveMedianMs: percentile(pool.proveMs, 50) },
    verification,
    proving,
    scenarios,
  };
  const jsonPath = o.out ? path.resolve(process.env.INIT_CWD ?? process.cwd(), o.out) : path.join(BENCH_DIR, 'throughput.json');
  mkdirSync(path.dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  const htmlPath = `${jsonPath.replace(/\.json$/, '')}.html`;
  writeFileSync(htmlPath, reportHtml(report));
  return { jsonPath, htmlPath, report };
}

async function main(argv: string[]): Promise<void> {
  const parsed = parseOptions(argv);
  if (parsed === 'help') {
    console.log(USAGE);
    return;
  }
  const o = parsed;
  const runId = Date.now().toString(36);
  log(`run ${runId}: M = ${o.prosumers.join(', ')}; paths ${o.paths.join(', ')}; ${o.mode} loop; up to ${o.durationSeconds} s of load each`);

  const artifacts = await ensureArtifacts(SMALL_CIRCUIT_ID, {
    onProgress: (e) => log(`circuit set-up ${SMALL_CIRCUIT_ID} ${e.step}: ${e.message}`),
  });
  const vk = readVerificationKey(artifacts);
  let lastBar = 0;
  const { pool, cached, file } = await loadOrMakePool(artifacts, o.chains, o.deviationWh, (done, total) => {
    if (Date.now() - lastBar > 1000 || done === total) {
      lastBar = Date.now();
      log(`proof pool ${bar(done, total)} ${done}/${total} proofs (made once, cached)`);
    }
  });
  log(`proof pool: ${pool.chains.length} chain(s) × ${PERIODS_PER_DAY} periods of ${pool.circuitId}, deviation ${pool.deviationWh} Wh${cached ? ' (cached)' : ''}: ${file}`);
  const proving = await measureProving(o.proveRuns);
  const verification = await measureVerification(pool, vk, o.verifyRuns);

  const tokens = { dso: randomBytes(24).toString('hex'), aggregator: randomBytes(24).toString('hex') };
  const scenarios: ScenarioResult[] = [];
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
    for (const m of o.prosumers) {
      let started = await startFleet(ports, tokens, gatewayEnv(o.paths[0] ?? 'plain', o));
      fleet = started.fleet;
      const setupStart = Date.now();
      const { prosumers, circuitId } = await createPortfolio(
        { runId: `${runId}m${m}`, dso: started.dso, aggregator: started.aggregator, tokens, pool, verificationKey: vk, log, concurrency: o.setupConcurrency },
        m,
      );
      const setupSeconds = (Date.now() - setupStart) / 1000;
      log(`set-up of M = ${m} done in ${setupSeconds.toFixed(0)} s`);
      const share = Math.floor(PERIODS_PER_DAY / o.paths.length);
      for (const [k, pathName] of o.paths.entries()) {
        if (k > 0) {
          await fleet.stopAll();
          started = await startFleet(ports, tokens, gatewayEnv(pathName, o));
          fleet = started.fleet;
        }
        const env = gatewayEnv(pathName, o);
        const concurrency = Math.min(m, o.concurrency ?? 128);
        const groups = cpuGroups(network, fleet);
        const cpuBefore = sampleCpu(groups);
        const driverBefore = process.cpuUsage();
        const machineBefore = machineBusyMs();
        log(`load: ${pathName} path, M = ${m}, ${o.mode === 'closed' ? `${concurrency} in flight` : `${o.rate}/s offered`}, periods ${k * share}..${(k + 1) * share - 1}`);
        const result = await runLoad(
          prosumers,
          pool,
          circuitId,
          {
            mode: o.mode,
            concurrency,
            ratePerSecond: o.rate,
            durationMs: o.durationSeconds * 1000,
            timeoutMs: o.timeoutSeconds * 1000,
            maxAttempts: 3,
            gapMs: o.gapMs,
            untilPeriod: (k + 1) * share,
          },
          (p) => {
            const ok = p.committed;
            log(`${pathName} M=${m} ${(p.elapsedMs / 1000).toFixed(0).padStart(3)}s: ${ok} committed (${(ok / Math.max(0.001, p.elapsedMs / 1000)).toFixed(1)}/s), ${p.inFlight} in flight${o.mode === 'open' ? `, ${p.queued} queued` : ''}, ${p.failed} failed`);
          },
        );
        const cpuAfter = sampleCpu(groups);
        const driver = process.cpuUsage(driverBefore);
        const machineMs = machineBusyMs() - machineBefore;
        const wallMs = result.loadEndMs - result.startMs;
        const ok = result.samples.filter((s) => s.ok);
        const window = sustainedWindow(result.startMs, result.loadEndMs);
        const sustained = rateOverWindow(ok.map((s) => s.endMs), window.fromMs, window.toMs);
        const errors: Record<string, number> = {};
        const errorExamples: Record<string, string> = {};
        for (const s of result.samples) {
          if (s.ok) continue;
          const kind = s.kind ?? 'unknown';
          errors[kind] = (errors[kind] ?? 0) + 1;
          errorExamples[kind] ??= s.message ?? '';
        }
        const cpuMs = cpuDelta(cpuBefore, cpuAfter);
        cpuMs.set('driver', (driver.user + driver.system) / 1000);
        const loadWallMs = Math.max(1, result.endMs - result.startMs);
        scenarios.push({
          path: pathName,
          prosumers: m,
          mode: o.mode,
          concurrency,
          ...(o.mode === 'open' ? { ratePerSecond: o.rate } : {}),
          gatewaySettings: env,
          setupSeconds,
          durationSeconds: wallMs / 1000,
          committed: ok.length,
          sustainedPerSecond: sustained,
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
          machine: { busyCores: machineMs / loadWallMs, loadAverage1m: os.loadavg()[0] ?? Number.NaN },
          timeline: perSecond(ok.map((s) => s.endMs), result.startMs, result.endMs),
        });
        console.log(`\n${scenarioTable(scenarios.slice(-1))}\n`);
        writeReport(o, pool, cached, file, verification, proving, scenarios);
      }
      await fleet.stopAll();
      fleet = undefined;
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await stopEverything();
  }

  const { jsonPath, htmlPath, report } = writeReport(o, pool, cached, file, verification, proving, scenarios);
  console.log(`\n${scenarioTable(scenarios)}\n`);
  console.log(`verification per proof (chaincode path, one thread): ${verification.singleMedianMs.toFixed(1)} ms`);
  console.log(`proving per shape (edge, one thread): ${proving.map((p) => `${p.circuitId} ${p.proveMedianMs === undefined ? p.note : `${p.proveMedianMs.toFixed(0)} ms`}`).join('; ')}`);
  console.log(`${report.machine}\nJSON: ${jsonPath}\nchart: ${htmlPath}`);
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
