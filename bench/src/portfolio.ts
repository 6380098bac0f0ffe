/**
 * The ledger state a run needs, made over REST like an operator would (the protocol's
 * client, whose retry policy rides through contention and a lagging peer): the verification
 * key (proposed by the DSO, approved by the aggregator), tokens, a flexibility request,
 * offer and order, then per prosumer a meter (DSO), and the enrollments through the
 * batch routes: offers `POST /v1/enrollments/batch` (up to 256 a call), acceptances
 * signed by each prosumer (edge route, concurrent: one key each, no conflict) and
 * funding `POST /v1/enrollments/deposits` (up to 256 a call). Every name carries the run
 * id, so runs on one network never collide.
 *
 * Online enrollments start far enough in the past that all 24 periods have ended, with
 * the longest grace the chaincode allows, so every period is open for submission in
 * order. Offline ones have one-second periods, no grace, and start so far back that
 * every deadline plus the clock skew has passed: the aggregator can claim each period.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ACTION_ACCEPT_ENROLLMENT, enrollmentTerms, signPayload, verificationKeyHash, type EnrollmentRecord } from '@flexproof/protocol';
import { edgeClient, mapLimit, orgClient } from './clients';
import type { GatewayProcess } from './gateway-processes';
import { ledgerTarget, NETWORK_JSON } from './paths';
import type { ProofPool } from './proof-pool';
import type { ProsumerDraw } from './workload';

/** Each enrollment's share of the order per period, Wh. */
const FLEX_WH = '500';

export const PERIOD_SECONDS = 60;
export const GRACE_SECONDS = 7 * 86_400; // the chaincode's maximum
export const OFFLINE_PERIOD_SECONDS = 1;
export const OFFLINE_GRACE_SECONDS = 0; // the chaincode's minimum
export const REWARD = 2400n;
/** Most entries one batch route takes (chaincode: OfferEnrollments, DepositRewards). */
export const FUNDING_BATCH = 256;

export interface Prosumer {
  index: number;
  meterId: string;
  prosumerId: string;
  enrollmentId: string;
  key: KeyObject;
  chain: number;
  gateway: GatewayProcess;
  /** Next period to submit (0..24; 24 = done). */
  nextPeriod: number;
  offline: boolean;
  /** The period this prosumer submits an invalid proof for (its last). */
  invalidAt?: number;
  /** Excluded by the chaincode (an invalid proof settled). */
  excluded?: boolean;
}

/** What each set-up stage took: entries done and wall time. */
export interface StageTiming {
  stage: string;
  count: number;
  ms: number;
}

export interface PortfolioContext {
  runId: string;
  dso: GatewayProcess;
  aggregator: GatewayProcess;
  tokens: { dso: string; aggregator: string };
  pool: ProofPool;
  verificationKey: unknown;
  log: (line: string) => void;
  /** Parallel calls during set-up. */
  concurrency: number;
  /** Offline and invalid-proof draw per prosumer (workload.ts); its length is M. */
  draws: ProsumerDraw[];
  onStage?: (t: StageTiming) => void;
}

export interface Portfolio {
  prosumers: Prosumer[];
  circuitId: string;
  orderId: string;
  stages: StageTiming[];
}

const perIsp = (v: string): string[] => Array.from({ length: 24 }, () => v);

function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export async function progressively<T>(
  what: string,
  items: readonly T[],
  limit: number,
  log: (line: string) => void,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  const t0 = Date.now();
  let done = 0;
  let last = 0;
  await mapLimit(items, limit, async (item) => {
    await work(item);
    done++;
    if (Date.now() - last > 2000 || done === items.length) {
      last = Date.now();
      const rate = done / Math.max(0.001, (Date.now() - t0) / 1000);
      const eta = (items.length - done) / Math.max(rate, 0.001);
      log(`set-up: ${what} ${done}/${items.length} (${rate.toFixed(1)}/s, ETA ${eta.toFixed(0)} s)`);
    }
  });
}

function requestCommitmentOf(pool: ProofPool, chain: number): string {
  const commitment = pool.chains[chain]?.requestCommitment;
  if (commitment === undefined) throw new Error(`proof pool: no chain ${chain}`);
  return commitment;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The network's MAX_CLOCK_SKEW_SECONDS (network.json), for the offline cohort's timing. */
function clockSkewSeconds(): number {
  try {
    const v = (JSON.parse(readFileSync(NETWORK_JSON, 'utf8')) as { maxClockSkewSeconds?: number }).maxClockSkewSeconds;
    return typeof v === 'number' && v >= 0 ? v : 120;
  } catch {
    return 120;
  }
}

export async function createPortfolio(ctx: PortfolioContext): Promise<Portfolio> {
  const { runId, dso, aggregator, tokens, log } = ctx;
  const count = ctx.draws.length;
  const stages: StageTiming[] = [];
  const stage = async (name: string, n: number, work: () => Promise<unknown>): Promise<void> => {
    const t0 = Date.now();
    await work();
    const t = { stage: name, count: n, ms: Date.now() - t0 };
    stages.push(t);
    ctx.onStage?.(t);
  };
  const dsoApi = orgClient(dso, tokens.dso);
  const aggApi = orgClient(aggregator, tokens.aggregator);

  const circuitId = `${ctx.pool.circuitId}.b${runId}`;
  const cp = `bcp-${runId}`;
  const orderId = `border-${runId}`;
  await stage('key, tokens, request, offer, order', 1, async () => {
    await dsoApi.proposeVerificationKey(circuitId, ctx.verificationKey);
    await aggApi.approveVerificationKey(circuitId, verificationKeyHash(ctx.verificationKey));
    await dsoApi.mint({ account: 'org:AggregatorMSP', amount: (REWARD * BigInt(count)).toString() });
    await dsoApi.mint({ account: 'org:DsoMSP', amount: '2400' });
    // The order holds every enrollment's flexWh (the chaincode refuses enrollments beyond it).
    const orderWh = (BigInt(FLEX_WH) * BigInt(count)).toString();
    const day = new Date().toISOString().slice(0, 10);
    await dsoApi.createFlexRequest({ requestId: `breq-${runId}`, congestionPoint: cp, day, requestedWh: perIsp(orderWh) });
    await aggApi.submitFlexOffer(`breq-${runId}`, { offerId: `boffer-${runId}`, offeredWh: perIsp(orderWh), price: '2400' });
    await dsoApi.acceptFlexOffer(`boffer-${runId}`, orderId);
  });
  log(`set-up: circuit ${circuitId} active, ${REWARD * BigInt(count)} tokens minted, order ${orderId} open`);

  const gateways = [aggregator, dso];
  const chains = ctx.pool.chains.length;
  const prosumers: Prosumer[] = ctx.draws.map((draw, i) => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return {
      index: i,
      meterId: `bm-${runId}-${i}`,
      prosumerId: `bp-${runId}-${i}`,
      enrollmentId: `be-${runId}-${i}`,
      key: privateKey,
      chain: i % chains,
      gateway: gateways[i % 2] as GatewayProcess,
      nextPeriod: 0,
      offline: draw.offline,
      ...(draw.invalidAt === undefined ? {} : { invalidAt: draw.invalidAt }),
    };
  });
  const now = Date.now();
  const onlineStart = isoSeconds(now - (24 * PERIOD_SECONDS + 30) * 1000);
  const offlineStart = isoSeconds(now - (24 * OFFLINE_PERIOD_SECONDS + OFFLINE_GRACE_SECONDS + clockSkewSeconds() + 30) * 1000);
  const limit = ctx.concurrency;

  await stage('meters registered (one call each)', count, () =>
    progressively('meters registered', prosumers, limit, log, (p) =>
      dsoApi.registerMeter({
        meterId: p.meterId,
        prosumerId: p.prosumerId,
        congestionPoint: cp,
        publicKeyPem: createPublicKey(p.key).export({ type: 'spki', format: 'pem' }).toString(),
      }),
    ),
  );
  const offered = new Map<string, EnrollmentRecord>();
  // One order: its enrolledWh is written by every OfferEnrollments, so the batches go
  // one after the other (concurrent ones would conflict on the order record).
  const offerBatches = chunks(prosumers, FUNDING_BATCH);
  await stage(`enrollments offered (${offerBatches.length} × OfferEnrollments)`, count, () =>
    progressively(`enrollment offers (batches of ${FUNDING_BATCH})`, offerBatches, 1, log, async (batch) => {
      const offers = batch.map((p) => ({
        enrollmentId: p.enrollmentId,
        orderId,
        meterId: p.meterId,
        circuitId,
        requestCommitment: requestCommitmentOf(ctx.pool, p.chain),
        reward: REWARD.toString(),
        ratePerWh: '2',
        toleranceWh: '10',
        flexWh: perIsp(FLEX_WH),
        startTime: p.offline ? offlineStart : onlineStart,
        periodSeconds: p.offline ? OFFLINE_PERIOD_SECONDS : PERIOD_SECONDS,
        graceSeconds: p.offline ? OFFLINE_GRACE_SECONDS : GRACE_SECONDS,
      }));
      const answer = await aggApi.offerEnrollments(offers);
      for (const e of answer.result.enrollments) offered.set(e.enrollmentId, e);
    }),
  );
  const target = ledgerTarget();
  await stage('enrollments accepted (prosumer-signed, one each)', count, () =>
    progressively('enrollments accepted (prosumer-signed)', prosumers, limit, log, async (p) => {
      const offer = offered.get(p.enrollmentId);
      if (!offer) throw new Error(`accept ${p.enrollmentId}: the offer batch did not answer this enrollment`);
      const payload = { type: ACTION_ACCEPT_ENROLLMENT, ...target, nonce: '1', ...enrollmentTerms(offer) } as const;
      // A 503 (the two peers' endorsements differ while one lags) is resent by the client;
      // a resent acceptance that had committed is answered from the record by the gateway.
      await edgeClient(p).acceptEnrollment(p.enrollmentId, { payload, signature: signPayload(payload, p.key) });
    }),
  );
  // DepositRewards debits org:AggregatorMSP once per batch (a range read of its deltas):
  // two concurrent deposits conflict, so the batches go one after the other.
  const depositBatches = chunks(prosumers, FUNDING_BATCH);
  await stage(`enrollments funded (${depositBatches.length} × DepositRewards)`, count, () =>
    progressively(`enrollments funded (batches of ${FUNDING_BATCH})`, depositBatches, 1, log, (batch) =>
      aggApi.fundEnrollments(batch.map((p) => p.enrollmentId)),
    ),
  );
  return { prosumers, circuitId, orderId, stages };
}
