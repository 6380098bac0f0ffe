/**
 * The figures of a bench run: one row per (settlement path, prosumer count), a table on
 * stdout, JSON, and an HTML page of SVG charts next to it.
 */
import type { LatencySummary } from './stats';

/** The published prototype: 2,000 prosumers' verified proofs in 43 minutes (MISSION.md). */
export const PUBLISHED_PER_SECOND = 0.78;
export const GOAL_PER_SECOND = 20;
export const GOAL_P99_MS = 5000;

export interface ScenarioResult {
  path: string;
  prosumers: number;
  mode: 'closed' | 'open';
  concurrency: number;
  ratePerSecond?: number;
  /** Gateway settings of this path. */
  gatewaySettings: Record<string, string>;
  /** Settlement transactions sent by the gateways and their mean size (periods each). */
  batches?: { transactions: number; meanSize: number; flushes: Record<string, number> };
  setupSeconds: number;
  durationSeconds: number;
  committed: number;
  /** Committed settlements by outcome, claims of the offline cohort, and failures by class. */
  outcomes: OutcomeCounts;
  sustainedPerSecond: number;
  /** Verified settlements (with or without penalty) per second over the same window. */
  verifiedPerSecond: number;
  window: { fromSeconds: number; toSeconds: number };
  ratioToPublished: number;
  latency: LatencySummary;
  errors: Record<string, number>;
  /** One gateway message per error kind. */
  errorExamples: Record<string, string>;
  unserved: number;
  exhausted: boolean;
  /** CPU seconds per component over the load, its share in cores, and ms per settlement. */
  cpu: { component: string; cpuSeconds: number; cores: number; msPerSettlement: number }[];
  /**
   * The whole machine during the load: busy cores (every process, the bench's and any
   * other work on the machine) and the 1-minute load average at its end.
   */
  machine: { busyCores: number; loadAverage1m: number };
  /** Commits per second from the start of the load. */
  timeline: number[];
}

export interface OutcomeCounts {
  verified: number;
  penalised: number;
  invalidProof: number;
  claimed: number;
  /** Refused by the chaincode or the gateway (4xx), or contended (503 LEDGER_CONTENDED: read conflicts that outlived the gateway's retries). */
  refused: number;
  /** No answer, connection lost, or 5xx. */
  transport: number;
}

/** Failure kinds (clients.ts errorKind) into the outcome classes. */
export function failureClass(kind: string): 'refused' | 'transport' {
  return kind === 'mvcc' || kind.startsWith('rejected:') ? 'refused' : 'transport';
}

export interface StageRow {
  stage: string;
  count: number;
  ms: number;
}

/** The full-day stage table: entries, wall time and rate of each stage, and the total. */
export function stageTable(stages: readonly StageRow[], totalMs: number): string {
  const rows = [
    ['stage', 'count', 'wall s', 'per s'],
    ...stages.map((s) => [s.stage, String(s.count), (s.ms / 1000).toFixed(1), s.ms > 0 ? (s.count / (s.ms / 1000)).toFixed(1) : '-']),
    ['total (wall, every stage)', '', (totalMs / 1000).toFixed(1), ''],
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  const line = (r: string[]): string => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ').trimEnd();
  const [head, ...body] = rows;
  return [line(head ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export interface ShapeTiming {
  circuitId: string;
  constraints: number;
  proveMedianMs?: number;
  proveRuns: number;
  note?: string;
}

export interface BenchReport {
  generatedAt: string;
  machine: string;
  network: string;
  pool: { circuitId: string; chains: number; deviations: string; cached: boolean; file: string; proveMedianMs: number; setupSeconds: number };
  workload: Record<string, unknown>;
  /** CPU ms per proof (process CPU time, one thread): snarkjs path, prepared key, batch of `batchSize`. */
  verification: { singleMedianMs: number; preparedMsPerProof: number; batchMsPerProof: number; batchSize: number; runs: number };
  /** settled/s of batched over plain, per M, when both ran. */
  ratios: { prosumers: number; batchedOverPlain: number }[];
  fullDay?: { prosumers: number; stages: StageRow[]; totalMs: number };
  supplyAudit?: { minted: string; burned: string; balances: string; accounts: number; imbalance: string };
  loadAverage: string;
  proving: ShapeTiming[];
  scenarios: ScenarioResult[];
}

const f1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '-');
const s2 = (ms: number): string => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : '-');

export function scenarioTable(rows: readonly ScenarioResult[]): string {
  const table = [
    ['path', 'M', 'loop', 'conc.', 'committed', 'settled/s', 'verified/s', 'p50 s', 'p95 s', 'p99 s', 'verified / +penalty / invalidProof / claimed / refused / transport', 'errors', 'CPU cores: peers / orderer / chaincode / gateways / driver (machine)'],
    ...rows.map((r) => {
      const cores = (name: string): string => f1(r.cpu.find((c) => c.component === name)?.cores ?? Number.NaN);
      const errors = Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(', ') || '0';
      return [
        r.path,
        String(r.prosumers),
        r.mode === 'open' ? `open ${r.ratePerSecond}/s` : 'closed',
        String(r.concurrency),
        String(r.committed),
        f1(r.sustainedPerSecond),
        f1(r.verifiedPerSecond),
        s2(r.latency.p50Ms),
        s2(r.latency.p95Ms),
        s2(r.latency.p99Ms),
        [r.outcomes.verified, r.outcomes.penalised, r.outcomes.invalidProof, r.outcomes.claimed, r.outcomes.refused, r.outcomes.transport].join(' / '),
        errors,
        `${['peers', 'orderer', 'chaincode', 'gateways', 'driver'].map(cores).join(' / ')} (${f1(r.machine.busyCores)})`,
      ];
    }),
  ];
  const widths = table[0]?.map((_, c) => Math.max(...table.map((row) => (row[c] ?? '').length))) ?? [];
  const line = (row: string[]): string => row.map((cell, c) => (c === 0 || c >= 11 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ');
  const [head, ...body] = table;
  return [line(head ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** CPU ms per committed settlement by component, one row per scenario. */
export function cpuTable(rows: readonly ScenarioResult[]): string {
  const components = ['peers', 'orderer', 'chaincode', 'gateways', 'driver'];
  const table = [
    ['path', 'M', ...components.map((c) => `${c} ms`), 'total ms', 'periods / tx'],
    ...rows.map((r) => {
      const ms = components.map((c) => r.cpu.find((x) => x.component === c)?.msPerSettlement ?? Number.NaN);
      return [r.path, String(r.prosumers), ...ms.map(f1), f1(ms.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0)), f1(r.batches?.meanSize ?? Number.NaN)];
    }),
  ];
  const widths = table[0]?.map((_, c) => Math.max(...table.map((row) => (row[c] ?? '').length))) ?? [];
  const line = (row: string[]): string => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ');
  const [head, ...body] = table;
  return [line(head ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

const COLORS = ['#3182bd', '#e6550d', '#31a354', '#756bb1', '#636363', '#d6616b', '#8c6d31'];

function svgBars(title: string, labels: string[], series: { name: string; values: number[] }[], unit: string, refs: { value: number; label: string }[] = []): string {
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values.filter(Number.isFinite)), ...refs.map((r) => r.value)) * 1.15;
  const groupW = 640 / Math.max(1, labels.length);
  const barW = Math.max(4, (groupW - 16) / Math.max(1, series.length));
  const y = (v: number): number => 250 - (v / max) * 220;
  const bars = labels
    .map((label, i) =>
      series
        .map((s, j) => {
          const v = s.values[i] ?? 0;
          if (!Number.isFinite(v)) return '';
          const x = 60 + i * groupW + 8 + j * barW;
          return `<rect x="${x}" y="${y(v)}" width="${barW - 2}" height="${250 - y(v)}" fill="${COLORS[j % COLORS.length]}"><title>${s.name} ${label}: ${v.toFixed(2)} ${unit}</title></rect>`;
        })
        .join('') + `<text x="${60 + i * groupW + groupW / 2}" y="268" text-anchor="middle">${label}</text>`,
    )
    .join('\n');
  const lines = refs
    .map((r) => `<line x1="60" x2="700" y1="${y(r.value)}" y2="${y(r.value)}" stroke="#c00" stroke-dasharray="4 3"/><text x="702" y="${y(r.value) + 4}" fill="#c00">${r.label}</text>`)
    .join('');
  const legend = series.map((s, j) => `<rect x="${60 + j * 150}" y="290" width="10" height="10" fill="${COLORS[j % COLORS.length]}"/><text x="${74 + j * 150}" y="299">${s.name}</text>`).join('');
  return `<h2>${title}</h2><svg width="820" height="310" font-family="sans-serif" font-size="11">
<line x1="60" x2="60" y1="30" y2="250" stroke="#999"/><line x1="60" x2="700" y1="250" y2="250" stroke="#999"/>
<text x="55" y="${y(max / 1.15) + 4}" text-anchor="end">${(max / 1.15).toFixed(1)}</text><text x="55" y="254" text-anchor="end">0</text><text x="10" y="20">${unit}</text>
${bars}${lines}${legend}</svg>`;
}

function svgTimeline(rows: readonly ScenarioResult[]): string {
  const max = Math.max(1, ...rows.flatMap((r) => r.timeline)) * 1.1;
  const len = Math.max(1, ...rows.map((r) => r.timeline.length));
  const x = (i: number): number => 60 + (i / len) * 640;
  const y = (v: number): number => 250 - (v / max) * 220;
  const paths = rows
    .map((r, j) => `<polyline fill="none" stroke="${COLORS[j % COLORS.length]}" stroke-width="1.5" points="${r.timeline.map((v, i) => `${x(i + 0.5)},${y(v)}`).join(' ')}"><title>${r.path} M=${r.prosumers}</title></polyline>`)
    .join('\n');
  const legend = rows.map((r, j) => `<rect x="${60 + (j % 4) * 170}" y="${285 + Math.floor(j / 4) * 14}" width="10" height="10" fill="${COLORS[j % COLORS.length]}"/><text x="${74 + (j % 4) * 170}" y="${294 + Math.floor(j / 4) * 14}">${r.path} M=${r.prosumers}</text>`).join('');
  return `<h2>Committed settlements per second during the load</h2><svg width="820" height="${300 + Math.ceil(rows.length / 4) * 14}" font-family="sans-serif" font-size="11">
<line x1="60" x2="60" y1="30" y2="250" stroke="#999"/><line x1="60" x2="700" y1="250" y2="250" stroke="#999"/>
<text x="55" y="${y(max / 1.1) + 4}" text-anchor="end">${(max / 1.1).toFixed(0)}/s</text><text x="700" y="266" text-anchor="end">${len} s</text>
${paths}${legend}</svg>`;
}

export function reportHtml(report: BenchReport): string {
  const rows = report.scenarios;
  const labels = rows.map((r) => `${r.path} M=${r.prosumers}`);
  const components = ['peers', 'orderer', 'chaincode', 'gateways', 'driver'];
  const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return `<!doctype html><meta charset="utf-8"><title>flexproof settlement throughput</title>
<body style="font-family:sans-serif;max-width:900px">
<h1>flexproof: verified hourly proofs settled per second</h1>
<p>${report.generatedAt} — ${escape(report.machine)}. Network: ${escape(report.network)}. Published prototype: ${PUBLISHED_PER_SECOND}/s; goal: ${GOAL_PER_SECOND}/s with p99 under ${GOAL_P99_MS / 1000} s.</p>
${svgBars('Sustained committed settlements per second', labels, [{ name: 'settled/s', values: rows.map((r) => r.sustainedPerSecond) }], 'per second', [
    { value: PUBLISHED_PER_SECOND, label: 'published 0.78/s' },
    { value: GOAL_PER_SECOND, label: `goal ${GOAL_PER_SECOND}/s` },
  ])}
${svgBars('Latency from submit to commit', labels, [
    { name: 'p50', values: rows.map((r) => r.latency.p50Ms / 1000) },
    { name: 'p95', values: rows.map((r) => r.latency.p95Ms / 1000) },
    { name: 'p99', values: rows.map((r) => r.latency.p99Ms / 1000) },
  ], 'seconds', [{ value: GOAL_P99_MS / 1000, label: 'p99 goal' }])}
${svgBars('CPU per settlement, by component', labels, components.map((c) => ({ name: c, values: rows.map((r) => r.cpu.find((x) => x.component === c)?.msPerSettlement ?? Number.NaN) })), 'CPU ms per settlement')}
${svgTimeline(rows)}
<h2>Table</h2><pre>${escape(scenarioTable(rows))}</pre>
<h2>Verification and proving</h2><pre>${escape(JSON.stringify({ verification: report.verification, proving: report.proving, pool: report.pool }, null, 2))}</pre>
</body>`;
}
