/** Command-line options of `npm run bench`, with their defaults: the one place for them. */

export const SETTLEMENT_PATHS = ['plain'] as const;
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
  deviationWh: number;
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

  --prosumers LIST     simulated prosumers M, comma-separated (default 10,100)
  --paths LIST         settlement paths (default plain: one transaction per submission;
                       paths given together share each M's enrollments, periods split)
  --mode closed|open   closed loop (--concurrency in flight) or open loop (--rate) (default closed)
  --concurrency N      closed loop: submissions in flight (default min(M, 128))
  --rate R             open loop: submissions arriving per second (default 20)
  --duration S         seconds of load per path and M, at most (default 30)
  --timeout S          HTTP timeout of a submission (default 30)
  --gap MS             least time between a prosumer's commit and its next period (default 1000)
  --chains K           proof chains in the pool (prosumer i uses chain i mod K) (default 1)
  --deviation WH       deviation of every period, Wh (tolerance is 10: above it every
                       settlement pays a penalty to org:AggregatorMSP, a hot key) (default 0)
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
    prosumers: [10, 100],
    paths: ['plain'],
    mode: 'closed',
    rate: 20,
    durationSeconds: 30,
    timeoutSeconds: 30,
    gapMs: 1000,
    chains: 1,
    deviationWh: 0,
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
