/**
 * What an enrollment's pipeline decides, apart from doing it (enrollment-pipeline.ts is
 * the runner that performs the actions). Every function here is pure: plain data in (the
 * enrollment's local state, the ledger view last read, the run's retry bookkeeping and
 * `now` as a number), a typed decision or a list of actions out. No I/O, no clock, no
 * randomness (the jitter of a backoff is handed in), so each rule is tested on its own
 * with the smallest state that leads to it (test/unit/edge-client/pipeline-decisions.test.ts).
 *
 * The runner calls a phase's decision, performs what it says, records the outcome in
 * the state file and asks again; a decision never assumes an action it asked for
 * succeeded, it reads the state that the runner recorded.
 */
import { MAX_READING } from '@flexproof/circuits';
import { schemas } from '@flexproof/protocol';
import { commitmentDifferences, decideAutoAccept, type SiteIdentity, type TermRefusal } from './accept-policy';
import type { EnrollmentConfig } from './config';
import type { EnrollmentHold, EnrollmentState, HoldCode, PeriodRecord } from './edge-state';
import { GatewayError, type EnrollmentView } from './gateway-port';
import { intervalEnergies } from './interval-energy';
import type { MeterReading } from './meter-message';
import { PERIOD_COUNT, intervalBoundaries, periodDeadlineMs, periodEndMs, type PeriodTiming } from './period-clock';

/** Fingerprint chain head of an enrollment before its first verified period (the protocol's, as the chaincode starts it). */
export const GENESIS_FINGERPRINT = schemas.GENESIS_FINGERPRINT;
/** The largest interval energy a circuit takes. */
export { MAX_READING };

/** The holds an offer's state sets; cleared once the ledger moves past 'offered'. */
export const OFFER_HOLDS: readonly HoldCode[] = ['NO_ACCEPT_POLICY', 'AUTO_ACCEPT_OFF', 'OFFER_OUTSIDE_POLICY'];
/** The holds that stop proving, accepting and sending until the ledger key checks out. */
export const KEY_HOLDS: readonly HoldCode[] = ['LEDGER_KEY_MISMATCH', 'PROOF_NOT_VERIFIED'];

/** One retried operation: how many failures in a row and when it may run again. */
export interface Backoff {
  attempts: number;
  notBefore: number;
}

/**
 * What is retried on its own schedule: the ledger status poll, the ledger key check, the
 * auditor key list, and each period's submission and upload.
 */
export type RetryKey = 'ledger' | 'key' | 'auditor-keys' | `submit/${number}` | `upload/${number}`;

export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
}

/** Everything the decisions read: the state file's enrollment and the run's in-memory facts. */
export interface PipelineSnapshot {
  timing: PeriodTiming;
  closeDelayMs: number;
  /** The enrollment as the state file holds it. */
  enrollment: Readonly<EnrollmentState>;
  /** The ledger's status as last read in this run (undefined: not read yet). */
  ledgerStatus: string | undefined;
  /** The ledger's commitments differ from the config: nothing more is done in this run. */
  termsMismatch: boolean;
  /** Nothing is proven, accepted or sent while the ledger key (or a proof against it) failed its check. */
  keyHeld: boolean;
  backoff: ReadonlyMap<string, Backoff>;
  /** Periods whose upload was refused for good in this run. */
  uploadBlocked: ReadonlySet<number>;
  /** The demonstration's tamper switch: this period is signed with a corrupted proof. */
  tamperPeriod?: number;
  now: number;
}

// ---- reading the state ----

export function periodOf(enrollment: Readonly<EnrollmentState>, p: number): PeriodRecord | undefined {
  return enrollment.periods[String(p)];
}

export function isDue(backoff: ReadonlyMap<string, Backoff>, key: RetryKey, now: number): boolean {
  const b = backoff.get(key);
  return b === undefined || now >= b.notBefore;
}

/** After a restart a key hold stands until the first check passes. */
export function keyHeldOnStart(hold: Pick<EnrollmentHold, 'code'> | undefined): boolean {
  return hold !== undefined && KEY_HOLDS.includes(hold.code);
}

/** Periods are closed in order: the first one without a record. */
export function nextUnclosedPeriod(enrollment: Readonly<EnrollmentState>): number | undefined {
  for (let p = 0; p < PERIOD_COUNT; p++) {
    if (!periodOf(enrollment, p)) return p;
  }
  return undefined;
}

/**
 * Head of the fingerprint chain before period p: the new fingerprint of the latest
 * earlier period that was verified, or that is still on its way (assumed verified;
 * checked again before sending). Periods settled otherwise, refused or unprovable do
 * not move the ledger's head.
 */
export function chainHeadBefore(enrollment: Readonly<EnrollmentState>, p: number): string {
  for (let q = p - 1; q >= 0; q--) {
    const r = periodOf(enrollment, q);
    if (!r) continue;
    if (r.status === 'proven' || r.status === 'submitted') return r.newFingerprint;
    if (r.status === 'settled' && r.outcome === 'verified') return r.newFingerprint;
  }
  return GENESIS_FINGERPRINT;
}

// ---- the deadline, before proving ----

/**
 * What a proof is assumed to take before this enrollment timed one: the small circuits
 * prove in a second or two, the full ones in tens of seconds on a small board; the
 * estimate is replaced by the measured duration from the first proof on.
 */
export const DEFAULT_PROOF_ESTIMATE_MS = 10_000;
/**
 * What a submission is given to land before its deadline: the gateway's endorsement by
 * both organisations, ordering and commit (about 2 s on the Raft network under load).
 * A proof sent with less than this left is not sent: the ledger would most likely refuse it.
 */
export const SUBMIT_ALLOWANCE_MS = 3_000;
/** How many of the latest timed proofs the estimate looks at (the longest of them counts). */
export const RECENT_PROOFS = 3;

/** The code a period left for the aggregator's claim carries in its record (never sent, nothing signed for the ledger). */
export const LEFT_FOR_CLAIM = 'LEFT_FOR_CLAIM';

/**
 * What proving a period is assumed to take: the longest of this enrollment's latest
 * RECENT_PROOFS measured proofs (a machine that got slower counts at once), or the
 * default before any.
 */
export function proofEstimateMs(enrollment: Readonly<EnrollmentState>): number {
  const timed: number[] = [];
  for (let p = PERIOD_COUNT - 1; p >= 0 && timed.length < RECENT_PROOFS; p--) {
    const ms = periodOf(enrollment, p)?.provingMs ?? 0;
    if (ms > 0) timed.push(ms);
  }
  return timed.length > 0 ? Math.max(...timed) : DEFAULT_PROOF_ESTIMATE_MS;
}

/** The margin a period's proof must leave before its deadline: the proof estimate plus the submission allowance. */
export function provingMarginMs(enrollment: Readonly<EnrollmentState>): number {
  return proofEstimateMs(enrollment) + SUBMIT_ALLOWANCE_MS;
}

/** Proving period p now could not land before its deadline (end + grace, less the margin): it is left for the claim. */
export function tooLateToProve(s: Pick<PipelineSnapshot, 'timing' | 'enrollment'>, p: number, clockNow: number): boolean {
  return clockNow > periodDeadlineMs(s.timing, p) - provingMarginMs(s.enrollment);
}

/** A proof of period p sent now, for the first time, could not land before its deadline. */
export function tooLateToSend(timing: PeriodTiming, p: number, clockNow: number): boolean {
  return clockNow > periodDeadlineMs(timing, p) - SUBMIT_ALLOWANCE_MS;
}

/**
 * Period p to be proven again (its stored proof unusable: the head moved, or other
 * artifacts): proven only if the new proof can still land, else left for the claim.
 */
export function reproveOrLeave(s: Pick<PipelineSnapshot, 'timing' | 'enrollment'>, p: number, clockNow: number): 'reprove' | 'leave' {
  return tooLateToProve(s, p, clockNow) ? 'leave' : 'reprove';
}

/**
 * Readings the store should hold: every period the edge closed with a final answer,
 * settled (verified and invalidProof: the auditor's evidence; missed: claimed by the
 * aggregator) or left unsettled (left for the claim, or refused); a period that could not
 * be proven (failed) holds no valid interval energies.
 */
export function readingsUploadable(r: Pick<PeriodRecord, 'status' | 'outcome'>): boolean {
  if (r.status === 'rejected') return true;
  return r.status === 'settled' && (r.outcome === 'verified' || r.outcome === 'invalidProof' || r.outcome === 'missed');
}

/** The lowest period still to be sent, if every earlier one is resolved (a gap stops the search). */
export function firstPending(enrollment: Readonly<EnrollmentState>): PeriodRecord | undefined {
  for (let p = 0; p < PERIOD_COUNT; p++) {
    const r = periodOf(enrollment, p);
    if (!r) return undefined;
    if (r.status === 'proven' || r.status === 'submitted') return r;
  }
  return undefined;
}

/** When the pipeline next has work to do (ms): the next period's close or the earliest retry. */
export function nextWakeMs(s: Pick<PipelineSnapshot, 'timing' | 'closeDelayMs' | 'enrollment' | 'backoff' | 'now'>): number {
  const next = nextUnclosedPeriod(s.enrollment);
  let wake = next === undefined ? Number.POSITIVE_INFINITY : periodEndMs(s.timing, next) + s.closeDelayMs;
  for (const b of s.backoff.values()) wake = Math.min(wake, b.notBefore);
  return Math.max(s.now, wake);
}

// ---- retries ----

/**
 * The next backoff of an operation. `steady`: a poll (waiting for the ledger to move), at
 * a fixed interval with no attempt counted. Otherwise a failure: exponential from
 * initialMs, jittered by ±20 % (`jitter` in [0, 1)), at least the server's Retry-After,
 * at most maxMs.
 */
export function nextBackoff(
  previous: Backoff | undefined,
  retry: RetryPolicy,
  now: number,
  options: { steady?: boolean; retryAfterMs?: number; jitter: number },
): { backoff: Backoff; delayMs: number } {
  const { initialMs, maxMs } = retry;
  if (options.steady) {
    const poll = Math.min(maxMs, Math.max(initialMs, 5000));
    return { backoff: { attempts: 0, notBefore: now + poll }, delayMs: poll };
  }
  const attempts = (previous?.attempts ?? 0) + 1;
  const exponential = Math.min(maxMs, initialMs * 2 ** Math.min(attempts - 1, 30));
  const jittered = Math.round(exponential * (0.8 + 0.4 * options.jitter));
  const delayMs = Math.min(maxMs, Math.max(options.retryAfterMs ?? 0, jittered));
  return { backoff: { attempts, notBefore: now + delayMs }, delayMs };
}

/** A failed call as the decisions see it (the runner reads it off a GatewayError). */
export interface CallFailure {
  /** A final answer from the gateway (a 4xx), not a link or ledger outage. */
  final: boolean;
  status?: number;
  code?: string;
  retryAfterMs?: number;
}

/** A failed call as the decisions see it: only a GatewayError that is not retryable is a final answer. */
export function callFailure(error: unknown): CallFailure {
  if (!(error instanceof GatewayError)) return { final: false };
  return {
    final: !error.retryable,
    ...(error.status !== undefined ? { status: error.status } : {}),
    code: error.code,
    ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
  };
}

/** The Retry-After floor of a failed call's next try: a refusal is tried again only at the slowest pace. */
export function retryFloorMs(failure: CallFailure, retry: RetryPolicy): number | undefined {
  return failure.final ? retry.maxMs : failure.retryAfterMs;
}

// ---- the step ----

/** Why a step does nothing at all, or undefined when it runs. */
export function stepSkipped(s: Pick<PipelineSnapshot, 'enrollment' | 'termsMismatch'>): 'excluded' | 'terms-mismatch' | undefined {
  if (s.enrollment.excludedAt) return 'excluded';
  if (s.termsMismatch) return 'terms-mismatch';
  return undefined;
}

/** A key hold is checked again at the start of a step when its retry is due (a corrected ledger key recovers). */
export function recheckHeldKey(s: Pick<PipelineSnapshot, 'keyHeld' | 'backoff' | 'now'>): boolean {
  return s.keyHeld && isDue(s.backoff, 'key', s.now);
}

// ---- 1. closing and proving periods ----

export type CloseDecision =
  | { kind: 'prove'; periodIndex: number; prevFingerprint: string; tamper: boolean }
  /**
   * Ended, and its proof could no longer land before the deadline (the edge was off or
   * behind): not proven; its readings are recorded (and uploaded) and the period is left
   * for the aggregator's ClaimMissedPeriod. The chain head stays where it was.
   */
  | { kind: 'skip'; periodIndex: number; prevFingerprint: string; marginMs: number }
  /** Check the ledger key before the round's first proof: nothing is signed against a key known to be wrong. */
  | { kind: 'check-key' }
  | { kind: 'wait'; reason: 'key-held' | 'not-ended' | 'day-over' };

/**
 * The next period to close and prove. `keyChecked`: the key was checked in this round
 * already. With the gateway out of reach (the check's retry not due) the site proves on,
 * verified against its own key, and checks again before sending. `clockNow`: the time
 * read again just before deciding (proving the previous period took some of it), for
 * the deadline: a period whose proof could no longer land is skipped, not proven, so an
 * edge that was off or fell behind catches up at once instead of proving in vain.
 */
export function decideClose(s: PipelineSnapshot, keyChecked: boolean, clockNow: number = s.now): CloseDecision {
  const p = nextUnclosedPeriod(s.enrollment);
  if (p === undefined) return { kind: 'wait', reason: 'day-over' };
  if (s.keyHeld) return { kind: 'wait', reason: 'key-held' };
  if (s.now < periodEndMs(s.timing, p) + s.closeDelayMs) return { kind: 'wait', reason: 'not-ended' };
  if (tooLateToProve(s, p, Math.max(s.now, clockNow))) {
    return { kind: 'skip', periodIndex: p, prevFingerprint: chainHeadBefore(s.enrollment, p), marginMs: provingMarginMs(s.enrollment) };
  }
  if (!keyChecked && isDue(s.backoff, 'key', s.now)) return { kind: 'check-key' };
  return { kind: 'prove', periodIndex: p, prevFingerprint: chainHeadBefore(s.enrollment, p), tamper: s.tamperPeriod === p };
}

/** What a closed period's readings give: the energies to prove and the record's fields (before proving). */
export interface ClosedPeriod {
  importWh: bigint[];
  exportWh: bigint[];
  /** The record fields every outcome of proving shares (proven, or failed). */
  base: Pick<PeriodRecord, 'periodIndex' | 'messageCount' | 'readings' | 'exportReadings' | 'openingRegisterWh' | 'closingRegisterWh' | 'openingExportRegisterWh' | 'closingExportRegisterWh' | 'provenAt' | 'attempts'>;
}

/**
 * Period p's interval energies from the meter readings, opening at the previous period's
 * closing registers so no energy falls between two periods. A v1 (consumption) circuit
 * proves the import register only: its export readings are neither recorded nor sealed.
 */
export function closedPeriod(
  input: { readings: readonly MeterReading[]; messageCount: number; timing: PeriodTiming; periodIndex: number; previous: PeriodRecord | undefined; net: boolean },
  provenAt: string,
): ClosedPeriod {
  const { previous, net } = input;
  const opening = previous?.closingRegisterWh !== undefined ? BigInt(previous.closingRegisterWh) : undefined;
  const openingExport = previous?.closingExportRegisterWh !== undefined ? BigInt(previous.closingExportRegisterWh) : undefined;
  const energy = intervalEnergies(input.readings, intervalBoundaries(input.timing, input.periodIndex), opening, openingExport);
  const { importWh, registers, exportWh, exportRegisters } = energy;
  return {
    importWh,
    exportWh,
    base: {
      periodIndex: input.periodIndex,
      messageCount: input.messageCount,
      readings: importWh.map(String),
      ...(net ? { exportReadings: exportWh.map(String) } : {}),
      ...(registers ? { openingRegisterWh: String(registers[0]), closingRegisterWh: String(registers[registers.length - 1]) } : {}),
      ...(net && exportRegisters
        ? { openingExportRegisterWh: String(exportRegisters[0]), closingExportRegisterWh: String(exportRegisters[exportRegisters.length - 1]) }
        : {}),
      provenAt,
      attempts: 0,
    },
  };
}

/** The register whose interval energy exceeds what the circuit takes, if any (the period is recorded failed). */
export function readingOutOfRange(importWh: readonly bigint[], exportWh: readonly bigint[], net: boolean): 'import' | 'export' | undefined {
  if (importWh.some((e) => e > MAX_READING)) return 'import';
  if (net && exportWh.some((e) => e > MAX_READING)) return 'export';
  return undefined;
}

/**
 * What a failed proof leads to: a proof that does not verify against the ledger's key
 * holds the enrollment (nothing recorded: proven again once the hold clears); any other
 * failure is recorded, as the same data will not prove later either.
 */
export function proofFailure(code: string | undefined): 'hold-for-key' | 'record-failed' {
  return code === 'PROOF_NOT_VERIFIED' ? 'hold-for-key' : 'record-failed';
}

// ---- 2. the ledger's status and acceptance ----

/** The ledger's status is read until it is active, at the ledger poll's pace. */
export function readLedgerDue(s: Pick<PipelineSnapshot, 'ledgerStatus' | 'backoff' | 'now'>): boolean {
  return s.ledgerStatus !== 'active' && isDue(s.backoff, 'ledger', s.now);
}

/** A hold to set, with how it is logged the first time (a hold already standing is not logged again). */
export interface HoldAction {
  kind: 'hold';
  hold: Omit<EnrollmentHold, 'since'>;
  level: 'info' | 'warn' | 'error';
  event: string;
  fields?: Record<string, unknown>;
}

export type LedgerAction =
  /** The ledger's commitments differ from the config: held, and nothing more in this run. */
  | { kind: 'terms-mismatch'; refusals: TermRefusal[] }
  | { kind: 'set-ledger-status'; status: string }
  | HoldAction
  | { kind: 'clear-hold'; codes: readonly HoldCode[] }
  | { kind: 'mark-accepted' }
  | { kind: 'mark-excluded'; reason: string }
  /** The status changed and is not active yet: logged once. */
  | { kind: 'log-waiting'; status: string }
  /** Read the ledger again at the poll's pace. */
  | { kind: 'poll-ledger' }
  /** The ledger is active: stop polling it. */
  | { kind: 'ledger-active' }
  /** Check the ledger key; if it is this site's, sign and send AcceptEnrollment, else poll. */
  | { kind: 'accept' };

export interface OfferTerms {
  site: SiteIdentity;
  config: EnrollmentConfig;
  autoAccept: boolean;
}

/** What the enrollment view just read from the ledger leads to, in order. */
export function decideOnLedgerView(s: PipelineSnapshot, view: EnrollmentView, terms: OfferTerms): LedgerAction[] {
  const mismatch = commitmentDifferences(view, terms.site, terms.config);
  if (mismatch.length > 0) return [{ kind: 'terms-mismatch', refusals: mismatch }];
  const status = view.enrollment.status;
  const actions: LedgerAction[] = [{ kind: 'set-ledger-status', status }];
  if (status === 'offered') return [...actions, ...decideOffer(s, view, terms)];
  actions.push({ kind: 'clear-hold', codes: OFFER_HOLDS });
  if ((status === 'accepted' || status === 'active') && !s.enrollment.acceptedAt) actions.push({ kind: 'mark-accepted' });
  if (status === 'excluded') actions.push({ kind: 'mark-excluded', reason: 'ledger shows the enrollment excluded' });
  if (status === 'active') {
    actions.push({ kind: 'ledger-active' });
  } else {
    if (s.ledgerStatus !== status) actions.push({ kind: 'log-waiting', status });
    actions.push({ kind: 'poll-ledger' });
  }
  return actions;
}

/** An offer is accepted only with autoAccept on, within the acceptPolicy, and (checked by the accept action) with the ledger's key this site's. */
function decideOffer(s: PipelineSnapshot, view: EnrollmentView, terms: OfferTerms): LedgerAction[] {
  const byHand = `accept by hand with \`flexproof-edge accept --enrollment ${terms.config.enrollmentId}\``;
  if (!terms.autoAccept) {
    return [{ kind: 'hold', hold: { code: 'AUTO_ACCEPT_OFF', message: `offered; autoAccept is off: ${byHand}` }, level: 'info', event: 'enrollment.waiting' }, { kind: 'poll-ledger' }];
  }
  const decision = decideAutoAccept(view, terms.site, terms.config);
  if (decision.kind === 'outside-policy') {
    const hold: HoldAction = {
      kind: 'hold',
      hold: {
        code: 'OFFER_OUTSIDE_POLICY',
        message: `offered with terms outside the acceptPolicy: ${decision.refusals.map((r) => `${r.term}: ${r.rule}`).join('; ')}; not accepted`,
        terms: decision.refusals.map((r) => r.term),
      },
      level: 'error',
      event: 'enrollment.offer-refused',
      fields: { refusals: decision.refusals },
    };
    return [hold, { kind: 'poll-ledger' }];
  }
  if (decision.kind === 'no-policy') {
    const hold: HoldAction = {
      kind: 'hold',
      hold: { code: 'NO_ACCEPT_POLICY', message: `offered; no auto-accept: the acceptPolicy does not set ${decision.missing.join(', ')}; ${byHand}`, terms: decision.missing },
      level: 'warn',
      event: 'enrollment.no-accept-policy',
    };
    return [hold, { kind: 'poll-ledger' }];
  }
  // decideAutoAccept's terms-mismatch cannot occur here (checked first); like a key check not due yet, it waits.
  if (decision.kind !== 'accept' || !isDue(s.backoff, 'key', s.now)) return [];
  return [{ kind: 'accept' }];
}

/** After AcceptEnrollment went through. */
export function afterAccepted(s: Pick<PipelineSnapshot, 'enrollment'>): LedgerAction[] {
  return [
    { kind: 'set-ledger-status', status: 'accepted' },
    { kind: 'clear-hold', codes: OFFER_HOLDS },
    ...(s.enrollment.acceptedAt ? [] : [{ kind: 'mark-accepted' as const }]),
    { kind: 'poll-ledger' },
  ];
}

/** A hold that differs from the one standing (same code and message: nothing to write or log). */
export function holdChanged(current: Pick<EnrollmentHold, 'code' | 'message'> | undefined, hold: Pick<EnrollmentHold, 'code' | 'message'>): boolean {
  return current?.code !== hold.code || current.message !== hold.message;
}

/** The standing hold to clear, if it is one of `codes`. */
export function holdToClear(current: Pick<EnrollmentHold, 'code'> | undefined, codes: readonly HoldCode[]): HoldCode | undefined {
  return current && codes.includes(current.code) ? current.code : undefined;
}

// ---- 3. submitting in order ----

/**
 * How long after an earlier unsettled period's deadline a later period is sent: the
 * ledger judges by the proposal's timestamp (the gateway's clock), which may lag the edge's.
 */
export const AFTER_EARLIER_DEADLINE_MS = 2_000;

/**
 * The ledger settles the lowest unsettled period still inside its deadline first
 * (the chaincode's nextSubmittablePeriod): while an earlier period the edge did not
 * settle (left for the claim, refused, or unprovable) is inside its deadline, a later one
 * is refused RULE_VIOLATION, for good. The time from which period p may be sent: just
 * after the latest such deadline; undefined when no earlier period holds it back.
 */
export function sendableFromMs(enrollment: Readonly<EnrollmentState>, timing: PeriodTiming, p: number): number | undefined {
  let from: number | undefined;
  for (let q = 0; q < p; q++) {
    const r = periodOf(enrollment, q);
    if (r?.status !== 'rejected' && r?.status !== 'failed') continue;
    // Refused because its deadline passed: the ledger said so itself.
    if (r.status === 'rejected' && r.lastError?.code === 'DEADLINE_PASSED') continue;
    from = Math.max(from ?? 0, periodDeadlineMs(timing, q) + AFTER_EARLIER_DEADLINE_MS);
  }
  return from;
}

export type SubmitDecision =
  | { kind: 'none'; reason: 'nothing-pending' | 'key-held' | 'excluded' | 'terms-mismatch' | 'not-active' | 'backing-off' }
  /** An earlier period the edge left unsettled is inside its deadline: the ledger would refuse this one until `untilMs`. */
  | { kind: 'wait'; periodIndex: number; untilMs: number }
  /**
   * Proven, never sent, and it could no longer land before its deadline ('send': less
   * than the submission allowance left; 'reprove': it must be proven again and the proof
   * would come too late): the ledger would answer DEADLINE_PASSED, so it is left for the claim.
   */
  | { kind: 'expire'; periodIndex: number; reason: 'send' | 'reprove' }
  /** Never sent and proven on a head that moved (an earlier period did not verify): prove again on the real head. */
  | { kind: 'reprove'; periodIndex: number; prevFingerprint: string }
  | { kind: 'send'; periodIndex: number };

/**
 * The next submission: the lowest proven period, only when every earlier one is
 * resolved, so the fingerprint chain grows in order. Before the ledger shows the
 * enrollment active a period waits, but not past its deadline (then it is sent, and the
 * ledger's answer is final). `clockNow` is the time read again just before deciding
 * (proving the previous period took some of it), for the catch-up rule: an edge that
 * fell behind marks each expired period instead of spending an hour re-proving it.
 */
export function decideSubmit(s: PipelineSnapshot, clockNow: number): SubmitDecision {
  const record = firstPending(s.enrollment);
  if (!record) return { kind: 'none', reason: 'nothing-pending' };
  if (s.termsMismatch) return { kind: 'none', reason: 'terms-mismatch' };
  if (s.keyHeld) return { kind: 'none', reason: 'key-held' };
  if (s.enrollment.excludedAt) return { kind: 'none', reason: 'excluded' };
  const p = record.periodIndex;
  if (s.ledgerStatus !== 'active' && s.now <= periodDeadlineMs(s.timing, p)) return { kind: 'none', reason: 'not-active' };
  if (!isDue(s.backoff, `submit/${p}`, s.now)) return { kind: 'none', reason: 'backing-off' };
  if (record.firstSentAt === undefined && tooLateToSend(s.timing, p, clockNow)) return { kind: 'expire', periodIndex: p, reason: 'send' };
  const head = chainHeadBefore(s.enrollment, p);
  if (record.prevFingerprint !== head && record.firstSentAt === undefined) {
    if (reproveOrLeave(s, p, clockNow) === 'leave') return { kind: 'expire', periodIndex: p, reason: 'reprove' };
    return { kind: 'reprove', periodIndex: p, prevFingerprint: head };
  }
  const from = sendableFromMs(s.enrollment, s.timing, p);
  if (from !== undefined && Math.max(s.now, clockNow) < from) return { kind: 'wait', periodIndex: p, untilMs: from };
  return { kind: 'send', periodIndex: p };
}

/** Before a body is sent the ledger key is checked again (when that check is due at all), then the proof verified against it. */
export function sendKeyCheck(s: Pick<PipelineSnapshot, 'backoff' | 'now'>): 'check' | 'wait' {
  return isDue(s.backoff, 'key', s.now) ? 'check' : 'wait';
}

/** A tampered proof (the demonstration) is sent unverified: the ledger is to find it invalid. */
export function verifyBeforeSending(record: Pick<PeriodRecord, 'tampered'>): boolean {
  return record.tampered !== true;
}

/**
 * A stored proof that does not verify against the ledger's key: never sent, it is proven
 * again (verified before signing); already sent once, the enrollment is held, as
 * different data must never be signed for a period that was sent.
 */
export function unverifiedProof(record: Pick<PeriodRecord, 'firstSentAt' | 'prevFingerprint'>): { kind: 'reprove'; prevFingerprint: string } | { kind: 'hold-for-key' } {
  return record.firstSentAt === undefined ? { kind: 'reprove', prevFingerprint: record.prevFingerprint } : { kind: 'hold-for-key' };
}

/** A failed SubmitPeriod: 409 is looked into, any other final answer rejects the period, an outage is retried with the same body. */
export function submitFailure(failure: CallFailure): 'conflict' | 'rejected' | 'retry' {
  if (!failure.final) return 'retry';
  return failure.status === 409 ? 'conflict' : 'rejected';
}

export type ConflictDecision =
  /** The ledger's result is this body's (an earlier try went through). */
  | { kind: 'settled'; outcome: string; txId?: string }
  /** The ledger holds another submission's result: it stands, with that submission's fingerprint. */
  | { kind: 'settled-by-another'; outcome: string; txId?: string; newFingerprint?: string }
  /** Refused without any change on the ledger, whose head is not the one proven on: proving again on it is safe. */
  | { kind: 'reprove'; prevFingerprint: string }
  | { kind: 'rejected' };

/** 409 on SubmitPeriod, given the enrollment view read after it. */
export function decideConflict(record: Pick<PeriodRecord, 'periodIndex' | 'submissionHash' | 'prevFingerprint'>, view: EnrollmentView): ConflictDecision {
  const result = view.periods?.find((x) => x.periodIndex === record.periodIndex)?.result ?? null;
  if (result) {
    const txId = result.txId !== undefined ? { txId: result.txId } : {};
    if (result.submissionHash === record.submissionHash) return { kind: 'settled', outcome: result.outcome, ...txId };
    const newFingerprint = typeof result.newFingerprint === 'string' ? { newFingerprint: result.newFingerprint } : {};
    return { kind: 'settled-by-another', outcome: result.outcome, ...txId, ...newFingerprint };
  }
  const ledgerHead = view.enrollment.chainHead;
  if (typeof ledgerHead === 'string' && ledgerHead !== record.prevFingerprint) return { kind: 'reprove', prevFingerprint: ledgerHead };
  return { kind: 'rejected' };
}

/** An invalid proof on the ledger excludes the site: nothing more is submitted. */
export function settlementExcludes(outcome: string): boolean {
  return outcome === 'invalidProof';
}

/** A rejection that says the enrollment is excluded. */
export function rejectionExcludes(code: string | undefined): boolean {
  return code === 'EXCLUDED';
}

// ---- 4. sealed upload ----

export type UploadDecision =
  | { kind: 'upload'; periodIndex: number; seal: boolean }
  | { kind: 'stop'; reason: 'unclosed-period' | 'backing-off' | 'auditor-keys-backing-off' | 'day-over' };

/**
 * The next period with a final answer, from `fromPeriod` on, whose readings the store
 * lacks (readingsUploadable: settled, claimed or left for the claim, so every reading
 * the edge took in reaches the store). A period whose upload was
 * refused for good in this run is passed over, and an unclosed period or a retry not
 * due yet ends the round. `seal`: the document is not made yet, which needs the
 * auditor keys (read at most once per round, at their own retry pace).
 */
export function decideUpload(s: PipelineSnapshot, fromPeriod: number): UploadDecision {
  for (let p = fromPeriod; p < PERIOD_COUNT; p++) {
    const r = periodOf(s.enrollment, p);
    if (!r) return { kind: 'stop', reason: 'unclosed-period' };
    if (!readingsUploadable(r) || r.readingsUploaded || s.uploadBlocked.has(p)) continue;
    if (!isDue(s.backoff, `upload/${p}`, s.now)) return { kind: 'stop', reason: 'backing-off' };
    if (!r.sealed && !isDue(s.backoff, 'auditor-keys', s.now)) return { kind: 'stop', reason: 'auditor-keys-backing-off' };
    return { kind: 'upload', periodIndex: p, seal: !r.sealed };
  }
  return { kind: 'stop', reason: 'day-over' };
}

/** A failed upload: 409 is looked into, another final answer blocks the period for this run, an outage is retried. */
export function uploadFailure(failure: CallFailure): 'store-conflict' | 'blocked' | 'retry' {
  if (!failure.final) return 'retry';
  return failure.status === 409 ? 'store-conflict' : 'blocked';
}

/** The store's document for a period, as opened with the site's key by the runner. */
export type StoredDocument =
  | { kind: 'absent' }
  | { kind: 'unopenable'; code: string }
  | { kind: 'opened'; fingerprintSalt: string; readings: readonly string[]; exportReadings?: readonly string[] };

/**
 * 409 on upload: a document that opens with the site's key and holds this period's
 * readings and salt was stored by an earlier run (whose state was then restored from a
 * backup): the period is stored. Anything else is someone else's document in this
 * site's place, reported and not overwritten.
 */
export function judgeStoredDocument(
  stored: StoredDocument,
  own: Pick<PeriodRecord, 'readings' | 'exportReadings'> & { fingerprintSalt: string },
): { kind: 'stored' } | { kind: 'blocked'; reason: string } {
  switch (stored.kind) {
    case 'absent':
      return { kind: 'blocked', reason: 'the store refused the document as a conflict but lists none for the period' };
    case 'unopenable':
      return { kind: 'blocked', reason: `the store's document for the period does not open with the site's key (${stored.code})` };
    case 'opened':
      if (stored.fingerprintSalt === own.fingerprintSalt && sameValues(stored.readings, own.readings) && sameValues(stored.exportReadings, own.exportReadings)) {
        return { kind: 'stored' };
      }
      return { kind: 'blocked', reason: "the store's document for the period opens with the site's key but holds other readings" };
  }
}

/** Equal lists of decimal strings (both absent counts as equal: a v1 document has no exports). */
export function sameValues(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
