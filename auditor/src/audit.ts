/**
 * The tamper audit of an enrollment, run where the auditor's private key is (issue 12):
 * for each period the ledger settled with a verified proof, open that period's sealed
 * document with the auditor's key, recompute the fingerprint from the readings and salt
 * inside, starting from the previous fingerprint the ledger recorded for that period, and
 * compare it with the ledger's new fingerprint. Each period is checked against its own
 * ledger link, so a tampered period is found exactly and does not make the following
 * ones fail.
 *
 * The fingerprint is computed by the enrollment's circuit (its id on the ledger, up to the
 * first '.'): a v1 consumption circuit chains the import readings, a v2 net energy circuit
 * (flexnet-v2-*) the import and export readings interleaved. Given the request profile
 * (the aggregator and the DSO know it; it opens the ledger's requestCommitment), the
 * deviation and direction are recomputed from the same readings and compared with the
 * ledger's too: measured net = Σ import − Σ export for v2.
 *
 * Verdicts, per period:
 *   match        the document opens and its fingerprint (and, given the request, its
 *                deviation and direction) are the ledger's;
 *   mismatch     it opens (it was sealed to this auditor for this place) but the readings
 *                or salt inside do not give the ledger's fingerprint (or deviation): the
 *                data was altered and sealed again;
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

/** @flexproof/circuits' v1 `fingerprint`, injected so the audit library does not load snarkjs itself. */
export type FingerprintFn = (
  prevFingerprint: string | bigint,
  fingerprintSalt: string | bigint,
  periodIndex: number,
  readings: readonly (string | bigint)[],
) => bigint;

/**
 * @flexproof/circuits' dispatching functions (by circuit id, v1 and v2), injected for the
 * same reason. Both throw on input the circuit cannot take (a reading out of range, an
 * export for a v1 circuit, an unknown circuit id).
 */
export interface AuditCircuits {
  fingerprintFor(
    circuitId: string,
    params: { prevFingerprint: string; fingerprintSalt: string; periodIndex: number; importWh: readonly string[]; exportWh?: readonly string[] },
  ): bigint;
  periodDeviationFor(
    circuitId: string,
    profile: readonly string[],
    periodIndex: number,
    importWh: readonly string[],
    exportWh?: readonly string[],
  ): { deviation: bigint; direction: 0 | 1 };
}

/** One period of the ledger's enrollment view (GET /v1/enrollments/:id). */
export interface LedgerPeriod {
  periodIndex: number;
  result: { outcome: string; prevFingerprint?: string; newFingerprint?: string; deviationWh?: string; direction?: string } | null;
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
  /**
   * For unreadable: the refusal code. For a mismatch: FINGERPRINT_INPUT_INVALID (the data
   * is not even input the circuit takes), or DEVIATION_MISMATCH (the fingerprint matches
   * but the request's deviation or direction from these readings is not the ledger's).
   */
  reason?: UnreadableReason | 'FINGERPRINT_INPUT_INVALID' | 'DEVIATION_MISMATCH';
  /** Given the request: the deviation recomputed from the sealed readings (Wh), to compare with the ledger's. */
  recomputedDeviationWh?: string;
  /** For unreadable: the document field the refusal names (e.g. jwe.protected.fpp). */
  field?: string;
}

export interface EnrollmentAudit {
  enrollmentId: string;
  meterId: string;
  /** The circuit the fingerprints were computed by (absent: v1, with the injected `fingerprint`). */
  circuitId?: string;
  /** Whether deviations were recomputed too (a request profile was given). */
  deviationsChecked: boolean;
  summary: Record<Verdict, number>;
  periods: PeriodAudit[];
}

export interface SealedAuditInput {
  /** circuitId: the enrollment's circuit on the ledger (e.g. flexnet-v2-r4.ceremony1); needed with `circuits`. */
  enrollment: { enrollmentId: string; meterId: string; circuitId?: string };
  ledgerPeriods: readonly LedgerPeriod[];
  documents: readonly SealedDocument[];
  /** The auditor's P-256 private key (PEM or KeyObject). */
  privateKeyPem: string | KeyObject;
  /** By circuit id (v1 and v2): @flexproof/circuits' fingerprintFor and periodDeviationFor. */
  circuits?: AuditCircuits;
  /** Without `circuits`: the v1 fingerprint (a document with a non-zero export cannot be v1 data). */
  fingerprint?: FingerprintFn;
  /** The enrollment's request profile (24 signed Wh values): the deviations are then recomputed and compared too. */
  request?: { requestProfile: readonly string[] };
}

/** The shape part of a ledger circuit id (flexnet-v2-r4.ceremony1 -> flexnet-v2-r4), as the edge reads it. */
export function circuitShapeOf(circuitId: string): string {
  return circuitId.split('.')[0] ?? circuitId;
}

type PeriodMath = {
  fingerprint(prev: string, salt: string, periodIndex: number, importWh: readonly string[], exportWh: readonly string[] | undefined): bigint;
  deviation?(periodIndex: number, importWh: readonly string[], exportWh: readonly string[] | undefined): { deviation: bigint; direction: 0 | 1 };
};

function periodMath(input: SealedAuditInput): PeriodMath {
  const { circuits, fingerprint, request } = input;
  if (circuits !== undefined) {
    const circuitId = input.enrollment.circuitId;
    if (circuitId === undefined) throw new TypeError('enrollment.circuitId: required with circuits (the fingerprint depends on the circuit)');
    const shape = circuitShapeOf(circuitId);
    return {
      fingerprint: (prev, salt, periodIndex, importWh, exportWh) =>
        circuits.fingerprintFor(shape, { prevFingerprint: prev, fingerprintSalt: salt, periodIndex, importWh, ...(exportWh !== undefined ? { exportWh } : {}) }),
      ...(request !== undefined
        ? { deviation: (periodIndex, importWh, exportWh) => circuits.periodDeviationFor(shape, request.requestProfile, periodIndex, importWh, exportWh) }
        : {}),
    };
  }
  if (fingerprint === undefined) throw new TypeError('circuits or fingerprint: one is required');
  if (request !== undefined) throw new TypeError('request: needs circuits (periodDeviationFor) to recompute deviations');
  return {
    fingerprint: (prev, salt, periodIndex, importWh, exportWh) => {
      if (exportWh?.some((v) => v !== '0')) throw new RangeError('exportWh: a v1 circuit has no export register');
      return fingerprint(prev, salt, periodIndex, importWh);
    },
  };
}

export async function auditSealedEnrollment(input: SealedAuditInput): Promise<EnrollmentAudit> {
  const { enrollment, ledgerPeriods, documents } = input;
  // A bad key is the caller's mistake, not every document's: refuse it once, up front.
  const privateKey = checkSealingPrivateKey(input.privateKeyPem, 'privateKeyPem');
  const math = periodMath(input);

  const byPeriod = new Map<number, SealedDocument[]>();
  for (const doc of documents) {
    const list = byPeriod.get(doc.periodIndex) ?? [];
    list.push(doc);
    byPeriod.set(doc.periodIndex, list);
  }

  const periods: PeriodAudit[] = [];
  for (const p of ledgerPeriods) {
    periods.push(await auditPeriod(p, byPeriod.get(p.periodIndex) ?? [], enrollment, privateKey, math));
  }
  const summary = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const p of periods) summary[p.verdict]++;
  return {
    enrollmentId: enrollment.enrollmentId,
    meterId: enrollment.meterId,
    ...(input.circuits !== undefined && enrollment.circuitId !== undefined ? { circuitId: enrollment.circuitId } : {}),
    deviationsChecked: math.deviation !== undefined,
    summary,
    periods,
  };
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
  math: PeriodMath,
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

  let opened: { readings: string[]; exportReadings?: string[]; fingerprintSalt: string };
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
    recomputed = math.fingerprint(r.prevFingerprint, opened.fingerprintSalt, p.periodIndex, opened.readings, opened.exportReadings).toString();
  } catch {
    // Sealed data that is not even valid fingerprint input (a reading out of range, a
    // salt outside the field, an export for a v1 circuit) cannot be what the proof was made from.
    return { ...base, verdict: 'mismatch', reason: 'FINGERPRINT_INPUT_INVALID' };
  }
  if (recomputed !== r.newFingerprint) return { ...base, verdict: 'mismatch', recomputedFingerprint: recomputed };
  if (math.deviation === undefined) return { ...base, verdict: 'match', recomputedFingerprint: recomputed };
  // The readings are the proven ones; the deviation they give against the request must be the ledger's.
  let deviation: { deviation: bigint; direction: 0 | 1 };
  try {
    deviation = math.deviation(p.periodIndex, opened.readings, opened.exportReadings);
  } catch {
    return { ...base, verdict: 'mismatch', recomputedFingerprint: recomputed, reason: 'FINGERPRINT_INPUT_INVALID' };
  }
  const same = deviation.deviation.toString() === r.deviationWh && String(deviation.direction) === r.direction;
  return {
    ...base,
    verdict: same ? 'match' : 'mismatch',
    recomputedFingerprint: recomputed,
    recomputedDeviationWh: deviation.deviation.toString(),
    ...(same ? {} : { reason: 'DEVIATION_MISMATCH' as const }),
  };
}
