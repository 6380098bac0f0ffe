/**
 * The one JSON argument of each chaincode transaction. The chaincode validates with these
 * very schemas (chaincode/src/schemas.ts re-exports them to parseInput); the gateway takes
 * request bodies with them, so a field is refused at the gateway for the reason the
 * chaincode would give.
 */
import { Type, type Static } from '@sinclair/typebox';
import {
  AccountId,
  Amount,
  Base64Signature,
  ChaincodeName,
  ChannelName,
  CircuitId,
  Day,
  FieldElement,
  Id,
  IsoTime,
  Nonce,
  OpaqueObject,
  PerPeriodWh,
  PeriodIndex,
  PositiveAmount,
  PROSUMER_ACTIONS,
  PublicKeyPem,
  Sha256Hex,
  Strict,
} from './primitives';

/** Most offers or deposits in one batch transaction (the chaincode's MAX_FUNDING_BATCH). */
export const MAX_FUNDING_BATCH = 256;

// ---- meters ---------------------------------------------------------------------

export const AuthorizeMeterPayload = Type.Object(
  {
    type: Type.Literal(PROSUMER_ACTIONS.authorizeMeter),
    channel: ChannelName,
    chaincode: ChaincodeName,
    prosumerId: Id,
    meterId: Id,
    publicKeyPem: PublicKeyPem,
    nonce: Nonce,
  },
  Strict,
);
export type AuthorizeMeterPayload = Static<typeof AuthorizeMeterPayload>;
export const RegisterMeterInput = Type.Object(
  {
    meterId: Id,
    prosumerId: Id,
    publicKeyPem: PublicKeyPem,
    congestionPoint: Id,
    /** Needed when the prosumer id is bound to another key: the prosumer's consent, signed by that key. */
    authorization: Type.Optional(Type.Object({ payload: AuthorizeMeterPayload, signature: Base64Signature }, Strict)),
  },
  Strict,
);
export type RegisterMeterInput = Static<typeof RegisterMeterInput>;
export const ProsumerIdInput = Type.Object({ prosumerId: Id }, Strict);
export const MeterStatusChangeInput = Type.Object({ meterId: Id, reason: Type.String({ minLength: 1, maxLength: 200 }) }, Strict);
export type MeterStatusChangeInput = Static<typeof MeterStatusChangeInput>;
export const MeterIdInput = Type.Object({ meterId: Id }, Strict);
export const CongestionPointInput = Type.Object({ congestionPoint: Id }, Strict);

// ---- tokens ---------------------------------------------------------------------

export const MintInput = Type.Object({ account: AccountId, amount: PositiveAmount }, Strict);
export type MintInput = Static<typeof MintInput>;
export const BurnInput = MintInput;
export type BurnInput = MintInput;
export const TransferInput = Type.Object({ to: AccountId, amount: PositiveAmount }, Strict);
export type TransferInput = Static<typeof TransferInput>;
export const WithdrawPayload = Type.Object(
  {
    type: Type.Literal(PROSUMER_ACTIONS.withdraw),
    channel: ChannelName,
    chaincode: ChaincodeName,
    meterId: Id,
    prosumerId: Id,
    amount: PositiveAmount,
    nonce: Nonce,
  },
  Strict,
);
export type WithdrawPayload = Static<typeof WithdrawPayload>;
export const WithdrawInput = Type.Object({ payload: WithdrawPayload, signature: Base64Signature }, Strict);
export type WithdrawInput = Static<typeof WithdrawInput>;
export const AccountInput = Type.Object({ account: AccountId }, Strict);
export const AccountsInput = Type.Object({ accounts: Type.Optional(Type.Array(AccountId, { minItems: 1, maxItems: 1000 })) }, Strict);
export type AccountsInput = Static<typeof AccountsInput>;
export const EmptyInput = Type.Object({}, Strict);
export const CompactBalancesInput = Type.Object({ accountId: Type.Optional(AccountId) }, Strict);
export type CompactBalancesInput = Static<typeof CompactBalancesInput>;

// ---- market ---------------------------------------------------------------------

export const CreateFlexRequestInput = Type.Object({ requestId: Id, congestionPoint: Id, day: Day, requestedWh: PerPeriodWh }, Strict);
export type CreateFlexRequestInput = Static<typeof CreateFlexRequestInput>;
export const FlexRequestIdInput = Type.Object({ requestId: Id }, Strict);
export const SubmitFlexOfferInput = Type.Object({ offerId: Id, requestId: Id, offeredWh: PerPeriodWh, price: PositiveAmount }, Strict);
export type SubmitFlexOfferInput = Static<typeof SubmitFlexOfferInput>;
export const AcceptFlexOfferInput = Type.Object({ orderId: Id, offerId: Id }, Strict);
export const FlexOrderIdInput = Type.Object({ orderId: Id }, Strict);

// ---- programs -------------------------------------------------------------------

export const OfferEnrollmentInput = Type.Object(
  {
    enrollmentId: Id,
    orderId: Id,
    meterId: Id,
    circuitId: CircuitId,
    requestCommitment: FieldElement,
    reward: PositiveAmount,
    ratePerWh: Amount,
    toleranceWh: Amount,
    flexWh: PerPeriodWh,
    startTime: IsoTime,
    periodSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 })),
    graceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 86400 })),
  },
  Strict,
);
export type OfferEnrollmentInput = Static<typeof OfferEnrollmentInput>;
/** OfferEnrollments: all or none; a refusal names `offers[i]`. */
export const OfferEnrollmentsInput = Type.Object(
  { offers: Type.Array(OfferEnrollmentInput, { minItems: 1, maxItems: MAX_FUNDING_BATCH, description: 'each as OfferEnrollment takes it' }) },
  Strict,
);
export const EnrollmentIdInput = Type.Object({ enrollmentId: Id }, Strict);
/** DepositRewards: all or none; one debit of the total. */
export const DepositRewardsInput = Type.Object({ enrollmentIds: Type.Array(Id, { minItems: 1, maxItems: MAX_FUNDING_BATCH }) }, Strict);
export const AcceptEnrollmentPayload = Type.Object(
  {
    type: Type.Literal(PROSUMER_ACTIONS.acceptEnrollment),
    channel: ChannelName,
    chaincode: ChaincodeName,
    nonce: Nonce,
    enrollmentId: Id,
    orderId: Id,
    meterId: Id,
    prosumerId: Id,
    circuitId: CircuitId,
    requestCommitment: FieldElement,
    reward: PositiveAmount,
    ratePerWh: Amount,
    toleranceWh: Amount,
    flexWh: PerPeriodWh,
    startTime: IsoTime,
    periodSeconds: Type.Integer({ minimum: 1, maximum: 86400 }),
    graceSeconds: Type.Integer({ minimum: 0, maximum: 7 * 86400 }),
  },
  Strict,
);
export type AcceptEnrollmentPayload = Static<typeof AcceptEnrollmentPayload>;
export const AcceptEnrollmentInput = Type.Object({ payload: AcceptEnrollmentPayload, signature: Base64Signature }, Strict);
export type AcceptEnrollmentInput = Static<typeof AcceptEnrollmentInput>;
export const SubmitPeriodPayload = Type.Object(
  {
    type: Type.Literal(PROSUMER_ACTIONS.submitPeriod),
    channel: ChannelName,
    chaincode: ChaincodeName,
    enrollmentId: Id,
    meterId: Id,
    prosumerId: Id,
    circuitId: CircuitId,
    periodIndex: PeriodIndex,
    submissionHash: Sha256Hex,
  },
  Strict,
);
export type SubmitPeriodPayload = Static<typeof SubmitPeriodPayload>;
export const SubmitPeriodInput = Type.Object(
  {
    payload: SubmitPeriodPayload,
    signature: Base64Signature,
    /** Groth16 proof as snarkjs prints it; its inner shape is checked by the verifier (BAD_INPUT). */
    proof: OpaqueObject(),
    publicSignals: Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: 16 }),
  },
  Strict,
);
export type SubmitPeriodInput = Static<typeof SubmitPeriodInput>;
/** SubmitPeriods: up to the chaincode's FLEXPROOF_MAX_BATCH_ITEMS (default 64) submissions of different enrollments. */
export const SubmitPeriodsInput = Type.Object({ items: Type.Array(SubmitPeriodInput, { minItems: 1 }) }, Strict);
export type SubmitPeriodsInput = Static<typeof SubmitPeriodsInput>;
export const ClaimMissedPeriodInput = Type.Object({ enrollmentId: Id, periodIndex: PeriodIndex }, Strict);

// ---- verifiers ------------------------------------------------------------------

export const ProposeVerificationKeyInput = Type.Object(
  { circuitId: CircuitId, verificationKey: OpaqueObject() },
  Strict,
);
export type ProposeVerificationKeyInput = Static<typeof ProposeVerificationKeyInput>;
export const ApproveVerificationKeyInput = Type.Object({ circuitId: CircuitId, keyHash: Sha256Hex }, Strict);
export const CircuitIdInput = Type.Object({ circuitId: CircuitId }, Strict);

// ---- auditors --------------------------------------------------------------------

/** Public text, one line: printable, no control characters. */
const Description = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });
export const ProposeAuditorKeyInput = Type.Object(
  {
    auditorId: Id,
    /** EC P-256 SPKI PEM; its kind and form are checked by canonicalSealingKeyPem. */
    publicKeyPem: PublicKeyPem,
    description: Type.Optional(Description),
  },
  Strict,
);
export type ProposeAuditorKeyInput = Static<typeof ProposeAuditorKeyInput>;
export const ApproveAuditorKeyInput = Type.Object({ auditorId: Id, keyHash: Sha256Hex }, Strict);
export const AuditorIdInput = Type.Object({ auditorId: Id }, Strict);

// ---- system ---------------------------------------------------------------------

export const RecordHeartbeatInput = Type.Object({ note: Type.String({ minLength: 1, maxLength: 200 }) }, Strict);
export const GetHeartbeatInput = Type.Object({ mspId: Type.String({ minLength: 1, maxLength: 128 }) }, Strict);
