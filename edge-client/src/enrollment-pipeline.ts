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
 *    gateway or ledger is down, always with the same body;
 * 4. upload: the interval readings (import, and for a v2 net energy enrollment the
 *    export too) and the fingerprint salt of each settled period,
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
 */
import type { KeyObject } from 'node:crypto';
import { circuitShape, verifyDeviationProof, type DeviationProof, type VerificationKey } from '@flexproof/circuits';
import { isSealedDataError, openPeriod, sealPeriod, sealedContentHash } from '@flexproof/protocol';
import { acceptancePayload, commitmentDifferences, decideAutoAccept } from './accept-policy';
import type { EnrollmentConfig } from './config';
import type { EdgeStateFile, EnrollmentHold, HoldCode, PeriodRecord } from './edge-state';
import { EdgeError } from './errors';
import { GatewayError, type EnrollmentView, type GatewayPort } from './gateway-port';
import { intervalEnergies } from './interval-energy';
import type { Logger } from './log';
import { PERIOD_COUNT, intervalBoundaries, periodDeadlineMs, periodEndMs, periodStartMs, type PeriodTiming } from './period-clock';
import { periodFingerprintSalt, provePeriod } from './period-proof';
import type { ProverPort } from './prover';
import { localKeyHash, lookUpLedgerKey } from './ledger-key';
import { signPayload, type LedgerTarget } from './prosumer-signing';
import type { ReadingLog } from './reading-log';
import { chooseRecipients, type RecipientChoice } from './sealing-recipients';
import type { SealingKey } from './sealing-key';

/** Fingerprint chain head of an enrollment before its first verified period (chaincode GENESIS_FINGERPRINT). */
export const GENESIS_FINGERPRINT = '0';
const MAX_READING = (1n << 32n) - 1n;

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

type Backoff = { attempts: number; notBefore: number };

export class EnrollmentPipeline {
  readonly #config: EnrollmentConfig;
  readonly #ctx: PipelineContext;
  readonly #timing: PeriodTiming;
  /** Ledger status as last seen (in memory; re-read after a restart). */
  #ledgerStatus: string | undefined;
  #termsMismatch = false;
  /** The ledger's key as last checked to be this site's (undefined: not checked in this run, or it failed). */
  #ledgerKey: VerificationKey | undefined;
  #localKeyHash: string | undefined;
  /** Nothing is proven, accepted or sent while the ledger key (or a proof against it) failed its check. */
  #keyHeld: boolean;
  readonly #backoff = new Map<string, Backoff>();
  readonly #uploadBlocked = new Set<number>();
  /** The enrollment's circuit proves signed net energy (v2: import and export) rather than consumption (v1). */
  readonly #net: boolean;
  #exportIgnoredLogged = false;

  constructor(config: EnrollmentConfig, ctx: PipelineContext) {
    this.#config = config;
    this.#ctx = ctx;
    this.#timing = {
      startMs: Date.parse(config.startTime),
      periodSeconds: config.periodSeconds,
      graceSeconds: config.graceSeconds,
      intervalsPerPeriod: circuitShape(config.shape).readingsPerPeriod,
    };
    this.#net = circuitShape(config.shape).kind === 'net';
    // After a restart a key hold stands until the first check passes (done at once).
    const hold = ctx.state.enrollment(config.enrollmentId).hold?.code;
    this.#keyHeld = hold === 'LEDGER_KEY_MISMATCH' || hold === 'PROOF_NOT_VERIFIED';
  }

  get enrollmentId(): string {
    return this.#config.enrollmentId;
  }

  get timing(): PeriodTiming {
    return this.#timing;
  }

  /** When this pipeline next has work to do (ms), for the scheduler's sleep. */
  nextWakeMs(now: number): number {
    const next = this.#nextUnclosedPeriod();
    let wake = next === undefined ? Number.POSITIVE_INFINITY : periodEndMs(this.#timing, next) + this.#ctx.closeDelayMs;
    for (const b of this.#backoff.values()) wake = Math.min(wake, b.notBefore);
    return Math.max(now, wake);
  }

  /** Does whatever is due now; never throws for gateway or proof trouble (it is logged and retried). */
  async step(now: number): Promise<void> {
    const enrollment = this.#ctx.state.enrollment(this.enrollmentId);
    if (enrollment.excludedAt || this.#termsMismatch) return;
    if (this.#keyHeld && this.#due('key', now)) await this.#checkLedgerKey(now);
    if (!this.#keyHeld) await this.#closeDuePeriods(now);
    await this.#checkLedger(now);
    if (this.#termsMismatch) return;
    await this.#submitNext(now);
    await this.#uploadSettled(now);
  }

  // ---- 1. acceptance and ledger status ----

  async #checkLedger(now: number): Promise<void> {
    if (this.#ledgerStatus === 'active' || !this.#due('ledger', now)) return;
    let view: EnrollmentView;
    try {
      view = await this.#ctx.gateway.getEnrollment(this.enrollmentId);
    } catch (error) {
      this.#failed('ledger', now, error, 'enrollment.lookup-failed');
      return;
    }
    const status = view.enrollment.status;
    const previousStatus = this.#ledgerStatus;
    const mismatch = commitmentDifferences(view, this.#ctx, this.#config);
    if (mismatch.length > 0) {
      this.#termsMismatch = true;
      this.#ctx.logger.error('enrollment.terms-mismatch', {
        enrollmentId: this.enrollmentId,
        fields: mismatch.map((m) => m.term),
        refusals: mismatch,
        action: 'nothing is accepted or submitted for this enrollment; fix the config or ask the aggregator',
      });
      await this.#setHold({ code: 'TERMS_MISMATCH', message: `the ledger's ${mismatch.map((m) => m.term).join(', ')} differ from the config: nothing is accepted or submitted`, terms: mismatch.map((m) => m.term) });
      return;
    }
    this.#ledgerStatus = status;
    if (status === 'offered') {
      await this.#offered(view, now);
      return;
    }
    await this.#clearHold(['NO_ACCEPT_POLICY', 'AUTO_ACCEPT_OFF', 'OFFER_OUTSIDE_POLICY']);
    if (status === 'accepted' || status === 'active') await this.#markAccepted();
    if (status === 'excluded') await this.#markExcluded('ledger shows the enrollment excluded');
    if (status !== 'active') {
      if (previousStatus !== status) this.#ctx.logger.info('enrollment.waiting', { enrollmentId: this.enrollmentId, status, for: 'active' });
      this.#schedule('ledger', now, undefined, true);
    } else {
      this.#backoff.delete('ledger');
    }
  }

  /** An offer on the ledger: accepted only within the policy, with autoAccept on, and with the ledger's key matching. */
  async #offered(view: EnrollmentView, now: number): Promise<void> {
    const id = this.enrollmentId;
    const byHand = `accept by hand with \`flexproof-edge accept --enrollment ${id}\``;
    if (!this.#ctx.autoAccept) {
      await this.#setHold({ code: 'AUTO_ACCEPT_OFF', message: `offered; autoAccept is off: ${byHand}` }, 'info', 'enrollment.waiting');
      this.#schedule('ledger', now, undefined, true);
      return;
    }
    const decision = decideAutoAccept(view, this.#ctx, this.#config);
    if (decision.kind === 'outside-policy') {
      const terms = decision.refusals.map((r) => r.term);
      await this.#setHold(
        { code: 'OFFER_OUTSIDE_POLICY', message: `offered with terms outside the acceptPolicy: ${decision.refusals.map((r) => `${r.term}: ${r.rule}`).join('; ')}; not accepted`, terms },
        'error',
        'enrollment.offer-refused',
        { refusals: decision.refusals },
      );
      this.#schedule('ledger', now, undefined, true);
      return;
    }
    if (decision.kind === 'no-policy') {
      await this.#setHold(
        { code: 'NO_ACCEPT_POLICY', message: `offered; no auto-accept: the acceptPolicy does not set ${decision.missing.join(', ')}; ${byHand}`, terms: decision.missing },
        'warn',
        'enrollment.no-accept-policy',
      );
      this.#schedule('ledger', now, undefined, true);
      return;
    }
    if (decision.kind !== 'accept') return;
    if (!this.#due('key', now)) return;
    const key = await this.#checkLedgerKey(now);
    if (key !== 'ok') {
      this.#schedule('ledger', now, undefined, true);
      return;
    }
    await this.#accept(view, now);
  }

  async #accept(view: EnrollmentView, now: number): Promise<void> {
    const payload = acceptancePayload(view, this.#ctx.ledger, String(Date.now()));
    const body = JSON.stringify({ payload, signature: signPayload(payload, this.#ctx.privateKey) });
    try {
      await this.#ctx.gateway.acceptEnrollment(this.enrollmentId, body);
    } catch (error) {
      this.#failed('ledger', now, error, 'enrollment.accept-failed');
      return;
    }
    this.#ctx.logger.info('enrollment.accepted', { enrollmentId: this.enrollmentId });
    this.#ledgerStatus = 'accepted';
    await this.#clearHold(['NO_ACCEPT_POLICY', 'AUTO_ACCEPT_OFF', 'OFFER_OUTSIDE_POLICY']);
    await this.#markAccepted();
    this.#schedule('ledger', now, undefined, true);
  }

  // ---- holds and the ledger's key ----

  async #setHold(hold: Omit<EnrollmentHold, 'since'>, level: 'info' | 'warn' | 'error' = 'error', event = 'enrollment.held', fields: Record<string, unknown> = {}): Promise<void> {
    const current = this.#ctx.state.enrollment(this.enrollmentId).hold;
    if (current?.code === hold.code && current.message === hold.message) return;
    this.#ctx.logger[level](event, { enrollmentId: this.enrollmentId, code: hold.code, message: hold.message, ...(hold.terms ? { terms: hold.terms } : {}), ...fields });
    await this.#ctx.state.update(() => {
      this.#ctx.state.enrollment(this.enrollmentId).hold = { ...hold, since: new Date().toISOString() };
    });
  }

  async #clearHold(codes: HoldCode[]): Promise<void> {
    const current = this.#ctx.state.enrollment(this.enrollmentId).hold;
    if (!current || !codes.includes(current.code)) return;
    this.#ctx.logger.info('enrollment.hold-cleared', { enrollmentId: this.enrollmentId, code: current.code });
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
    await this.#setHold({ code, message: `${message}; nothing is accepted, signed or sent for this enrollment until that is fixed (checked again every ${this.#ctx.retry.maxMs} ms)` }, 'error', event);
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
        await this.#clearHold(['LEDGER_KEY_MISMATCH', 'PROOF_NOT_VERIFIED']);
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

  async #markAccepted(): Promise<void> {
    if (this.#ctx.state.enrollment(this.enrollmentId).acceptedAt) return;
    await this.#ctx.state.update(() => {
      this.#ctx.state.enrollment(this.enrollmentId).acceptedAt = new Date().toISOString();
    });
  }

  async #markExcluded(reason: string): Promise<void> {
    this.#ctx.logger.error('enrollment.excluded', { enrollmentId: this.enrollmentId, reason });
    await this.#ctx.state.update(() => {
      this.#ctx.state.enrollment(this.enrollmentId).excludedAt = new Date().toISOString();
    });
  }

  // ---- 2. closing and proving periods ----

  #nextUnclosedPeriod(): number | undefined {
    for (let p = 0; p < PERIOD_COUNT; p++) {
      if (!this.#ctx.state.period(this.enrollmentId, p)) return p;
    }
    return undefined;
  }

  async #closeDuePeriods(now: number): Promise<void> {
    let keyChecked = false;
    for (let p = this.#nextUnclosedPeriod(); p !== undefined && p < PERIOD_COUNT; p++) {
      if (this.#keyHeld || now < periodEndMs(this.#timing, p) + this.#ctx.closeDelayMs) return;
      // Nothing is signed against a ledger key known to be wrong; with the gateway out of
      // reach the site proves on (verified against its own key) and checks before sending.
      if (!keyChecked && this.#due('key', now)) {
        keyChecked = true;
        if ((await this.#checkLedgerKey(now)) === 'held') return;
      }
      await this.#prove(p, this.#chainHeadBefore(p), now);
    }
  }

  /**
   * Head of the fingerprint chain before period p: the new fingerprint of the latest
   * earlier period that was verified, or that is still on its way (assumed verified;
   * checked again before sending). Periods settled otherwise, refused or unprovable do
   * not move the ledger's head.
   */
  #chainHeadBefore(p: number): string {
    for (let q = p - 1; q >= 0; q--) {
      const r = this.#ctx.state.period(this.enrollmentId, q);
      if (!r) continue;
      if (r.status === 'proven' || r.status === 'submitted') return r.newFingerprint;
      if (r.status === 'settled' && r.outcome === 'verified') return r.newFingerprint;
    }
    return GENESIS_FINGERPRINT;
  }

  async #prove(p: number, prevFingerprint: string, now: number): Promise<void> {
    const boundaries = intervalBoundaries(this.#timing, p);
    const previous = p > 0 ? this.#ctx.state.period(this.enrollmentId, p - 1) : undefined;
    const opening = previous?.closingRegisterWh !== undefined ? BigInt(previous.closingRegisterWh) : undefined;
    const openingExport = previous?.closingExportRegisterWh !== undefined ? BigInt(previous.closingExportRegisterWh) : undefined;
    const { importWh, registers, exportWh, exportRegisters } = intervalEnergies(this.#ctx.readings.readings, boundaries, opening, openingExport);
    const messageCount = this.#ctx.readings.between(periodStartMs(this.#timing, p), periodEndMs(this.#timing, p)).length;
    // A v1 circuit proves consumption only: the export register is neither proven nor sealed.
    const net = this.#net;
    if (!net && !this.#exportIgnoredLogged && exportWh.some((e) => e > 0n)) {
      this.#exportIgnoredLogged = true;
      this.#ctx.logger.warn('period.export-not-proven', {
        enrollmentId: this.enrollmentId,
        circuitId: this.#config.circuitId,
        periodIndex: p,
        note: 'the meter exports energy but this enrollment has a v1 (consumption) circuit: it proves the import register only; a flexnet-v2 enrollment proves net energy',
      });
    }
    const base = {
      periodIndex: p,
      messageCount,
      readings: importWh.map(String),
      ...(net ? { exportReadings: exportWh.map(String) } : {}),
      ...(registers ? { openingRegisterWh: String(registers[0]), closingRegisterWh: String(registers[registers.length - 1]) } : {}),
      ...(net && exportRegisters
        ? { openingExportRegisterWh: String(exportRegisters[0]), closingExportRegisterWh: String(exportRegisters[exportRegisters.length - 1]) }
        : {}),
      provenAt: new Date().toISOString(),
      attempts: 0,
    };
    const outOfRange = importWh.some((e) => e > MAX_READING) ? 'import' : net && exportWh.some((e) => e > MAX_READING) ? 'export' : undefined;
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
      if (error instanceof EdgeError && error.code === 'PROOF_NOT_VERIFIED') {
        // Not recorded: the period is proven again once the hold clears (the artifacts or the ledger key fixed).
        await this.#holdForKey(now, 'PROOF_NOT_VERIFIED', `the proof of period ${p} does not verify against the ledger's key (the proving key is not the ledger's)`, 'period.proof-not-verified');
        return;
      }
      // A proof that cannot be built now will not be built later from the same data.
      this.#ctx.logger.error('period.proof-failed', { enrollmentId: this.enrollmentId, periodIndex: p, error });
      await this.#record(p, { ...base, status: 'failed', prevFingerprint, newFingerprint: '', deviationWh: '', submissionHash: '', body: '', provingMs: 0, lastError: { code: (error as { code?: string }).code ?? 'PROOF_FAILED', message: (error as Error).message, at: new Date().toISOString() } });
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

  #firstPending(): PeriodRecord | undefined {
    for (let p = 0; p < PERIOD_COUNT; p++) {
      const r = this.#ctx.state.period(this.enrollmentId, p);
      if (!r) return undefined;
      if (r.status === 'proven' || r.status === 'submitted') return r;
    }
    return undefined;
  }

  async #submitNext(now: number): Promise<void> {
    for (;;) {
      const record = this.#firstPending();
      if (!record || this.#keyHeld || this.#ctx.state.enrollment(this.enrollmentId).excludedAt) return;
      if (this.#ledgerStatus !== 'active' && now <= periodDeadlineMs(this.#timing, record.periodIndex)) return;
      const p = record.periodIndex;
      if (!this.#due(`submit/${p}`, now)) return;
      // A period never sent whose deadline has passed can no longer settle (the ledger
      // answers DEADLINE_PASSED): it is not re-proven or sent. Otherwise an edge that fell
      // behind (a submission that stalled while an orderer died, an outage) spends each
      // hour re-proving the previous, expired period and never catches up. The time is
      // read again here because proving the previous period took some of it.
      if (record.firstSentAt === undefined && (this.#ctx.clock ?? Date.now)() > periodDeadlineMs(this.#timing, p)) {
        await this.#expired(record);
        continue;
      }
      const head = this.#chainHeadBefore(p);
      if (record.prevFingerprint !== head) {
        if (record.firstSentAt === undefined) {
          // An earlier period did not verify (missed, refused): re-prove on the real head before anything is sent.
          this.#ctx.logger.warn('period.reproving', { enrollmentId: this.enrollmentId, periodIndex: p, reason: 'the chain head moved' });
          await this.#prove(p, head, now);
          continue;
        }
      }
      const resolved = await this.#send(record, now);
      if (!resolved) return;
    }
  }

  /** Sends a period's body; true when the period got a final answer. */
  async #send(record: PeriodRecord, now: number): Promise<boolean> {
    const p = record.periodIndex;
    if (!this.#due('key', now)) return false;
    if ((await this.#checkLedgerKey(now)) !== 'ok') return false;
    if (!record.tampered) {
      const sent = JSON.parse(record.body) as DeviationProof;
      if (!(await this.#verifies(sent))) {
        if (record.firstSentAt === undefined) {
          // Proven with other artifacts (replaced since) and never sent: prove it again, verified before signing.
          this.#ctx.logger.warn('period.reproving', { enrollmentId: this.enrollmentId, periodIndex: p, reason: "the proof does not verify against the ledger's key" });
          await this.#prove(p, record.prevFingerprint, now);
          return false;
        }
        await this.#holdForKey(now, 'PROOF_NOT_VERIFIED', `the proof of period ${p}, already sent once, does not verify against the ledger's key; it is not sent again`, 'period.proof-not-verified');
        return false;
      }
    }
    await this.#patch(p, {
      status: 'submitted',
      attempts: record.attempts + 1,
      ...(record.firstSentAt === undefined ? { firstSentAt: new Date().toISOString() } : {}),
    });
    try {
      const outcome = await this.#ctx.gateway.submitPeriod(this.enrollmentId, p, record.body);
      await this.#settled(p, outcome.outcome, outcome.txId, outcome.replayed === true);
      this.#backoff.delete(`submit/${p}`);
      return true;
    } catch (error) {
      if (error instanceof GatewayError && !error.retryable) {
        if (error.status === 409) return this.#conflict(record, error, now);
        await this.#rejected(record, error);
        return true;
      }
      this.#failed(`submit/${p}`, now, error, 'period.submit-retry', { periodIndex: p });
      await this.#patch(p, { lastError: errorRecord(error) });
      return false;
    }
  }

  async #settled(p: number, outcome: string, txId: string | undefined, replayed: boolean, fromLedger?: { newFingerprint?: string }): Promise<void> {
    await this.#patch(p, {
      status: 'settled',
      outcome,
      ...(txId !== undefined ? { txId } : {}),
      ...(fromLedger?.newFingerprint !== undefined ? { newFingerprint: fromLedger.newFingerprint } : {}),
      settledAt: new Date().toISOString(),
    });
    const level = outcome === 'verified' ? 'info' : 'error';
    this.#ctx.logger[level]('period.settled', { enrollmentId: this.enrollmentId, periodIndex: p, outcome, txId, replayed });
    if (outcome === 'invalidProof') await this.#markExcluded(`invalid proof at period ${p}`);
  }

  /** A proven period whose deadline passed before it was sent: left to the aggregator's claim. */
  async #expired(record: PeriodRecord): Promise<void> {
    const message = `the deadline of period ${record.periodIndex} passed before its proof was sent`;
    this.#ctx.logger.warn('period.expired', { enrollmentId: this.enrollmentId, periodIndex: record.periodIndex, message });
    await this.#patch(record.periodIndex, { status: 'rejected', lastError: { code: 'DEADLINE_PASSED', message, at: new Date((this.#ctx.clock ?? Date.now)()).toISOString() } });
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
    await this.#patch(record.periodIndex, { status: 'rejected', lastError: errorRecord(error) });
    if (error.code === 'EXCLUDED') await this.#markExcluded(error.message);
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
    const result = view.periods?.find((x) => x.periodIndex === p)?.result ?? null;
    if (result) {
      if (result.submissionHash === record.submissionHash) {
        await this.#settled(p, result.outcome, result.txId, true);
      } else {
        this.#ctx.logger.error('period.settled-by-another-submission', {
          enrollmentId: this.enrollmentId,
          periodIndex: p,
          outcome: result.outcome,
          txId: result.txId,
          action: 'the ledger result stands; this site keeps its own proof in the state file',
        });
        const newFingerprint = typeof result.newFingerprint === 'string' ? result.newFingerprint : undefined;
        await this.#settled(p, result.outcome, result.txId, true, newFingerprint !== undefined ? { newFingerprint } : {});
        await this.#patch(p, { lastError: errorRecord(error) });
      }
      return true;
    }
    const ledgerHead = view.enrollment.chainHead;
    if (typeof ledgerHead === 'string' && ledgerHead !== record.prevFingerprint) {
      // Refused without any change on the ledger: proving again on the ledger's head is safe.
      this.#ctx.logger.warn('period.reproving', { enrollmentId: this.enrollmentId, periodIndex: p, reason: 'the ledger chain head differs' });
      await this.#prove(p, ledgerHead, now);
      return false;
    }
    await this.#rejected(record, error);
    return true;
  }

  // ---- 4. sealed upload to the off-chain store ----

  async #uploadSettled(now: number): Promise<void> {
    // The auditor keys are read once per round, and only when a period needs sealing.
    let choice: RecipientChoice | undefined;
    for (let p = 0; p < PERIOD_COUNT; p++) {
      const r = this.#ctx.state.period(this.enrollmentId, p);
      if (!r) return;
      if (r.status !== 'settled' || r.readingsUploaded || this.#uploadBlocked.has(p)) continue;
      if (r.outcome !== 'verified' && r.outcome !== 'invalidProof') continue;
      if (!this.#due(`upload/${p}`, now)) return;
      if (!r.sealed) {
        if (!this.#due('auditor-keys', now)) return;
        choice ??= await this.#recipients(now);
        if (!choice) return;
        if (!(await this.#seal(r, choice))) continue;
      }
      const sealed = this.#ctx.state.period(this.enrollmentId, p)?.sealed;
      if (!sealed) continue;
      let stored: 'created' | 'unchanged' | 'already-stored';
      try {
        stored = (await this.#ctx.gateway.uploadSealedPeriod(this.#ctx.meterId, this.enrollmentId, p, sealed.jwe)).stored;
      } catch (error) {
        if (error instanceof GatewayError && !error.retryable) {
          const resolved = error.status === 409 ? await this.#storeConflict(r, now) : 'blocked';
          if (resolved === 'retry') return;
          if (resolved === 'blocked') {
            this.#uploadBlocked.add(p);
            this.#ctx.logger.error('readings.upload-refused', { enrollmentId: this.enrollmentId, periodIndex: p, status: error.status, code: error.code, message: error.message });
            continue;
          }
          stored = 'already-stored';
        } else {
          this.#failed(`upload/${p}`, now, error, 'readings.upload-retry', { periodIndex: p });
          return;
        }
      }
      this.#backoff.delete(`upload/${p}`);
      await this.#patch(p, { readingsUploaded: true });
      this.#ctx.logger.info('readings.uploaded', {
        enrollmentId: this.enrollmentId,
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
      this.#failed('auditor-keys', now, error, 'auditor-keys.lookup-failed');
      return undefined;
    }
    this.#backoff.delete('auditor-keys');
    for (const refusal of choice.refused) {
      this.#ctx.logger.error('auditor-key.refused', {
        enrollmentId: this.enrollmentId,
        ...refusal,
        action:
          refusal.reason === 'KEY_HASH_MISMATCH'
            ? "not sealed to: the key the gateway gave does not hash to the ledger's keyHash"
            : 'not sealed to: the record is not a usable auditor key',
      });
    }
    if (choice.allowedWithoutKey.length > 0) {
      this.#ctx.logger.warn('auditor-keys.allowed-without-key', {
        enrollmentId: this.enrollmentId,
        auditors: choice.allowedWithoutKey,
        note: 'these auditors in the config have no usable active key on the ledger: periods sealed now cannot be read by them (they are not sealed again later)',
      });
    }
    return choice;
  }

  /** Seals period r's readings and salt and records the document; false when it cannot be sealed (logged). */
  async #seal(r: PeriodRecord, choice: RecipientChoice): Promise<boolean> {
    const p = r.periodIndex;
    const place = { meterId: this.#ctx.meterId, enrollmentId: this.enrollmentId, periodIndex: p };
    let jwe;
    try {
      jwe = await sealPeriod(
        {
          ...place,
          readings: r.readings,
          ...(r.exportReadings !== undefined ? { exportReadings: r.exportReadings } : {}),
          fingerprintSalt: periodFingerprintSalt(this.#ctx.siteSecret, this.#ctx.meterId, this.enrollmentId, p).toString(),
        },
        choice.recipients,
      );
    } catch (error) {
      // Only field names and rules are in a SealedDataError, never a value.
      this.#uploadBlocked.add(p);
      this.#ctx.logger.error('readings.seal-failed', {
        enrollmentId: this.enrollmentId,
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
    await this.#patch(p, { sealed: { jwe, contentHash, recipients, sealedAt: new Date().toISOString() } });
    this.#ctx.logger.info('readings.sealed', {
      enrollmentId: this.enrollmentId,
      periodIndex: p,
      contentHash,
      recipients: recipients.map((x) => (x.role === 'site' ? 'site' : x.auditorId)),
      ...(choice.notAllowed.length > 0 ? { notAllowed: choice.notAllowed } : {}),
    });
    return true;
  }

  /**
   * 409: the store holds another document for the period. If it opens with the site's key
   * and holds this period's readings and salt (an earlier run sealed and stored it, then
   * its state was restored from a backup), the period is stored; anything else is a
   * document someone else put in this site's place, reported and not overwritten.
   */
  async #storeConflict(r: PeriodRecord, now: number): Promise<'stored' | 'blocked' | 'retry'> {
    const p = r.periodIndex;
    let stored;
    try {
      stored = (await this.#ctx.gateway.getSealedPeriods(this.#ctx.meterId, this.enrollmentId)).periods.find(
        (d) => d.periodIndex === p && d.enrollmentId === this.enrollmentId,
      );
    } catch (error) {
      this.#failed(`upload/${p}`, now, error, 'readings.conflict-lookup-failed', { periodIndex: p });
      return 'retry';
    }
    const place = { meterId: this.#ctx.meterId, enrollmentId: this.enrollmentId, periodIndex: p };
    let reason: string;
    if (stored === undefined) {
      reason = 'the store refused the document as a conflict but lists none for the period';
    } else {
      try {
        const opened = await openPeriod(stored.jwe, this.#ctx.sealingKey.privateKey, place);
        const salt = periodFingerprintSalt(this.#ctx.siteSecret, this.#ctx.meterId, this.enrollmentId, p).toString();
        if (opened.fingerprintSalt === salt && sameValues(opened.readings, r.readings) && sameValues(opened.exportReadings, r.exportReadings)) {
          this.#ctx.logger.info('readings.already-stored', { enrollmentId: this.enrollmentId, periodIndex: p, contentHash: stored.contentHash });
          return 'stored';
        }
        reason = "the store's document for the period opens with the site's key but holds other readings";
      } catch (error) {
        reason = `the store's document for the period does not open with the site's key (${isSealedDataError(error) ? error.code : 'error'})`;
      }
    }
    this.#ctx.logger.error('readings.store-conflict', {
      enrollmentId: this.enrollmentId,
      periodIndex: p,
      reason,
      ...(stored ? { storedContentHash: stored.contentHash } : {}),
      action: "the site's own document is kept in state.json and not uploaded again until the next start; ask the store's operator",
    });
    return 'blocked';
  }

  // ---- retries ----

  #due(key: string, now: number): boolean {
    const b = this.#backoff.get(key);
    return b === undefined || now >= b.notBefore;
  }

  #schedule(key: string, now: number, retryAfterMs: number | undefined, steady = false): number {
    const previous = this.#backoff.get(key);
    const attempts = steady ? 0 : (previous?.attempts ?? 0) + 1;
    const { initialMs, maxMs } = this.#ctx.retry;
    if (steady) {
      const poll = Math.min(maxMs, Math.max(initialMs, 5000));
      this.#backoff.set(key, { attempts: 0, notBefore: now + poll });
      return poll;
    }
    const exponential = Math.min(maxMs, initialMs * 2 ** Math.min(attempts - 1, 30));
    const jitter = 0.8 + 0.4 * (this.#ctx.random ?? Math.random)();
    const delay = Math.min(maxMs, Math.max(retryAfterMs ?? 0, Math.round(exponential * jitter)));
    this.#backoff.set(key, { attempts, notBefore: now + delay });
    return delay;
  }

  #failed(key: string, now: number, error: unknown, event: string, fields: Record<string, unknown> = {}): void {
    const retryAfterMs = error instanceof GatewayError ? error.retryAfterMs : undefined;
    const nonRetryable = error instanceof GatewayError && !error.retryable;
    const delay = this.#schedule(key, now, nonRetryable ? this.#ctx.retry.maxMs : retryAfterMs);
    const g = error instanceof GatewayError ? { status: error.status, code: error.code } : { code: (error as { code?: unknown }).code };
    this.#ctx.logger.warn(event, { enrollmentId: this.enrollmentId, ...fields, ...g, message: (error as Error).message, retryInMs: delay });
  }
}

/** Equal lists of decimal strings (both absent counts as equal: a v1 document has no exports). */
function sameValues(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function errorRecord(error: unknown): NonNullable<PeriodRecord['lastError']> {
  const at = new Date().toISOString();
  if (error instanceof GatewayError) return { ...(error.status !== undefined ? { status: error.status } : {}), code: error.code, message: error.message, at };
  if (error instanceof EdgeError) return { code: error.code, message: error.message, at };
  return { message: (error as Error).message ?? String(error), at };
}
