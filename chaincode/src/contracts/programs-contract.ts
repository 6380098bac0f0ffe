import { Context, Info, Returns, Transaction } from 'fabric-contract-api';
import { ChaincodeError } from '../errors';
import { callerMsp, callerRole, requireRole, txTimeIso, txTimeMs } from '../identity';
import {
  applyTokenMovements,
  deleteIndex,
  emitEvent,
  KEY,
  readBalance,
  readRecord,
  recordExists,
  recordHistory,
  requireRecord,
  writeIndex,
  writeRecord,
} from '../ledger';
import {
  DEFAULT_GRACE_SECONDS,
  DEFAULT_PERIOD_SECONDS,
  GENESIS_FINGERPRINT,
  PERIODS_PER_DAY,
  type Enrollment,
  type FlexOrder,
  type Meter,
  type PeriodResult,
  type VerificationKeyRecord,
} from '../model';
import type { PeerClock } from '../peer-clock';
import { consumeNonce, requireProsumerSignature } from '../prosumer-auth';
import { enrollmentEscrow, orgAccount, prosumerAccount } from '../rules/accounts';
import {
  assertEnrollmentStatus,
  assertSubmissionWindow,
  claimMissedPeriod,
  nextSubmittablePeriod,
  periodDeadlineMs,
  periodEndMs,
  releaseAtClose,
  settleInvalidProof,
  settleVerifiedPeriod,
  type EscrowParties,
  type ProgramTiming,
} from '../rules/programs';
import { bookOrderFlex, releaseOrderFlex } from '../rules/market';
import { assertKeyActive } from '../rules/verifiers';
import {
  AcceptEnrollmentInput,
  ClaimMissedPeriodInput,
  EnrollmentIdInput,
  OfferEnrollmentInput,
  parseInput,
  SubmitPeriodInput,
} from '../schemas';
import { enrollmentTerms } from '../signing';
import { stableStringify } from '../stable-json';
import { CircuitsProofVerifier, ProofInputError, type ProofVerifier } from '../verifier-port';
import { FlexproofContract } from './flexproof-contract';

const FIELD_DECIMAL = /^(0|[1-9][0-9]{0,76})$/;

function timingOf(e: Enrollment): ProgramTiming {
  return {
    startMs: Date.parse(e.startTime),
    periodSeconds: e.periodSeconds,
    graceSeconds: e.graceSeconds,
    periodCount: e.periodCount,
  };
}

function partiesOf(e: Enrollment): EscrowParties {
  return {
    escrowAccount: enrollmentEscrow(e.enrollmentId),
    aggregatorAccount: orgAccount(e.aggregatorMsp),
    prosumerAccount: prosumerAccount(e.prosumerId),
  };
}

/** The flexibility booked per period by an order's enrollments (zeros for an order that predates the record). */
function enrolledWhOf(order: FlexOrder): bigint[] {
  return order.offeredWh.map((_, p) => BigInt(order.enrolledWh?.[p] ?? '0'));
}

/**
 * An enrollment stops needing its circuit's key when it is closed, cancelled or
 * excluded: drop it from the index that key retirement checks.
 */
async function endLiveEnrollment(ctx: Context, e: Enrollment): Promise<void> {
  await deleteIndex(ctx, KEY.liveEnrollmentByCircuit, [e.circuitId, e.enrollmentId]);
}

async function requireEnrollment(ctx: Context, enrollmentId: string): Promise<Enrollment> {
  return requireRecord<Enrollment>(ctx, KEY.enrollment, [enrollmentId], `enrollment ${enrollmentId}`);
}

/** The aggregator that created an enrollment is the only organisation that manages it. */
function requireEnrollingAggregator(ctx: Context, e: Enrollment, action: string): void {
  requireRole(ctx, 'aggregator', action);
  if (callerMsp(ctx) !== e.aggregatorMsp) {
    throw new ChaincodeError('FORBIDDEN', `${action}: only the enrolling aggregator may do this`);
  }
}

function requireMeterUsable(meter: Meter, action: string): void {
  if (meter.status === 'excluded') throw new ChaincodeError('EXCLUDED', `${action}: meter ${meter.meterId} is excluded`);
  if (meter.status !== 'active') {
    throw new ChaincodeError('RULE_VIOLATION', `${action}: meter ${meter.meterId} is ${meter.status}`);
  }
}

/** Runs a call into the proof verifier, reporting malformed proofs or signals as BAD_INPUT. */
async function viaVerifier<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ProofInputError) throw new ChaincodeError('BAD_INPUT', `proof: ${err.code}: ${err.message}`);
    throw err;
  }
}

/**
 * Demand-response programs: one enrollment per prosumer and order (a day of 24
 * periods), its reward in escrow, and the settlement of each period from a Groth16
 * proof checked on-chain against the registered verification key.
 */
@Info({ title: 'Programs', description: 'DR enrollments, reward escrow, proof-settled periods, claims and close' })
export class ProgramsContract extends FlexproofContract {
  private readonly verifier: ProofVerifier;

  /** `verifier` and `clock` are seams for tests; Fabric constructs the contract with the defaults. */
  constructor(verifier: ProofVerifier = new CircuitsProofVerifier(), clock?: PeerClock) {
    super('org.flexproof.programs', clock);
    this.verifier = verifier;
  }

  /**
   * Aggregator of the order: offers an enrollment of a meter under an open order. Its
   * flexWh is booked on the order: per period, the enrollments that are not cancelled
   * never add up to more than the order offered.
   */
  @Transaction()
  @Returns('string')
  public async OfferEnrollment(ctx: Context, inputJson: string): Promise<string> {
    requireRole(ctx, 'aggregator', 'OfferEnrollment');
    const input = parseInput(OfferEnrollmentInput, inputJson);
    const order = await requireRecord<FlexOrder>(ctx, KEY.order, [input.orderId], `order ${input.orderId}`);
    if (order.aggregatorMsp !== callerMsp(ctx)) {
      throw new ChaincodeError('FORBIDDEN', 'OfferEnrollment: only the aggregator of the order may enroll under it');
    }
    if (order.status !== 'open') throw new ChaincodeError('RULE_VIOLATION', `order ${order.orderId} is settled`);
    const meter = await requireRecord<Meter>(ctx, KEY.meter, [input.meterId], `meter ${input.meterId}`);
    requireMeterUsable(meter, 'OfferEnrollment');
    assertKeyActive(
      await readRecord<VerificationKeyRecord>(ctx, KEY.verificationKey, [input.circuitId]),
      input.circuitId,
    );
    if (await recordExists(ctx, KEY.enrollment, [input.enrollmentId])) {
      throw new ChaincodeError('CONFLICT', `enrollment ${input.enrollmentId} already exists`);
    }
    if (await recordExists(ctx, KEY.enrollmentByOrderMeter, [order.orderId, meter.meterId])) {
      throw new ChaincodeError('CONFLICT', `meter ${meter.meterId} is already enrolled under order ${order.orderId}`);
    }
    const startMs = Date.parse(input.startTime);
    if (Number.isNaN(startMs)) throw new ChaincodeError('BAD_INPUT', 'startTime: must be a valid ISO 8601 UTC time');
    const enrolledWh = bookOrderFlex(
      order.orderId,
      order.offeredWh.map((v) => BigInt(v)),
      enrolledWhOf(order),
      input.flexWh.map((v) => BigInt(v)),
    );
    const enrollment: Enrollment = {
      enrollmentId: input.enrollmentId,
      orderId: order.orderId,
      requestId: order.requestId,
      meterId: meter.meterId,
      prosumerId: meter.prosumerId,
      aggregatorMsp: order.aggregatorMsp,
      circuitId: input.circuitId,
      requestCommitment: input.requestCommitment,
      reward: input.reward,
      ratePerWh: input.ratePerWh,
      toleranceWh: input.toleranceWh,
      flexWh: input.flexWh,
      startTime: new Date(startMs).toISOString(),
      periodSeconds: input.periodSeconds ?? DEFAULT_PERIOD_SECONDS,
      graceSeconds: input.graceSeconds ?? DEFAULT_GRACE_SECONDS,
      periodCount: PERIODS_PER_DAY,
      status: 'offered',
      chainHead: GENESIS_FINGERPRINT,
      results: Array.from({ length: PERIODS_PER_DAY }, () => null),
      createdAt: txTimeIso(ctx),
    };
    await writeRecord(ctx, KEY.enrollment, [enrollment.enrollmentId], enrollment);
    await writeRecord(ctx, KEY.order, [order.orderId], { ...order, enrolledWh: enrolledWh.map(String) });
    await writeIndex(ctx, KEY.enrollmentByOrder, [order.orderId, enrollment.enrollmentId]);
    await writeIndex(ctx, KEY.enrollmentByOrderMeter, [order.orderId, meter.meterId]);
    await writeIndex(ctx, KEY.liveEnrollmentByCircuit, [enrollment.circuitId, enrollment.enrollmentId]);
    emitEvent(ctx, 'EnrollmentOffered', {
      enrollmentId: enrollment.enrollmentId,
      orderId: order.orderId,
      meterId: meter.meterId,
      prosumerId: meter.prosumerId,
    });
    return stableStringify(enrollment);
  }

  /** Enrolling aggregator: withdraws an enrollment that is not funded yet; its flexWh goes back to the order. */
  @Transaction()
  @Returns('string')
  public async CancelEnrollment(ctx: Context, inputJson: string): Promise<string> {
    const { enrollmentId } = parseInput(EnrollmentIdInput, inputJson);
    const e = await requireEnrollment(ctx, enrollmentId);
    requireEnrollingAggregator(ctx, e, 'CancelEnrollment');
    assertEnrollmentStatus(e.status, ['offered', 'accepted'], 'CancelEnrollment');
    const order = await requireRecord<FlexOrder>(ctx, KEY.order, [e.orderId], `order ${e.orderId}`);
    const enrolledWh = releaseOrderFlex(enrolledWhOf(order), e.flexWh.map((v) => BigInt(v)));
    const next: Enrollment = { ...e, status: 'cancelled', finishedAt: txTimeIso(ctx) };
    await writeRecord(ctx, KEY.enrollment, [enrollmentId], next);
    await writeRecord(ctx, KEY.order, [order.orderId], { ...order, enrolledWh: enrolledWh.map(String) });
    await deleteIndex(ctx, KEY.enrollmentByOrderMeter, [e.orderId, e.meterId]);
    await endLiveEnrollment(ctx, e);
    emitEvent(ctx, 'EnrollmentCancelled', { enrollmentId, orderId: e.orderId, meterId: e.meterId });
    return stableStringify(next);
  }

  /**
   * Prosumer (signed, relayed by either organisation): accepts the enrollment's terms
   * exactly as offered. The payload repeats the terms and carries a fresh nonce.
   */
  @Transaction()
  @Returns('string')
  public async AcceptEnrollment(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    const { payload, signature } = parseInput(AcceptEnrollmentInput, inputJson);
    const e = await requireEnrollment(ctx, payload.enrollmentId);
    const meter = await requireRecord<Meter>(ctx, KEY.meter, [e.meterId], `meter ${e.meterId}`);
    requireProsumerSignature(meter, payload, signature, ctx.stub.getChannelID());
    const now = txTimeIso(ctx);
    const nextMeter = consumeNonce(meter, payload.nonce, now);
    assertEnrollmentStatus(e.status, ['offered'], 'AcceptEnrollment');
    requireMeterUsable(meter, 'AcceptEnrollment');
    if (stableStringify(enrollmentTerms(payload)) !== stableStringify(enrollmentTerms(e))) {
      throw new ChaincodeError('RULE_VIOLATION', 'the signed terms differ from the enrollment offered');
    }
    const next: Enrollment = { ...e, status: 'accepted', acceptedAt: now };
    await writeRecord(ctx, KEY.enrollment, [e.enrollmentId], next);
    await writeRecord(ctx, KEY.meter, [meter.meterId], nextMeter);
    emitEvent(ctx, 'EnrollmentAccepted', { enrollmentId: e.enrollmentId, meterId: e.meterId, prosumerId: e.prosumerId });
    return stableStringify(next);
  }

  /** Enrolling aggregator: moves the reward from its account into the enrollment escrow; the program starts. */
  @Transaction()
  @Returns('string')
  public async DepositReward(ctx: Context, inputJson: string): Promise<string> {
    const { enrollmentId } = parseInput(EnrollmentIdInput, inputJson);
    const e = await requireEnrollment(ctx, enrollmentId);
    requireEnrollingAggregator(ctx, e, 'DepositReward');
    assertEnrollmentStatus(e.status, ['accepted'], 'DepositReward');
    await applyTokenMovements(ctx, [
      { from: orgAccount(e.aggregatorMsp), to: enrollmentEscrow(enrollmentId), amount: BigInt(e.reward) },
    ]);
    const next: Enrollment = { ...e, status: 'active', fundedAt: txTimeIso(ctx) };
    await writeRecord(ctx, KEY.enrollment, [enrollmentId], next);
    emitEvent(ctx, 'RewardDeposited', { enrollmentId, orderId: e.orderId, meterId: e.meterId, amount: e.reward });
    return stableStringify(next);
  }

  /**
   * Prosumer (signed, relayed by either organisation): settles one period from a
   * deviation proof. Signals that do not match the ledger are refused without change; a
   * well-formed proof failing verification COMMITS: the escrow goes to the aggregator,
   * enrollment and meter are excluded, and the outcome says so.
   */
  @Transaction()
  @Returns('string')
  public async SubmitPeriod(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    const { payload, signature, proof, publicSignals } = parseInput(SubmitPeriodInput, inputJson);
    const e = await requireEnrollment(ctx, payload.enrollmentId);
    const meter = await requireRecord<Meter>(ctx, KEY.meter, [e.meterId], `meter ${e.meterId}`);
    requireProsumerSignature(meter, payload, signature, ctx.stub.getChannelID());
    assertEnrollmentStatus(e.status, ['active'], 'SubmitPeriod');
    if (meter.status === 'excluded') throw new ChaincodeError('EXCLUDED', `meter ${meter.meterId} is excluded`);
    if (payload.circuitId !== e.circuitId) {
      throw new ChaincodeError('RULE_VIOLATION', `payload.circuitId: the enrollment uses circuit ${e.circuitId}`);
    }
    const vkey = assertKeyActive(
      await readRecord<VerificationKeyRecord>(ctx, KEY.verificationKey, [e.circuitId]),
      e.circuitId,
    );
    const p = payload.periodIndex;
    const nowMs = txTimeMs(ctx);
    assertSubmissionWindow(e.results, timingOf(e), p, nowMs);

    const hash = await viaVerifier(() => this.verifier.submissionHash(proof, publicSignals));
    if (hash !== payload.submissionHash) {
      throw new ChaincodeError('BAD_SIGNATURE', 'the signed submissionHash does not match the proof and signals');
    }
    const signals = await viaVerifier(() => this.verifier.decodePublicSignals(publicSignals));
    for (const [name, value] of Object.entries(signals)) {
      if (typeof value !== 'string' || !FIELD_DECIMAL.test(value)) {
        throw new ChaincodeError('BAD_INPUT', `publicSignals.${name}: must be a canonical decimal field element`);
      }
    }
    if (signals.requestCommitment !== e.requestCommitment) {
      throw new ChaincodeError('RULE_VIOLATION', 'publicSignals.requestCommitment: differs from the enrollment');
    }
    if (signals.prevFingerprint !== e.chainHead) {
      throw new ChaincodeError('CONFLICT', 'publicSignals.prevFingerprint: differs from the chain head');
    }
    if (signals.periodIndex !== String(p)) {
      throw new ChaincodeError('RULE_VIOLATION', 'publicSignals.periodIndex: differs from payload.periodIndex');
    }
    const valid = await viaVerifier(() => this.verifier.verify(vkey.verificationKey, proof, publicSignals));

    const now = txTimeIso(ctx);
    const txId = ctx.stub.getTxID();
    const escrow = await readBalance(ctx, enrollmentEscrow(e.enrollmentId));
    const results = [...e.results];
    if (!valid) {
      const settlement = settleInvalidProof(partiesOf(e), escrow);
      await applyTokenMovements(ctx, settlement.movements);
      results[p] = {
        outcome: 'invalidProof',
        periodIndex: p,
        forfeited: settlement.amount.toString(),
        submissionHash: payload.submissionHash,
        txId,
        settledAt: now,
      };
      const next: Enrollment = {
        ...e,
        results,
        status: 'excluded',
        finishedAt: now,
        exclusion: { periodIndex: p, txId },
      };
      const excludedMeter: Meter = {
        ...meter,
        status: 'excluded',
        statusReason: `invalid proof for enrollment ${e.enrollmentId} period ${p}`,
        updatedAt: now,
      };
      await writeRecord(ctx, KEY.enrollment, [e.enrollmentId], next);
      await writeRecord(ctx, KEY.meter, [meter.meterId], excludedMeter);
      await endLiveEnrollment(ctx, e);
      emitEvent(ctx, 'EnrollmentExcluded', {
        enrollmentId: e.enrollmentId,
        meterId: meter.meterId,
        periodIndex: p,
        forfeited: settlement.amount.toString(),
      });
      return stableStringify({ outcome: 'invalidProof', enrollmentId: e.enrollmentId, periodIndex: p, result: results[p] });
    }

    const settlement = settleVerifiedPeriod(
      partiesOf(e),
      escrow,
      BigInt(e.ratePerWh),
      BigInt(e.toleranceWh),
      BigInt(signals.deviation),
    );
    await applyTokenMovements(ctx, settlement.movements);
    const result: PeriodResult = {
      outcome: 'verified',
      periodIndex: p,
      deviationWh: signals.deviation,
      direction: signals.direction,
      prevFingerprint: signals.prevFingerprint,
      newFingerprint: signals.newFingerprint,
      penalty: settlement.amount.toString(),
      submissionHash: payload.submissionHash,
      txId,
      settledAt: now,
    };
    results[p] = result;
    await writeRecord(ctx, KEY.enrollment, [e.enrollmentId], { ...e, results, chainHead: signals.newFingerprint });
    emitEvent(ctx, 'PeriodSettled', {
      enrollmentId: e.enrollmentId,
      meterId: e.meterId,
      periodIndex: p,
      deviationWh: signals.deviation,
      penalty: result.penalty,
      newFingerprint: signals.newFingerprint,
    });
    return stableStringify({ outcome: 'verified', enrollmentId: e.enrollmentId, periodIndex: p, result });
  }

  /**
   * Enrolling aggregator: after a period's deadline plus the clock skew with no
   * submission, recovers its share of the reward.
   */
  @Transaction()
  @Returns('string')
  public async ClaimMissedPeriod(ctx: Context, inputJson: string): Promise<string> {
    const { enrollmentId, periodIndex } = parseInput(ClaimMissedPeriodInput, inputJson);
    const e = await requireEnrollment(ctx, enrollmentId);
    requireEnrollingAggregator(ctx, e, 'ClaimMissedPeriod');
    assertEnrollmentStatus(e.status, ['active'], 'ClaimMissedPeriod');
    const escrow = await readBalance(ctx, enrollmentEscrow(enrollmentId));
    const settlement = claimMissedPeriod(
      partiesOf(e),
      e.results,
      timingOf(e),
      periodIndex,
      txTimeMs(ctx),
      BigInt(e.reward),
      escrow,
      this.clock.maxSkewSeconds * 1000,
    );
    await applyTokenMovements(ctx, settlement.movements);
    const results = [...e.results];
    const result: PeriodResult = {
      outcome: 'missed',
      periodIndex,
      claimed: settlement.amount.toString(),
      txId: ctx.stub.getTxID(),
      settledAt: txTimeIso(ctx),
    };
    results[periodIndex] = result;
    await writeRecord(ctx, KEY.enrollment, [enrollmentId], { ...e, results });
    emitEvent(ctx, 'PeriodClaimed', { enrollmentId, meterId: e.meterId, periodIndex, claimed: result.claimed });
    return stableStringify({ outcome: 'missed', enrollmentId, periodIndex, result });
  }

  /**
   * Either organisation (the aggregator only for its own enrollments): once every period
   * is settled or claimed, releases what is left in escrow to the prosumer.
   */
  @Transaction()
  @Returns('string')
  public async CloseEnrollment(ctx: Context, inputJson: string): Promise<string> {
    const role = callerRole(ctx);
    const { enrollmentId } = parseInput(EnrollmentIdInput, inputJson);
    const e = await requireEnrollment(ctx, enrollmentId);
    if (role === 'aggregator') requireEnrollingAggregator(ctx, e, 'CloseEnrollment');
    assertEnrollmentStatus(e.status, ['active'], 'CloseEnrollment');
    const escrow = await readBalance(ctx, enrollmentEscrow(enrollmentId));
    const settlement = releaseAtClose(partiesOf(e), e.results, e.periodCount, escrow);
    await applyTokenMovements(ctx, settlement.movements);
    const next: Enrollment = {
      ...e,
      status: 'closed',
      finishedAt: txTimeIso(ctx),
      released: settlement.amount.toString(),
    };
    await writeRecord(ctx, KEY.enrollment, [enrollmentId], next);
    await endLiveEnrollment(ctx, e);
    emitEvent(ctx, 'EnrollmentClosed', {
      enrollmentId,
      orderId: e.orderId,
      meterId: e.meterId,
      prosumerId: e.prosumerId,
      released: next.released,
    });
    return stableStringify(next);
  }

  /**
   * Either organisation: an enrollment with, per period, its end, its deadline and its
   * result; the escrow balance; and the period a proof may be submitted for now.
   */
  @Transaction(false)
  @Returns('string')
  public async GetEnrollment(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    const { enrollmentId } = parseInput(EnrollmentIdInput, inputJson);
    const e = await requireEnrollment(ctx, enrollmentId);
    const t = timingOf(e);
    const periods = e.results.map((result, p) => ({
      periodIndex: p,
      endTime: new Date(periodEndMs(t, p)).toISOString(),
      deadline: new Date(periodDeadlineMs(t, p)).toISOString(),
      result,
    }));
    const escrow = (await readBalance(ctx, enrollmentEscrow(enrollmentId))).toString();
    const next = e.status === 'active' ? nextSubmittablePeriod(e.results, t, txTimeMs(ctx)) : undefined;
    return stableStringify({ enrollment: e, periods, escrow, nextPeriod: next ?? null });
  }

  /** Either organisation: every committed version of an enrollment (Fabric history). */
  @Transaction(false)
  @Returns('string')
  public async GetEnrollmentHistory(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    const { enrollmentId } = parseInput(EnrollmentIdInput, inputJson);
    await requireEnrollment(ctx, enrollmentId);
    return stableStringify({ enrollmentId, history: await recordHistory(ctx, KEY.enrollment, [enrollmentId]) });
  }
}
