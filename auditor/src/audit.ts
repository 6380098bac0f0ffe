/**
 * The tamper audit of an enrollment, run where the auditor's private key is (issue 12):
 * for each period the ledger settled with a verified proof, open that period's sealed
 * document with the auditor's key, recompute the fingerprint from the readings and salt
 * inside, starting from the previous fingerprint the ledger recorded for that period, and
 * compare it with the ledger's new fingerprint. Each period is checked against its own
 * ledger link, so a tampered period is found exactly and does not make the following
 * ones fail.
 *
 * Verdicts, per period:
 *   match        the document opens and its fingerprint is the ledger's;
 *   mismatch     it opens (it was sealed to this auditor for this place) but the readings
 *                or salt inside do not give the ledger's fingerprint: the data was altered
 *                and sealed again;
 *   unreadable   it does not open: not sealed to this key, any changed byte, or a document
 *                made for another meter, enrollment or period (reason: the SealedDataError
 *                code, never any content);
 *   missingData  the ledger verified the period but there is no document for it;
 *   notVerified  the ledger has no verified settlement for the period (unsettled, missed,
 *                invalid proof): there is no fingerprint to compare with.
 */
import type { KeyObject } from 'node:crypto';
import { checkSealingPrivateKey, isSealedDataError, openPeriod, type SealedDataErrorCode } from '@flexproof/protocol';

export type Verdict = 'match' | 'mismatch' | 'missingData' | 'unreadable' | 'notVerified';

/** Every verdict, in the order a summary lists them. */
export const VERDICTS: readonly Verdict[] = ['match', 'mismatch', 'unreadable', 'missingData', 'notVerified'];

/** Verdicts that fail an audit: the ledger verified a period the stored data does not back. */
export const FAILING_VERDICTS: readonly Verdict[] = ['mismatch', 'unreadable', 'missingData'];

/** @flexproof/circuits' `fingerprint`, injected so the audit library does not load snarkjs itself. */
export type FingerprintFn = (
  prevFingerprint: string | bigint,
  fingerprintSalt: string | bigint,
  periodIndex: number,
  readings: readonly (string | bigint)[],
) => bigint;

/** One period of the ledger's enrollment view (GET /v1/enrollments/:id). */
export interface LedgerPeriod {
  periodIndex: number;
  result: { outcome: string; prevFingerprint?: string; newFingerprint?: string } | null;
}

/** One stored sealed document, as the store says where it belongs. */
export interface SealedDocument {
  periodIndex: number;
  jwe: unknown;
}

/** Why a period is unreadable: a SealedDataError code, or two documents for one period. */
export type UnreadableReason = SealedDataErrorCode | 'DUPLICATE_DOCUMENT';

export interface PeriodAudit {
  periodIndex: number;
  verdict: Verdict;
  /** The ledger's outcome for the period (verified, invalidProof, missed) or null if unsettled. */
  outcome: string | null;
  ledgerFingerprint?: string;
  recomputedFingerprint?: string;
  /** For unreadable: the refusal code; for a mismatch the fingerprint could not even be computed: FINGERPRINT_INPUT_INVALID. */
  reason?: UnreadableReason | 'FINGERPRINT_INPUT_INVALID';
  /** For unreadable: the document field the refusal names (e.g. jwe.protected.fpp). */
  field?: string;
}

export interface EnrollmentAudit {
  enrollmentId: string;
  meterId: string;
  summary: Record<Verdict, number>;
  periods: PeriodAudit[];
}

export interface SealedAuditInput {
  enrollment: { enrollmentId: string; meterId: string };
  ledgerPeriods: readonly LedgerPeriod[];
  documents: readonly SealedDocument[];
  /** The auditor's P-256 private key (PEM or KeyObject). */
  privateKeyPem: string | KeyObject;
  fingerprint: FingerprintFn;
}

export async function auditSealedEnrollment(input: SealedAuditInput): Promise<EnrollmentAudit> {
  const { enrollment, ledgerPeriods, documents, fingerprint } = input;
  // A bad key is the caller's mistake, not every document's: refuse it once, up front.
  const privateKey = checkSealingPrivateKey(input.privateKeyPem, 'privateKeyPem');

  const byPeriod = new Map<number, SealedDocument[]>();
  for (const doc of documents) {
    const list = byPeriod.get(doc.periodIndex) ?? [];
    list.push(doc);
    byPeriod.set(doc.periodIndex, list);
  }

  const periods: PeriodAudit[] = [];
  for (const p of ledgerPeriods) {
    periods.push(await auditPeriod(p, byPeriod.get(p.periodIndex) ?? [], enrollment, privateKey, fingerprint));
  }
  const summary = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const p of periods) summary[p.verdict]++;
  return { enrollmentId: enrollment.enrollmentId, meterId: enrollment.meterId, summary, periods };
}

/** True when no period fails the audit (notVerified periods do not fail it). */
export function auditPassed(audit: EnrollmentAudit): boolean {
  return FAILING_VERDICTS.every((v) => audit.summary[v] === 0);
}

async function auditPeriod(
  p: LedgerPeriod,
  docs: readonly SealedDocument[],
  enrollment: { enrollmentId: string; meterId: string },
  privateKey: KeyObject,
  fingerprint: FingerprintFn,
): Promise<PeriodAudit> {
  const r = p.result;
  if (!r || r.outcome !== 'verified' || r.prevFingerprint === undefined || r.newFingerprint === undefined) {
    return { periodIndex: p.periodIndex, verdict: 'notVerified', outcome: r?.outcome ?? null };
  }
  const base = { periodIndex: p.periodIndex, outcome: r.outcome, ledgerFingerprint: r.newFingerprint };
  const [doc, ...others] = docs;
  if (doc === undefined) return { ...base, verdict: 'missingData' };
  // The store keeps one document per period; a second one means someone added it, and
  // which of the two the prosumer sealed is not for the auditor to guess.
  if (others.length > 0) return { ...base, verdict: 'unreadable', reason: 'DUPLICATE_DOCUMENT' };

  let opened: { readings: string[]; fingerprintSalt: string };
  try {
    opened = await openPeriod(doc.jwe, privateKey, {
      meterId: enrollment.meterId,
      enrollmentId: enrollment.enrollmentId,
      periodIndex: p.periodIndex,
    });
  } catch (error) {
    if (!isSealedDataError(error)) throw error;
    return { ...base, verdict: 'unreadable', reason: error.code, ...(error.field === undefined ? {} : { field: error.field }) };
  }

  let recomputed: string;
  try {
    recomputed = fingerprint(r.prevFingerprint, opened.fingerprintSalt, p.periodIndex, opened.readings).toString();
  } catch {
    // Sealed data that is not even valid fingerprint input (a reading out of range, a
    // salt outside the field) cannot be what the proof was made from.
    return { ...base, verdict: 'mismatch', reason: 'FINGERPRINT_INPUT_INVALID' };
  }
  return { ...base, verdict: recomputed === r.newFingerprint ? 'match' : 'mismatch', recomputedFingerprint: recomputed };
}
