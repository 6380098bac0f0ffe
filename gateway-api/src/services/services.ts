import type { Guards } from '../auth/guards';
import type { LedgerPort } from '../ledger/ledger-port';
import type { GatewayMetrics } from '../metrics';
import type { SealedPeriodStore } from '../store/sealed-periods';
import type { MeterDirectory } from './meter-directory';
import type { PeriodSubmissions } from './period-submissions';

/** What the routes use: built once by buildApp from its dependencies. */
export interface Services {
  org: 'aggregator' | 'dso';
  /** The ledger with idempotency and metrics applied. */
  ledger: LedgerPort;
  /** Sealed period documents (ciphertext only). */
  store: SealedPeriodStore;
  guards: Guards;
  meters: MeterDirectory;
  /** Period settlement: exactly once, coalesced into batches under load. */
  periods: PeriodSubmissions;
  metrics: GatewayMetrics;
  /** The largest request body, bytes (routes may take less, never more). */
  bodyLimit: number;
  /** Aborted when the app closes: ends the event streams. */
  closing: AbortSignal;
}

export interface RouteOptions {
  services: Services;
}
