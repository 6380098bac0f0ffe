/**
 * What an audit reads through the gateway, with the one client of @flexproof/protocol
 * (GatewayClient: an auditor's bearer token, the client's retry policy):
 *   GET /v1/enrollments/:id                               the ledger's enrollment view
 *   GET /v1/meters/:meterId/sealed-periods?enrollmentId=  the stored (ciphertext) documents
 * The client types each answer by its protocol schema but does not check it; an audit
 * must not run on a view it misread, so the fields it uses are checked here, each
 * refusal a GatewayError (unexpected, BAD_ANSWER) naming the route and the field. A bad
 * document is not refused here: the audit judges it (one period unreadable), so one
 * altered document cannot stop the whole audit.
 */
import { GatewayError, type GatewayClient, type RetryPolicy } from '@flexproof/protocol';
import type { LedgerPeriod } from './audit';

/** An audit makes two reads: a few quick tries each (4, backoff from 500 ms), not a minute of them. */
export const AUDIT_RETRY: Readonly<Partial<RetryPolicy>> = Object.freeze({ maxAttempts: 4, backoffMs: 500 });

export interface EnrollmentLedgerView {
  enrollment: { enrollmentId: string; meterId: string; circuitId?: string; requestCommitment?: string };
  periods: LedgerPeriod[];
}

export interface StoredSealedPeriod {
  enrollmentId: string;
  periodIndex: number;
  jwe: unknown;
  contentHash?: string;
  uploadedAt?: string;
}

/** The enrollment's ledger view, checked: the enrollment asked for, its meter, each period's result. */
export async function readEnrollmentView(client: GatewayClient, enrollmentId: string): Promise<EnrollmentLedgerView> {
  return enrollmentViewOf(await client.enrollment(enrollmentId), `/v1/enrollments/${encodeURIComponent(enrollmentId)}`, enrollmentId);
}

/** The meter's stored documents of the enrollment, each placed (enrollment, period); the documents themselves unjudged. */
export async function readSealedPeriods(client: GatewayClient, meterId: string, enrollmentId: string): Promise<StoredSealedPeriod[]> {
  return sealedPeriodsOf(await client.sealedPeriods(meterId, enrollmentId), `/v1/meters/${encodeURIComponent(meterId)}/sealed-periods`, meterId);
}

function badAnswer(route: string, field: string, rule: string): GatewayError {
  return new GatewayError('unexpected', 200, 'BAD_ANSWER', `GET ${route}: the answer's ${field} ${rule}`);
}

export function enrollmentViewOf(body: unknown, route: string, enrollmentId: string): EnrollmentLedgerView {
  const bad = (field: string, rule: string) => badAnswer(route, field, rule);
  if (!isRecord(body)) throw bad('body', 'must be an enrollment view object');
  const e = body.enrollment;
  if (!isRecord(e)) throw bad('enrollment', 'must be an object');
  if (e.enrollmentId !== enrollmentId) throw bad('enrollment.enrollmentId', 'must be the enrollment asked for');
  if (typeof e.meterId !== 'string' || e.meterId === '') throw bad('enrollment.meterId', 'must be a non-empty string');
  if (!Array.isArray(body.periods)) throw bad('periods', 'must be an array');
  const periods = (body.periods as unknown[]).map((p, i): LedgerPeriod => {
    if (!isRecord(p)) throw bad(`periods[${i}]`, 'must be an object');
    if (!Number.isInteger(p.periodIndex)) throw bad(`periods[${i}].periodIndex`, 'must be an integer');
    const r = p.result;
    if (r === null || r === undefined) return { periodIndex: p.periodIndex as number, result: null };
    if (!isRecord(r) || typeof r.outcome !== 'string') throw bad(`periods[${i}].result`, 'must be null or an object with an outcome');
    const result: NonNullable<LedgerPeriod['result']> = { outcome: r.outcome };
    for (const name of ['prevFingerprint', 'newFingerprint', 'deviationWh', 'direction'] as const) {
      const v = r[name];
      if (v === undefined) continue;
      if (typeof v !== 'string') throw bad(`periods[${i}].result.${name}`, 'must be a decimal string');
      result[name] = v;
    }
    return { periodIndex: p.periodIndex as number, result };
  });
  const terms: { circuitId?: string; requestCommitment?: string } = {};
  for (const name of ['circuitId', 'requestCommitment'] as const) {
    const v = e[name];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '') throw bad(`enrollment.${name}`, 'must be a non-empty string');
    terms[name] = v;
  }
  return { enrollment: { enrollmentId, meterId: e.meterId, ...terms }, periods };
}

export function sealedPeriodsOf(body: unknown, route: string, meterId: string): StoredSealedPeriod[] {
  const bad = (field: string, rule: string) => badAnswer(route, field, rule);
  if (!isRecord(body)) throw bad('body', 'must be { meterId, periods }');
  if (body.meterId !== meterId) throw bad('meterId', 'must be the meter asked for');
  if (!Array.isArray(body.periods)) throw bad('periods', 'must be an array');
  return (body.periods as unknown[]).map((p, i): StoredSealedPeriod => {
    if (!isRecord(p)) throw bad(`periods[${i}]`, 'must be an object');
    if (typeof p.enrollmentId !== 'string') throw bad(`periods[${i}].enrollmentId`, 'must be a string');
    if (!Number.isInteger(p.periodIndex)) throw bad(`periods[${i}].periodIndex`, 'must be an integer');
    const out: StoredSealedPeriod = { enrollmentId: p.enrollmentId, periodIndex: p.periodIndex as number, jwe: p.jwe };
    if (typeof p.contentHash === 'string') out.contentHash = p.contentHash;
    if (typeof p.uploadedAt === 'string') out.uploadedAt = p.uploadedAt;
    return out;
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
