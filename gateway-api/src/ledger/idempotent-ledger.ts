import { createHash } from 'node:crypto';
import type { EventFilter, LedgerEvent, LedgerPort, SubmitOptions, SubmitOutcome } from './ledger-port';
import type { TransactionName } from './transactions';

interface Entry {
  outcome: Promise<SubmitOutcome>;
  /** sha256 of the transaction name and its argument: what the key was first used for. */
  request: string;
  expiresAt: number;
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
 * argument is refused (IdempotencyKeyReused) while the first is remembered. A failure
 * is forgotten (a refusal may not hold later, e.g. "the period has not ended yet"; an
 * unknown outcome may have committed), so the retry submits again and the chaincode's
 * own once-only rules (a period settles once, a nonce is used once) decide. A read
 * conflict that outlasted the adapter's resubmissions (LedgerContended, the client's
 * 503 LEDGER_CONTENDED) is forgotten too, and there resending is safe for any
 * transaction: every attempt was invalidated, nothing of it committed.
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
      return existing.outcome;
    }
    this.#prune(now);
    const outcome = this.#inner.submit(transaction, argument, options);
    this.#entries.set(key, { outcome, request, expiresAt: now + this.#ttlMs });
    outcome.catch(() => {
      if (this.#entries.get(key)?.outcome === outcome) this.#entries.delete(key);
    });
    return outcome;
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

  #prune(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now || this.#entries.size >= this.#maxEntries) this.#entries.delete(key);
      else break;
    }
  }
}
