import { ChaincodeError } from '../errors';
import type { EnrollmentStatus, PeriodResult } from '../model';
import { maxBig, minBig } from './amounts';
import type { TokenMovement } from './tokens';

/**
 * Demand-response program rules: time windows of the periods, penalty, missed-period
 * claims, exclusion and release at close. Plain data in, plain data out; the contract
 * reads the ledger, calls these, and writes what they return. Formulas are documented
 * with worked examples in chaincode/README.md.
 */

/** True once period p has a result (verified, invalid proof or missed). */
export function isSettled(results: readonly (PeriodResult | null)[], periodIndex: number): boolean {
  return (results[periodIndex] ?? null) !== null;
}

/** When an enrollment's periods run: period p covers [start + p*len, start + (p+1)*len). */
export interface ProgramTiming {
  startMs: number;
  periodSeconds: number;
  graceSeconds: number;
  periodCount: number;
}

/** End of period p (ms): start + (p+1) * periodSeconds. */
export function periodEndMs(t: ProgramTiming, periodIndex: number): number {
  return t.startMs + (periodIndex + 1) * t.periodSeconds * 1000;
}

/** Last moment a proof for period p is accepted (ms): end + graceSeconds. */
export function periodDeadlineMs(t: ProgramTiming, periodIndex: number): number {
  return periodEndMs(t, periodIndex) + t.graceSeconds * 1000;
}

/** A missed period p may be claimed once the time is strictly after this (ms): deadline + skew. */
export function claimOpensAfterMs(t: ProgramTiming, periodIndex: number, maxSkewMs: number): number {
  return periodDeadlineMs(t, periodIndex) + maxSkewMs;
}

/**
 * Share of the reward attached to period p: floor(reward / count), with the remainder
 * on the last period, so the shares add up to the reward exactly.
 */
export function periodShare(reward: bigint, periodIndex: number, periodCount: number): bigint {
  const count = BigInt(periodCount);
  const base = reward / count;
  return periodIndex === periodCount - 1 ? reward - base * (count - 1n) : base;
}

/** Penalty for a verified period: min(escrow, ratePerWh * max(0, deviation - tolerance)). */
export function penaltyFor(escrow: bigint, ratePerWh: bigint, toleranceWh: bigint, deviationWh: bigint): bigint {
  return minBig(escrow, ratePerWh * maxBig(0n, deviationWh - toleranceWh));
}

/**
 * Refuses any action on an enrollment that is not in one of the allowed states; an
 * excluded enrollment refuses everything with EXCLUDED.
 */
export function assertEnrollmentStatus(
  status: EnrollmentStatus,
  allowed: readonly EnrollmentStatus[],
  action: string,
): void {
  if (allowed.includes(status)) return;
  if (status === 'excluded') {
    throw new ChaincodeError('EXCLUDED', `${action}: the enrollment is excluded`);
  }
  if (status === 'closed' || status === 'cancelled') {
    throw new ChaincodeError('CONFLICT', `${action}: the enrollment is already ${status}`);
  }
  throw new ChaincodeError('RULE_VIOLATION', `${action}: the enrollment is ${status}, needs ${allowed.join(' or ')}`);
}

/**
 * The period a proof may be submitted for now: the lowest unsettled period whose
 * deadline has not passed (undefined if none). Unsettled periods before it are missed
 * and can only be claimed by the aggregator.
 */
export function nextSubmittablePeriod(
  results: readonly (PeriodResult | null)[],
  t: ProgramTiming,
  nowMs: number,
): number | undefined {
  for (let p = 0; p < t.periodCount; p++) {
    if (!isSettled(results, p) && nowMs <= periodDeadlineMs(t, p)) return p;
  }
  return undefined;
}

/**
 * Checks that a proof for `periodIndex` may be settled now: not yet settled (CONFLICT),
 * ended (RULE_VIOLATION), not past its deadline (DEADLINE_PASSED), and the next
 * unsettled period (RULE_VIOLATION otherwise: periods settle in order).
 */
export function assertSubmissionWindow(
  results: readonly (PeriodResult | null)[],
  t: ProgramTiming,
  periodIndex: number,
  nowMs: number,
): void {
  if (!Number.isInteger(periodIndex) || periodIndex < 0 || periodIndex >= t.periodCount) {
    throw new ChaincodeError('BAD_INPUT', `periodIndex: must be an integer from 0 to ${t.periodCount - 1}`);
  }
  if (isSettled(results, periodIndex)) {
    throw new ChaincodeError('CONFLICT', `period ${periodIndex} is already settled`);
  }
  if (nowMs < periodEndMs(t, periodIndex)) {
    throw new ChaincodeError('RULE_VIOLATION', `period ${periodIndex} has not ended yet`);
  }
  if (nowMs > periodDeadlineMs(t, periodIndex)) {
    throw new ChaincodeError('DEADLINE_PASSED', `the deadline of period ${periodIndex} has passed`);
  }
  const next = nextSubmittablePeriod(results, t, nowMs);
  if (next !== periodIndex) {
    throw new ChaincodeError('RULE_VIOLATION', `period ${next} must be settled before period ${periodIndex}`);
  }
}

export interface EscrowParties {
  escrowAccount: string;
  aggregatorAccount: string;
  prosumerAccount: string;
}

export interface Settlement {
  /** Amount moved out of the escrow. */
  amount: bigint;
  movements: TokenMovement[];
}

/** A verified proof: the penalty goes from the escrow to the aggregator; the rest stays. */
export function settleVerifiedPeriod(
  parties: EscrowParties,
  escrow: bigint,
  ratePerWh: bigint,
  toleranceWh: bigint,
  deviationWh: bigint,
): Settlement {
  const amount = penaltyFor(escrow, ratePerWh, toleranceWh, deviationWh);
  return { amount, movements: movement(parties.escrowAccount, parties.aggregatorAccount, amount) };
}

/**
 * An invalid proof carrying the prosumer's valid signature: the whole escrow goes to the
 * aggregator; the caller marks the enrollment and the meter excluded.
 */
export function settleInvalidProof(parties: EscrowParties, escrow: bigint): Settlement {
  return { amount: escrow, movements: movement(parties.escrowAccount, parties.aggregatorAccount, escrow) };
}

/**
 * The aggregator claims a period nobody submitted in time: its share of the reward
 * (never more than what is left in escrow) goes to the aggregator. Refused if it is
 * already settled, and until nowMs > deadline(p) + maxSkewMs: a claim stamped up to the
 * skew ahead of real time still cannot take a period whose prosumer may submit.
 */
export function claimMissedPeriod(
  parties: EscrowParties,
  results: readonly (PeriodResult | null)[],
  t: ProgramTiming,
  periodIndex: number,
  nowMs: number,
  reward: bigint,
  escrow: bigint,
  maxSkewMs: number,
): Settlement {
  if (!Number.isInteger(periodIndex) || periodIndex < 0 || periodIndex >= t.periodCount) {
    throw new ChaincodeError('BAD_INPUT', `periodIndex: must be an integer from 0 to ${t.periodCount - 1}`);
  }
  if (isSettled(results, periodIndex)) {
    throw new ChaincodeError('CONFLICT', `period ${periodIndex} is already settled`);
  }
  if (nowMs <= claimOpensAfterMs(t, periodIndex, maxSkewMs)) {
    throw new ChaincodeError(
      'RULE_VIOLATION',
      `period ${periodIndex} may be claimed only ${maxSkewMs / 1000} s (the clock skew) after its deadline`,
    );
  }
  const amount = minBig(escrow, periodShare(reward, periodIndex, t.periodCount));
  return { amount, movements: movement(parties.escrowAccount, parties.aggregatorAccount, amount) };
}

/** After every period is settled or claimed, whatever is left in escrow goes to the prosumer. */
export function releaseAtClose(
  parties: EscrowParties,
  results: readonly (PeriodResult | null)[],
  periodCount: number,
  escrow: bigint,
): Settlement {
  for (let p = 0; p < periodCount; p++) {
    if (!isSettled(results, p)) {
      throw new ChaincodeError('RULE_VIOLATION', `period ${p} is neither settled nor claimed`);
    }
  }
  return { amount: escrow, movements: movement(parties.escrowAccount, parties.prosumerAccount, escrow) };
}

function movement(from: string, to: string, amount: bigint): TokenMovement[] {
  return amount > 0n ? [{ from, to, amount }] : [];
}
