import { ChaincodeError } from '../errors';
import type { EnrollmentStatus, PeriodResult } from '../model';
import { maxBig, minBig, sumBig } from './amounts';
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
 * deviation[p]) for every period settled with a verified proof, capped at the order's
 * offeredWh[p] (an order pays for what it ordered, never more, whatever the
 * enrollments declared). A missed period, an invalid proof and the periods after an
 * exclusion deliver nothing. Deviation counts in either direction: the proof measures
 * distance from the requested profile. One entry per period of `offeredWh`.
 */
export function deliveredPerPeriod(enrollments: readonly EnrollmentDelivery[], offeredWh: readonly bigint[]): bigint[] {
  const delivered: bigint[] = offeredWh.map(() => 0n);
  for (const e of enrollments) {
    for (let p = 0; p < offeredWh.length; p++) {
      const r = e.results[p];
      if (r?.outcome !== 'verified') continue;
      const planned = e.flexWh[p] ?? 0n;
      delivered[p] = (delivered[p] ?? 0n) + maxBig(0n, planned - BigInt(r.deviationWh));
    }
  }
  return delivered.map((d, p) => minBig(d, offeredWh[p] ?? 0n));
}

/**
 * An order's flexibility is booked by its enrollments: per period p, the flexWh of the
 * enrollments that are not cancelled add up to at most offeredWh[p]. Returns the booked
 * amounts with `flexWh` added; refuses (RULE_VIOLATION, naming `flexWh[p]`, the total
 * and the offered amount) the first period that would exceed its offer.
 *
 * *Example*: offered 1000 Wh, booked 600 Wh; an enrollment of 400 Wh fits (1000), one
 * of 401 Wh is refused.
 */
export function bookOrderFlex(
  orderId: string,
  offeredWh: readonly bigint[],
  enrolledWh: readonly bigint[],
  flexWh: readonly bigint[],
): bigint[] {
  if (flexWh.length !== offeredWh.length) {
    throw new ChaincodeError('BAD_INPUT', `flexWh: must hold ${offeredWh.length} periods`);
  }
  return offeredWh.map((offered, p) => {
    const total = (enrolledWh[p] ?? 0n) + (flexWh[p] ?? 0n);
    if (total > offered) {
      throw new ChaincodeError(
        'RULE_VIOLATION',
        `flexWh[${p}]: enrollments under order ${orderId} would add up to ${total} Wh in period ${p}, above the ${offered} Wh offered`,
      );
    }
    return total;
  });
}

/** A cancelled enrollment gives its flexWh back to its order (never below zero). */
export function releaseOrderFlex(enrolledWh: readonly bigint[], flexWh: readonly bigint[]): bigint[] {
  return enrolledWh.map((booked, p) => maxBig(0n, booked - (flexWh[p] ?? 0n)));
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
 * cancelled), and either the aggregator asks (declaring that it will enroll nobody
 * else) or the day is over by more than the clock skew: the DSO settles only once
 * nowMs > dayEnd + maxSkewMs, so a proposal stamped up to the skew ahead cannot end the
 * day early.
 */
export function assertOrderSettleable(
  statuses: readonly EnrollmentStatus[],
  callerIsAggregator: boolean,
  nowMs: number,
  dayEndMs: number,
  maxSkewMs: number,
): void {
  const pending = statuses.filter((s) => !FINAL_ENROLLMENT_STATES.includes(s)).length;
  if (pending > 0) {
    throw new ChaincodeError('RULE_VIOLATION', `${pending} enrollment(s) of the order are not closed yet`);
  }
  if (!callerIsAggregator && nowMs <= dayEndMs + maxSkewMs) {
    throw new ChaincodeError(
      'RULE_VIOLATION',
      `the DSO may settle an order only ${maxSkewMs / 1000} s (the clock skew) after its day is over`,
    );
  }
}

/** End of a UTC calendar day `YYYY-MM-DD`, in ms. */
export function dayEndMs(day: string): number {
  const start = Date.parse(`${day}T00:00:00.000Z`);
  if (Number.isNaN(start)) throw new ChaincodeError('BAD_INPUT', `day: ${day} is not a calendar date`);
  return start + 24 * 3600 * 1000;
}
