/**
 * `flexproof-edge status`: what is stored, proven, submitted, settled and pending, from
 * the data directory alone (works while `run` is running, and without the network).
 * Shows ids, counts, outcomes and hashes, never readings or salts.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { EdgeConfig } from './config';
import type { EdgeStateData, EnrollmentHold, PeriodRecord } from './edge-state';
import { READINGS_FILE, STATE_FILE } from './edge-node';
import { PERIOD_COUNT, periodEndMs, type PeriodTiming } from './period-clock';
import { readRejectCounts, type RejectCounts } from './reading-log';
import { circuitShape } from '@flexproof/circuits';
import { LEFT_FOR_CLAIM } from './pipeline-decisions';

export interface PeriodStatusLine {
  periodIndex: number;
  /**
   * open (not ended), closing (waiting for its close delay), proven, submitted, settled,
   * claimable (not sent: its proof could no longer land before the deadline; left for the
   * aggregator's claim, its readings uploaded like any other's), rejected, failed.
   */
  status: string;
  outcome?: string;
  deviationWh?: string;
  attempts?: number;
  lastError?: string;
  txId?: string;
  readingsUploaded?: boolean;
  /** Who can open the period's sealed document: `site` and the auditor ids. */
  sealedTo?: string[];
  tampered?: boolean;
}

export interface StatusReport {
  meterId: string;
  dataDir: string;
  readings: { count: number; firstTs?: number; lastTs?: number; lastRegisterWh?: string; lastExportRegisterWh?: string };
  /** Meter messages refused, per reason, since `since` (cumulative for the data directory; counts only, never a value). */
  rejected: RejectCounts & { total: number; unreadable?: true };
  enrollments: {
    enrollmentId: string;
    acceptedAt?: string;
    excludedAt?: string;
    /** Why nothing is being accepted, signed or sent for it (until the cause goes). */
    hold?: EnrollmentHold;
    counts: Record<string, number>;
    periods: PeriodStatusLine[];
  }[];
}

export async function statusReport(config: EdgeConfig, now = Date.now()): Promise<StatusReport> {
  const readings = await readingSummary(path.join(config.dataDir, READINGS_FILE));
  // Statistics only: a damaged tally must not hide the rest of the report (the node starts it again).
  const counts = await readRejectCounts(path.join(config.dataDir, READINGS_FILE)).catch((): RejectCounts & { unreadable: true } => ({ since: '', counts: {}, unreadable: true }));
  const rejected = { ...counts, total: Object.values(counts.counts).reduce((sum, n) => sum + (n ?? 0), 0) };
  let state: EdgeStateData = { schema: 1, meterId: config.meterId, enrollments: {} };
  try {
    state = JSON.parse(await fsp.readFile(path.join(config.dataDir, STATE_FILE), 'utf8')) as EdgeStateData;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const enrollments = config.enrollments.map((e) => {
    const s = state.enrollments[e.enrollmentId];
    const timing: PeriodTiming = {
      startMs: Date.parse(e.startTime),
      periodSeconds: e.periodSeconds,
      graceSeconds: e.graceSeconds,
      intervalsPerPeriod: circuitShape(e.shape).readingsPerPeriod,
    };
    const periods: PeriodStatusLine[] = [];
    const counts: Record<string, number> = {};
    for (let p = 0; p < PERIOD_COUNT; p++) {
      const r = s?.periods[String(p)];
      const line = r ? lineOf(r) : { periodIndex: p, status: now < periodEndMs(timing, p) ? 'open' : 'closing' };
      counts[line.status] = (counts[line.status] ?? 0) + 1;
      periods.push(line);
    }
    return {
      enrollmentId: e.enrollmentId,
      ...(s?.acceptedAt ? { acceptedAt: s.acceptedAt } : {}),
      ...(s?.excludedAt ? { excludedAt: s.excludedAt } : {}),
      ...(s?.hold ? { hold: s.hold } : {}),
      counts,
      periods,
    };
  });
  return { meterId: config.meterId, dataDir: config.dataDir, readings, rejected, enrollments };
}

function lineOf(r: PeriodRecord): PeriodStatusLine {
  return {
    periodIndex: r.periodIndex,
    // The state file keeps such a period as rejected (nothing more is done for it); the operator sees why.
    status: r.status === 'rejected' && r.lastError?.code === LEFT_FOR_CLAIM ? 'claimable' : r.status,
    ...(r.outcome ? { outcome: r.outcome } : {}),
    ...(r.deviationWh ? { deviationWh: r.deviationWh } : {}),
    attempts: r.attempts,
    ...(r.lastError ? { lastError: `${r.lastError.status ?? ''} ${r.lastError.code ?? ''} ${r.lastError.message}`.trim() } : {}),
    ...(r.txId ? { txId: r.txId } : {}),
    ...(r.readingsUploaded ? { readingsUploaded: true } : {}),
    ...(r.sealed ? { sealedTo: r.sealed.recipients.map((x) => (x.role === 'site' ? 'site' : (x.auditorId ?? x.keyHash))) } : {}),
    ...(r.tampered ? { tampered: true } : {}),
  };
}

async function readingSummary(file: string): Promise<StatusReport['readings']> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { count: 0 };
    throw error;
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const parse = (l: string | undefined): { ts: number; registerWh: string; exportWh?: string } | undefined => {
    try {
      return l === undefined ? undefined : (JSON.parse(l) as { ts: number; registerWh: string; exportWh?: string });
    } catch {
      return undefined;
    }
  };
  const first = parse(lines[0]);
  let last = parse(lines[lines.length - 1]);
  let count = lines.length;
  if (lines.length > 0 && last === undefined) {
    count--;
    last = parse(lines[lines.length - 2]);
  }
  return {
    count,
    ...(first ? { firstTs: first.ts } : {}),
    ...(last ? { lastTs: last.ts, lastRegisterWh: last.registerWh } : {}),
    ...(last?.exportWh !== undefined ? { lastExportRegisterWh: last.exportWh } : {}),
  };
}

/** The report as text for a terminal. */
export function formatStatus(report: StatusReport): string {
  const out: string[] = [];
  const { readings } = report;
  out.push(`meter ${report.meterId}   data ${report.dataDir}`);
  out.push(
    `readings stored: ${readings.count}` +
      (readings.lastTs !== undefined
        ? `   last at ${new Date(readings.lastTs).toISOString()} (register ${readings.lastRegisterWh} Wh` +
          (readings.lastExportRegisterWh !== undefined ? `, export register ${readings.lastExportRegisterWh} Wh)` : ')')
        : ''),
  );
  const refused = Object.entries(report.rejected.counts).map(([reason, n]) => `${reason} ${n}`).join(', ');
  out.push(
    report.rejected.unreadable
      ? 'messages refused: (the count file is damaged; the node starts it again)'
      : `messages refused: ${report.rejected.total}${report.rejected.total > 0 ? ` (${refused}) since ${report.rejected.since}` : ''}`,
  );
  for (const e of report.enrollments) {
    out.push('');
    const summary = Object.entries(e.counts).map(([k, v]) => `${k} ${v}`).join(', ');
    out.push(`enrollment ${e.enrollmentId}: ${summary}${e.acceptedAt ? `; accepted ${e.acceptedAt}` : ''}${e.excludedAt ? `; EXCLUDED ${e.excludedAt}` : ''}`);
    if (e.hold) out.push(`  HELD (${e.hold.code}) since ${e.hold.since}: ${e.hold.message}`);
    out.push('  period  status      outcome       deviation  attempts  note');
    for (const p of e.periods) {
      if (p.status === 'open') continue;
      const note = [p.tampered ? 'TAMPERED' : '', p.lastError ?? '', p.sealedTo ? `sealed to ${p.sealedTo.join(', ')}` : '', p.readingsUploaded ? 'readings uploaded' : ''].filter(Boolean).join('; ');
      out.push(
        `  ${String(p.periodIndex).padStart(6)}  ${p.status.padEnd(10)}  ${(p.outcome ?? '-').padEnd(12)}  ${(p.deviationWh ?? '-').padStart(9)}  ${String(p.attempts ?? 0).padStart(8)}  ${note}`,
      );
    }
  }
  return out.join('\n');
}
