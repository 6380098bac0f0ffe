/**
 * What the chaincode's queries and transactions answer beyond a bare record: views that
 * join records (GetEnrollment, GetFlexRequest, GetFlexOrder), lists, and the outcome
 * objects of transactions. Each is the JSON the contract method returns (chaincode/src/
 * contracts/*.ts), field for field.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Strict } from './primitives';
import {
  Account,
  AuditorKeyRecord,
  Enrollment,
  EnrollmentStatus,
  FlexOffer,
  FlexOrder,
  FlexRequest,
  Meter,
  MissedPeriod,
  PeriodResult,
  Redemption,
  VerificationKeyRecord,
} from './records';

// ---- programs -------------------------------------------------------------------

/** One period of an enrollment as GetEnrollment shows it: when it ends, its deadline, its result. */
export const EnrollmentPeriod = Type.Object(
  {
    periodIndex: Type.Integer(),
    endTime: Type.String(),
    deadline: Type.String({ description: 'the last moment a proof of the period is taken' }),
    result: Type.Union([PeriodResult, Type.Null()]),
  },
  Strict,
);
export type EnrollmentPeriod = Static<typeof EnrollmentPeriod>;

/** GetEnrollment: the record, each period, the escrow left and the period due now. */
export const EnrollmentView = Type.Object(
  {
    enrollment: Enrollment,
    periods: Type.Array(EnrollmentPeriod),
    escrow: Type.String({ description: 'tokens left in the enrollment escrow' }),
    nextPeriod: Type.Union([Type.Integer(), Type.Null()], { description: 'the period a proof may be submitted for now' }),
  },
  Strict,
);
export type EnrollmentView = Static<typeof EnrollmentView>;

/** One committed version of a record (Fabric history); `value` null for a delete. */
export const HistoryEntry = Type.Object(
  { txId: Type.String(), time: Type.String(), isDelete: Type.Boolean(), value: Type.Union([Enrollment, Type.Null()]) },
  { ...Strict, description: 'version' },
);
export const EnrollmentHistory = Type.Object({ enrollmentId: Type.String(), history: Type.Array(HistoryEntry) }, Strict);
export type EnrollmentHistory = Static<typeof EnrollmentHistory>;

export const EnrollmentList = Type.Object({ enrollments: Type.Array(Enrollment) }, Strict);
export type EnrollmentList = Static<typeof EnrollmentList>;

/** SubmitPeriod's answer (and SubmitPeriods' for an item that settled). */
export const PeriodOutcome = Type.Object(
  {
    outcome: Type.Union([Type.Literal('verified'), Type.Literal('invalidProof')]),
    enrollmentId: Type.String(),
    periodIndex: Type.Integer(),
    result: PeriodResult,
  },
  Strict,
);
export type PeriodOutcome = Static<typeof PeriodOutcome>;

/** One item's answer in SubmitPeriods: settled, or refused with the code SubmitPeriod would have given. */
export const BatchItemOutcome = Type.Union([
  Type.Object(
    {
      index: Type.Integer(),
      outcome: Type.Union([Type.Literal('verified'), Type.Literal('invalidProof')]),
      enrollmentId: Type.String(),
      periodIndex: Type.Integer(),
      result: PeriodResult,
    },
    Strict,
  ),
  Type.Object(
    {
      index: Type.Integer(),
      outcome: Type.Literal('refused'),
      code: Type.String(),
      message: Type.String(),
      enrollmentId: Type.Optional(Type.String()),
      periodIndex: Type.Optional(Type.Integer()),
    },
    Strict,
  ),
]);
export type BatchItemOutcome = Static<typeof BatchItemOutcome>;
export const SubmitPeriodsOutcome = Type.Object({ outcomes: Type.Array(BatchItemOutcome) }, Strict);
export type SubmitPeriodsOutcome = Static<typeof SubmitPeriodsOutcome>;

/** ClaimMissedPeriod's answer. */
export const ClaimedPeriod = Type.Object(
  { outcome: Type.Literal('missed'), enrollmentId: Type.String(), periodIndex: Type.Integer(), result: MissedPeriod },
  { ...Strict, description: 'claimed period' },
);
export type ClaimedPeriod = Static<typeof ClaimedPeriod>;

// ---- meters ---------------------------------------------------------------------

export const MetersAtCongestionPoint = Type.Object({ congestionPoint: Type.String(), meters: Type.Array(Meter) }, Strict);
export type MetersAtCongestionPoint = Static<typeof MetersAtCongestionPoint>;

// ---- tokens ---------------------------------------------------------------------

/** Mint and Burn answer the account and amount; Transfer also names the sender. */
export const TokenMovement = Type.Object(
  { account: Type.String(), amount: Type.String() },
  { ...Strict, description: 'token movement' },
);
export type TokenMovement = Static<typeof TokenMovement>;
export const TokenTransfer = Type.Object(
  { from: Type.String(), to: Type.String(), amount: Type.String() },
  { ...Strict, description: 'token movement' },
);
export type TokenTransfer = Static<typeof TokenTransfer>;
export const Balances = Type.Object({ accounts: Type.Array(Account) }, Strict);
export type Balances = Static<typeof Balances>;
export const SupplyView = Type.Object(
  { minted: Type.String(), burned: Type.String(), outstanding: Type.String({ description: 'minted - burned' }) },
  { ...Strict, description: 'token supply' },
);
export type SupplyView = Static<typeof SupplyView>;
export const SupplyAudit = Type.Object(
  {
    minted: Type.String(),
    burned: Type.String(),
    balances: Type.String({ description: 'sum of all accounts: escrows, prosumers, organisations' }),
    accounts: Type.Integer(),
    imbalance: Type.String({ description: 'minted - burned - balances; "0" when the invariant holds' }),
  },
  { ...Strict, description: 'supply audit' },
);
export type SupplyAudit = Static<typeof SupplyAudit>;
export const Compaction = Type.Object(
  {
    compacted: Type.Array(
      Type.Union([
        Type.Object({ accountId: Type.String(), deltas: Type.Integer() }, Strict),
        Type.Object({ supply: Type.Literal(true), deltas: Type.Integer() }, Strict),
      ]),
      { description: 'one account (accountId) or the supply (supply), and how many deltas were folded' },
    ),
  },
  { ...Strict, description: 'compaction' },
);
export type Compaction = Static<typeof Compaction>;
export const Redemptions = Type.Object({ redemptions: Type.Array(Redemption) }, Strict);
export type Redemptions = Static<typeof Redemptions>;

// ---- market ---------------------------------------------------------------------

export const FlexRequestView = Type.Object(
  { request: FlexRequest, offers: Type.Array(FlexOffer), orders: Type.Array(FlexOrder) },
  { ...Strict, description: 'request, offers and orders' },
);
export type FlexRequestView = Static<typeof FlexRequestView>;
export const OrderEnrollment = Type.Object(
  { enrollmentId: Type.String(), meterId: Type.String(), status: EnrollmentStatus },
  { ...Strict, description: 'enrollment summary' },
);
export const FlexOrderView = Type.Object(
  { order: FlexOrder, enrollments: Type.Array(OrderEnrollment) },
  { ...Strict, description: 'order and enrollments' },
);
export type FlexOrderView = Static<typeof FlexOrderView>;

// ---- keys -----------------------------------------------------------------------

/** ListVerificationKeys: every record without its key (fetch one with GetVerificationKey). */
export const VerificationKeySummary = Type.Omit(VerificationKeyRecord, ['verificationKey']);
export type VerificationKeySummary = Static<typeof VerificationKeySummary>;
export const VerificationKeyList = Type.Object({ keys: Type.Array(VerificationKeySummary) }, Strict);
export type VerificationKeyList = Static<typeof VerificationKeyList>;
export const AuditorKeyList = Type.Object({ keys: Type.Array(AuditorKeyRecord) }, Strict);
export type AuditorKeyList = Static<typeof AuditorKeyList>;

// ---- system ---------------------------------------------------------------------

export const PingAnswer = Type.Object({ chaincode: Type.String(), version: Type.String(), mspId: Type.String() }, Strict);
export type PingAnswer = Static<typeof PingAnswer>;
