/**
 * The end of a day over REST: the aggregator claims the offline cohort's missed periods,
 * closes every enrollment that is not excluded (the rest of each escrow to its
 * prosumer) and settles the order; then the supply audit (minted - burned must equal
 * every balance and escrow) and, if asked, the compaction of the delta records.
 */
import type { GatewayProcess } from './gateway-processes';
import type { Prosumer } from './portfolio';
import { progressively } from './portfolio';
import { call, CallFailed, orgCall, type Answer } from './rest-client';
import { PERIODS_PER_DAY } from '@flexproof/circuits';

export interface OrgClient {
  gateway: GatewayProcess;
  token: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A write the other peer's lag (503, or 500 from older gateways) or an MVCC conflict can
 * refuse for a moment. `doneOnConflict`: after a first attempt whose answer was lost, a
 * 409 CONFLICT means that attempt committed (e.g. the period is already claimed).
 */
async function retried(work: () => Promise<Answer>, what: string, doneOnConflict: boolean, attempts = 30): Promise<Answer> {
  for (let i = 0; ; i++) {
    let answer: Answer;
    try {
      answer = await work();
    } catch (err) {
      if (i >= attempts) throw err;
      await sleep(200);
      continue;
    }
    if (answer.status >= 200 && answer.status < 300) return answer;
    if (doneOnConflict && i > 0 && answer.status === 409) return answer;
    const transient = answer.status === 503 || answer.status === 500 || (answer.status === 409 && answer.body.code === 'CONFLICT' && !doneOnConflict);
    if (!transient || i >= attempts) throw new CallFailed(what, answer);
    await sleep(100 + Math.random() * 300);
  }
}

export interface ClaimResult {
  /** Claims (or closes) that committed. */
  claimed: number;
  /** Refusals by code, e.g. a claim the chaincode finds too early. */
  refused: Record<string, number>;
}

/** Claims all 24 periods of each offline prosumer: in order per enrollment (each claim writes it), enrollments concurrently. */
export async function claimOffline(agg: OrgClient, prosumers: readonly Prosumer[], limit: number, log: (line: string) => void): Promise<ClaimResult> {
  const offline = prosumers.filter((p) => p.offline);
  const out: ClaimResult = { claimed: 0, refused: {} };
  if (offline.length === 0) return out;
  await progressively('offline cohort claimed (24 claims each)', offline, limit, log, async (p) => {
    for (let period = 0; period < PERIODS_PER_DAY; period++) {
      try {
        await retried(() => call(agg.gateway.url, 'POST', `/v1/enrollments/${p.enrollmentId}/periods/${period}/claim`, { token: agg.token }), `claim ${p.enrollmentId}/${period}`, true);
        out.claimed++;
      } catch (err) {
        const code = err instanceof CallFailed ? `${err.answer.status} ${err.answer.body.code ?? ''}`.trim() : 'transport';
        out.refused[code] = (out.refused[code] ?? 0) + 1;
      }
    }
  });
  return out;
}

/**
 * Closes every enrollment that is not excluded; resolves with the number closed. One the
 * chaincode refuses (a prosumer that gave up on a period leaves it open) is counted by
 * code, and the day goes on: the order then stays unsettled, which settleOrder reports.
 */
export async function closeAll(agg: OrgClient, prosumers: readonly Prosumer[], limit: number, log: (line: string) => void): Promise<ClaimResult> {
  const open = prosumers.filter((p) => !p.excluded);
  const out: ClaimResult = { claimed: 0, refused: {} };
  await progressively('enrollments closed', open, limit, log, async (p) => {
    try {
      await retried(() => call(agg.gateway.url, 'POST', `/v1/enrollments/${p.enrollmentId}/close`, { token: agg.token }), `close ${p.enrollmentId}`, true);
      out.claimed++;
    } catch (err) {
      const code = err instanceof CallFailed ? `${err.answer.status} ${err.answer.body.code ?? ''}`.trim() : 'transport';
      out.refused[code] = (out.refused[code] ?? 0) + 1;
    }
  });
  return out;
}

/** The aggregator settles the order (it may, once every enrollment is final, before the day is over). */
export async function settleOrder(agg: OrgClient, orderId: string): Promise<Record<string, unknown>> {
  const answer = await retried(() => call(agg.gateway.url, 'POST', `/v1/flex-orders/${orderId}/settle`, { token: agg.token }), `settle ${orderId}`, false);
  return (answer.body.result ?? {}) as Record<string, unknown>;
}

export interface SupplyAudit {
  minted: string;
  burned: string;
  balances: string;
  accounts: number;
  imbalance: string;
}

export async function supplyAudit(org: OrgClient): Promise<SupplyAudit> {
  const answer = await orgCall(org.gateway.url, org.token, 'GET', '/v1/tokens/supply-audit');
  const body = (answer.body.result ?? answer.body) as unknown as SupplyAudit;
  if (typeof body.imbalance !== 'string') throw new Error(`GET /v1/tokens/supply-audit: no imbalance in ${JSON.stringify(answer.body).slice(0, 200)}`);
  return body;
}

/** Compacts every organisation account and the supply; a concurrent credit makes it conflict, so retried. */
export async function compactBalances(org: OrgClient): Promise<{ accounts: number; deltas: number }> {
  const answer = await retried(() => call(org.gateway.url, 'POST', '/v1/tokens/compact', { token: org.token, body: {} }), 'compact', false, 10);
  const compacted = ((answer.body.result as { compacted?: { deltas: number }[] } | undefined)?.compacted ?? []);
  return { accounts: compacted.length, deltas: compacted.reduce((n, c) => n + c.deltas, 0) };
}

