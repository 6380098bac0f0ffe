import { Context, Info, Returns, Transaction } from 'fabric-contract-api';
import { ChaincodeError } from '../errors';
import { callerMsp, callerRole, requireRole, txTimeIso, txTimeMs } from '../identity';
import {
  applyTokenMovements,
  bufferWrites,
  deleteIndex,
  emitEvent,
  flushWrites,
  KEY,
  readBalance,
  readRecord,
  readSharedRecord,
  recordExists,
  recordHistory,
  requireRecord,
  restoreWrites,
  snapshotWrites,
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
  isSettled,
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
import { checkInput, parseBatchArgument, parseInput, schemas } from '../schemas';
import { MAX_BATCH_ITEMS } from '../server-settings';
import type { Static } from '@sinclair/typebox';
import { enrollmentTerms, stableStringify } from '@flexproof/protocol';
import {
  CircuitsProofVerifier,
  ProofInputError,
  type DecodedPublicSignals,
  type ProofBatchVerdict,
  type ProofVerifier,
} from '../verifier-port';
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
 * OfferEnrollment's checks and writes (OfferEnrollment and each offer of
 * OfferEnrollments): the order, the meter, the key, no duplicate, the order's
 * flexibility booked. The caller is an aggregator.
 */
async function offerEnrollment(ctx: Context, input: Static<typeof schemas.OfferEnrollmentInput>): Promise<Enrollment> {
  const order = await requireRecord<FlexOrder>(ctx, KEY.order, [input.orderId], `order ${input.orderId}`);
  if (order.aggregatorMsp !== callerMsp(ctx)) {
    throw new ChaincodeError('FORBIDDEN', 'OfferEnrollment: only the aggregator of the order may enroll under it');
  }
  if (order.status !== 'open') throw new ChaincodeError('RULE_VIOLATION', `order ${order.orderId} is settled`);
  const meter = await requireRecord<Meter>(ctx, KEY.meter, [input.meterId], `meter ${input.meterId}`);
  requireMeterUsable(meter, 'OfferEnrollment');
  assertKeyActive(await readRecord<VerificationKeyRecord>(ctx, KEY.verificationKey, [input.circuitId]), input.circuitId);
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
  return enrollment;
}

function offeredEventFields(e: Enrollment): Record<string, unknown> {
  return { enrollmentId: e.enrollmentId, orderId: e.orderId, meterId: e.meterId, prosumerId: e.prosumerId };
}

/** An enrollment its caller may fund now: the enrolling aggregator's, accepted. */
async function requireDepositable(ctx: Context, enrollmentId: string, action: string): Promise<Enrollment> {
  const e = await requireEnrollment(ctx, enrollmentId);
  requireEnrollingAggregator(ctx, e, action);
  assertEnrollmentStatus(e.status, ['accepted'], action);
  return e;
}

async function markFunded(ctx: Context, e: Enrollment): Promise<Enrollment> {
  const next: Enrollment = { ...e, status: 'active', fundedAt: txTimeIso(ctx) };
  await writeRecord(ctx, KEY.enrollment, [e.enrollmentId], next);
  return next;
}

function depositedEventFields(e: Enrollment): Record<string, unknown> {
  return { enrollmentId: e.enrollmentId, orderId: e.orderId, meterId: e.meterId, amount: e.reward };
}

/** A malformed proof, as SubmitPeriod refuses it. */
function malformedProof(err: ProofInputError): ChaincodeError {
  return new ChaincodeError('BAD_INPUT', `proof: ${err.code}: ${err.message}`);
}

/** The detail of a ChaincodeError, without its `[CODE] ` prefix. */
function detailOf(err: ChaincodeError): string {
  return err.message.slice(err.code.length + 3);
}

/** The same refusal, its detail prefixed (`offers[3]: ...`): a batch names the entry that failed. */
function prefixed(err: unknown, prefix: string): unknown {
  return err instanceof ChaincodeError ? new ChaincodeError(err.code, `${prefix}: ${detailOf(err)}`) : err;
}

type SubmitPeriodArgs = Static<typeof schemas.SubmitPeriodInput>;

/**
 * What a submission's checks depend on that cannot change within one transaction (the
 * prosumer's signature over its payload under a given meter key, the submission hash,
 * the decoded signals): kept so that a batch checks each item twice (before
 * verification, then on the state its earlier items left) without paying twice.
 */
interface SubmissionMemo {
  signedBy?: string;
  hash?: string;
  signals?: DecodedPublicSignals;
}

/** A submission that passed every check but the proof's: what settling it needs. */
interface CheckedSubmission {
  input: SubmitPeriodArgs;
  enrollment: Enrollment;
  meter: Meter;
  vkey: VerificationKeyRecord;
  signals: DecodedPublicSignals;
}

/**
 * Every check of a submission before its proof is verified, on the state as this
 * transaction sees it (its own writes included): the prosumer's signature, the
 * enrollment's status, the meter, the circuit and its key, the window, the signed
 * submissionHash, canonical signals, commitment, chain head and period index. Throws
 * the ChaincodeError SubmitPeriod refuses with.
 */
async function checkSubmission(
  ctx: Context,
  verifier: ProofVerifier,
  input: SubmitPeriodArgs,
  memo: SubmissionMemo = {},
): Promise<CheckedSubmission> {
  const { payload, signature, proof, publicSignals } = input;
  const e = await requireEnrollment(ctx, payload.enrollmentId);
  const meter = await requireRecord<Meter>(ctx, KEY.meter, [e.meterId], `meter ${e.meterId}`);
  const signer = `${meter.meterId}\n${meter.prosumerId}\n${meter.publicKeyPem}`;
  if (memo.signedBy !== signer) {
    requireProsumerSignature(meter, payload, signature, ctx.stub.getChannelID());
    memo.signedBy = signer;
  }
  // A settled period is refused CONFLICT first, whatever became of the enrollment since
  // (excluded by this very period's invalid proof, closed): the gateway submits without
  // reading first and answers a resubmission from the record when it sees CONFLICT, and
  // the refusal costs no proof verification.
  if (isSettled(e.results, payload.periodIndex)) {
    throw new ChaincodeError('CONFLICT', `period ${payload.periodIndex} is already settled`);
  }
  assertEnrollmentStatus(e.status, ['active'], 'SubmitPeriod');
  if (meter.status === 'excluded') throw new ChaincodeError('EXCLUDED', `meter ${meter.meterId} is excluded`);
  if (payload.circuitId !== e.circuitId) {
    throw new ChaincodeError('RULE_VIOLATION', `payload.circuitId: the enrollment uses circuit ${e.circuitId}`);
  }
  const vkey = assertKeyActive(
    await readSharedRecord<VerificationKeyRecord>(ctx, KEY.verificationKey, [e.circuitId]),
    e.circuitId,
  );
  const p = payload.periodIndex;
  assertSubmissionWindow(e.results, timingOf(e), p, txTimeMs(ctx));

  memo.hash ??= await viaVerifier(() => verifier.submissionHash(proof, publicSignals));
  if (memo.hash !== payload.submissionHash) {
    throw new ChaincodeError('BAD_SIGNATURE', 'the signed submissionHash does not match the proof and signals');
  }
  if (!memo.signals) {
    const decoded = await viaVerifier(() => verifier.decodePublicSignals(publicSignals));
    for (const [name, value] of Object.entries(decoded)) {
      if (typeof value !== 'string' || !FIELD_DECIMAL.test(value)) {
        throw new ChaincodeError('BAD_INPUT', `publicSignals.${name}: must be a canonical decimal field element`);
      }
    }
    // Kept only once checked: the second pass of a batch skips a check that cannot change.
    memo.signals = decoded;
  }
  const signals = memo.signals;
  if (signals.requestCommitment !== e.requestCommitment) {
    throw new ChaincodeError('RULE_VIOLATION', 'publicSignals.requestCommitment: differs from the enrollment');
  }
  if (signals.prevFingerprint !== e.chainHead) {
    throw new ChaincodeError('CONFLICT', 'publicSignals.prevFingerprint: differs from the chain head');
  }
  if (signals.periodIndex !== String(p)) {
    throw new ChaincodeError('RULE_VIOLATION', 'publicSignals.periodIndex: differs from payload.periodIndex');
  }
  return { input, enrollment: e, meter, vkey, signals };
}

/** What settling one submission wrote, for the answer and the events. */
interface SettledSubmission {
  outcome: 'verified' | 'invalidProof';
  enrollmentId: string;
  meterId: string;
  periodIndex: number;
  result: PeriodResult;
}

/**
 * Settles a checked submission with its proof's verdict: a verified period moves the
 * penalty and advances the chain head; an invalid proof forfeits the escrow and
 * excludes the enrollment and the meter. The one path SubmitPeriod and SubmitPeriods share.
 */
async function settleSubmission(ctx: Context, checked: CheckedSubmission, valid: boolean): Promise<SettledSubmission> {
  const { enrollment: e, meter, signals } = checked;
  const { payload } = checked.input;
  const p = payload.periodIndex;
  const now = txTimeIso(ctx);
  const txId = ctx.stub.getTxID();
  const escrow = await readBalance(ctx, enrollmentEscrow(e.enrollmentId));
  const results = [...e.results];
  if (!valid) {
    const settlement = settleInvalidProof(partiesOf(e), escrow);
    await applyTokenMovements(ctx, settlement.movements);
    const result: PeriodResult = {
      outcome: 'invalidProof',
      periodIndex: p,
      forfeited: settlement.amount.toString(),
      submissionHash: payload.submissionHash,
      txId,
      settledAt: now,
    };
    results[p] = result;
    const next: Enrollment = { ...e, results, status: 'excluded', finishedAt: now, exclusion: { periodIndex: p, txId } };
    const excludedMeter: Meter = {
      ...meter,
      status: 'excluded',
      statusReason: `invalid proof for enrollment ${e.enrollmentId} period ${p}`,
      updatedAt: now,
    };
    await writeRecord(ctx, KEY.enrollment, [e.enrollmentId], next);
    await writeRecord(ctx, KEY.meter, [meter.meterId], excludedMeter);
    await endLiveEnrollment(ctx, e);
    return { outcome: 'invalidProof', enrollmentId: e.enrollmentId, meterId: meter.meterId, periodIndex: p, result };
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
  return { outcome: 'verified', enrollmentId: e.enrollmentId, meterId: e.meterId, periodIndex: p, result };
}

/** The event fields of one settled submission (PeriodSettled, EnrollmentExcluded, an item of PeriodsSettled). */
function settledEventFields(s: SettledSubmission): Record<string, unknown> {
  if (s.result.outcome === 'verified') {
    return {
      enrollmentId: s.enrollmentId,
      meterId: s.meterId,
      periodIndex: s.periodIndex,
      deviationWh: s.result.deviationWh,
      penalty: s.result.penalty,
      newFingerprint: s.result.newFingerprint,
    };
  }
  const forfeited = s.result.outcome === 'invalidProof' ? s.result.forfeited : '0';
  return { enrollmentId: s.enrollmentId, meterId: s.meterId, periodIndex: s.periodIndex, forfeited };
}

/** One item's answer in SubmitPeriods. */
type ItemOutcome =
  | { index: number; outcome: 'verified' | 'invalidProof'; enrollmentId: string; periodIndex: number; result: PeriodResult }
  | { index: number; outcome: 'refused'; code: string; message: string; enrollmentId?: string; periodIndex?: number };

/** The key hash an item was batch-verified under (undefined if it was not). */
function byKeyHash(groups: ReadonlyMap<string, { vkey: VerificationKeyRecord; indexes: number[] }>, index: number): string | undefined {
  for (const group of groups.values()) if (group.indexes.includes(index)) return group.vkey.keyHash;
  return undefined;
}

/** Offers of one OfferEnrollments at most, and enrollments of one DepositRewards. */
export const MAX_FUNDING_BATCH = 256;

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
    const enrollment = await offerEnrollment(ctx, parseInput(schemas.OfferEnrollmentInput, inputJson));
    emitEvent(ctx, 'EnrollmentOffered', offeredEventFields(enrollment));
    return stableStringify(enrollment);
  }

  /**
   * Aggregator: OfferEnrollment for 1 to 256 offers in one transaction, all or nothing:
   * any refusal refuses the whole transaction, its message prefixed `offers[i]: `. Each
   * offer sees the ones before it (an order's enrolledWh accumulates; a repeated id or
   * meter is a CONFLICT). One EnrollmentsOffered event.
   */
  @Transaction()
  @Returns('string')
  public async OfferEnrollments(ctx: Context, inputJson: string): Promise<string> {
    requireRole(ctx, 'aggregator', 'OfferEnrollments');
    const raw = parseBatchArgument(inputJson, 'offers', MAX_FUNDING_BATCH, 'offers');
    bufferWrites(ctx);
    const enrollments: Enrollment[] = [];
    for (let i = 0; i < raw.length; i++) {
      try {
        enrollments.push(await offerEnrollment(ctx, checkInput(schemas.OfferEnrollmentInput, raw[i], '')));
      } catch (err) {
        throw prefixed(err, `offers[${i}]`);
      }
    }
    await flushWrites(ctx);
    emitEvent(ctx, 'EnrollmentsOffered', { items: enrollments.map(offeredEventFields) });
    return stableStringify({ enrollments });
  }

  /** Enrolling aggregator: withdraws an enrollment that is not funded yet; its flexWh goes back to the order. */
  @Transaction()
  @Returns('string')
  public async CancelEnrollment(ctx: Context, inputJson: string): Promise<string> {
    const { enrollmentId } = parseInput(schemas.EnrollmentIdInput, inputJson);
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
    const { payload, signature } = parseInput(schemas.AcceptEnrollmentInput, inputJson);
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
    const { enrollmentId } = parseInput(schemas.EnrollmentIdInput, inputJson);
    const e = await requireDepositable(ctx, enrollmentId, 'DepositReward');
    await applyTokenMovements(ctx, [
      { from: orgAccount(e.aggregatorMsp), to: enrollmentEscrow(enrollmentId), amount: BigInt(e.reward) },
    ]);
    const next = await markFunded(ctx, e);
    emitEvent(ctx, 'RewardDeposited', depositedEventFields(next));
    return stableStringify(next);
  }

  /**
   * Enrolling aggregator: DepositReward for 1 to 256 enrollments in one transaction, all
   * or nothing (a refusal names `enrollmentIds[i]`): one debit of the total from its
   * account, each escrow credited, each enrollment active. One RewardsDeposited event.
   */
  @Transaction()
  @Returns('string')
  public async DepositRewards(ctx: Context, inputJson: string): Promise<string> {
    const raw = parseBatchArgument(inputJson, 'enrollmentIds', MAX_FUNDING_BATCH, 'enrollment ids');
    const ids = raw.map((id, i) => checkInput(schemas.EnrollmentIdInput, { enrollmentId: id }, `enrollmentIds[${i}]`).enrollmentId);
    requireRole(ctx, 'aggregator', 'DepositRewards');
    bufferWrites(ctx);
    const account = orgAccount(callerMsp(ctx));
    const funded: Enrollment[] = [];
    let total = 0n;
    for (let i = 0; i < ids.length; i++) {
      try {
        // A repeated id finds its enrollment already active (this transaction's own write).
        const e = await requireDepositable(ctx, ids[i] as string, 'DepositRewards');
        total += BigInt(e.reward);
        funded.push(await markFunded(ctx, e));
      } catch (err) {
        throw prefixed(err, `enrollmentIds[${i}]`);
      }
    }
    const available = await readBalance(ctx, account);
    if (available < total) {
      throw new ChaincodeError(
        'RULE_VIOLATION',
        `insufficient balance in ${account}: has ${available}, needs ${total} for ${ids.length} rewards`,
      );
    }
    // One movement per escrow, one debit of the sum: the aggregator's account gets one delta.
    await applyTokenMovements(
      ctx,
      funded.map((e) => ({ from: account, to: enrollmentEscrow(e.enrollmentId), amount: BigInt(e.reward) })),
    );
    await flushWrites(ctx);
    emitEvent(ctx, 'RewardsDeposited', { items: funded.map(depositedEventFields) });
    return stableStringify({ enrollments: funded });
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
    const input = parseInput(schemas.SubmitPeriodInput, inputJson);
    const checked = await checkSubmission(ctx, this.verifier, input);
    const valid = await viaVerifier(() => this.verifier.verify(checked.vkey.verificationKey, input.proof, input.publicSignals));
    const settled = await settleSubmission(ctx, checked, valid);
    const fields = settledEventFields(settled);
    if (settled.outcome === 'invalidProof') {
      emitEvent(ctx, 'EnrollmentExcluded', fields);
    } else {
      emitEvent(ctx, 'PeriodSettled', fields);
    }
    return stableStringify({
      outcome: settled.outcome,
      enrollmentId: settled.enrollmentId,
      periodIndex: settled.periodIndex,
      result: settled.result,
    });
  }

  /**
   * Prosumers (signed, relayed by either organisation): settles up to
   * FLEXPROOF_MAX_BATCH_ITEMS submissions of different enrollments in one transaction,
   * with the same result as SubmitPeriod for each item one after the other. The proofs
   * of the items that pass their checks are verified together, per circuit, by one
   * random linear combination seeded by the transaction id; then each item is checked
   * again on the state its earlier items left and settled with its verdict. A refused
   * item leaves no write; the others commit. One answer per item, one PeriodsSettled event.
   */
  @Transaction()
  @Returns('string')
  public async SubmitPeriods(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    const raw = parseBatchArgument(inputJson, 'items', MAX_BATCH_ITEMS, 'submissions');
    bufferWrites(ctx);
    const n = raw.length;
    const inputs: (SubmitPeriodArgs | undefined)[] = new Array<SubmitPeriodArgs | undefined>(n);
    const refusals: (ChaincodeError | undefined)[] = new Array<ChaincodeError | undefined>(n);
    const memos: SubmissionMemo[] = raw.map(() => ({}));
    const seen = new Set<string>();
    const byKey = new Map<string, { vkey: VerificationKeyRecord; indexes: number[] }>();
    for (let i = 0; i < n; i++) {
      let input: SubmitPeriodArgs;
      try {
        input = checkInput(schemas.SubmitPeriodInput, raw[i], `items[${i}]`);
      } catch (err) {
        if (!(err instanceof ChaincodeError)) throw err;
        refusals[i] = err;
        continue;
      }
      inputs[i] = input;
      const enrollmentId = input.payload.enrollmentId;
      if (seen.has(enrollmentId)) {
        refusals[i] = new ChaincodeError('CONFLICT', `items[${i}]: the batch already holds a submission for enrollment ${enrollmentId}`);
        continue;
      }
      seen.add(enrollmentId);
      // On the state before the batch: which proofs are worth verifying. Every item is
      // checked again below, on the state its earlier items leave.
      try {
        const checked = await checkSubmission(ctx, this.verifier, input, memos[i]);
        const cacheKey = `${checked.vkey.circuitId}\n${checked.vkey.keyHash}`;
        const group = byKey.get(cacheKey) ?? { vkey: checked.vkey, indexes: [] };
        group.indexes.push(i);
        byKey.set(cacheKey, group);
      } catch (err) {
        if (!(err instanceof ChaincodeError)) throw err;
      }
    }

    const verdicts = new Map<number, ProofBatchVerdict>();
    const seed = ctx.stub.getTxID();
    for (const [cacheKey, group] of byKey) {
      const items = group.indexes.map((i) => {
        const input = inputs[i] as SubmitPeriodArgs;
        return { proof: input.proof, publicSignals: input.publicSignals };
      });
      const out = await this.verifier.verifyBatch(group.vkey.verificationKey, items, seed, cacheKey);
      if (out.length !== items.length) throw new Error('verifyBatch: one verdict per item expected');
      group.indexes.forEach((i, j) => verdicts.set(i, out[j] as ProofBatchVerdict));
    }

    const outcomes: ItemOutcome[] = [];
    const settledEvents: Record<string, unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const input = inputs[i];
      const early = refusals[i];
      if (early || !input) {
        const err = early ?? new ChaincodeError('BAD_INPUT', `items[${i}]: invalid`);
        outcomes.push({
          index: i,
          outcome: 'refused',
          code: err.code,
          message: detailOf(err),
          ...(input ? { enrollmentId: input.payload.enrollmentId, periodIndex: input.payload.periodIndex } : {}),
        });
        continue;
      }
      const snapshot = snapshotWrites(ctx);
      try {
        const checked = await checkSubmission(ctx, this.verifier, input, memos[i]);
        let verdict = verdicts.get(i);
        if (verdict === undefined || checked.vkey.keyHash !== byKeyHash(byKey, i)) {
          // Not verified with the batch (it failed a check on the state before it, or its
          // key changed): verified alone, as SubmitPeriod would.
          try {
            verdict = (await this.verifier.verify(checked.vkey.verificationKey, input.proof, input.publicSignals)) ? 'valid' : 'invalid';
          } catch (err) {
            if (!(err instanceof ProofInputError)) throw err;
            verdict = err;
          }
        }
        if (verdict instanceof ProofInputError) throw malformedProof(verdict);
        const settled = await settleSubmission(ctx, checked, verdict === 'valid');
        outcomes.push({
          index: i,
          outcome: settled.outcome,
          enrollmentId: settled.enrollmentId,
          periodIndex: settled.periodIndex,
          result: settled.result,
        });
        settledEvents.push({ ...settledEventFields(settled), outcome: settled.outcome });
      } catch (err) {
        if (!(err instanceof ChaincodeError)) throw err;
        restoreWrites(ctx, snapshot);
        outcomes.push({
          index: i,
          outcome: 'refused',
          code: err.code,
          message: detailOf(err),
          enrollmentId: input.payload.enrollmentId,
          periodIndex: input.payload.periodIndex,
        });
      }
    }
    await flushWrites(ctx);
    emitEvent(ctx, 'PeriodsSettled', { items: settledEvents });
    return stableStringify({ outcomes });
  }

  /**
   * Enrolling aggregator: after a period's deadline plus the clock skew with no
   * submission, recovers its share of the reward.
   */
  @Transaction()
  @Returns('string')
  public async ClaimMissedPeriod(ctx: Context, inputJson: string): Promise<string> {
    const { enrollmentId, periodIndex } = parseInput(schemas.ClaimMissedPeriodInput, inputJson);
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
    const { enrollmentId } = parseInput(schemas.EnrollmentIdInput, inputJson);
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
    const { enrollmentId } = parseInput(schemas.EnrollmentIdInput, inputJson);
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
    const { enrollmentId } = parseInput(schemas.EnrollmentIdInput, inputJson);
    await requireEnrollment(ctx, enrollmentId);
    return stableStringify({ enrollmentId, history: await recordHistory(ctx, KEY.enrollment, [enrollmentId]) });
  }
}
