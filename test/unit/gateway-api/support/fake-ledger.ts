/**
 * A fake of the gateway's LedgerPort, named as one: scripted answers per transaction, a
 * small in-memory model of meters and enrollments (enough for the routes' own logic:
 * edge keys, period idempotency, audits), switches for an unavailable peer, and events
 * pushed by the test.
 */
import {
  ChaincodeRefusal,
  LedgerUnavailable,
  eventMatches,
  type EventFilter,
  type LedgerEvent,
  type LedgerPort,
  type SubmitOutcome,
  type TransactionName,
} from '@flexproof/gateway-api';

type Handler = (argument: Record<string, unknown>) => unknown;

export interface FakeMeter {
  meterId: string;
  prosumerId: string;
  publicKeyPem: string;
  keyType: string;
  congestionPoint: string;
  status: string;
  nonce: string;
}

export interface FakePeriodResult {
  outcome: string;
  periodIndex: number;
  submissionHash?: string;
  prevFingerprint?: string;
  newFingerprint?: string;
  txId: string;
  [k: string]: unknown;
}

export interface FakeEnrollment {
  enrollmentId: string;
  orderId: string;
  meterId: string;
  prosumerId: string;
  circuitId: string;
  status: string;
  chainHead: string;
  results: (FakePeriodResult | null)[];
}

export class FakeLedgerForTests implements LedgerPort {
  readonly submitted: { transaction: string; argument: unknown }[] = [];
  readonly evaluated: { transaction: string; argument: unknown }[] = [];
  readonly meters = new Map<string, FakeMeter>();
  readonly enrollments = new Map<string, FakeEnrollment>();
  /** When true, every call fails as if the peer were down. */
  down = false;
  readonly #handlers = new Map<string, Handler>();
  readonly #subscribers = new Set<{ filter: EventFilter; push: (e: LedgerEvent) => void }>();
  #txCounter = 0;

  constructor() {
    this.on('org.flexproof.meters:GetMeter', ({ meterId }) => {
      const meter = this.meters.get(String(meterId));
      if (!meter) throw new ChaincodeRefusal('NOT_FOUND', `meter ${String(meterId)} not found`);
      return meter;
    });
    this.on('org.flexproof.programs:GetEnrollment', ({ enrollmentId }) => {
      const e = this.#enrollment(String(enrollmentId));
      return {
        enrollment: e,
        periods: e.results.map((result, periodIndex) => ({ periodIndex, endTime: '', deadline: '', result })),
        escrow: '0',
        nextPeriod: null,
      };
    });
    this.on('org.flexproof.programs:SubmitPeriod', (input) => this.settlePeriodForTests(input));
    // Sequential semantics, as the chaincode's: each item as the SubmitPeriod handler
    // scripted now would take it, one after the other; a refusal is that item's outcome.
    this.on('org.flexproof.programs:SubmitPeriods', ({ items }) => {
      if (!Array.isArray(items) || items.length === 0) throw new ChaincodeRefusal('BAD_INPUT', 'items: must be a non-empty array');
      const single = this.#handlers.get('org.flexproof.programs:SubmitPeriod') as Handler;
      const seen = new Set<string>();
      return {
        outcomes: items.map((item: Record<string, unknown>, index) => {
          const { enrollmentId, periodIndex } = item.payload as { enrollmentId: string; periodIndex: number };
          try {
            if (seen.has(enrollmentId)) throw new ChaincodeRefusal('CONFLICT', `items[${index}]: the batch already holds a submission for enrollment ${enrollmentId}`);
            seen.add(enrollmentId);
            const answer = single(item) as { outcome: string; result: unknown };
            return { index, outcome: answer.outcome, enrollmentId, periodIndex, result: answer.result };
          } catch (err) {
            if (!(err instanceof ChaincodeRefusal)) throw err;
            return { index, outcome: 'refused', code: err.code, message: err.message, enrollmentId, periodIndex };
          }
        }),
      };
    });
    this.on('org.flexproof.system:Ping', () => ({ chaincode: 'flexproof' }));
  }

  /** The txId the transaction being submitted will get. */
  currentTxId = '';

  /**
   * Awaited by every submission before the ledger applies it (after it is recorded in
   * `submitted`): a test holds transactions in flight with it, or fails them as a whole.
   */
  beforeSubmit: ((transaction: TransactionName, argument: unknown) => Promise<void>) | undefined;

  /** The fake's SubmitPeriod: settles a verified period once (CONFLICT when settled). */
  settlePeriodForTests(input: Record<string, unknown>): unknown {
    const payload = input.payload as { enrollmentId: string; periodIndex: number; submissionHash: string };
    const publicSignals = input.publicSignals as string[];
    const e = this.#enrollment(payload.enrollmentId);
    if (e.results[payload.periodIndex]) {
      throw new ChaincodeRefusal('CONFLICT', `period ${payload.periodIndex} is already settled`);
    }
    const result: FakePeriodResult = {
      outcome: 'verified',
      periodIndex: payload.periodIndex,
      deviationWh: publicSignals[1] ?? '0',
      prevFingerprint: e.chainHead,
      newFingerprint: publicSignals[0] ?? '0',
      submissionHash: payload.submissionHash,
      txId: this.currentTxId,
    };
    e.results[payload.periodIndex] = result;
    e.chainHead = result.newFingerprint ?? e.chainHead;
    return { outcome: 'verified', enrollmentId: e.enrollmentId, periodIndex: payload.periodIndex, result };
  }

  /** Scripts the answer (or the throw) of a transaction. */
  on(transaction: TransactionName, handler: Handler): this {
    this.#handlers.set(transaction, handler);
    return this;
  }

  addEnrollment(e: Partial<FakeEnrollment> & { enrollmentId: string; meterId: string }): FakeEnrollment {
    const full: FakeEnrollment = {
      orderId: 'order-1',
      prosumerId: this.meters.get(e.meterId)?.prosumerId ?? 'prosumer-1',
      circuitId: 'flexdev-v1-r4',
      status: 'active',
      chainHead: '0',
      results: Array.from({ length: 24 }, () => null),
      ...e,
    };
    this.enrollments.set(full.enrollmentId, full);
    return full;
  }

  async submit(transaction: TransactionName, argument: unknown): Promise<SubmitOutcome> {
    if (this.down) throw new LedgerUnavailable('fake peer is down');
    this.submitted.push({ transaction, argument });
    await this.beforeSubmit?.(transaction, argument);
    if (this.down) throw new LedgerUnavailable('fake peer is down');
    // No await between naming the transaction and running its handler: concurrent
    // submissions each settle under their own txId.
    const txId = (this.currentTxId = `faketx${++this.#txCounter}`);
    const result = this.#run(transaction, argument);
    return { result: await result, txId };
  }

  async evaluate(transaction: TransactionName, argument: unknown): Promise<unknown> {
    if (this.down) throw new LedgerUnavailable('fake peer is down');
    this.evaluated.push({ transaction, argument });
    return this.#call(transaction, argument);
  }

  async events(filter: EventFilter, signal: AbortSignal): Promise<AsyncIterable<LedgerEvent>> {
    if (this.down) throw new LedgerUnavailable('fake peer is down');
    const queue: LedgerEvent[] = [];
    let wake: (() => void) | undefined;
    const subscriber = {
      filter,
      push: (e: LedgerEvent) => {
        queue.push(e);
        wake?.();
      },
    };
    this.#subscribers.add(subscriber);
    signal.addEventListener('abort', () => wake?.(), { once: true });
    const subscribers = this.#subscribers;
    return (async function* stream() {
      try {
        while (!signal.aborted) {
          const next = queue.shift();
          if (next) {
            yield next;
            continue;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      } finally {
        subscribers.delete(subscriber);
      }
    })();
  }

  /** Delivers a chaincode event to the open streams whose filter matches it. */
  emit(event: LedgerEvent): void {
    for (const s of this.#subscribers) if (eventMatches(event, s.filter)) s.push(event);
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  async ping(): Promise<void> {
    if (this.down) throw new LedgerUnavailable('fake peer is down');
  }

  async #call(transaction: string, argument: unknown): Promise<unknown> {
    return this.#run(transaction, argument);
  }

  /** Runs the handler synchronously (a throw becomes a rejection). */
  #run(transaction: string, argument: unknown): Promise<unknown> {
    const handler = this.#handlers.get(transaction);
    if (!handler) return Promise.reject(new Error(`FakeLedgerForTests: no answer scripted for ${transaction}`));
    try {
      return Promise.resolve(handler((argument ?? {}) as Record<string, unknown>));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #enrollment(enrollmentId: string): FakeEnrollment {
    const e = this.enrollments.get(enrollmentId);
    if (!e) throw new ChaincodeRefusal('NOT_FOUND', `enrollment ${enrollmentId} not found`);
    return e;
  }
}
