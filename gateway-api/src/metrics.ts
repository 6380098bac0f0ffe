/** Prometheus metrics of one gateway instance (its own registry, so several apps can share a process). */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventFilter, LedgerEvent, LedgerPort, SubmitOptions, SubmitOutcome } from './ledger/ledger-port';
import type { TransactionName } from './ledger/transactions';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 24, 32, 48, 64, 128, 256];

/**
 * Why the period coalescer sent a submission transaction: `immediate` (fewer than the
 * in-flight limit were in flight; by default none), `full` (N items waited), `window` (the first waiting
 * item's window ended), `close` (the app is closing), `unbatched` (N = 1: batching off).
 */
export const FLUSH_REASONS = ['immediate', 'full', 'window', 'close', 'unbatched'] as const;
export type FlushReason = (typeof FLUSH_REASONS)[number];

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'flexproof_gateway_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'flexproof_gateway_http_request_duration_seconds',
    help: 'HTTP request latency, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly ledgerSubmitDuration = new Histogram({
    name: 'flexproof_gateway_ledger_submit_duration_seconds',
    help: 'Endorse, order and commit latency of ledger transactions, by transaction and outcome',
    labelNames: ['transaction', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly periodBatchSize = new Histogram({
    name: 'flexproof_gateway_period_batch_size',
    help: 'Periods per settlement transaction sent by the coalescer (1: a plain SubmitPeriod)',
    buckets: BATCH_SIZE_BUCKETS,
    registers: [this.registry],
  });
  readonly periodBatchFlushes = new Counter({
    name: 'flexproof_gateway_period_batch_flushes_total',
    help: 'Settlement transactions sent by the coalescer, by reason (immediate, full, window, close, unbatched)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly periodBatchFallbacks = new Counter({
    name: 'flexproof_gateway_period_batch_fallbacks_total',
    help: 'SubmitPeriods transactions refused as a whole, whose items were then sent one by one as SubmitPeriod',
    registers: [this.registry],
  });
  readonly periodSubmissionsInFlight = new Gauge({
    name: 'flexproof_gateway_period_submissions_in_flight',
    help: 'Settlement transactions of the coalescer not answered yet',
    registers: [this.registry],
  });
  readonly periodQueueLength = new Gauge({
    name: 'flexproof_gateway_period_queue_length',
    help: 'Periods waiting in the coalescer for a batch',
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'flexproof_gateway_errors_total',
    help: 'Error answers, by error code and HTTP status',
    labelNames: ['code', 'status'] as const,
    registers: [this.registry],
  });
}

/** Decorates a LedgerPort with the submit latency histogram. */
export class MeteredLedger implements LedgerPort {
  constructor(
    private readonly inner: LedgerPort,
    private readonly metrics: GatewayMetrics,
  ) {}

  async submit(transaction: TransactionName, argument: unknown, options?: SubmitOptions): Promise<SubmitOutcome> {
    const end = this.metrics.ledgerSubmitDuration.startTimer({ transaction });
    try {
      const outcome = await this.inner.submit(transaction, argument, options);
      end({ outcome: 'committed' });
      return outcome;
    } catch (err) {
      end({ outcome: err instanceof Error ? err.name : 'error' });
      throw err;
    }
  }

  evaluate(transaction: TransactionName, argument: unknown): Promise<unknown> {
    return this.inner.evaluate(transaction, argument);
  }

  events(filter: EventFilter, signal: AbortSignal): Promise<AsyncIterable<LedgerEvent>> {
    return this.inner.events(filter, signal);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }
}
