import { ChaincodeRefusal } from '../ledger/ledger-errors';
import type { LedgerPort } from '../ledger/ledger-port';
import { TX } from '../ledger/transactions';

/** What the gateway needs of a meter record to authenticate its edge client. */
export interface MeterIdentity {
  meterId: string;
  prosumerId: string;
  publicKeyPem: string;
  status: string;
}

/**
 * Meter records read from the ledger, cached briefly: every signed edge request needs
 * the meter's public key, and keys change only with a new registration.
 */
export class MeterDirectory {
  readonly #ledger: LedgerPort;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { meter: MeterIdentity | undefined; expiresAt: number }>();

  constructor(ledger: LedgerPort, ttlMs = 30_000) {
    this.#ledger = ledger;
    this.#ttlMs = ttlMs;
  }

  /** The meter, or undefined if the ledger has no such meter. */
  async find(meterId: string, nowMs = Date.now()): Promise<MeterIdentity | undefined> {
    const hit = this.#cache.get(meterId);
    if (hit && hit.expiresAt > nowMs) return hit.meter;
    let meter: MeterIdentity | undefined;
    try {
      meter = (await this.#ledger.evaluate(TX.getMeter, { meterId })) as MeterIdentity;
    } catch (err) {
      if (!(err instanceof ChaincodeRefusal && (err.code === 'NOT_FOUND' || err.code === 'BAD_INPUT'))) throw err;
    }
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(meterId, { meter, expiresAt: nowMs + this.#ttlMs });
    return meter;
  }
}
