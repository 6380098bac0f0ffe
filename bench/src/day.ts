/**
 * The end of a day over REST: the aggregator claims the offline cohort's missed periods,
 * closes every enrollment that is not excluded (the rest of each escrow to its
 * prosumer) and settles the order; then the supply audit (minted - burned must equal
 * every balance and escrow) and, if asked, the compaction of the delta records.
 */
import type { GatewayClient } from '@flexproof/protocol';
import { PERIODS_PER_DAY } from '@flexproof/circuits';
import { failureCode, orgClient } from './clients';
import type { GatewayProcess } from './gateway-processes';
import type { Prosumer } from './portfolio';
import { progressively } from './portfolio';

export interface OrgClient {
  gateway: GatewayProcess;
  token: string;
}

/**
 * A write that may have committed on an attempt whose answer was lost (the client resent
 * it, under its retry policy). After such a resend, a 409 is the chaincode saying the
 * first attempt committed (the period is already claimed, the enrollment closed).
 */
async function committedOnce<T>(org: OrgClient, work: (client: GatewayClient) => Promise<T>): Promise<T | 'committed earlier'> {
  let resent = false;
  const client = orgClient(org.gateway, org.token, () => {
    resent = true;
  });
  try {
    return await work(client);
  } catch (err) {
    if (resent && failureCode(err).startsWith('409 ')) return 'committed earlier';
    throw err;
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
        await committedOnce(agg, (c) => c.claimMissedPeriod(p.enrollmentId, period));
        out.claimed++;
      } catch (err) {
        const code = failureCode(err);
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
      await committedOnce(agg, (c) => c.closeEnrollment(p.enrollmentId));
      out.claimed++;
    } catch (err) {
      const code = failureCode(err);
      out.refused[code] = (out.refused[code] ?? 0) + 1;
    }
  });
  return out;
}

/** The aggregator settles the order (it may, once every enrollment is final, before the day is over). */
export async function settleOrder(agg: OrgClient, orderId: string): Promise<Record<string, unknown>> {
  return (await orgClient(agg.gateway, agg.token).settleFlexOrder(orderId)).result;
}

export interface SupplyAudit {
  minted: string;
  burned: string;
  balances: string;
  accounts: number;
  imbalance: string;
}

export async function supplyAudit(org: OrgClient): Promise<SupplyAudit> {
  const audit = await orgClient(org.gateway, org.token).supplyAudit();
  if (typeof audit.imbalance !== 'string') throw new Error(`GET /v1/tokens/supply-audit: no imbalance in ${JSON.stringify(audit).slice(0, 200)}`);
  return audit;
}

/** Compacts every organisation account and the supply; a concurrent credit makes it contend (503, resent by the client). */
export async function compactBalances(org: OrgClient): Promise<{ accounts: number; deltas: number }> {
  const { compacted } = (await orgClient(org.gateway, org.token).compactBalances()).result;
  return { accounts: compacted.length, deltas: compacted.reduce((n, c) => n + c.deltas, 0) };
}

