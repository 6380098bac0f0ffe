/**
 * What the soak (demo/src/soak.ts) measures of each component process and how it judges
 * it: resident memory and open file descriptors read from /proc, the value of each at the
 * end of each day, growth per day after the first day, and the bounds a healthy service
 * stays within. Also the chart (one line per component) drawn from the samples.
 *
 * Apart from the driver so that the judgement can be tested without a network.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** One reading of one component: its process and every process it started (a wrapper's child is the program). */
export interface ProcessReading {
  /** The component's own pid (the root of the tree that was summed). */
  pid: number;
  /** VmRSS summed over the process and its descendants, KiB. */
  rssKiB: number;
  /** Entries of /proc/PID/fd summed over the process and its descendants. */
  fds: number;
  /** Processes in the tree. */
  processes: number;
}

export interface Sample {
  /** ISO time of the sample. */
  t: string;
  /** ms since the epoch (what the analysis uses). */
  ms: number;
  /** Soak day (0-based) and simulated hour the sample fell in; hour null before the first day or after the last. */
  day: number | null;
  hour: number | null;
  /** By component role (`peer-dso`, `edge-ada`, ...); a role missing from a sample had no live process then. */
  values: Record<string, ProcessReading>;
}

/** Parent pid of every process, read once per sample from /proc/PID/stat. */
export function processParents(procDir = '/proc'): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of readdirSync(procDir)) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`${procDir}/${entry}/stat`, 'utf8');
      // The command name (field 2) is in parentheses and may hold spaces: fields count from the last ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(rest[1]));
    } catch {
      // the process ended between readdir and read
    }
  }
  return parents;
}

/** The kernel's resident set size of a process, KiB (VmRSS); undefined when it has gone (or is a zombie, which has none). */
export function rssKiBOf(pid: number, procDir = '/proc'): number | undefined {
  try {
    const status = readFileSync(`${procDir}/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Open file descriptors of a process (sockets, pipes, files, eventfds...); undefined when it has gone. */
export function fdCountOf(pid: number, procDir = '/proc'): number | undefined {
  try {
    return readdirSync(`${procDir}/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** Reads a process and its descendants; undefined if the process itself is gone. */
export function readProcessTree(pid: number, parents: Map<number, number>, procDir = '/proc'): ProcessReading | undefined {
  const rootRss = rssKiBOf(pid, procDir);
  const rootFds = fdCountOf(pid, procDir);
  if (rootRss === undefined || rootFds === undefined) return undefined;
  const children = new Map<number, number[]>();
  for (const [child, parent] of parents) children.set(parent, [...(children.get(parent) ?? []), child]);
  let rssKiB = rootRss;
  let fds = rootFds;
  let processes = 1;
  const queue = [...(children.get(pid) ?? [])];
  const seen = new Set([pid]);
  while (queue.length > 0) {
    const p = queue.shift()!;
    if (seen.has(p)) continue;
    seen.add(p);
    const r = rssKiBOf(p, procDir);
    const f = fdCountOf(p, procDir);
    if (r !== undefined && f !== undefined) {
      rssKiB += r;
      fds += f;
      processes += 1;
    }
    queue.push(...(children.get(p) ?? []));
  }
  return { pid, rssKiB, fds, processes };
}

/**
 * The bounds, per day after the first (warm-up) day. A component fails the RSS bound when
 * its end-of-day RSS grows by more than both rssMiBPerDay and rssPercentPerDay of its
 * day-1 value per day (the larger of the two is allowed: small processes get the MiB
 * floor, large ones the percentage); the fd bound when its end-of-day fd count grows by
 * more than fdsPerDay per day.
 */
export interface Bounds {
  rssMiBPerDay: number;
  rssPercentPerDay: number;
  fdsPerDay: number;
}

/**
 * Chosen against what a leak of the size that matters looks like at the soak's rate (per
 * day, 24 periods per household, 24 × prosumers submissions per gateway): one descriptor
 * kept per period or per submission is ≥ 24 fds a day, well over 10, while a healthy
 * service's count is flat but for a few connections open at the moment of a sample. Node's
 * heap breathes by tens of MiB between collections (hence the end-of-day median, not one
 * sample) and Go's runtime returns memory lazily; 32 MiB or 10 % a day is above that
 * breathing and below a leak of ~170 KiB per submission at a gateway (8 prosumers) or
 * ~1.3 MiB per proof at an edge client (a proof's witness and wasm memory kept).
 */
export const DEFAULT_BOUNDS: Bounds = { rssMiBPerDay: 32, rssPercentPerDay: 10, fdsPerDay: 10 };

export interface DayWindow {
  day: number;
  startMs: number;
  endMs: number;
}

/** The end of a day: the median of a component's samples in the day's last `tailFraction` (at least `minSamples` of the last ones). */
export function endOfDay(samples: readonly Sample[], role: string, window: DayWindow, tailFraction = 0.125, minSamples = 3): { rssKiB: number; fds: number; samples: number } | undefined {
  const inDay = samples.filter((s) => s.ms >= window.startMs && s.ms < window.endMs && s.values[role] !== undefined);
  if (inDay.length === 0) return undefined;
  const tailStart = window.endMs - (window.endMs - window.startMs) * tailFraction;
  let tail = inDay.filter((s) => s.ms >= tailStart);
  if (tail.length < minSamples) tail = inDay.slice(-minSamples);
  const median = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  return { rssKiB: median(tail.map((s) => s.values[role]!.rssKiB)), fds: median(tail.map((s) => s.values[role]!.fds)), samples: tail.length };
}

export interface ComponentVerdict {
  role: string;
  firstDay?: { rssKiB: number; fds: number };
  lastDay?: { rssKiB: number; fds: number };
  /** Growth per day from the end of day 1 to the end of the last day (undefined with one day). */
  rssMiBPerDay?: number;
  fdsPerDay?: number;
  /** The RSS growth allowed per day for this component (MiB). */
  rssBoundMiB?: number;
  /** Pids seen for the component beyond the first: each one a death and restart. */
  restarts: number;
  pass: boolean;
  /** Why it failed, naming the component and the figure. */
  problems: string[];
}

/** Judges every role seen in the samples against the bounds. */
export function judge(samples: readonly Sample[], days: readonly DayWindow[], bounds: Bounds = DEFAULT_BOUNDS): ComponentVerdict[] {
  const roles = [...new Set(samples.flatMap((s) => Object.keys(s.values)))].sort();
  return roles.map((role) => {
    const pids = new Set(samples.map((s) => s.values[role]?.pid).filter((p): p is number => p !== undefined));
    const verdict: ComponentVerdict = { role, restarts: Math.max(0, pids.size - 1), pass: true, problems: [] };
    if (verdict.restarts > 0) verdict.problems.push(`${role}: ${verdict.restarts} restart(s) during the soak (a process died): its figures start over`);
    const first = days[0] ? endOfDay(samples, role, days[0]) : undefined;
    const lastWindow = days[days.length - 1];
    const last = lastWindow && days.length > 1 ? endOfDay(samples, role, lastWindow) : undefined;
    if (first) verdict.firstDay = { rssKiB: first.rssKiB, fds: first.fds };
    if (!first) verdict.problems.push(`${role}: no sample at the end of day 1`);
    if (days.length > 1 && !last) verdict.problems.push(`${role}: no sample at the end of day ${days.length}`);
    if (first && last) {
      const span = days.length - 1;
      verdict.lastDay = { rssKiB: last.rssKiB, fds: last.fds };
      verdict.rssMiBPerDay = (last.rssKiB - first.rssKiB) / 1024 / span;
      verdict.fdsPerDay = (last.fds - first.fds) / span;
      verdict.rssBoundMiB = Math.max(bounds.rssMiBPerDay, (first.rssKiB / 1024) * (bounds.rssPercentPerDay / 100));
      if (verdict.rssMiBPerDay > verdict.rssBoundMiB) {
        verdict.problems.push(`${role}: RSS grew ${verdict.rssMiBPerDay.toFixed(1)} MiB per day (${(first.rssKiB / 1024).toFixed(1)} → ${(last.rssKiB / 1024).toFixed(1)} MiB), bound ${verdict.rssBoundMiB.toFixed(1)} MiB per day`);
      }
      if (verdict.fdsPerDay > bounds.fdsPerDay) {
        verdict.problems.push(`${role}: open fds grew ${verdict.fdsPerDay.toFixed(1)} per day (${first.fds} → ${last.fds}), bound ${bounds.fdsPerDay} per day`);
      }
    }
    verdict.pass = verdict.problems.length === 0;
    return verdict;
  });
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function chartSvg(samples: readonly Sample[], roles: readonly string[], days: readonly DayWindow[], pick: (r: ProcessReading) => number, unit: string, title: string): string {
  const W = 1100;
  // Tall enough for the legend: one line per component.
  const H = Math.max(420, 30 + 40 + 8 + roles.length * 15);
  const L = 60;
  const R = 200;
  const T = 30;
  const B = 40;
  const t0 = samples[0]?.ms ?? 0;
  const t1 = Math.max(t0 + 1, samples[samples.length - 1]?.ms ?? 1);
  const maxY = Math.max(1, ...samples.flatMap((s) => Object.values(s.values).map(pick))) * 1.05;
  const x = (ms: number) => L + ((ms - t0) / (t1 - t0)) * (W - L - R);
  const y = (v: number) => T + (1 - v / maxY) * (H - T - B);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeXml(title)}">`);
  parts.push(`<text x="${L}" y="18" font-size="14" font-weight="bold">${escapeXml(title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const v = (maxY / 5) * i;
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/><text x="${L - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end">${v.toFixed(v >= 100 ? 0 : 1)}</text>`);
  }
  parts.push(`<text x="12" y="${T + (H - T - B) / 2}" font-size="11" transform="rotate(-90 12 ${T + (H - T - B) / 2})" text-anchor="middle">${escapeXml(unit)}</text>`);
  for (const d of days) {
    const dx = x(d.startMs);
    parts.push(`<line x1="${dx.toFixed(1)}" x2="${dx.toFixed(1)}" y1="${T}" y2="${H - B}" stroke="#999" stroke-dasharray="4 3"/><text x="${(dx + 3).toFixed(1)}" y="${H - B + 14}" font-size="11">day ${d.day + 1}</text>`);
  }
  parts.push(`<text x="${W - R}" y="${H - 6}" font-size="11" text-anchor="end">time (${((t1 - t0) / 60_000).toFixed(0)} min)</text>`);
  roles.forEach((role, i) => {
    // The golden angle apart, lighter and darker in turn: neighbours in the legend stay apart in the chart.
    const color = `hsl(${Math.round((i * 137.5) % 360)} 75% ${i % 2 === 0 ? 35 : 50}%)`;
    const points = samples.filter((s) => s.values[role] !== undefined).map((s) => `${x(s.ms).toFixed(1)},${y(pick(s.values[role]!)).toFixed(1)}`);
    parts.push(`<polyline data-role="${escapeXml(role)}" fill="none" stroke="${color}" stroke-width="1.5" points="${points.join(' ')}"/>`);
    const ly = T + 4 + i * 15;
    parts.push(`<line x1="${W - R + 10}" x2="${W - R + 30}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"/><text x="${W - R + 34}" y="${ly + 4}" font-size="11">${escapeXml(role)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** A self-contained HTML page: RSS and open fds over the soak, one line per component, days marked, and the verdict table. */
export function renderSoakChart(input: { title: string; samples: readonly Sample[]; days: readonly DayWindow[]; verdicts: readonly ComponentVerdict[]; notes: readonly string[] }): string {
  const roles = [...new Set(input.samples.flatMap((s) => Object.keys(s.values)))].sort();
  const mib = (kib: number | undefined) => (kib === undefined ? '' : (kib / 1024).toFixed(1));
  const rows = input.verdicts.map((v) => `<tr class="${v.pass ? 'pass' : 'fail'}"><td>${escapeXml(v.role)}</td><td>${mib(v.firstDay?.rssKiB)}</td><td>${mib(v.lastDay?.rssKiB)}</td><td>${v.rssMiBPerDay?.toFixed(1) ?? ''}</td><td>${v.rssBoundMiB?.toFixed(1) ?? ''}</td><td>${v.firstDay?.fds ?? ''}</td><td>${v.lastDay?.fds ?? ''}</td><td>${v.fdsPerDay?.toFixed(1) ?? ''}</td><td>${v.restarts}</td><td>${v.pass ? 'pass' : escapeXml(v.problems.join('; '))}</td></tr>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(input.title)}</title>
<style>body{font-family:sans-serif;margin:20px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,td:last-child{text-align:left}tr.fail{background:#fdd}</style></head>
<body><h1>${escapeXml(input.title)}</h1>
${input.notes.map((n) => `<p>${escapeXml(n)}</p>`).join('\n')}
${chartSvg(input.samples, roles, input.days, (r) => r.rssKiB / 1024, 'RSS (MiB)', 'Resident memory per component (process and its children)')}
${chartSvg(input.samples, roles, input.days, (r) => r.fds, 'open fds', 'Open file descriptors per component')}
<h2>End of day 1 and of the last day (median of the day's last samples)</h2>
<table><thead><tr><th>component</th><th>RSS day 1 (MiB)</th><th>RSS last day</th><th>growth MiB/day</th><th>bound MiB/day</th><th>fds day 1</th><th>fds last day</th><th>growth fds/day</th><th>restarts</th><th>verdict</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
</body></html>
`;
}
