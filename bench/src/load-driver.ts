/**
 * Drives the simulated prosumers: each submits its periods in order (period p chains
 * from p-1's fingerprint, so a prosumer has at most one submission in flight), signed
 * with its own key, through its gateway.
 *
 * - closed loop: `concurrency` workers; each takes the next idle prosumer, submits, and
 *   waits for the answer before taking another. Measures capacity at that concurrency.
 * - open loop: submissions arrive at `ratePerSecond` whatever the answers; an arrival
 *   with no idle prosumer waits in a queue, and its latency counts from its arrival
 *   (no coordinated omission). Shows the latency at an offered load.
 *
 * A failed submission is retried (same proof, same period) up to `maxAttempts` times;
 * every failure is recorded with its kind: the client tries each call once, so every
 * attempt is one sample. A prosumer drawn to submit an invalid proof
 * sends it at its `invalidAt` period and stops there (the chaincode excludes it);
 * offline prosumers never submit.
 */
import { ACTION_SUBMIT_PERIOD, signPayload, GatewayError, type EdgeGatewayClient, type PeriodSettlement } from '@flexproof/protocol';
import { PERIODS_PER_DAY } from '@flexproof/circuits';
import { edgeClient, errorKind } from './clients';
import type { OrgName } from './gateway-processes';
import type { Prosumer } from './portfolio';
import type { ProofPool } from './proof-pool';
import { ledgerTarget } from './paths';

export interface LoadOptions {
  mode: 'closed' | 'open';
  concurrency: number;
  ratePerSecond: number;
  durationMs: number;
  timeoutMs: number;
  maxAttempts: number;
  /** Prosumers stop before this period (several runs share one portfolio); default 24. */
  untilPeriod?: number;
  /**
   * Least time between a prosumer's commit and its next submission. Both peers endorse,
   * and the other organisation's peer may commit the block a moment after the gateway's
   * own peer: a next period sent at once can be refused there ("period p must be settled
   * before p+1"). Real prosumers submit one period an hour.
   */
  gapMs: number;
}

export interface Sample {
  prosumer: number;
  period: number;
  org: OrgName;
  /** When the submission was due (open loop: its arrival) and when its answer came (epoch ms). */
  startMs: number;
  endMs: number;
  ok: boolean;
  /** Committed: verified without penalty, verified with a penalty, or invalidProof (forfeit, exclusion). */
  outcome?: SettledOutcome;
  kind?: string;
  /** The gateway's message, for failures. */
  message?: string;
}

export type SettledOutcome = 'verified' | 'penalised' | 'invalidProof';

/** Whether a prosumer has a period left to submit before `until`. */
export function hasWork(p: Prosumer, until: number): boolean {
  if (p.offline || p.excluded) return false;
  const last = p.invalidAt === undefined ? until - 1 : Math.min(until - 1, p.invalidAt);
  return p.nextPeriod <= last;
}

export interface LoadProgress {
  elapsedMs: number;
  committed: number;
  failed: number;
  inFlight: number;
  queued: number;
}

export interface LoadResult {
  samples: Sample[];
  startMs: number;
  /** When the last submission was started (the load stopped: duration over or no period left). */
  loadEndMs: number;
  /** When the last answer came. */
  endMs: number;
  /** Open loop: arrivals never served because no prosumer had a period left or the run ended. */
  unserved: number;
  /** Every prosumer submitted all its periods before the duration ran out. */
  exhausted: boolean;
}

export async function runLoad(
  prosumers: Prosumer[],
  pool: ProofPool,
  circuitId: string,
  options: LoadOptions,
  onProgress: (p: LoadProgress) => void,
): Promise<LoadResult> {
  const samples: Sample[] = [];
  const until = Math.min(options.untilPeriod ?? PERIODS_PER_DAY, PERIODS_PER_DAY);
  const idle: Prosumer[] = prosumers.filter((p) => hasWork(p, until));
  const attempts = new Map<Prosumer, number>();
  let inFlight = 0;
  let failed = 0;
  let wake: (() => void) | undefined;
  const signal = (): void => {
    wake?.();
    wake = undefined;
  };
  const waitForChange = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  const startMs = Date.now();
  const stopAt = startMs + options.durationMs;
  let loadEndMs = startMs;
  const remaining = (): number => prosumers.filter((p) => hasWork(p, until)).length;

  const target = ledgerTarget();
  const clients = new Map<Prosumer, EdgeGatewayClient>();
  const clientOf = (p: Prosumer): EdgeGatewayClient => {
    let client = clients.get(p);
    if (!client) {
      client = edgeClient(p, { maxAttempts: 1, attemptTimeoutMs: options.timeoutMs });
      clients.set(p, client);
    }
    return client;
  };
  async function submit(p: Prosumer, dueMs: number): Promise<void> {
    const period = p.nextPeriod;
    const chain = pool.chains[p.chain];
    const item = period === p.invalidAt ? chain?.invalid[period] : chain?.proofs[period];
    if (!item) throw new Error(`no pooled proof for chain ${p.chain} period ${period}`);
    const payload = {
      type: ACTION_SUBMIT_PERIOD,
      ...target,
      enrollmentId: p.enrollmentId,
      meterId: p.meterId,
      prosumerId: p.prosumerId,
      circuitId,
      periodIndex: period,
      submissionHash: item.submissionHash,
    } as const;
    const body = { payload, signature: signPayload(payload, p.key), proof: item.proof, publicSignals: item.publicSignals };
    inFlight++;
    loadEndMs = Date.now();
    let settled: PeriodSettlement | undefined;
    let failure: unknown;
    try {
      settled = await clientOf(p).submitPeriod(p.enrollmentId, period, body);
    } catch (err) {
      failure = err;
    }
    inFlight--;
    const endMs = Date.now();
    const ok = settled !== undefined;
    let outcome: SettledOutcome | undefined;
    if (settled) {
      const penalty = (settled.result as { penalty?: unknown }).penalty;
      outcome = settled.outcome === 'invalidProof' ? 'invalidProof' : penalty !== undefined && penalty !== '0' ? 'penalised' : 'verified';
    }
    samples.push({
      prosumer: p.index,
      period,
      org: p.gateway.org,
      startMs: dueMs,
      endMs,
      ok,
      ...(outcome ? { outcome } : {}),
      ...(ok ? {} : { kind: errorKind(failure), message: failureMessage(failure) }),
    });
    if (ok) {
      p.nextPeriod++;
      if (outcome === 'invalidProof') p.excluded = true;
      attempts.delete(p);
    } else {
      failed++;
      attempts.set(p, (attempts.get(p) ?? 0) + 1);
    }
    const giveUp = (attempts.get(p) ?? 0) >= options.maxAttempts;
    if (hasWork(p, until) && !giveUp) {
      await new Promise((r) => setTimeout(r, options.gapMs));
      idle.push(p);
    }
    signal();
  }

  const arrivals: number[] = [];
  const ticker = setInterval(() => {
    onProgress({ elapsedMs: Date.now() - startMs, committed: samples.filter((s) => s.ok).length, failed, inFlight, queued: arrivals.length });
  }, 1000);
  let unserved = 0;
  const running = new Set<Promise<void>>();
  const launch = (p: Prosumer, dueMs: number): void => {
    // A task runs until the prosumer is idle again (its gap included); the loop wakes when it ends.
    const task = submit(p, dueMs).finally(() => {
      running.delete(task);
      signal();
    });
    running.add(task);
  };

  try {
    if (options.mode === 'closed') {
      for (;;) {
        if (Date.now() >= stopAt) break;
        if (idle.length === 0 && running.size === 0) break; // every period submitted (or given up)
        if (inFlight < options.concurrency && idle.length > 0) {
          launch(idle.shift() as Prosumer, Date.now());
          continue;
        }
        await waitForChange(Math.max(1, stopAt - Date.now()));
      }
    } else {
      const interval = 1000 / options.ratePerSecond;
      let k = 0;
      for (;;) {
        const now = Date.now();
        while (startMs + k * interval <= now && startMs + k * interval < stopAt) arrivals.push(startMs + k++ * interval);
        while (arrivals.length > 0 && idle.length > 0) launch(idle.shift() as Prosumer, arrivals.shift() as number);
        if (now >= stopAt) break;
        if (remaining() === 0 && running.size === 0) break;
        await waitForChange(Math.max(1, Math.min(stopAt, startMs + k * interval) - Date.now()));
      }
      unserved = arrivals.length;
      arrivals.length = 0;
    }
    while (running.size > 0) await Promise.race(running);
  } finally {
    clearInterval(ticker);
  }
  return { samples, startMs, loadEndMs, endMs: Date.now(), unserved, exhausted: remaining() === 0 };
}

/** What the gateway said of a failed submission (the client's message names the route and the code). */
function failureMessage(error: unknown): string {
  if (error instanceof GatewayError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
