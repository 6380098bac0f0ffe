import { ChaincodeError } from '../errors';
import type { EnrollmentStatus, PeriodResult } from '../model';
import { maxBig, sumBig } from './amounts';
import type { TokenMovement } from './tokens';

/**
 * Flexibility market rules: what an order delivered, and how its escrowed price is
 * split between the aggregator and the DSO. Formulas and a worked example are in
 * chaincode/README.md.
 */

/** What order settlement needs to know about each enrollment serving the order. */
export interface EnrollmentDelivery {
  status: EnrollmentStatus;
  /** Flexibility the enrollment contributes per period, Wh. */
  flexWh: readonly bigint[];
  results: readonly (PeriodResult | null)[];
}

/** Enrollment states after which nothing more changes an order's delivery. */
export const FINAL_ENROLLMENT_STATES: readonly EnrollmentStatus[] = ['closed', 'excluded', 'cancelled'];

/**
 * Delivered flexibility per ISP: the sum over enrollments of max(0, flexWh[p] -
 * deviation[p]) for every period settled with a verified proof. A missed period, an
 * invalid proof and the periods after an exclusion deliver nothing. Deviation counts in
 * either direction: the proof measures distance from the requested profile.
 */
export function deliveredPerPeriod(enrollments: readonly EnrollmentDelivery[], periodCount: number): bigint[] {
  const delivered: bigint[] = Array.from({ length: periodCount }, () => 0n);
  for (const e of enrollments) {
    for (let p = 0; p < periodCount; p++) {
      const r = e.results[p];
      if (r?.outcome !== 'verified') continue;
      const planned = e.flexWh[p] ?? 0n;
      delivered[p] = (delivered[p] ?? 0n) + maxBig(0n, planned - BigInt(r.deviationWh));
    }
  }
  return delivered;
}

export interface OrderSplit {
  deficiencyWh: bigint[];
  penalty: bigint;
  toAggregator: bigint;
  toDso: bigint;
}

/**
 * Net settlement of an order: deficiency_i = max(0, offered_i - delivered_i);
 * penalty = floor(price * sum(deficiency) / sum(offered)) (0 if nothing was offered);
 * the aggregator receives price - penalty, the DSO gets the penalty back. Since
 * deficiency_i <= offered_i, the penalty never exceeds the price.
 */
export function splitOrderPrice(price: bigint, offeredWh: readonly bigint[], deliveredWh: readonly bigint[]): OrderSplit {
  const deficiencyWh = offeredWh.map((offered, i) => maxBig(0n, offered - (deliveredWh[i] ?? 0n)));
  const totalOffered = sumBig(offeredWh);
  const penalty = totalOffered === 0n ? 0n : (price * sumBig(deficiencyWh)) / totalOffered;
  return { deficiencyWh, penalty, toAggregator: price - penalty, toDso: penalty };
}

export function orderSettlementMovements(
  split: OrderSplit,
  escrowAccount: string,
  aggregatorAccount: string,
  dsoAccount: string,
): TokenMovement[] {
  const out: TokenMovement[] = [];
  if (split.toAggregator > 0n) out.push({ from: escrowAccount, to: aggregatorAccount, amount: split.toAggregator });
  if (split.toDso > 0n) out.push({ from: escrowAccount, to: dsoAccount, amount: split.toDso });
  return out;
}

/**
 * When an order may settle: every enrollment under it is final (closed, excluded or
 * cancelled), and either the day is over or the aggregator asks (declaring that it will
 * enroll nobody else; the DSO must wait for the end of the day).
 */
export function assertOrderSettleable(
  statuses: readonly EnrollmentStatus[],
  callerIsAggregator: boolean,
  nowMs: number,
  dayEndMs: number,
): void {
  const pending = statuses.filter((s) => !FINAL_ENROLLMENT_STATES.includes(s)).length;
  if (pending > 0) {
    throw new ChaincodeError('RULE_VIOLATION', `${pending} enrollment(s) of the order are not closed yet`);
  }
  if (!callerIsAggregator && nowMs < dayEndMs) {
    throw new ChaincodeError('RULE_VIOLATION', 'the DSO may settle an order only after its day is over');
  }
}

/** End of a UTC calendar day `YYYY-MM-DD`, in ms. */
export function dayEndMs(day: string): number {
  const start = Date.parse(`${day}T00:00:00.000Z`);
  if (Number.isNaN(start)) throw new ChaincodeError('BAD_INPUT', `day: ${day} is not a calendar date`);
  return start + 24 * 3600 * 1000;
}
