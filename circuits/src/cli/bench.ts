#!/usr/bin/env node
// npm run bench:circuits (root) = npm run bench -w @flexproof/circuits [-- options]
// Per shape: constraint count, proving and verification times (median and spread over
// repeated runs), and CPU per proof of the three verifiers (snarkjs, prepared key, batch of
// 16 and 32). Prints tables, writes JSON and an HTML chart under .flexproof/bench/.

import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CIRCUIT_IDS, CircuitId, assertCircuitId, circuitShape } from '../circuit-ids';
import { ensureArtifacts, loadArtifacts, readVerificationKey } from '../artifacts';
import { CircuitError } from '../errors';
import { PERIODS_PER_DAY } from '../constants';
import { randomSalt } from '../hashing';
import { proveDeviation } from '../prove';
import { verifyDeviationProof } from '../verify';
import { prepareVerificationKey, verifyBatch, verifyPrepared } from '../prepared-verify';
import { NetDeviationWitnessParams, buildNetDeviationInput } from '../witness';
import { packageVersion } from '../circuit-source';

/** Batch sizes measured: the chaincode's default batch (32) and half of it. */
const BATCH_SIZES = [16, 32] as const;

const USAGE = `usage: npm run bench:circuits [-- [circuitId...] [--runs N] [--verify-runs N] [--batch-rounds N] [--out file.json]]

Measures every shape (${CIRCUIT_IDS.join(', ')}) unless some are named; builds missing
dev artifacts first (the 60-reading shapes take several minutes the first time).
  --runs N         proofs per shape after one warm-up (default 7)
  --verify-runs N  verifications per shape and verifier (default 30)
  --batch-rounds N batches of each size (${BATCH_SIZES.join(', ')}) per shape (default 4)
  --out FILE       JSON report (default <repo>/.flexproof/bench/circuits.json; an .html chart is written next to it)`;

export interface Stats {
  runs: number;
  medianMs: number;
  p25Ms: number;
  p75Ms: number;
  minMs: number;
  maxMs: number;
  meanMs: number;
  stdevMs: number;
}

export function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => {
    const i = (sorted.length - 1) * p;
    const lo = sorted[Math.floor(i)] ?? 0;
    const hi = sorted[Math.ceil(i)] ?? lo;
    return lo + (hi - lo) * (i - Math.floor(i));
  };
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  const variance = sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, sorted.length - 1);
  const round = (v: number): number => Math.round(v * 100) / 100;
  return {
    runs: sorted.length,
    medianMs: round(at(0.5)),
    p25Ms: round(at(0.25)),
    p75Ms: round(at(0.75)),
    minMs: round(sorted[0] ?? 0),
    maxMs: round(sorted[sorted.length - 1] ?? 0),
    meanMs: round(mean),
    stdevMs: round(Math.sqrt(variance)),
  };
}

/** CPU time (user + system, this process) per verified proof, strict checks included. */
export interface VerifierCpu {
  snarkjsMs: number;
  preparedMs: number;
  /** By batch size. */
  batchMs: Record<string, number>;
}

interface ShapeResult {
  circuitId: CircuitId;
  /** 'consumption' (v1) or 'net' (v2: import and export registers, signed request). */
  kind: string;
  readingsPerPeriod: number;
  constraints: number;
  ptauPower: number;
  artifactsKind: string;
  zkeyBytes: number;
  firstProveMs: number;
  firstVerifyMs: number;
  prove: Stats;
  verify: Stats;
  verifierCpu: VerifierCpu;
}

interface Options {
  ids: CircuitId[];
  runs: number;
  verifyRuns: number;
  batchRounds: number;
  out?: string;
}

function parseArgs(argv: string[]): Options {
  const ids: CircuitId[] = [];
  let runs = 7;
  let verifyRuns = 30;
  let batchRounds = 4;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new CircuitError('INVALID_INPUT', `${arg} needs a value`);
      return v;
    };
    const count = (): number => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new CircuitError('INVALID_INPUT', `${arg} needs a positive integer`);
      return n;
    };
    if (arg === '--runs') runs = count();
    else if (arg === '--verify-runs') verifyRuns = count();
    else if (arg === '--batch-rounds') batchRounds = count();
    else if (arg === '--out') out = value();
    else ids.push(assertCircuitId(arg));
  }
  return { ids: ids.length > 0 ? ids : [...CIRCUIT_IDS], runs, verifyRuns, batchRounds, out };
}

/** A random period; a v2 shape also gets exports and a signed profile (about half the hours net export). */
function randomPeriod(circuitId: CircuitId): NetDeviationWitnessParams {
  const { readingsPerPeriod, kind } = circuitShape(circuitId);
  const energies = (): bigint[] => Array.from({ length: readingsPerPeriod }, () => BigInt(randomInt(2 ** 16)));
  const bias = kind === 'net' ? 2n ** 15n * BigInt(readingsPerPeriod) : 0n;
  return {
    circuitId,
    prevFingerprint: randomSalt(),
    periodIndex: randomInt(PERIODS_PER_DAY),
    importWh: energies(),
    exportWh: kind === 'net' ? energies() : undefined,
    requestProfile: Array.from({ length: PERIODS_PER_DAY }, () => BigInt(randomInt(2 ** 16) * readingsPerPeriod) - bias),
    commitmentSalt: randomSalt(),
    fingerprintSalt: randomSalt(),
  };
}

async function time<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = process.hrtime.bigint();
  const result = await work();
  return [result, Number(process.hrtime.bigint() - started) / 1e6];
}

/** CPU milliseconds (user + system) that `work` takes, divided by `perItems`. */
async function cpuPer<T>(perItems: number, work: () => Promise<T>): Promise<number> {
  const started = process.cpuUsage();
  await work();
  const used = process.cpuUsage(started);
  return Math.round(((used.user + used.system) / 1000 / perItems) * 100) / 100;
}

/**
 * CPU per proof of snarkjs's verifier (verifyDeviationProof), of the prepared key
 * (verifyPrepared) and of batches; every verifier runs its strict checks. Each is warmed
 * up first (the prepared key is built outside the measurement: once per key and process).
 */
async function benchVerifiers(vk: unknown, proofs: { proof: unknown; publicSignals: string[] }[], verifyRuns: number, batchRounds: number): Promise<VerifierCpu> {
  const at = (i: number): { proof: unknown; publicSignals: string[] } => proofs[i % proofs.length] as { proof: unknown; publicSignals: string[] };
  const prepared = await prepareVerificationKey(vk);
  const expectTrue = (ok: boolean, what: string): void => {
    if (!ok) throw new CircuitError('VERIFIER_FAILED', `a fresh proof did not verify with ${what}`);
  };
  expectTrue(await verifyPrepared(prepared, at(0).proof, at(0).publicSignals), 'the prepared key');
  const snarkjsMs = await cpuPer(verifyRuns, async () => {
    for (let i = 0; i < verifyRuns; i++) expectTrue(await verifyDeviationProof(vk, at(i).proof, at(i).publicSignals), 'snarkjs');
  });
  const preparedMs = await cpuPer(verifyRuns, async () => {
    for (let i = 0; i < verifyRuns; i++) expectTrue(await verifyPrepared(prepared, at(i).proof, at(i).publicSignals), 'the prepared key');
  });
  const batchMs: Record<string, number> = {};
  for (const size of BATCH_SIZES) {
    const items = Array.from({ length: size }, (_, i) => at(i));
    expectTrue((await verifyBatch(prepared, items, 'warm-up')).every(Boolean), `a batch of ${size}`);
    batchMs[String(size)] = await cpuPer(size * batchRounds, async () => {
      for (let round = 0; round < batchRounds; round++) {
        expectTrue((await verifyBatch(prepared, items, `bench-${size}-${round}`)).every(Boolean), `a batch of ${size}`);
      }
    });
  }
  return { snarkjsMs, preparedMs, batchMs };
}

async function benchShape(circuitId: CircuitId, { runs, verifyRuns, batchRounds }: Options): Promise<ShapeResult> {
  try {
    loadArtifacts(circuitId);
  } catch (error) {
    if (!(error instanceof CircuitError) || error.code !== 'ARTIFACTS_MISSING') throw error;
    const { readingsPerPeriod, kind } = circuitShape(circuitId);
    // flexnet-v2-r60 is the one shape needing powers of tau 2^14 (11,414 constraints).
    const estimate = readingsPerPeriod < 60 ? 'about 2 minutes' : kind === 'net' ? 'about 15-25 minutes' : 'about 4-6 minutes';
    console.log(`[bench] ${circuitId}: no artifacts yet; building them first (one-off, ${estimate} on 2 cores)`);
  }
  const artifacts = await ensureArtifacts(circuitId, {
    onProgress: (e) => console.log(`[bench setup ${(e.elapsedMs / 1000).toFixed(1).padStart(6)}s] ${circuitId} ${e.step}: ${e.message}`),
  });
  const vk = readVerificationKey(artifacts);
  console.log(`[bench] ${circuitId}: ${artifacts.manifest.constraints} constraints; 1 warm-up + ${runs} proofs, ${verifyRuns} verifications`);
  const [first, firstProveMs] = await time(() => proveDeviation(circuitId, buildNetDeviationInput(randomPeriod(circuitId)), artifacts));
  const proveMs: number[] = [];
  const proofs = [first];
  for (let i = 0; i < runs; i++) {
    const input = buildNetDeviationInput(randomPeriod(circuitId));
    const [proof, ms] = await time(() => proveDeviation(circuitId, input, artifacts));
    proveMs.push(ms);
    proofs.push(proof);
  }
  // The first verification builds the cached single-threaded curve: reported apart.
  const [, firstVerifyMs] = await time(() => verifyDeviationProof(vk, first.proof, first.publicSignals));
  const verifyMs: number[] = [];
  for (let i = 0; i < verifyRuns; i++) {
    const proof = proofs[i % proofs.length] as (typeof proofs)[number];
    const [ok, ms] = await time(() => verifyDeviationProof(vk, proof.proof, proof.publicSignals));
    if (!ok) throw new CircuitError('VERIFIER_FAILED', `a fresh ${circuitId} proof did not verify`);
    verifyMs.push(ms);
  }
  console.log(`[bench] ${circuitId}: CPU per proof of snarkjs, prepared and batched verification (${verifyRuns} single, ${batchRounds} batches of ${BATCH_SIZES.join(' and ')})`);
  const verifierCpu = await benchVerifiers(vk, proofs, verifyRuns, batchRounds);
  return {
    circuitId,
    kind: circuitShape(circuitId).kind,
    readingsPerPeriod: artifacts.manifest.readingsPerPeriod,
    constraints: artifacts.manifest.constraints,
    ptauPower: artifacts.manifest.ptau.power,
    artifactsKind: artifacts.manifest.kind,
    zkeyBytes: artifacts.manifest.files.zkey.bytes,
    firstProveMs: Math.round(firstProveMs),
    firstVerifyMs: Math.round(firstVerifyMs),
    prove: stats(proveMs),
    verify: stats(verifyMs),
    verifierCpu,
  };
}

/** CPU ms per proof of each verifier, with its speed-up over snarkjs's. */
function verifierTable(results: ShapeResult[]): string {
  const cell = (ms: number, base: number): string => `${ms.toFixed(2)} (${(base / ms).toFixed(1)}x)`;
  const rows = [
    ['circuit', 'snarkjs verify', 'prepared verify', ...BATCH_SIZES.map((n) => `batch of ${n}`)],
    ...results.map((r) => {
      const c = r.verifierCpu;
      return [r.circuitId, cell(c.snarkjsMs, c.snarkjsMs), cell(c.preparedMs, c.snarkjsMs), ...BATCH_SIZES.map((n) => cell(c.batchMs[String(n)] ?? NaN, c.snarkjsMs))];
    }),
  ];
  return alignTable(rows);
}

function alignTable(rows: string[][], leftColumns = 1): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length))) ?? [];
  const line = (row: string[]): string => row.map((cell, c) => (c < leftColumns ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ');
  const [head, ...body] = rows;
  return [line(head ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function table(results: ShapeResult[]): string {
  const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const spread = (s: Stats): string => `${ms(s.p25Ms)}–${ms(s.p75Ms)} (${ms(s.minMs)}–${ms(s.maxMs)})`;
  const rows = [
    ['circuit', 'kind', 'readings', 'constraints', 'prove median ms', 'prove IQR (min–max)', 'verify median ms', 'verify IQR (min–max)'],
    ...results.map((r) => [
      r.circuitId,
      r.kind,
      String(r.readingsPerPeriod),
      String(r.constraints),
      ms(r.prove.medianMs),
      spread(r.prove),
      ms(r.verify.medianMs),
      spread(r.verify),
    ]),
  ];
  return alignTable(rows, 3);
}

function html(report: { generatedAt: string; machine: string; results: ShapeResult[] }): string {
  const panel = (title: string, pick: (r: ShapeResult) => Stats): string => {
    const max = Math.max(...report.results.map((r) => pick(r).maxMs)) * 1.1 || 1;
    const x = (v: number): number => 170 + (v / max) * 500;
    const rows = report.results
      .map((r, i) => {
        const s = pick(r);
        const y = 30 + i * 40;
        return `<text x="10" y="${y + 5}">${r.circuitId}</text>
<line x1="${x(s.minMs)}" x2="${x(s.maxMs)}" y1="${y}" y2="${y}" stroke="#555"/>
<rect x="${x(s.p25Ms)}" y="${y - 10}" width="${Math.max(1, x(s.p75Ms) - x(s.p25Ms))}" height="20" fill="#9ecae1" stroke="#3182bd"/>
<line x1="${x(s.medianMs)}" x2="${x(s.medianMs)}" y1="${y - 10}" y2="${y + 10}" stroke="#08306b" stroke-width="2"/>
<text x="${x(s.maxMs) + 6}" y="${y + 5}">${s.medianMs} ms</text>`;
      })
      .join('\n');
    const height = 50 + report.results.length * 40;
    return `<h2>${title}</h2><svg width="800" height="${height}" font-family="sans-serif" font-size="12">${rows}
<line x1="170" x2="670" y1="${height - 12}" y2="${height - 12}" stroke="#999"/><text x="170" y="${height}">0</text><text x="640" y="${height}">${max.toFixed(0)} ms</text></svg>`;
  };
  return `<!doctype html><meta charset="utf-8"><title>flexproof circuits benchmark</title>
<body style="font-family:sans-serif;max-width:860px">
<h1>flexproof circuits benchmark</h1><p>${report.generatedAt} — ${report.machine}. Box: 25th–75th percentile, bar: median, whiskers: min–max.</p>
${panel('Proving time', (r) => r.prove)}
${panel('Verification time (strict checks + snarkjs, one thread)', (r) => r.verify)}
<pre>${table(report.results)}</pre>
<h2>Verification CPU per proof, ms (speed-up over snarkjs)</h2><pre>${verifierTable(report.results)}</pre></body>`;
}

/** The checkout's root (the package.json with workspaces), where .flexproof/ lives. */
function repoRoot(): string {
  const dir = path.resolve(__dirname, '..', '..');
  for (let up = dir; ; up = path.dirname(up)) {
    const manifest = path.join(up, 'package.json');
    if (existsSync(manifest) && 'workspaces' in (JSON.parse(readFileSync(manifest, 'utf8')) as object)) return up;
    if (path.dirname(up) === up) return dir;
  }
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const options = parseArgs(argv);
  const { ids, out } = options;
  const results: ShapeResult[] = [];
  for (const id of ids) results.push(await benchShape(id, options));
  const cpus = os.cpus();
  const machine = `${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, node ${process.version}, snarkjs ${packageVersion('snarkjs')}`;
  const report = { generatedAt: new Date().toISOString(), machine, proverThreads: 1, verifierThreads: 1, results };
  // npm runs this in the package directory; a relative --out is meant from where npm was invoked.
  const jsonPath = out ? path.resolve(process.env.INIT_CWD ?? process.cwd(), out) : path.join(repoRoot(), '.flexproof', 'bench', 'circuits.json');
  mkdirSync(path.dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  const htmlPath = jsonPath.replace(/\.json$/, '') + '.html';
  writeFileSync(htmlPath, html(report));
  console.log(`\n${table(results)}\n\nVerification CPU per proof, ms (speed-up over snarkjs), strict checks included:\n${verifierTable(results)}\n\n${machine}\nJSON: ${jsonPath}\nchart: ${htmlPath}`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    const code = error instanceof CircuitError ? error.code : 'BENCH_FAILED';
    console.error(`circuits bench failed [${code}]: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof CircuitError && typeof error.details.output === 'string') console.error(error.details.output);
    process.exit(1);
  },
);
