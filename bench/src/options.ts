/** Command-line options of `npm run bench`, with their defaults: the one place for them. */

export const SETTLEMENT_PATHS = ['plain', 'batched'] as const;
export type SettlementPath = (typeof SETTLEMENT_PATHS)[number];

export interface BenchOptions {
  prosumers: number[];
  paths: SettlementPath[];
  mode: 'closed' | 'open';
  /** Closed loop: submissions in flight; default min(M, 128). */
  concurrency?: number;
  /** Open loop: arrivals per second. */
  rate: number;
  durationSeconds: number;
  timeoutSeconds: number;
  gapMs: number;
  chains: number;
  /** Fixed deviation of every period (the old workload); undefined: the realistic draw. */
  deviationWh?: number;
  penaltyShare: number;
  invalidShare: number;
  offlineShare: number;
  seed: number;
  /** Batched path: the gateway's N (FLEXPROOF_BATCH_MAX_ITEMS). */
  batchItems: number;
  /** Batched path: FLEXPROOF_BATCH_WINDOW_MS; undefined: the gateway's default. */
  batchWindowMs?: number;
  /** Batched path: FLEXPROOF_BATCH_MAX_IN_FLIGHT; undefined: the gateway's default. */
  batchInFlight?: number;
  /** Full-day mode: M prosumers through the whole day on the batched path. */
  fullDay?: number;
  /** Compact the organisation accounts and the supply at the end (timed). */
  compact: boolean;
  proveRuns: number;
  verifyRuns: number;
  setupConcurrency: number;
  out?: string;
}

export const USAGE = `usage: npm run bench [-- options]

Settles verified hourly proofs through both gateways into the real network (both
organisations endorsing) and measures committed settlements per second, latency from
submit to commit, errors by kind and CPU time by component; compares with the
published 0.78/s. Uses the network already running, or starts one and stops it after.

  --prosumers LIST     simulated prosumers M per path, comma-separated (default 200)
  --paths LIST         settlement paths, each on its own M enrollments (default plain,batched):
                       plain   = gateways with FLEXPROOF_BATCH_MAX_ITEMS=1 (one SubmitPeriod each)
                       batched = gateways coalescing into SubmitPeriods of up to --batch items
  --batch N            batched path: most periods per SubmitPeriods (default 32)
  --batch-window MS    batched path: FLEXPROOF_BATCH_WINDOW_MS (default 150)
  --batch-in-flight N  batched path: FLEXPROOF_BATCH_MAX_IN_FLIGHT (default: the gateway's, 1)
  --full-day M         full-day mode instead: M prosumers from offer to the order's
                       settlement, all 24 periods on the batched path, every stage timed
  --mode closed|open   closed loop (--concurrency in flight) or open loop (--rate) (default closed)
  --concurrency N      closed loop: submissions in flight (default min(M, 128) plain,
                       min(M, 256) batched)
  --rate R             open loop: submissions arriving per second (default 20)
  --duration S         seconds of load per path and M, at most (default 30)
  --timeout S          HTTP timeout of a submission (default 30)
  --gap MS             least time between a prosumer's commit and its next period (default 1000)
  --chains K           proof chains in the pool (prosumer i uses chain i mod K) (default 8)
  --penalty-share F    fraction of periods deviating above the 10 Wh tolerance, 11..60 Wh
                       (the rest 0..10 Wh) (default 0.8)
  --invalid-share F    fraction of submissions with an invalid proof (forfeit, exclusion;
                       that prosumer stops) (default 0.01)
  --offline-share F    fraction of prosumers offline all day, their periods claimed by the
                       aggregator (default 0.02)
  --deviation WH       every period deviates by WH instead of the drawn mix
  --seed N             seed of the workload draw (default 1)
  --compact            compact the organisation accounts and the supply at the end (timed)
  --prove-runs N       proofs per circuit shape for the proving time (default 3)
  --verify-runs N      verifications for the verification time (default 20)
  --setup-concurrency N  parallel calls while enrolling prosumers (default 16)
  --out FILE           JSON report (default .flexproof/bench/throughput.json; .html next to it)

Environment: FLEXPROOF_NETWORK_DIR and the port variables of network/config/network.env
choose the network; FLEXPROOF_BENCH_AGGREGATOR_PORT, FLEXPROOF_BENCH_DSO_PORT and
FLEXPROOF_BENCH_{AGGREGATOR,DSO}_STORE_PORT fix the gateways' ports (default: free ports).`;

export class UsageError extends Error {}

export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  const o: BenchOptions = {
    prosumers: [200],
    paths: ['plain', 'batched'],
    mode: 'closed',
    rate: 20,
    durationSeconds: 30,
    timeoutSeconds: 30,
    gapMs: 1000,
    chains: 8,
    penaltyShare: 0.8,
    invalidShare: 0.01,
    offlineShare: 0.02,
    seed: 1,
    batchItems: 32,
    batchWindowMs: 150,
    compact: false,
    proveRuns: 3,
    verifyRuns: 20,
    setupConcurrency: 16,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') return 'help';
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    const int = (min: number): number => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < min) throw new UsageError(`${arg} needs an integer of at least ${min}`);
      return n;
    };
    const share = (): number => {
      const n = Number(value());
      if (!(n >= 0 && n <= 1)) throw new UsageError(`${arg} needs a fraction between 0 and 1`);
      return n;
    };
    const positive = (): number => {
      const n = Number(value());
      if (!(n > 0)) throw new UsageError(`${arg} needs a positive number`);
      return n;
    };
    switch (arg) {
      case '--prosumers':
        o.prosumers = value().split(',').map((s) => {
          const n = Number(s);
          if (!Number.isInteger(n) || n < 1) throw new UsageError(`--prosumers: ${s} is not a positive integer`);
          return n;
        });
        break;
      case '--paths':
        o.paths = value().split(',').map((s) => {
          if (!(SETTLEMENT_PATHS as readonly string[]).includes(s)) throw new UsageError(`--paths: ${s} is not one of ${SETTLEMENT_PATHS.join(', ')}`);
          return s as SettlementPath;
        });
        if (new Set(o.paths).size !== o.paths.length) throw new UsageError('--paths: a path is named twice');
        break;
      case '--mode': {
        const m = value();
        if (m !== 'closed' && m !== 'open') throw new UsageError('--mode: closed or open');
        o.mode = m;
        break;
      }
      case '--concurrency': o.concurrency = int(1); break;
      case '--rate': o.rate = positive(); break;
      case '--duration': o.durationSeconds = positive(); break;
      case '--timeout': o.timeoutSeconds = positive(); break;
      case '--chains': o.chains = int(1); break;
      case '--deviation': o.deviationWh = int(0); break;
      case '--penalty-share': o.penaltyShare = share(); break;
      case '--invalid-share': o.invalidShare = share(); break;
      case '--offline-share': o.offlineShare = share(); break;
      case '--seed': o.seed = int(0); break;
      case '--batch': {
        const n = int(1);
        if (n > 64) throw new UsageError('--batch needs an integer of at most 64 (the chaincode\'s FLEXPROOF_MAX_BATCH_ITEMS)');
        o.batchItems = n;
        break;
      }
      case '--batch-window': o.batchWindowMs = int(0); break;
      case '--batch-in-flight': o.batchInFlight = int(1); break;
      case '--full-day': o.fullDay = int(1); break;
      case '--compact': o.compact = true; break;
      case '--gap': o.gapMs = int(0); break;
      case '--prove-runs': o.proveRuns = int(0); break;
      case '--verify-runs': o.verifyRuns = int(1); break;
      case '--setup-concurrency': o.setupConcurrency = int(1); break;
      case '--out': o.out = value(); break;
      default:
        throw new UsageError(`unknown option ${arg}`);
    }
  }
  return o;
}

/**
 * The gateways' settings of a settlement path: plain turns coalescing off (N = 1, every
 * period a plain SubmitPeriod); batched sets N and, when given, the window and the
 * in-flight limit (otherwise the gateway's defaults).
 */
export function gatewayEnv(pathName: SettlementPath, o: Pick<BenchOptions, 'batchItems' | 'batchWindowMs' | 'batchInFlight'>): Record<string, string> {
  if (pathName === 'plain') return { FLEXPROOF_BATCH_MAX_ITEMS: '1' };
  return {
    FLEXPROOF_BATCH_MAX_ITEMS: String(o.batchItems),
    ...(o.batchWindowMs === undefined ? {} : { FLEXPROOF_BATCH_WINDOW_MS: String(o.batchWindowMs) }),
    ...(o.batchInFlight === undefined ? {} : { FLEXPROOF_BATCH_MAX_IN_FLIGHT: String(o.batchInFlight) }),
  };
}
