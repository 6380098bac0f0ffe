/**
 * Settling a period through the gateway, exactly once whatever the retries. The ledger
 * is the record: before submitting, and again when the chaincode answers CONFLICT, the
 * period's recorded result decides — same submissionHash: the recorded outcome is the
 * answer (a resubmission, or a retry after a timeout whose first attempt committed);
 * another submission: 409. Concurrent identical requests share one transaction through
 * the idempotency key.
 */
import type { Static } from '@sinclair/typebox';
import { ApiError } from '../errors';
import { ChaincodeRefusal } from '../ledger/ledger-errors';
import type { LedgerPort } from '../ledger/ledger-port';
import { TX } from '../ledger/transactions';
import type { cc } from '../schemas/http';

/**
 * The signed period as the edge sends it: the chaincode's schema is its one definition
 * (payload with `type` 'flexproof.submitPeriod.v2', `channel` and `chaincode`, the ids,
 * period and submissionHash). It is relayed as parsed: the gateway never rewrites it.
 */
export type SubmitPeriodInput = Static<typeof cc.SubmitPeriodInput>;

export interface PeriodOutcome {
  outcome: string;
  enrollmentId: string;
  periodIndex: number;
  result: Record<string, unknown>;
  txId: string;
  /** True when the period was already settled by this same submission. */
  replayed: boolean;
}

interface RecordedResult {
  outcome: string;
  submissionHash?: string;
  txId: string;
  [k: string]: unknown;
}

interface EnrollmentView {
  periods?: { periodIndex: number; result: RecordedResult | null }[];
}

export async function settlePeriod(ledger: LedgerPort, input: SubmitPeriodInput): Promise<PeriodOutcome> {
  const { enrollmentId, periodIndex, submissionHash } = input.payload;
  const before = await recorded(ledger, enrollmentId, periodIndex);
  if (before) return replayOrConflict(before, input);
  try {
    const { result, txId } = await ledger.submit(TX.submitPeriod, input, {
      idempotencyKey: `submitPeriod\n${enrollmentId}\n${periodIndex}\n${submissionHash}`,
    });
    const answer = result as { outcome: string; result: Record<string, unknown> };
    return { outcome: answer.outcome, enrollmentId, periodIndex, result: answer.result, txId, replayed: false };
  } catch (err) {
    if (!(err instanceof ChaincodeRefusal && err.code === 'CONFLICT')) throw err;
    // Settled meanwhile (a concurrent request, or the first attempt of this one committed late).
    const after = await recorded(ledger, enrollmentId, periodIndex);
    if (after) return replayOrConflict(after, input);
    throw err;
  }
}

async function recorded(ledger: LedgerPort, enrollmentId: string, periodIndex: number): Promise<RecordedResult | null> {
  const view = (await ledger.evaluate(TX.getEnrollment, { enrollmentId })) as EnrollmentView;
  return view.periods?.find((p) => p.periodIndex === periodIndex)?.result ?? null;
}

function replayOrConflict(result: RecordedResult, input: SubmitPeriodInput): PeriodOutcome {
  const { enrollmentId, periodIndex, submissionHash } = input.payload;
  if (result.submissionHash !== submissionHash) {
    throw new ApiError(
      409,
      'CONFLICT',
      `period ${periodIndex} of enrollment ${enrollmentId} is already settled (${result.outcome}) by another submission`,
      result.txId,
    );
  }
  return { outcome: result.outcome, enrollmentId, periodIndex, result, txId: result.txId, replayed: true };
}
