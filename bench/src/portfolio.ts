/**
 * The ledger state a run needs, made over REST like an operator would: the verification
 * key (proposed by the DSO, approved by the aggregator), tokens, a flexibility request,
 * offer and order, then per prosumer a meter (DSO), an enrollment offer (aggregator), its
 * acceptance signed by the prosumer (edge route) and its funding. Every name carries the
 * run id, so runs on one network never collide.
 *
 * Enrollments start far enough in the past that all 24 periods have ended, with the
 * longest grace the chaincode allows, so every period is open for submission in order.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  ACTION_ACCEPT_ENROLLMENT,
  enrollmentTerms,
  signPayload,
  verificationKeyHash,
  type Enrollment,
} from '@flexproof/chaincode/client';
import type { GatewayProcess } from './gateway-processes';
import { CallFailed, edgeCall, mapLimit, orgCall } from './rest-client';
import { ledgerTarget } from './paths';
import type { ProofPool } from './proof-pool';

/** Each enrollment's share of the order per period, Wh. */
const FLEX_WH = '500';

export const PERIOD_SECONDS = 60;
export const GRACE_SECONDS = 7 * 86_400; // the chaincode's maximum
export const REWARD = 2400n;

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
}

const perIsp = (v: string): string[] => Array.from({ length: 24 }, () => v);

function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

async function progressively<T>(
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

/**
 * Retries a call that lost a race on a hot key (set-up only): 409 CONFLICT is an MVCC
 * conflict; 500 is the gateway's answer when the two peers' endorsements differ because
 * one of them has not committed the previous block yet ("ProposalResponsePayloads do
 * not match").
 */
async function withConflictRetry<T>(work: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await work();
    } catch (err) {
      const mvcc = err instanceof CallFailed && ((err.answer.status === 409 && err.answer.body.code === 'CONFLICT') || err.answer.status === 500);
      if (!mvcc || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
    }
  }
}

export async function createPortfolio(ctx: PortfolioContext, count: number): Promise<{ prosumers: Prosumer[]; circuitId: string }> {
  const { runId, dso, aggregator, tokens, log } = ctx;
  const dsoCall = (m: string, u: string, body?: unknown) => orgCall(dso.url, tokens.dso, m, u, body);
  const aggCall = (m: string, u: string, body?: unknown) => orgCall(aggregator.url, tokens.aggregator, m, u, body);

  const circuitId = `${ctx.pool.circuitId}.b${runId}`;
  await dsoCall('POST', '/v1/verification-keys', { circuitId, verificationKey: ctx.verificationKey });
  await aggCall('POST', `/v1/verification-keys/${circuitId}/approve`, { keyHash: verificationKeyHash(ctx.verificationKey) });
  await withConflictRetry(() => dsoCall('POST', '/v1/tokens/mint', { account: 'org:AggregatorMSP', amount: (REWARD * BigInt(count)).toString() }));
  await withConflictRetry(() => dsoCall('POST', '/v1/tokens/mint', { account: 'org:DsoMSP', amount: '2400' }));
  const cp = `bcp-${runId}`;
  // The order holds every enrollment's flexWh (the chaincode refuses enrollments beyond it).
  const orderWh = (BigInt(FLEX_WH) * BigInt(count)).toString();
  const day = new Date().toISOString().slice(0, 10);
  await dsoCall('POST', '/v1/flex-requests', { requestId: `breq-${runId}`, congestionPoint: cp, day, requestedWh: perIsp(orderWh) });
  await aggCall('POST', `/v1/flex-requests/breq-${runId}/offers`, { offerId: `boffer-${runId}`, offeredWh: perIsp(orderWh), price: '2400' });
  await withConflictRetry(() => dsoCall('POST', `/v1/flex-offers/boffer-${runId}/order`, { orderId: `border-${runId}` }));
  log(`set-up: circuit ${circuitId} active, ${REWARD * BigInt(count)} tokens minted, order border-${runId} open`);

  const gateways = [aggregator, dso];
  const chains = ctx.pool.chains.length;
  const prosumers: Prosumer[] = Array.from({ length: count }, (_, i) => {
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
    };
  });
  const startTime = isoSeconds(Date.now() - (24 * PERIOD_SECONDS + 30) * 1000);
  const limit = ctx.concurrency;

  await progressively('meters registered', prosumers, limit, log, (p) =>
    dsoCall('POST', '/v1/meters', {
      meterId: p.meterId,
      prosumerId: p.prosumerId,
      congestionPoint: cp,
      publicKeyPem: createPublicKey(p.key).export({ type: 'spki', format: 'pem' }).toString(),
    }),
  );
  const offered = new Map<string, Enrollment>();
  // Each offer adds its flexWh to the order's enrolled total: the order record is a hot
  // key, so concurrent offers conflict and are retried.
  await progressively('enrollments offered', prosumers, limit, log, async (p) => {
    const answer = await withConflictRetry(() => aggCall('POST', '/v1/enrollments', {
      enrollmentId: p.enrollmentId,
      orderId: `border-${runId}`,
      meterId: p.meterId,
      circuitId,
      requestCommitment: ctx.pool.chains[p.chain]?.requestCommitment,
      reward: REWARD.toString(),
      ratePerWh: '2',
      toleranceWh: '10',
      flexWh: perIsp(FLEX_WH),
      startTime,
      periodSeconds: PERIOD_SECONDS,
      graceSeconds: GRACE_SECONDS,
    }), 200);
    offered.set(p.enrollmentId, answer.body.result as Enrollment);
  });
  const target = ledgerTarget();
  await progressively('enrollments accepted (prosumer-signed)', prosumers, limit, log, async (p) => {
    const terms = enrollmentTerms(offered.get(p.enrollmentId) as Enrollment);
    const payload = { type: ACTION_ACCEPT_ENROLLMENT, ...target, nonce: '1', ...terms } as const;
    const answer = await edgeCall(p.gateway, p.meterId, p.key, 'POST', `/v1/edge/enrollments/${p.enrollmentId}/accept`, {
      payload,
      signature: signPayload(payload, p.key),
    });
    if (answer.status !== 200) throw new CallFailed(`accept ${p.enrollmentId}`, answer);
  });
  // Funding debits org:AggregatorMSP, a hot key: concurrent deposits conflict (each block
  // commits one of them, and four at a time starved some past 200 retries at M = 1,000),
  // so one at a time, retrying what the other peer's lag refuses.
  await progressively('enrollments funded', prosumers, 1, log, (p) =>
    withConflictRetry(() => aggCall('POST', `/v1/enrollments/${p.enrollmentId}/fund`), 200),
  );
  return { prosumers, circuitId };
}
