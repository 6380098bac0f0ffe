import { createHash } from 'node:crypto';
import type { EventFilter, LedgerEvent, LedgerPort, SubmitOptions, SubmitOutcome } from './ledger-port';
import { CommitRejected, LedgerUnavailable, pendingTransactionOf, type PendingTransaction } from './ledger-errors';
import type { TransactionName } from './transactions';

interface Entry {
  /** sha256 of the transaction name and its argument: what the key was first used for. */
  request: string;
  expiresAt: number;
  /** The attempt in flight, or the outcome of the one that succeeded. */
  outcome: Promise<SubmitOutcome>;
  /**
   * Set when the last attempt failed with its outcome unknown and none runs now: the next
   * submission under the key resumes this transaction instead of proposing a new one.
   */
  pending?: PendingTransaction;
}

/**
 * A submission under an idempotency key already used, while remembered, for another
 * transaction or another argument. Running it would make the key mean two requests
 * (a client that reused a key by mistake would get the first outcome for a request it
 * never made, or a second transaction it believes deduplicated), so it is refused.
 */
export class IdempotencyKeyReused extends Error {
  constructor(readonly idempotencyKey: string) {
    super('the idempotency key was already used for another request');
    this.name = 'IdempotencyKeyReused';
  }
}

/**
 * Decorates a LedgerPort so that submissions with the same idempotency key share one
 * transaction: a retry while the first is in flight waits for it, a retry after it
 * finished successfully gets the same outcome. The same key with another transaction or
 * argument is refused (IdempotencyKeyReused) while the first is remembered.
 *
 * A failure whose outcome is unknown (LedgerUnavailable with a pending transaction: it
 * went to the orderer and may commit) is kept: the retry resumes that same transaction
 * (same txId) instead of proposing a new one, which for a Mint, Burn or Transfer could
 * execute twice. Committed valid: the retry gets the first outcome. Invalidated (a read
 * conflict, say): nothing of it is on the ledger, so the retry submits anew. Still
 * unknown: the retry fails the same way and the key keeps the handle.
 *
 * Every other failure is forgotten (a refusal may not hold later, e.g. "the period has
 * not ended yet"), so the retry submits again and the chaincode's own rules decide. A read
 * conflict that outlasted the adapter's resubmissions (LedgerContended, the client's 503
 * LEDGER_CONTENDED) is forgotten too: every attempt was invalidated, nothing committed.
 *
 * Without a key nothing is remembered: the key is what makes a retry safe.
 */
export class IdempotentLedger implements LedgerPort {
  readonly #inner: LedgerPort;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry>();

  constructor(inner: LedgerPort, options: { ttlMs?: number; maxEntries?: number } = {}) {
    this.#inner = inner;
    this.#ttlMs = options.ttlMs ?? 24 * 3600 * 1000;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  submit(transaction: TransactionName, argument: unknown, options: SubmitOptions = {}): Promise<SubmitOutcome> {
    const key = options.idempotencyKey;
    if (key === undefined) return this.#inner.submit(transaction, argument, options);
    const now = Date.now();
    const request = createHash('sha256').update(transaction).update('\n').update(JSON.stringify(argument) ?? '').digest('hex');
    const existing = this.#entries.get(key);
    if (existing && existing.expiresAt > now) {
      if (existing.request !== request) return Promise.reject(new IdempotencyKeyReused(key));
      const pending = existing.pending;
      if (pending === undefined) return existing.outcome;
      existing.pending = undefined;
      return this.#track(key, existing, this.#resume(pending, transaction, argument, options));
    }
    this.#prune(now);
    const entry: Entry = { request, expiresAt: now + this.#ttlMs, outcome: this.#inner.submit(transaction, argument, options) };
    this.#entries.set(key, entry);
    return this.#track(key, entry, entry.outcome);
  }

  /** Makes `attempt` the key's; when it fails, keeps its handle if its outcome is unknown, else forgets the key. */
  #track(key: string, entry: Entry, attempt: Promise<SubmitOutcome>): Promise<SubmitOutcome> {
    entry.outcome = attempt;
    attempt.catch((err: unknown) => {
      if (this.#entries.get(key) !== entry || entry.outcome !== attempt) return;
      const pending = pendingTransactionOf(err);
      if (pending) entry.pending = pending;
      else this.#entries.delete(key);
    });
    return attempt;
  }

  async #resume(pending: PendingTransaction, transaction: TransactionName, argument: unknown, options: SubmitOptions): Promise<SubmitOutcome> {
    try {
      return await pending.resume();
    } catch (err) {
      // Invalidated at commit: nothing of the first transaction is on the ledger.
      if (err instanceof CommitRejected) return this.#inner.submit(transaction, argument, options);
      if (pendingTransactionOf(err)) throw err;
      // Whatever went wrong, the first transaction may still commit: keep its handle.
      throw new LedgerUnavailable('the outcome of the transaction is still unknown', pending.txId, err, pending);
    }
  }

  evaluate(transaction: TransactionName, argument: unknown): Promise<unknown> {
    return this.#inner.evaluate(transaction, argument);
  }

  events(filter: EventFilter, signal: AbortSignal): Promise<AsyncIterable<LedgerEvent>> {
    return this.#inner.events(filter, signal);
  }

  ping(): Promise<void> {
    return this.#inner.ping();
  }

  /**
   * Drops expired entries, then the oldest beyond the capacity, except those whose outcome
   * is unknown: forgetting one is what would let a retry run its request a second time
   * (they still expire with the TTL).
   */
  #prune(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) this.#entries.delete(key);
      else if (this.#entries.size < this.#maxEntries) break;
      else if (entry.pending === undefined) this.#entries.delete(key);
    }
  }
}
