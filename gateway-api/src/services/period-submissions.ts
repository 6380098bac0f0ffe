/**
 * Settling a period through the gateway, exactly once whatever the retries, and many in
 * one transaction when many arrive together.
 *
 * Exactly once: the ledger is the record. A period is submitted without a read first; when
 * the chaincode answers CONFLICT (it refuses a settled period so, before the proof is
 * verified) or read conflicts outlast the adapter's resubmissions (the period may have
 * been settled by the very transaction this one kept colliding with), the period's
 * recorded result decides — same submissionHash: the recorded outcome is the answer (a
 * resubmission, or a retry after a timeout whose first attempt committed); another
 * submission: 409. Still unsettled after a read conflict: the conflict is the answer (503
 * LEDGER_CONTENDED, nothing committed, the client resends). Concurrent identical requests
 * share one submission (the idempotency key, or the coalescer's own table while it holds them).
 *
 * Coalescing: edge clients post one period each. While fewer than `maxInFlight`
 * settlement transactions are in flight (by default 1: none), whatever waits is sent at
 * once (a lone period as a plain SubmitPeriod, so it has today's latency; several as one
 * SubmitPeriods). Otherwise periods wait until `maxItems` can go together or `windowMs`
 * has passed since the first of them arrived. The default is 1, not more, because under
 * load every slot that frees would otherwise go to a batch of one or two, each paying a
 * whole transaction's endorsement, validation and commit (at 4: 37 % of the full day's
 * transactions). A batch never holds two periods of one enrollment (the later one
 * waits for the next batch): the chaincode would refuse it, and they could not both be
 * right about the chain head anyway. Each request gets its own item's outcome, with the
 * answer a single submission would have had.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Static } from '@sinclair/typebox';
import { ApiError } from '../errors';
import { IdempotencyKeyReused } from '../ledger/idempotent-ledger';
import { ChaincodeRefusal, CommitRejected, LedgerUnavailable, isReadConflict } from '../ledger/ledger-errors';
import type { LedgerPort, SubmitOutcome } from '../ledger/ledger-port';
import { TX } from '../ledger/transactions';
import type { FlushReason, GatewayMetrics } from '../metrics';
import type { cc } from '../schemas/http';

/**
 * The signed period as the edge sends it: the chaincode's schema is its one definition
 * (payload with `type` 'flexproof.submitPeriod.v2', `channel` and `chaincode`, the ids,
 * period and submissionHash). It is relayed as parsed: the gateway never rewrites it.
 */
export type SubmitPeriodInput = Static<typeof cc.SubmitPeriodInput>;

export interface PeriodOutcome {
  outcome: string;
  enrollmentId: string;
  periodIndex: number;
  result: Record<string, unknown>;
  txId: string;
  /** True when the period was already settled by this same submission. */
  replayed: boolean;
}

export interface PeriodBatchingOptions {
  /** N: most periods in one SubmitPeriods; 1 turns coalescing off (every period a plain SubmitPeriod). */
  maxItems: number;
  /** How long the first waiting period waits for others once the in-flight limit is reached, ms. */
  windowMs: number;
  /** Below this many settlement transactions in flight, waiting periods are sent at once (1: only when none is). */
  maxInFlight: number;
}

export const DEFAULT_PERIOD_BATCHING: Readonly<PeriodBatchingOptions> = { maxItems: 32, windowMs: 20, maxInFlight: 1 };

/** The coalescer's logger: a whole-batch refusal is worth an operator's look. */
export interface PeriodLog {
  warn(details: Record<string, unknown>, message: string): void;
}

interface RecordedResult {
  outcome: string;
  submissionHash?: string;
  txId: string;
  [k: string]: unknown;
}

interface EnrollmentView {
  periods?: { periodIndex: number; result: RecordedResult | null }[];
}

/** A period held by the coalescer until its transaction answers. */
interface Waiting {
  input: SubmitPeriodInput;
  enrollmentId: string;
  /** The idempotency key of its plain SubmitPeriod (also the coalescer's sharing key). */
  key: string;
  /** sha256 of the input: what the key was first used for. */
  request: string;
  arrivedAt: number;
  outcome: Promise<SubmitOutcome>;
  resolve: (outcome: SubmitOutcome) => void;
  reject: (err: unknown) => void;
}

/** One item's answer in SubmitPeriods' `outcomes` (the chaincode's contract). */
interface ItemOutcome {
  index?: unknown;
  outcome?: unknown;
  enrollmentId?: unknown;
  periodIndex?: unknown;
  result?: unknown;
  code?: unknown;
  message?: unknown;
}

const CHAINCODE_CODE = /^[A-Z][A-Z_]*$/;
/** Settled periods whose txId a gateway remembers for `replayed` (a day of 2,000 prosumers is 48,000). */
const ANSWERED_LIMIT = 100_000;

/** The idempotency key of a period's plain SubmitPeriod: one per enrollment, period and submission. */
function periodKey(input: SubmitPeriodInput): string {
  const { enrollmentId, periodIndex, submissionHash } = input.payload;
  return `submitPeriod\n${enrollmentId}\n${periodIndex}\n${submissionHash}`;
}
/** How the chaincode names an item in its per-item messages: `items[3].payload.x: ...` or `items[3]: ...`. */
const ITEM_PREFIX = /^items\[[0-9]+\](?:\.|: )/;

export class PeriodSubmissions {
  readonly #ledger: LedgerPort;
  readonly #options: PeriodBatchingOptions;
  readonly #metrics: GatewayMetrics | undefined;
  readonly #log: PeriodLog | undefined;
  /** Waiting periods, oldest first. */
  #queue: Waiting[] = [];
  /** Every period the coalescer holds (waiting or in flight), by key. */
  readonly #held = new Map<string, Waiting>();
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerDue = 0;
  #closing = false;
  /**
   * The txId each period's key was settled by, as this gateway answered it. With no read
   * before submitting, an identical resubmission is answered by the idempotent ledger
   * from its memory (no transaction) or refused CONFLICT by the chaincode (then read):
   * this is how the first says `replayed: true` too.
   */
  readonly #answered = new Map<string, string>();

  constructor(ledger: LedgerPort, options: Partial<PeriodBatchingOptions> = {}, observers: { metrics?: GatewayMetrics; log?: PeriodLog } = {}) {
    this.#ledger = ledger;
    this.#options = { ...DEFAULT_PERIOD_BATCHING, ...options };
    const { maxItems, windowMs, maxInFlight } = this.#options;
    if (!Number.isInteger(maxItems) || maxItems < 1) throw new Error('periodBatching.maxItems: must be an integer of at least 1');
    if (!Number.isInteger(windowMs) || windowMs < 0) throw new Error('periodBatching.windowMs: must be an integer of at least 0');
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new Error('periodBatching.maxInFlight: must be an integer of at least 1');
    this.#metrics = observers.metrics;
    this.#log = observers.log;
  }

  get options(): Readonly<PeriodBatchingOptions> {
    return this.#options;
  }

  /** Settles the period once, or answers with its recorded outcome (see the module comment). */
  async settle(input: SubmitPeriodInput): Promise<PeriodOutcome> {
    const { enrollmentId, periodIndex } = input.payload;
    // No read before submitting: the chaincode refuses a settled period with CONFLICT
    // before it verifies anything costly, so a resubmission costs one refused proposal
    // where a read first would cost every first submission a second invocation.
    const key = periodKey(input);
    const answeredBefore = this.#answered.get(key);
    try {
      const { result, txId } = await this.#submit(input, key);
      const answer = result as { outcome: string; result: Record<string, unknown> };
      const replayed = answeredBefore === txId;
      if (!replayed) this.#remember(key, txId);
      return { outcome: answer.outcome, enrollmentId, periodIndex, result: answer.result, txId, replayed };
    } catch (err) {
      if (!((err instanceof ChaincodeRefusal && err.code === 'CONFLICT') || isReadConflict(err))) throw err;
      // Settled meanwhile (a concurrent request, possibly through another gateway, or the
      // first attempt of this one committed late).
      const after = await this.#recorded(enrollmentId, periodIndex);
      if (after) return replayOrConflict(after, input);
      throw err;
    }
  }

  /** Sends whatever waits now, whatever is in flight (the app is closing; nothing may wait for a window). */
  close(): void {
    this.#closing = true;
    this.#dispatch();
  }

  async #recorded(enrollmentId: string, periodIndex: number): Promise<RecordedResult | null> {
    const view = (await this.#ledger.evaluate(TX.getEnrollment, { enrollmentId })) as EnrollmentView;
    return view.periods?.find((p) => p.periodIndex === periodIndex)?.result ?? null;
  }

  #remember(key: string, txId: string): void {
    this.#answered.delete(key);
    if (this.#answered.size >= ANSWERED_LIMIT) {
      const oldest = this.#answered.keys().next().value;
      if (oldest !== undefined) this.#answered.delete(oldest);
    }
    this.#answered.set(key, txId);
  }

  /** The period's own SubmitPeriod-shaped answer `{result: {outcome, enrollmentId, periodIndex, result}, txId}`. */
  #submit(input: SubmitPeriodInput, key: string): Promise<SubmitOutcome> {
    const { enrollmentId } = input.payload;
    if (this.#options.maxItems === 1) {
      this.#metrics?.periodBatchFlushes.inc({ reason: 'unbatched' });
      this.#metrics?.periodBatchSize.observe(1);
      return this.#ledger.submit(TX.submitPeriod, input, { idempotencyKey: key });
    }
    const request = createHash('sha256').update(JSON.stringify(input)).digest('hex');
    const held = this.#held.get(key);
    if (held) {
      // As IdempotentLedger does: one key, one request.
      return held.request === request ? held.outcome : Promise.reject(new IdempotencyKeyReused(key));
    }
    let resolve!: (outcome: SubmitOutcome) => void;
    let reject!: (err: unknown) => void;
    const outcome = new Promise<SubmitOutcome>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const waiting: Waiting = { input, enrollmentId, key, request, arrivedAt: performance.now(), outcome, resolve, reject };
    this.#held.set(key, waiting);
    const release = (): void => {
      if (this.#held.get(key) === waiting) this.#held.delete(key);
    };
    outcome.then(release, release);
    this.#queue.push(waiting);
    this.#dispatch();
    return outcome;
  }

  /** Applies the policy to what waits: at once below the in-flight limit, else full batches; then the window. */
  #dispatch(): void {
    while (this.#queue.length > 0 && (this.#closing || this.#inFlight < this.#options.maxInFlight)) {
      this.#flush(this.#closing ? 'close' : 'immediate');
    }
    while (this.#hasFullBatch()) this.#flush('full');
    this.#armWindow();
    this.#metrics?.periodQueueLength.set(this.#queue.length);
  }

  #armWindow(): void {
    const first = this.#queue[0];
    if (!first) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      return;
    }
    const due = first.arrivedAt + this.#options.windowMs;
    if (this.#timer !== undefined && this.#timerDue === due) return;
    clearTimeout(this.#timer);
    this.#timerDue = due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const now = performance.now();
      for (let next = this.#queue[0]; next && next.arrivedAt + this.#options.windowMs <= now; next = this.#queue[0]) this.#flush('window');
      this.#dispatch();
    }, Math.max(0, Math.ceil(due - performance.now())));
  }

  /** True if N waiting periods of N different enrollments can go together. */
  #hasFullBatch(): boolean {
    const n = this.#options.maxItems;
    if (this.#queue.length < n) return false;
    const enrollments = new Set<string>();
    for (const w of this.#queue) {
      enrollments.add(w.enrollmentId);
      if (enrollments.size >= n) return true;
    }
    return false;
  }

  /** The oldest waiting periods, at most N and at most one per enrollment; the others keep their order. */
  #takeBatch(): Waiting[] {
    const n = this.#options.maxItems;
    const batch: Waiting[] = [];
    const enrollments = new Set<string>();
    const rest: Waiting[] = [];
    let i = 0;
    for (; i < this.#queue.length && batch.length < n; i++) {
      const w = this.#queue[i] as Waiting;
      if (enrollments.has(w.enrollmentId)) {
        rest.push(w);
      } else {
        enrollments.add(w.enrollmentId);
        batch.push(w);
      }
    }
    this.#queue = i < this.#queue.length ? rest.concat(this.#queue.slice(i)) : rest;
    return batch;
  }

  #flush(reason: FlushReason): void {
    const batch = this.#takeBatch();
    if (batch.length === 0) return;
    this.#metrics?.periodBatchFlushes.inc({ reason });
    this.#metrics?.periodBatchSize.observe(batch.length);
    this.#inFlight++;
    this.#metrics?.periodSubmissionsInFlight.set(this.#inFlight);
    void this.#send(batch).finally(() => {
      this.#inFlight--;
      this.#metrics?.periodSubmissionsInFlight.set(this.#inFlight);
      this.#dispatch();
    });
  }

  /** Answers every period of the batch; never rejects. */
  async #send(batch: Waiting[]): Promise<void> {
    if (batch.length === 1) {
      await this.#sendAlone(batch[0] as Waiting);
      return;
    }
    let outcome: SubmitOutcome;
    try {
      outcome = await this.#ledger.submit(TX.submitPeriods, { items: batch.map((w) => w.input) });
    } catch (err) {
      if (err instanceof LedgerUnavailable || err instanceof CommitRejected) {
        // The ledger did not answer, or did not commit (read conflicts are already resubmitted
        // by the adapter; past that they are LedgerContended): what a single submission would
        // have been told. settle() reads the record after a read conflict, and a retry reads
        // it first, so a batch that committed after all settles nothing twice.
        for (const w of batch) w.reject(err);
        return;
      }
      // Refused as a whole, or failed in a way this gateway cannot classify: each period
      // goes again on its own and gets exactly today's answer. Safe even if the batch did
      // commit: the chaincode settles a period once, and a CONFLICT reads the record.
      this.#metrics?.periodBatchFallbacks.inc();
      this.#log?.warn(
        { items: batch.length, error: err instanceof ChaincodeRefusal ? err.code : err instanceof Error ? err.name : 'unknown' },
        'SubmitPeriods failed as a whole; sending its periods one by one',
      );
      await Promise.all(batch.map((w) => this.#sendAlone(w)));
      return;
    }
    const outcomes = (outcome.result as { outcomes?: unknown } | null)?.outcomes;
    batch.forEach((w, index) => {
      try {
        w.resolve(itemAnswer(outcomes, index, w, outcome.txId));
      } catch (err) {
        w.reject(err);
      }
    });
  }

  async #sendAlone(w: Waiting): Promise<void> {
    try {
      w.resolve(await this.#ledger.submit(TX.submitPeriod, w.input, { idempotencyKey: w.key }));
    } catch (err) {
      w.reject(err);
    }
  }
}

/**
 * Item `index` of a SubmitPeriods answer as the answer SubmitPeriod would have given: a
 * settled item as `{result: {outcome, enrollmentId, periodIndex, result}, txId}`, a refused
 * one thrown as the chaincode refusal it is (its message naming the request's own fields,
 * without the batch position the client never saw).
 */
function itemAnswer(outcomes: unknown, index: number, w: Waiting, txId: string): SubmitOutcome {
  const list = Array.isArray(outcomes) ? (outcomes as ItemOutcome[]) : [];
  const o = list.find((x) => x !== null && typeof x === 'object' && x.index === index) ?? list[index];
  if (o === null || typeof o !== 'object' || (o.index !== undefined && o.index !== index)) {
    throw new Error(`SubmitPeriods ${txId} answered no outcome for item ${index}`);
  }
  const { periodIndex } = w.input.payload;
  if ((o.enrollmentId !== undefined && o.enrollmentId !== w.enrollmentId) || (o.periodIndex !== undefined && o.periodIndex !== periodIndex)) {
    throw new Error(`SubmitPeriods ${txId} answered item ${index} for another period`);
  }
  if (o.outcome === 'refused') {
    if (typeof o.code !== 'string' || !CHAINCODE_CODE.test(o.code)) throw new Error(`SubmitPeriods ${txId} refused item ${index} without a code`);
    const message = typeof o.message === 'string' ? o.message.replace(ITEM_PREFIX, '') : '';
    throw new ChaincodeRefusal(o.code, message, txId);
  }
  if (typeof o.outcome !== 'string' || o.result === null || typeof o.result !== 'object') {
    throw new Error(`SubmitPeriods ${txId} answered item ${index} without an outcome`);
  }
  return { result: { outcome: o.outcome, enrollmentId: w.enrollmentId, periodIndex, result: o.result }, txId };
}

function replayOrConflict(result: RecordedResult, input: SubmitPeriodInput): PeriodOutcome {
  const { enrollmentId, periodIndex, submissionHash } = input.payload;
  if (result.submissionHash !== submissionHash) {
    throw new ApiError(
      409,
      'CONFLICT',
      `period ${periodIndex} of enrollment ${enrollmentId} is already settled (${result.outcome}) by another submission`,
      result.txId,
    );
  }
  return { outcome: result.outcome, enrollmentId, periodIndex, result, txId: result.txId, replayed: true };
}
