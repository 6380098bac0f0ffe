/**
 * The per-period record of the edge client: what was proven, the exact signed body that
 * was (or will be) sent, and what the ledger answered. Kept in one small JSON file
 * replaced atomically after every change, so after kill -9 the client resumes from the
 * last recorded step and a retry resends the identical bytes.
 */
import { promises as fsp } from 'node:fs';
import type { SealedPeriodJwe } from '@flexproof/protocol';
import { writeFileAtomic } from './durable-file';
import { EdgeError } from './errors';

/**
 * proven: proof and signed body ready, not sent yet;
 * submitted: sent at least once, no final answer yet (the same body is resent);
 * settled: the ledger recorded a result for the period (see `outcome`);
 * rejected: the gateway refused it with a final 4xx, or the edge left it for the aggregator's
 *   claim (`lastError.code` LEFT_FOR_CLAIM: its proof could no longer land before the
 *   deadline); kept, not retried;
 * failed: the period could not be proven (e.g. a reading out of range).
 */
export type PeriodStatus = 'proven' | 'submitted' | 'settled' | 'rejected' | 'failed';

export interface PeriodRecord {
  periodIndex: number;
  status: PeriodStatus;
  /** Register at the period's start and end (Wh, decimal), when known: the next period opens at this close. */
  openingRegisterWh?: string;
  closingRegisterWh?: string;
  /** Export register at the period's start and end (Wh, decimal): net energy (v2) enrollments, when the meter has one. */
  openingExportRegisterWh?: string;
  closingExportRegisterWh?: string;
  /** Meter messages received within the period. */
  messageCount: number;
  /** Interval energies (Wh, decimal), imported: private, kept locally; they leave the site only sealed (`sealed`). */
  readings: string[];
  /**
   * Exported energy of each interval (Wh, decimal), net energy (v2) enrollments only (all
   * "0" for a meter without an export register); absent for v1 enrollments, which prove
   * import only. Private like `readings`.
   */
  exportReadings?: string[];
  prevFingerprint: string;
  newFingerprint: string;
  deviationWh: string;
  submissionHash: string;
  /** The exact JSON text of the signed SubmitPeriod body. */
  body: string;
  tampered?: boolean;
  provingMs: number;
  provenAt: string;
  firstSentAt?: string;
  attempts: number;
  lastError?: { status?: number; code?: string; message: string; at: string };
  outcome?: string;
  txId?: string;
  settledAt?: string;
  /**
   * The period's sealed document (readings and fingerprint salt encrypted to `recipients`),
   * made once after settlement and recorded before the first upload, so every retry sends
   * the identical document (the store answers 'unchanged', never a conflict). Ciphertext.
   */
  sealed?: SealedPeriodRecord;
  /** The store holds `sealed` (the gateway answered created or unchanged). */
  readingsUploaded?: boolean;
}

export interface SealedPeriodRecord {
  jwe: SealedPeriodJwe;
  /** sealedContentHash(jwe): what the store reports for the period. */
  contentHash: string;
  /** Who can open it: the site's own key and each auditor, by key hash (the kids of the entries). */
  recipients: { role: 'site' | 'auditor'; auditorId?: string; keyHash: string }[];
  sealedAt: string;
}

/**
 * Why the edge is holding back on an enrollment (shown by `status`), until the cause goes:
 * TERMS_MISMATCH: a ledger commitment (circuit, commitment, timing, meter) differs from the config;
 * NO_ACCEPT_POLICY: offered, but the acceptPolicy does not name every term (no auto-accept);
 * AUTO_ACCEPT_OFF: offered, autoAccept is false;
 * OFFER_OUTSIDE_POLICY: offered with terms outside the acceptPolicy (`terms` names them);
 * LEDGER_KEY_MISMATCH: the ledger's verification key is not this site's, or not usable;
 * PROOF_NOT_VERIFIED: a proof did not verify against the ledger's key before signing.
 */
export type HoldCode = 'TERMS_MISMATCH' | 'NO_ACCEPT_POLICY' | 'AUTO_ACCEPT_OFF' | 'OFFER_OUTSIDE_POLICY' | 'LEDGER_KEY_MISMATCH' | 'PROOF_NOT_VERIFIED';

export interface EnrollmentHold {
  code: HoldCode;
  /** What is wrong and what to do; never a secret. */
  message: string;
  /** The ledger terms concerned, when it is about terms. */
  terms?: string[];
  since: string;
}

export interface EnrollmentState {
  enrollmentId: string;
  /** Set while the edge signs nothing for this enrollment (or only waits), with the reason. */
  hold?: EnrollmentHold;
  /** Set when the gateway reported the enrollment accepted by this site. */
  acceptedAt?: string;
  /** Set when the ledger excluded the enrollment (invalid proof): nothing more is submitted. */
  excludedAt?: string;
  periods: Record<string, PeriodRecord>;
}

export interface EdgeStateData {
  schema: 1;
  meterId: string;
  enrollments: Record<string, EnrollmentState>;
}

export class EdgeStateFile {
  readonly #file: string;
  #data: EdgeStateData;
  #writing: Promise<void> = Promise.resolve();

  private constructor(file: string, data: EdgeStateData) {
    this.#file = file;
    this.#data = data;
  }

  static async open(file: string, meterId: string): Promise<EdgeStateFile> {
    let data: EdgeStateData = { schema: 1, meterId, enrollments: {} };
    try {
      const parsed = JSON.parse(await fsp.readFile(file, 'utf8')) as EdgeStateData;
      if (parsed.schema !== 1 || typeof parsed.enrollments !== 'object' || parsed.enrollments === null) {
        throw new EdgeError('STORE_CORRUPT', `state file ${file} is not a schema 1 state`, { details: { file } });
      }
      if (parsed.meterId !== meterId) {
        throw new EdgeError('STORE_CORRUPT', `state file ${file} belongs to meter ${parsed.meterId}, not ${meterId}`, { details: { file } });
      }
      data = parsed;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        if (error instanceof EdgeError) throw error;
        throw new EdgeError('STORE_CORRUPT', `state file ${file} is unreadable`, { cause: error, details: { file } });
      }
    }
    return new EdgeStateFile(file, data);
  }

  get data(): Readonly<EdgeStateData> {
    return this.#data;
  }

  enrollment(enrollmentId: string): EnrollmentState {
    const existing = this.#data.enrollments[enrollmentId];
    if (existing) return existing;
    const created: EnrollmentState = { enrollmentId, periods: {} };
    this.#data.enrollments[enrollmentId] = created;
    return created;
  }

  period(enrollmentId: string, periodIndex: number): PeriodRecord | undefined {
    return this.#data.enrollments[enrollmentId]?.periods[String(periodIndex)];
  }

  /** Applies a change and makes it durable before resolving. Writes are serialised. */
  async update(change: (data: EdgeStateData) => void): Promise<void> {
    change(this.#data);
    const text = `${JSON.stringify(this.#data, null, 1)}\n`;
    const write = this.#writing.then(() => writeFileAtomic(this.#file, text));
    this.#writing = write.catch(() => undefined);
    await write;
  }
}
