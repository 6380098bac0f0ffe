import type { Guards } from '../auth/guards';
import type { LedgerPort } from '../ledger/ledger-port';
import type { GatewayMetrics } from '../metrics';
import type { RawReadingsStore } from '../store/raw-readings';
import type { FingerprintFn } from './audit';
import type { MeterDirectory } from './meter-directory';

/** What the routes use: built once by buildApp from its dependencies. */
export interface Services {
  org: 'aggregator' | 'dso';
  /** The ledger with idempotency and metrics applied. */
  ledger: LedgerPort;
  store: RawReadingsStore;
  guards: Guards;
  meters: MeterDirectory;
  metrics: GatewayMetrics;
  fingerprint: () => Promise<FingerprintFn>;
  /** Aborted when the app closes: ends the event streams. */
  closing: AbortSignal;
}

export interface RouteOptions {
  services: Services;
}
