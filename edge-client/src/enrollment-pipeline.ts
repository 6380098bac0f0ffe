/**
 * The life of one enrollment at the edge, driven by `step(now)`:
 *
 * 1. accept: if the ledger shows the enrollment offered with the commitments of the
 *    config and economics within its acceptPolicy (accept-policy.ts), autoAccept is on,
 *    and the ledger's verification key is this site's (ledger-key.ts), sign
 *    AcceptEnrollment and send it;
 * 2. close: once a period has ended (plus closeDelaySeconds for the reading after the
 *    boundary), compute its interval energies, prove, sign, and record the exact body
 *    (a v1 circuit proves the import register; a v2 circuit, id kind 'net', proves
 *    import minus export against a signed request);
 * 3. submit: the lowest proven period, only when every earlier one is resolved, so the
 *    fingerprint chain grows in order; retried with exponential backoff while the
 *    gateway or ledger is down, always with the same body; a period whose proof could
 *    no longer land before its deadline (end + grace, less the proof estimate and the
 *    submission allowance) is neither proven nor sent but left for the aggregator's
 *    claim (LEFT_FOR_CLAIM), its readings kept and uploaded like any other's;
 * 4. upload: the interval readings (import, and for a v2 net energy enrollment the
 *    export too) and the fingerprint salt of each period with a final answer,
 *    sealed at the site (JWE, @flexproof/protocol) to the site's own sealing key and to
 *    the auditor keys the ledger holds as active, checked and filtered by the config's
 *    `auditors` allowlist (sealing-recipients.ts); the sealed document is recorded before
 *    its first upload and resent unchanged. The plaintext never leaves the site.
 *
 * Every step is recorded in the state file before the next, so a restart resumes where
 * the previous run stopped and never signs different data for a period already sent.
 *
 * Before each submission the ledger's key is fetched and checked again, and the proof is
 * verified against it; each proof is also verified before it is signed (against the
 * ledger's key when known, else the site's own, which the check before sending compares
 * with the ledger's). On any mismatch nothing is signed or sent, the enrollment is held
 * (`status` shows why) and the check is retried, so a corrected ledger key recovers.
 *
 * This file is the runner: what to do next is decided in pipeline-decisions.ts (pure,
 * tested branch by branch); here the decisions are performed (prover, gateway, state
 * file, logs) and their outcomes recorded, step 4 by pipeline-upload.ts. Every time
 * comes from the injected clock.
 */
import type { KeyObject } from 'node:crypto';
import { circuitShape, verifyDeviationProof, type DeviationProof, type VerificationKey } from '@flexproof/circuits';
import { acceptancePayload } from './accept-policy';
import type { EnrollmentConfig } from './config';
import type { EdgeStateFile, HoldCode, PeriodRecord } from './edge-state';
import { EdgeError } from './errors';
import { GatewayError, type EnrollmentView, type GatewayPort } from './gateway-port';
import type { Logger } from './log';
import { periodDeadlineMs, periodEndMs, periodStartMs, type PeriodTiming } from './period-clock';
import { periodFingerprintSalt, provePeriod } from './period-proof';
import type { ProverPort } from './prover';
import { localKeyHash, lookUpLedgerKey } from './ledger-key';
import { signPayload, type LedgerTarget } from './prosumer-signing';
import type { ReadingLog } from './reading-log';
import { SealedUploads } from './pipeline-upload';
import type { SealingKey } from './sealing-key';
import {
  KEY_HOLDS,
  MAX_READING,
  afterAccepted,
  callFailure,
  closedPeriod,
  decideClose,
  decideConflict,
  decideOnLedgerView,
  decideSubmit,
  holdChanged,
  holdToClear,
  keyHeldOnStart,
  nextBackoff,
  LEFT_FOR_CLAIM,
  nextWakeMs,
  proofFailure,
  reproveOrLeave,
  readLedgerDue,
  readingOutOfRange,
  recheckHeldKey,
  rejectionExcludes,
  retryFloorMs,
  sendKeyCheck,
  settlementExcludes,
  stepSkipped,
  submitFailure,
  unverifiedProof,
  verifyBeforeSending,
  type Backoff,
  type ClosedPeriod,
  type HoldAction,
  type LedgerAction,
  type PipelineSnapshot,
  type RetryKey,
} from './pipeline-decisions';

export { GENESIS_FINGERPRINT } from './pipeline-decisions';

export interface PipelineContext {
  meterId: string;
  prosumerId: string;
  siteSecret: string;
  privateKey: KeyObject;
  /** The site's sealing key: a recipient of every period document. */
  sealingKey: SealingKey;
  /** The config's allowlist of auditor ids (undefined: every active auditor key). */
  auditors?: readonly string[];
  closeDelayMs: number;
  retry: { initialMs: number; maxMs: number };
  autoAccept: boolean;
  /** The channel and chaincode every signed payload names. */
  ledger: LedgerTarget;
  tamperPeriod?: number;
  state: EdgeStateFile;
  readings: ReadingLog;
  gateway: GatewayPort;
  prover: ProverPort;
  logger: Logger;
  /** Jitter source, [0, 1). */
  random?: () => number;
  /** The time now (unix ms); the node's injected clock, Date.now by default. */
  clock?: () => number;
}

export class EnrollmentPipeline {
  readonly #config: EnrollmentConfig;
  readonly #ctx: PipelineContext;
  readonly #timing: PeriodTiming;
  readonly #clock: () => number;
  /** Ledger status as last seen (in memory; re-read after a restart). */
  #ledgerStatus: string | undefined;
  #termsMismatch = false;
  /** The ledger's key as last checked to be this site's (undefined: not checked in this run, or it failed). */
  #ledgerKey: VerificationKey | undefined;
  #localKeyHash: string | undefined;
  /** Nothing is proven, accepted or sent while the ledger key (or a proof against it) failed its check. */
  #keyHeld: boolean;
  readonly #backoff = new Map<string, Backoff>();
  readonly #uploads: SealedUploads;
  /** The enrollment's circuit proves signed net energy (v2: import and export) rather than consumption (v1). */
  readonly #net: boolean;
  #exportIgnoredLogged = false;

  constructor(config: EnrollmentConfig, ctx: PipelineContext) {
    this.#config = config;
    this.#ctx = ctx;
    this.#clock = ctx.clock ?? Date.now;
    this.#timing = {
      startMs: Date.parse(config.startTime),
      periodSeconds: config.periodSeconds,
      graceSeconds: config.graceSeconds,
      intervalsPerPeriod: circuitShape(config.shape).readingsPerPeriod,
    };
    this.#net = circuitShape(config.shape).kind === 'net';
    this.#keyHeld = keyHeldOnStart(ctx.state.enrollment(config.enrollmentId).hold);
    this.#uploads = new SealedUploads(
      {
        enrollmentId: config.enrollmentId,
        meterId: ctx.meterId,
        siteSecret: ctx.siteSecret,
        sealingKey: ctx.sealingKey,
        ...(ctx.auditors !== undefined ? { auditors: ctx.auditors } : {}),
        state: ctx.state,
        gateway: ctx.gateway,
        logger: ctx.logger,
      },
      {
        snapshot: (now) => this.#snapshot(now),
        patch: (p, change) => this.#patch(p, change),
        failed: (key, now, error, event, fields) => this.#failed(key, now, error, event, fields),
        clearRetry: (key) => this.#backoff.delete(key),
        isoNow: () => this.#isoNow(),
      },
    );
  }

  get enrollmentId(): string {
    return this.#config.enrollmentId;
  }

  get timing(): PeriodTiming {
    return this.#timing;
  }

  /** When this pipeline next has work to do (ms), for the scheduler's sleep. */
  nextWakeMs(now: number): number {
    return nextWakeMs(this.#snapshot(now));
  }

  /** Does whatever is due now; never throws for gateway or proof trouble (it is logged and retried). */
  async step(now: number): Promise<void> {
    if (stepSkipped(this.#snapshot(now))) return;
    if (recheckHeldKey(this.#snapshot(now))) await this.#checkLedgerKey(now);
    await this.#closeDuePeriods(now);
    await this.#checkLedger(now);
    // Only a terms mismatch stops the step here: an enrollment just excluded still uploads
    // its settled periods' sealed readings (the invalid proof's evidence) in this step.
    if (this.#termsMismatch) return;
    await this.#submitNext(now);
    await this.#uploads.run(now);
  }

  /** What the decisions read: the state file's enrollment and this run's facts. */
  #snapshot(now: number): PipelineSnapshot {
    return {
      timing: this.#timing,
      closeDelayMs: this.#ctx.closeDelayMs,
      enrollment: this.#ctx.state.enrollment(this.enrollmentId),
      ledgerStatus: this.#ledgerStatus,
      termsMismatch: this.#termsMismatch,
      keyHeld: this.#keyHeld,
      backoff: this.#backoff,
      uploadBlocked: this.#uploads.blocked,
      ...(this.#ctx.tamperPeriod !== undefined ? { tamperPeriod: this.#ctx.tamperPeriod } : {}),
      now,
    };
  }

  #isoNow(): string {
    return new Date(this.#clock()).toISOString();
  }

  // ---- 1. acceptance and ledger status ----

  async #checkLedger(now: number): Promise<void> {
    if (!readLedgerDue(this.#snapshot(now))) return;
    let view: EnrollmentView;
    try {
      view = await this.#ctx.gateway.getEnrollment(this.enrollmentId);
    } catch (error) {
      this.#failed('ledger', now, error, 'enrollment.lookup-failed');
      return;
    }
    const actions = decideOnLedgerView(this.#snapshot(now), view, { site: this.#ctx, config: this.#config, autoAccept: this.#ctx.autoAccept });
    await this.#apply(actions, view, now);
  }

  async #apply(actions: readonly LedgerAction[], view: EnrollmentView, now: number): Promise<void> {
    for (const action of actions) {
      switch (action.kind) {
        case 'terms-mismatch': {
          const terms = action.refusals.map((m) => m.term);
          this.#termsMismatch = true;
          this.#ctx.logger.error('enrollment.terms-mismatch', {
            enrollmentId: this.enrollmentId,
            fields: terms,
            refusals: action.refusals,
            action: 'nothing is accepted or submitted for this enrollment; fix the config or ask the aggregator',
          });
          await this.#setHold({
            kind: 'hold',
            hold: { code: 'TERMS_MISMATCH', message: `the ledger's ${terms.join(', ')} differ from the config: nothing is accepted or submitted`, terms },
            level: 'error',
            event: 'enrollment.held',
          });
          break;
        }
        case 'set-ledger-status':
          this.#ledgerStatus = action.status;
          break;
        case 'hold':
          await this.#setHold(action);
          break;
        case 'clear-hold':
          await this.#clearHold(action.codes);
          break;
        case 'mark-accepted':
          await this.#ctx.state.update(() => {
            this.#ctx.state.enrollment(this.enrollmentId).acceptedAt = this.#isoNow();
          });
          break;
        case 'mark-excluded':
          await this.#markExcluded(action.reason);
          break;
        case 'log-waiting':
          this.#ctx.logger.info('enrollment.waiting', { enrollmentId: this.enrollmentId, status: action.status, for: 'active' });
          break;
        case 'poll-ledger':
          this.#schedule('ledger', now, undefined, true);
          break;
        case 'ledger-active':
          this.#backoff.delete('ledger');
          break;
        case 'accept':
          if ((await this.#checkLedgerKey(now)) !== 'ok') {
            this.#schedule('ledger', now, undefined, true);
            break;
          }
          await this.#accept(view, now);
          break;
      }
    }
  }

  async #accept(view: EnrollmentView, now: number): Promise<void> {
    // The nonce must grow from one signed payload to the next (the chaincode refuses a used one): the clock's ms.
    const payload = acceptancePayload(view, this.#ctx.ledger, String(this.#clock()));
    const body = JSON.stringify({ payload, signature: signPayload(payload, this.#ctx.privateKey) });
    try {
      await this.#ctx.gateway.acceptEnrollment(this.enrollmentId, body);
    } catch (error) {
      this.#failed('ledger', now, error, 'enrollment.accept-failed');
      return;
    }
    this.#ctx.logger.info('enrollment.accepted', { enrollmentId: this.enrollmentId });
    await this.#apply(afterAccepted(this.#snapshot(now)), view, now);
  }

  // ---- holds and the ledger's key ----

  async #setHold(action: HoldAction): Promise<void> {
    const { hold, level, event, fields = {} } = action;
    if (!holdChanged(this.#ctx.state.enrollment(this.enrollmentId).hold, hold)) return;
    this.#ctx.logger[level](event, { enrollmentId: this.enrollmentId, code: hold.code, message: hold.message, ...(hold.terms ? { terms: hold.terms } : {}), ...fields });
    await this.#ctx.state.update(() => {
      this.#ctx.state.enrollment(this.enrollmentId).hold = { ...hold, since: this.#isoNow() };
    });
  }

  async #clearHold(codes: readonly HoldCode[]): Promise<void> {
    const code = holdToClear(this.#ctx.state.enrollment(this.enrollmentId).hold, codes);
    if (code === undefined) return;
    this.#ctx.logger.info('enrollment.hold-cleared', { enrollmentId: this.enrollmentId, code });
    await this.#ctx.state.update(() => {
      delete this.#ctx.state.enrollment(this.enrollmentId).hold;
    });
  }

  async #ownKeyHash(): Promise<string> {
    this.#localKeyHash ??= localKeyHash(await this.#ctx.prover.verificationKey(this.#config.shape));
    return this.#localKeyHash;
  }

  /** Holds the enrollment's proving and signing, and checks again in retry.maxMs. */
  async #holdForKey(now: number, code: 'LEDGER_KEY_MISMATCH' | 'PROOF_NOT_VERIFIED', message: string, event: string): Promise<void> {
    this.#keyHeld = true;
    this.#schedule('key', now, this.#ctx.retry.maxMs);
    await this.#setHold({
      kind: 'hold',
      hold: { code, message: `${message}; nothing is accepted, signed or sent for this enrollment until that is fixed (checked again every ${this.#ctx.retry.maxMs} ms)` },
      level: 'error',
      event,
    });
  }

  /** Fetches the ledger's key and checks it against this site's: ok, held (mismatch) or unavailable (retry later). */
  async #checkLedgerKey(now: number): Promise<'ok' | 'held' | 'unavailable'> {
    let own: string;
    try {
      own = await this.#ownKeyHash();
    } catch (error) {
      await this.#holdForKey(now, 'LEDGER_KEY_MISMATCH', `this site's verification key cannot be read (${(error as Error).message})`, 'ledger-key.mismatch');
      return 'held';
    }
    const result = await lookUpLedgerKey(this.#ctx.gateway, this.enrollmentId, { circuitId: this.#config.circuitId, localKeyHash: own });
    if (result.ok) {
      this.#ledgerKey = result.verificationKey;
      this.#backoff.delete('key');
      if (this.#keyHeld) {
        this.#keyHeld = false;
        this.#ctx.logger.info('ledger-key.matches', { enrollmentId: this.enrollmentId, keyHash: result.keyHash });
        await this.#clearHold(KEY_HOLDS);
      }
      return 'ok';
    }
    if ('unavailable' in result) {
      this.#failed('key', now, result.error, 'ledger-key.lookup-failed');
      return 'unavailable';
    }
    this.#ledgerKey = undefined;
    await this.#holdForKey(now, 'LEDGER_KEY_MISMATCH', result.reason, 'ledger-key.mismatch');
    return 'held';
  }

  /** Groth16 verification against the ledger's key (as last checked) or, before any check, the site's own. */
  async #verifies(proof: DeviationProof): Promise<boolean> {
    const key = this.#ledgerKey ?? (await this.#ctx.prover.verificationKey(this.#config.shape));
    try {
      return await verifyDeviationProof(key, proof.proof, proof.publicSignals);
    } catch {
      // A malformed proof or signal is as unverified as a false one.
      return false;
    }
  }

  async #markExcluded(reason: string): Promise<void> {
    this.#ctx.logger.error('enrollment.excluded', { enrollmentId: this.enrollmentId, reason });
    await this.#ctx.state.update(() => {
      this.#ctx.state.enrollment(this.enrollmentId).excludedAt = this.#isoNow();
    });
  }

  // ---- 2. closing and proving periods ----

  async #closeDuePeriods(now: number): Promise<void> {
    let keyChecked = false;
    let proved: number | undefined;
    for (;;) {
      // The time is read again for the deadline: proving the previous period took some of it.
      const decision = decideClose(this.#snapshot(now), keyChecked, this.#clock());
      if (decision.kind === 'wait') return;
      if (decision.kind === 'check-key') {
        keyChecked = true;
        if ((await this.#checkLedgerKey(now)) === 'held') return;
        continue;
      }
      // Proving records the period or holds the enrollment, so the next decision moves on;
      // the same period asked for twice would mean neither happened: left to the next step.
      if (proved === decision.periodIndex) return;
      proved = decision.periodIndex;
      if (decision.kind === 'skip') await this.#skip(decision.periodIndex, decision.prevFingerprint, decision.marginMs);
      else await this.#prove(decision.periodIndex, decision.prevFingerprint, now);
    }
  }

  /** Period p's readings as the period closes them (the registers chain on from the previous period's close). */
  #close(p: number): ClosedPeriod & { messageCount: number } {
    const messageCount = this.#ctx.readings.between(periodStartMs(this.#timing, p), periodEndMs(this.#timing, p)).length;
    const closed = closedPeriod(
      {
        readings: this.#ctx.readings.readings,
        messageCount,
        timing: this.#timing,
        periodIndex: p,
        previous: p > 0 ? this.#ctx.state.period(this.enrollmentId, p - 1) : undefined,
        net: this.#net,
      },
      this.#isoNow(),
    );
    return { ...closed, messageCount };
  }

  /**
   * A period whose proof could no longer land before its deadline: its readings are
   * recorded like any other's (uploaded sealed; the next period opens at its closing
   * register), nothing is proven or signed, and it is left for the aggregator's claim.
   */
  async #skip(p: number, prevFingerprint: string, marginMs: number): Promise<void> {
    const { base, messageCount } = this.#close(p);
    const deadline = new Date(periodDeadlineMs(this.#timing, p)).toISOString();
    const message = `not proven: a proof started now (estimated with the submission at ${marginMs} ms) would land after the deadline ${deadline}; left for the aggregator's ClaimMissedPeriod`;
    this.#ctx.logger.warn('period.skipped', { enrollmentId: this.enrollmentId, periodIndex: p, messages: messageCount, deadline, marginMs, leftFor: 'ClaimMissedPeriod' });
    await this.#record(p, { ...base, status: 'rejected', prevFingerprint, newFingerprint: '', deviationWh: '', submissionHash: '', body: '', provingMs: 0, lastError: { code: LEFT_FOR_CLAIM, message, at: this.#isoNow() } });
  }

  /**
   * A period proven again (the chain head moved, other artifacts, a refused head) keeps
   * the readings and registers it was closed with: readings that arrived since would
   * interpolate its closing register differently, and the next period may already have
   * opened at the recorded one (energy would be counted twice or lost between them).
   */
  #recorded(r: PeriodRecord): ClosedPeriod & { messageCount: number } {
    const importWh = r.readings.map((v) => BigInt(v));
    const exportWh = (r.exportReadings ?? r.readings.map(() => '0')).map((v) => BigInt(v));
    const base: ClosedPeriod['base'] = {
      periodIndex: r.periodIndex,
      messageCount: r.messageCount,
      readings: r.readings,
      ...(r.exportReadings !== undefined ? { exportReadings: r.exportReadings } : {}),
      ...(r.openingRegisterWh !== undefined ? { openingRegisterWh: r.openingRegisterWh } : {}),
      ...(r.closingRegisterWh !== undefined ? { closingRegisterWh: r.closingRegisterWh } : {}),
      ...(r.openingExportRegisterWh !== undefined ? { openingExportRegisterWh: r.openingExportRegisterWh } : {}),
      ...(r.closingExportRegisterWh !== undefined ? { closingExportRegisterWh: r.closingExportRegisterWh } : {}),
      provenAt: this.#isoNow(),
      attempts: r.attempts,
    };
    return { importWh, exportWh, base, messageCount: r.messageCount };
  }

  async #prove(p: number, prevFingerprint: string, now: number): Promise<void> {
    const net = this.#net;
    const recorded = this.#ctx.state.period(this.enrollmentId, p);
    const { importWh, exportWh, base, messageCount } = recorded && recorded.readings.length > 0 ? this.#recorded(recorded) : this.#close(p);
    if (!net && !this.#exportIgnoredLogged && exportWh.some((e) => e > 0n)) {
      this.#exportIgnoredLogged = true;
      this.#ctx.logger.warn('period.export-not-proven', {
        enrollmentId: this.enrollmentId,
        circuitId: this.#config.circuitId,
        periodIndex: p,
        note: 'the meter exports energy but this enrollment has a v1 (consumption) circuit: it proves the import register only; a flexnet-v2 enrollment proves net energy',
      });
    }
    const outOfRange = readingOutOfRange(importWh, exportWh, net);
    if (outOfRange !== undefined) {
      this.#ctx.logger.error('period.reading-out-of-range', { enrollmentId: this.enrollmentId, periodIndex: p, register: outOfRange, limitWh: MAX_READING.toString() });
      await this.#record(p, { ...base, status: 'failed', prevFingerprint, newFingerprint: '', deviationWh: '', submissionHash: '', body: '', provingMs: 0 });
      return;
    }
    const tamper = this.#ctx.tamperPeriod === p;
    if (tamper) {
      this.#ctx.logger.error('TAMPER.corrupting-proof', {
        enrollmentId: this.enrollmentId,
        periodIndex: p,
        warning: 'the tamper switch is ON: this period is signed with a deliberately corrupted proof; the ledger will exclude this site',
      });
    }
    let submission;
    try {
      submission = await provePeriod(
        {
          meterId: this.#ctx.meterId,
          prosumerId: this.#ctx.prosumerId,
          enrollmentId: this.enrollmentId,
          circuitId: this.#config.circuitId,
          shape: this.#config.shape,
          periodIndex: p,
          readings: importWh,
          ...(net ? { exportReadings: exportWh } : {}),
          prevFingerprint,
          requestProfile: this.#config.requestProfile,
          commitmentSalt: this.#config.commitmentSalt,
          requestCommitment: this.#config.requestCommitment,
          fingerprintSalt: periodFingerprintSalt(this.#ctx.siteSecret, this.#ctx.meterId, this.enrollmentId, p),
          privateKey: this.#ctx.privateKey,
          ledger: this.#ctx.ledger,
          verify: (proof) => this.#verifies(proof),
          tamper,
        },
        this.#ctx.prover,
      );
    } catch (error) {
      const code = error instanceof EdgeError ? error.code : undefined;
      if (proofFailure(code) === 'hold-for-key') {
        await this.#holdForKey(now, 'PROOF_NOT_VERIFIED', `the proof of period ${p} does not verify against the ledger's key (the proving key is not the ledger's)`, 'period.proof-not-verified');
        return;
      }
      this.#ctx.logger.error('period.proof-failed', { enrollmentId: this.enrollmentId, periodIndex: p, error });
      await this.#record(p, { ...base, status: 'failed', prevFingerprint, newFingerprint: '', deviationWh: '', submissionHash: '', body: '', provingMs: 0, lastError: { code: (error as { code?: string }).code ?? 'PROOF_FAILED', message: (error as Error).message, at: this.#isoNow() } });
      return;
    }
    const existing = this.#ctx.state.period(this.enrollmentId, p);
    await this.#record(p, {
      ...base,
      ...(existing ? { attempts: existing.attempts, provenAt: base.provenAt } : {}),
      status: 'proven',
      prevFingerprint,
      newFingerprint: submission.newFingerprint,
      deviationWh: submission.deviationWh,
      submissionHash: submission.submissionHash,
      body: submission.body,
      ...(submission.tampered ? { tampered: true } : {}),
      provingMs: submission.provingMs,
    });
    this.#ctx.logger.info('period.proven', {
      enrollmentId: this.enrollmentId,
      periodIndex: p,
      messages: messageCount,
      deviationWh: submission.deviationWh,
      provingMs: submission.provingMs,
      submissionHash: submission.submissionHash,
    });
  }

  async #record(p: number, record: PeriodRecord): Promise<void> {
    await this.#ctx.state.update(() => {
      this.#ctx.state.enrollment(this.enrollmentId).periods[String(p)] = record;
    });
  }

  async #patch(p: number, change: Partial<PeriodRecord>): Promise<void> {
    await this.#ctx.state.update(() => {
      const r = this.#ctx.state.enrollment(this.enrollmentId).periods[String(p)];
      if (r) Object.assign(r, change);
    });
  }

  // ---- 3. submitting in order ----

  #recordOf(p: number): PeriodRecord {
    const record = this.#ctx.state.period(this.enrollmentId, p);
    // The decisions name only periods that have a record.
    if (!record) throw new Error(`period ${p} has no record`);
    return record;
  }

  async #submitNext(now: number): Promise<void> {
    let previous: string | undefined;
    for (;;) {
      // The time is read again here for the deadline: proving the previous period took some of it.
      const decision = decideSubmit(this.#snapshot(now), this.#clock());
      // Each action resolves or changes the period it names; one repeated unchanged is left to the next step.
      const key = JSON.stringify(decision);
      if (key === previous) return;
      previous = key;
      switch (decision.kind) {
        case 'none':
          return;
        case 'wait':
          // Not a failure: the submission's own retry slot is moved to the time it may go.
          this.#backoff.set(`submit/${decision.periodIndex}`, { attempts: this.#backoff.get(`submit/${decision.periodIndex}`)?.attempts ?? 0, notBefore: decision.untilMs });
          this.#ctx.logger.info('period.waiting', {
            enrollmentId: this.enrollmentId,
            periodIndex: decision.periodIndex,
            reason: 'an earlier period left unsettled is inside its deadline; the ledger settles that one first',
            untilMs: decision.untilMs,
          });
          return;
        case 'expire':
          await this.#expired(this.#recordOf(decision.periodIndex), decision.reason);
          continue;
        case 'reprove':
          // Proven again only once a gateway answers (the key check before sending): while
          // none does, nothing can be sent and the head may move again before one does, so
          // a proof now would most likely be made twice, and slow the catch-up.
          if (sendKeyCheck(this.#snapshot(now)) === 'wait' || (await this.#checkLedgerKey(now)) !== 'ok') return;
          this.#ctx.logger.warn('period.reproving', { enrollmentId: this.enrollmentId, periodIndex: decision.periodIndex, reason: 'the chain head moved' });
          await this.#prove(decision.periodIndex, decision.prevFingerprint, now);
          continue;
        case 'send':
          if (!(await this.#send(this.#recordOf(decision.periodIndex), now))) return;
          continue;
      }
    }
  }

  /** Sends a period's body; true when the period got a final answer. */
  async #send(record: PeriodRecord, now: number): Promise<boolean> {
    const p = record.periodIndex;
    if (sendKeyCheck(this.#snapshot(now)) === 'wait') return false;
    if ((await this.#checkLedgerKey(now)) !== 'ok') return false;
    if (verifyBeforeSending(record) && !(await this.#verifies(JSON.parse(record.body) as DeviationProof))) {
      const next = unverifiedProof(record);
      if (next.kind === 'reprove') {
        if (reproveOrLeave(this.#snapshot(now), p, this.#clock()) === 'leave') {
          await this.#expired(record, 'reprove');
          return true;
        }
        // Proven with other artifacts (replaced since) and never sent: prove it again, verified before signing.
        this.#ctx.logger.warn('period.reproving', { enrollmentId: this.enrollmentId, periodIndex: p, reason: "the proof does not verify against the ledger's key" });
        await this.#prove(p, next.prevFingerprint, now);
        return false;
      }
      await this.#holdForKey(now, 'PROOF_NOT_VERIFIED', `the proof of period ${p}, already sent once, does not verify against the ledger's key; it is not sent again`, 'period.proof-not-verified');
      return false;
    }
    await this.#patch(p, {
      status: 'submitted',
      attempts: record.attempts + 1,
      ...(record.firstSentAt === undefined ? { firstSentAt: this.#isoNow() } : {}),
    });
    try {
      const outcome = await this.#ctx.gateway.submitPeriod(this.enrollmentId, p, record.body);
      await this.#settled(p, outcome.outcome, outcome.txId, outcome.replayed === true);
      this.#backoff.delete(`submit/${p}`);
      return true;
    } catch (error) {
      switch (submitFailure(callFailure(error))) {
        case 'conflict':
          return this.#conflict(record, error as GatewayError, now);
        case 'rejected':
          await this.#rejected(record, error as GatewayError);
          return true;
        case 'retry':
          this.#failed(`submit/${p}`, now, error, 'period.submit-retry', { periodIndex: p });
          await this.#patch(p, { lastError: this.#errorRecord(error) });
          return false;
      }
    }
  }

  async #settled(p: number, outcome: string, txId: string | undefined, replayed: boolean, fromLedger?: { newFingerprint?: string }): Promise<void> {
    await this.#patch(p, {
      status: 'settled',
      outcome,
      ...(txId !== undefined ? { txId } : {}),
      ...(fromLedger?.newFingerprint !== undefined ? { newFingerprint: fromLedger.newFingerprint } : {}),
      settledAt: this.#isoNow(),
    });
    const level = outcome === 'verified' ? 'info' : 'error';
    this.#ctx.logger[level]('period.settled', { enrollmentId: this.enrollmentId, periodIndex: p, outcome, txId, replayed });
    if (settlementExcludes(outcome)) await this.#markExcluded(`invalid proof at period ${p}`);
  }

  /** A proven period without a settlement that can no longer land before its deadline: left to the aggregator's claim. */
  async #expired(record: PeriodRecord, reason: 'send' | 'reprove'): Promise<void> {
    const p = record.periodIndex;
    const deadline = new Date(periodDeadlineMs(this.#timing, p)).toISOString();
    const why = reason === 'send' ? 'its proof was not sent before' : 'it had to be proven again (the chain head moved) and a new proof would land after';
    const message = `${why} the deadline ${deadline}; left for the aggregator's ClaimMissedPeriod`;
    this.#ctx.logger.warn('period.expired', { enrollmentId: this.enrollmentId, periodIndex: p, deadline, reason, leftFor: 'ClaimMissedPeriod', message });
    await this.#patch(p, { status: 'rejected', lastError: { code: LEFT_FOR_CLAIM, message, at: this.#isoNow() } });
  }

  async #rejected(record: PeriodRecord, error: GatewayError): Promise<void> {
    this.#ctx.logger.error('period.rejected', {
      enrollmentId: this.enrollmentId,
      periodIndex: record.periodIndex,
      status: error.status,
      code: error.code,
      message: error.message,
      action: 'not retried; see `flexproof-edge status`',
    });
    await this.#patch(record.periodIndex, { status: 'rejected', lastError: this.#errorRecord(error) });
    if (rejectionExcludes(error.code)) await this.#markExcluded(error.message);
  }

  /** 409: the ledger already holds a result for the period, or the chain head is not what we proved on. */
  async #conflict(record: PeriodRecord, error: GatewayError, now: number): Promise<boolean> {
    const p = record.periodIndex;
    let view: EnrollmentView;
    try {
      view = await this.#ctx.gateway.getEnrollment(this.enrollmentId);
    } catch (lookup) {
      this.#failed(`submit/${p}`, now, lookup, 'period.conflict-lookup-failed', { periodIndex: p });
      return false;
    }
    const decision = decideConflict(record, view);
    switch (decision.kind) {
      case 'settled':
        await this.#settled(p, decision.outcome, decision.txId, true);
        return true;
      case 'settled-by-another':
        this.#ctx.logger.error('period.settled-by-another-submission', {
          enrollmentId: this.enrollmentId,
          periodIndex: p,
          outcome: decision.outcome,
          txId: decision.txId,
          action: 'the ledger result stands; this site keeps its own proof in the state file',
        });
        await this.#settled(p, decision.outcome, decision.txId, true, decision.newFingerprint !== undefined ? { newFingerprint: decision.newFingerprint } : {});
        await this.#patch(p, { lastError: this.#errorRecord(error) });
        return true;
      case 'reprove':
        if (reproveOrLeave(this.#snapshot(now), p, this.#clock()) === 'leave') {
          await this.#expired(record, 'reprove');
          return true;
        }
        this.#ctx.logger.warn('period.reproving', { enrollmentId: this.enrollmentId, periodIndex: p, reason: 'the ledger chain head differs' });
        await this.#prove(p, decision.prevFingerprint, now);
        return false;
      case 'rejected':
        await this.#rejected(record, error);
        return true;
    }
  }

  // ---- retries ----

  #schedule(key: RetryKey, now: number, retryAfterMs: number | undefined, steady = false): number {
    const { backoff, delayMs } = nextBackoff(this.#backoff.get(key), this.#ctx.retry, now, {
      steady,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      jitter: steady ? 0 : (this.#ctx.random ?? Math.random)(),
    });
    this.#backoff.set(key, backoff);
    return delayMs;
  }

  #failed(key: RetryKey, now: number, error: unknown, event: string, fields: Record<string, unknown> = {}): void {
    const delay = this.#schedule(key, now, retryFloorMs(callFailure(error), this.#ctx.retry));
    const g = error instanceof GatewayError ? { status: error.status, code: error.code } : { code: (error as { code?: unknown }).code };
    this.#ctx.logger.warn(event, { enrollmentId: this.enrollmentId, ...fields, ...g, message: (error as Error).message, retryInMs: delay });
  }

  #errorRecord(error: unknown): NonNullable<PeriodRecord['lastError']> {
    const at = this.#isoNow();
    if (error instanceof GatewayError) return { ...(error.status !== undefined ? { status: error.status } : {}), code: error.code, message: error.message, at };
    if (error instanceof EdgeError) return { code: error.code, message: error.message, at };
    return { message: (error as Error).message ?? String(error), at };
  }
}
