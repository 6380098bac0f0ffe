/**
 * Step 4 of an enrollment's pipeline: the sealed upload of each settled period's interval
 * readings and fingerprint salt to the off-chain store. The document is sealed at the
 * site (JWE, @flexproof/protocol) to the site's own sealing key and to the auditor keys
 * the ledger holds as active, checked and filtered by the config's `auditors` allowlist
 * (sealing-recipients.ts), recorded before its first upload and resent unchanged. The
 * plaintext never leaves the site. What is due is decided in pipeline-decisions.ts
 * (decideUpload, uploadFailure, judgeStoredDocument); this performs it for the runner.
 */
import { isSealedDataError, openPeriod, sealPeriod, sealedContentHash } from '@flexproof/protocol';
import type { EdgeStateFile, PeriodRecord } from './edge-state';
import { GatewayError, type GatewayPort } from './gateway-port';
import type { Logger } from './log';
import { periodFingerprintSalt } from './period-proof';
import { callFailure, decideUpload, judgeStoredDocument, uploadFailure, type PipelineSnapshot, type RetryKey, type StoredDocument } from './pipeline-decisions';
import { chooseRecipients, type RecipientChoice } from './sealing-recipients';
import type { SealingKey } from './sealing-key';

export interface SealedUploadContext {
  enrollmentId: string;
  meterId: string;
  siteSecret: string;
  sealingKey: SealingKey;
  auditors?: readonly string[];
  state: EdgeStateFile;
  gateway: GatewayPort;
  logger: Logger;
}

/** What the uploads use of the pipeline that runs them: its snapshot, the state file and its retry schedule. */
export interface SealedUploadHost {
  snapshot(now: number): PipelineSnapshot;
  patch(p: number, change: Partial<PeriodRecord>): Promise<void>;
  failed(key: RetryKey, now: number, error: unknown, event: string, fields?: Record<string, unknown>): void;
  clearRetry(key: RetryKey): void;
  isoNow(): string;
}

export class SealedUploads {
  readonly #ctx: SealedUploadContext;
  readonly #host: SealedUploadHost;
  /** Periods whose upload was refused for good in this run (reported; tried again after a restart). */
  readonly #blocked = new Set<number>();

  constructor(ctx: SealedUploadContext, host: SealedUploadHost) {
    this.#ctx = ctx;
    this.#host = host;
  }

  get blocked(): ReadonlySet<number> {
    return this.#blocked;
  }

  #recordOf(p: number): PeriodRecord {
    const record = this.#ctx.state.period(this.#ctx.enrollmentId, p);
    // The decisions name only periods that have a record.
    if (!record) throw new Error(`period ${p} has no record`);
    return record;
  }

  /** Seals and uploads what is due; never throws for gateway or sealing trouble (logged and retried). */
  async run(now: number): Promise<void> {
    // The auditor keys are read once per round, and only when a period needs sealing.
    let choice: RecipientChoice | undefined;
    for (let from = 0; ; ) {
      const decision = decideUpload(this.#host.snapshot(now), from);
      if (decision.kind === 'stop') return;
      const p = decision.periodIndex;
      from = p + 1;
      const r = this.#recordOf(p);
      if (decision.seal) {
        choice ??= await this.#recipients(now);
        if (!choice) return;
        if (!(await this.#seal(r, choice))) continue;
      }
      const sealed = this.#ctx.state.period(this.#ctx.enrollmentId, p)?.sealed;
      if (!sealed) continue;
      let stored: 'created' | 'unchanged' | 'already-stored';
      try {
        stored = (await this.#ctx.gateway.uploadSealedPeriod(this.#ctx.meterId, this.#ctx.enrollmentId, p, sealed.jwe)).stored;
      } catch (error) {
        const failure = uploadFailure(callFailure(error));
        if (failure === 'retry') {
          this.#host.failed(`upload/${p}`, now, error, 'readings.upload-retry', { periodIndex: p });
          return;
        }
        const resolved = failure === 'store-conflict' ? await this.#storeConflict(r, now) : 'blocked';
        if (resolved === 'retry') return;
        if (resolved === 'blocked') {
          const refusal = error as GatewayError;
          this.#blocked.add(p);
          this.#ctx.logger.error('readings.upload-refused', { enrollmentId: this.#ctx.enrollmentId, periodIndex: p, status: refusal.status, code: refusal.code, message: refusal.message });
          continue;
        }
        stored = 'already-stored';
      }
      this.#host.clearRetry(`upload/${p}`);
      await this.#host.patch(p, { readingsUploaded: true });
      this.#ctx.logger.info('readings.uploaded', {
        enrollmentId: this.#ctx.enrollmentId,
        periodIndex: p,
        stored,
        sealed: true,
        contentHash: sealed.contentHash,
        recipients: sealed.recipients.map((x) => (x.role === 'site' ? 'site' : x.auditorId)),
      });
    }
  }

  /** The checked recipients from GET /v1/edge/auditor-keys, or undefined (logged; retried later). */
  async #recipients(now: number): Promise<RecipientChoice | undefined> {
    let choice: RecipientChoice;
    try {
      choice = chooseRecipients(await this.#ctx.gateway.getAuditorKeys(), this.#ctx.sealingKey, this.#ctx.auditors);
    } catch (error) {
      this.#host.failed('auditor-keys', now, error, 'auditor-keys.lookup-failed');
      return undefined;
    }
    this.#host.clearRetry('auditor-keys');
    for (const refusal of choice.refused) {
      this.#ctx.logger.error('auditor-key.refused', {
        enrollmentId: this.#ctx.enrollmentId,
        ...refusal,
        action:
          refusal.reason === 'KEY_HASH_MISMATCH'
            ? "not sealed to: the key the gateway gave does not hash to the ledger's keyHash"
            : 'not sealed to: the record is not a usable auditor key',
      });
    }
    if (choice.allowedWithoutKey.length > 0) {
      this.#ctx.logger.warn('auditor-keys.allowed-without-key', {
        enrollmentId: this.#ctx.enrollmentId,
        auditors: choice.allowedWithoutKey,
        note: 'these auditors in the config have no usable active key on the ledger: periods sealed now cannot be read by them (they are not sealed again later)',
      });
    }
    return choice;
  }

  /** Seals period r's readings and salt and records the document; false when it cannot be sealed (logged). */
  async #seal(r: PeriodRecord, choice: RecipientChoice): Promise<boolean> {
    const p = r.periodIndex;
    const place = { meterId: this.#ctx.meterId, enrollmentId: this.#ctx.enrollmentId, periodIndex: p };
    let jwe;
    try {
      jwe = await sealPeriod(
        {
          ...place,
          readings: r.readings,
          ...(r.exportReadings !== undefined ? { exportReadings: r.exportReadings } : {}),
          fingerprintSalt: this.#fingerprintSalt(p),
        },
        choice.recipients,
      );
    } catch (error) {
      // Only field names and rules are in a SealedDataError, never a value.
      this.#blocked.add(p);
      this.#ctx.logger.error('readings.seal-failed', {
        enrollmentId: this.#ctx.enrollmentId,
        periodIndex: p,
        code: isSealedDataError(error) ? error.code : undefined,
        field: isSealedDataError(error) ? error.field : undefined,
        message: (error as Error).message,
      });
      return false;
    }
    const contentHash = sealedContentHash(jwe);
    const recipients = [
      { role: 'site' as const, keyHash: this.#ctx.sealingKey.keyHash },
      ...choice.auditors.map((a) => ({ role: 'auditor' as const, auditorId: a.auditorId, keyHash: a.keyHash })),
    ];
    await this.#host.patch(p, { sealed: { jwe, contentHash, recipients, sealedAt: this.#host.isoNow() } });
    this.#ctx.logger.info('readings.sealed', {
      enrollmentId: this.#ctx.enrollmentId,
      periodIndex: p,
      contentHash,
      recipients: recipients.map((x) => (x.role === 'site' ? 'site' : x.auditorId)),
      ...(choice.notAllowed.length > 0 ? { notAllowed: choice.notAllowed } : {}),
    });
    return true;
  }

  #fingerprintSalt(p: number): string {
    return periodFingerprintSalt(this.#ctx.siteSecret, this.#ctx.meterId, this.#ctx.enrollmentId, p).toString();
  }

  /** 409 on upload: reads the store's document for the period and opens it with the site's key (judged in pipeline-decisions.ts). */
  async #storeConflict(r: PeriodRecord, now: number): Promise<'stored' | 'blocked' | 'retry'> {
    const p = r.periodIndex;
    let stored;
    try {
      stored = (await this.#ctx.gateway.getSealedPeriods(this.#ctx.meterId, this.#ctx.enrollmentId)).periods.find(
        (d) => d.periodIndex === p && d.enrollmentId === this.#ctx.enrollmentId,
      );
    } catch (error) {
      this.#host.failed(`upload/${p}`, now, error, 'readings.conflict-lookup-failed', { periodIndex: p });
      return 'retry';
    }
    let document: StoredDocument = { kind: 'absent' };
    if (stored !== undefined) {
      try {
        const opened = await openPeriod(stored.jwe, this.#ctx.sealingKey.privateKey, { meterId: this.#ctx.meterId, enrollmentId: this.#ctx.enrollmentId, periodIndex: p });
        document = { kind: 'opened', fingerprintSalt: opened.fingerprintSalt, readings: opened.readings, ...(opened.exportReadings !== undefined ? { exportReadings: opened.exportReadings } : {}) };
      } catch (error) {
        document = { kind: 'unopenable', code: isSealedDataError(error) ? error.code : 'error' };
      }
    }
    const judged = judgeStoredDocument(document, { readings: r.readings, ...(r.exportReadings !== undefined ? { exportReadings: r.exportReadings } : {}), fingerprintSalt: this.#fingerprintSalt(p) });
    if (judged.kind === 'stored') {
      this.#ctx.logger.info('readings.already-stored', { enrollmentId: this.#ctx.enrollmentId, periodIndex: p, contentHash: stored?.contentHash });
      return 'stored';
    }
    this.#ctx.logger.error('readings.store-conflict', {
      enrollmentId: this.#ctx.enrollmentId,
      periodIndex: p,
      reason: judged.reason,
      ...(stored ? { storedContentHash: stored.contentHash } : {}),
      action: "the site's own document is kept in state.json and not uploaded again until the next start; ask the store's operator",
    });
    return 'blocked';
  }
}
