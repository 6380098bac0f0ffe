/**
 * The tamper audit of an enrollment: for each period settled with a verified proof,
 * recompute the fingerprint from the stored raw readings and the period's salt, starting
 * from the previous fingerprint the ledger recorded for that period, and compare it with
 * the ledger's new fingerprint. Each period is checked against its own ledger link, so a
 * tampered period is found exactly and does not make the following ones fail.
 */
import type { PeriodReadings } from '../store/raw-readings';

/** @flexproof/circuits' `fingerprint`, injected so the audit has no snarkjs dependency of its own. */
export type FingerprintFn = (
  prevFingerprint: string | bigint,
  fingerprintSalt: string | bigint,
  periodIndex: number,
  readings: readonly (string | bigint)[],
) => bigint;

export type AuditVerdict = 'match' | 'mismatch' | 'missingData' | 'notVerified';

export interface PeriodAudit {
  periodIndex: number;
  verdict: AuditVerdict;
  /** The ledger's outcome for the period (verified, invalidProof, missed) or null if unsettled. */
  outcome: string | null;
  ledgerFingerprint?: string;
  recomputedFingerprint?: string;
}

export interface EnrollmentAudit {
  enrollmentId: string;
  meterId: string;
  summary: Record<AuditVerdict, number>;
  periods: PeriodAudit[];
}

export interface LedgerPeriod {
  periodIndex: number;
  result: { outcome: string; prevFingerprint?: string; newFingerprint?: string } | null;
}

export function auditEnrollment(
  enrollment: { enrollmentId: string; meterId: string },
  ledgerPeriods: readonly LedgerPeriod[],
  stored: readonly PeriodReadings[],
  fingerprint: FingerprintFn,
): EnrollmentAudit {
  const byPeriod = new Map(stored.map((s) => [s.periodIndex, s]));
  const periods = ledgerPeriods.map((p): PeriodAudit => {
    const r = p.result;
    if (!r || r.outcome !== 'verified' || r.prevFingerprint === undefined || r.newFingerprint === undefined) {
      return { periodIndex: p.periodIndex, verdict: 'notVerified', outcome: r?.outcome ?? null };
    }
    const data = byPeriod.get(p.periodIndex);
    if (!data) return { periodIndex: p.periodIndex, verdict: 'missingData', outcome: r.outcome, ledgerFingerprint: r.newFingerprint };
    let recomputed: string;
    try {
      recomputed = fingerprint(r.prevFingerprint, data.fingerprintSalt, p.periodIndex, data.readings).toString();
    } catch {
      // Stored data that is not even well formed (out-of-range reading, bad salt) cannot match.
      return { periodIndex: p.periodIndex, verdict: 'mismatch', outcome: r.outcome, ledgerFingerprint: r.newFingerprint };
    }
    return {
      periodIndex: p.periodIndex,
      verdict: recomputed === r.newFingerprint ? 'match' : 'mismatch',
      outcome: r.outcome,
      ledgerFingerprint: r.newFingerprint,
      recomputedFingerprint: recomputed,
    };
  });
  const summary: Record<AuditVerdict, number> = { match: 0, mismatch: 0, missingData: 0, notVerified: 0 };
  for (const p of periods) summary[p.verdict]++;
  return { enrollmentId: enrollment.enrollmentId, meterId: enrollment.meterId, summary, periods };
}
