/**
 * The records the chaincode keeps in world state, exactly as it writes them (sorted-key
 * JSON). This is their one definition: chaincode/src/model.ts takes its types from here,
 * and the schemas tests check every record a transaction writes against these. Amounts
 * of tokens (base units) and of energy (Wh) are decimal strings; times are ISO 8601
 * strings from transaction timestamps. Nothing secret is in any of them: no readings, no request profile (only its
 * commitment), no salts, no private keys.
 */
import { Type, type Static } from '@sinclair/typebox';
import { OpaqueObject, Strict } from './primitives';

/** Fingerprint chain head of an enrollment before its first settled period. */
export const GENESIS_FINGERPRINT = '0';
export const DEFAULT_PERIOD_SECONDS = 3600;
export const DEFAULT_GRACE_SECONDS = 900;

const Decimal = (description: string) => Type.String({ description });
const Time = (description = 'ISO 8601, from the transaction timestamp') => Type.String({ description });

export const MeterStatus = Type.Union([Type.Literal('active'), Type.Literal('suspended'), Type.Literal('excluded')]);
export type MeterStatus = Static<typeof MeterStatus>;
export const ProsumerKeyType = Type.Union([Type.Literal('ec-p256'), Type.Literal('ed25519')]);
export type ProsumerKeyType = Static<typeof ProsumerKeyType>;

export const Meter = Type.Object(
  {
    meterId: Type.String(),
    prosumerId: Type.String(),
    publicKeyPem: Type.String({ description: "SPKI PEM of the prosumer's signing key (ECDSA P-256 or Ed25519)" }),
    keyType: ProsumerKeyType,
    congestionPoint: Type.String(),
    status: MeterStatus,
    nonce: Decimal('last nonce accepted from the prosumer\'s signed actions (starts at "0")'),
    registeredAt: Time(),
    updatedAt: Time(),
    statusReason: Type.Optional(Type.String({ description: 'why the meter was suspended or excluded' })),
  },
  { ...Strict, description: 'meter record' },
);
export type Meter = Static<typeof Meter>;

/** A prosumer id and the key it is bound to (the key of its first meter). */
export const ProsumerRecord = Type.Object(
  {
    prosumerId: Type.String(),
    publicKeyPem: Type.String(),
    keyType: ProsumerKeyType,
    nonce: Decimal('last nonce of an accepted AuthorizeMeterPayload'),
    registeredAt: Time(),
    updatedAt: Time(),
  },
  { ...Strict, description: 'prosumer record' },
);
export type ProsumerRecord = Static<typeof ProsumerRecord>;

/** A token account: `org:<MSP>`, `prosumer:<id>`, `escrow:enrollment:<id>` or `escrow:order:<id>`. */
export const Account = Type.Object({ accountId: Type.String(), balance: Decimal('token base units') }, { ...Strict, description: 'account balance' });
export type Account = Static<typeof Account>;

/** Everything ever minted and burned; minted - burned = the sum of all accounts. */
export const Supply = Type.Object({ minted: Decimal('token base units'), burned: Decimal('token base units') }, Strict);
export type Supply = Static<typeof Supply>;

/** A prosumer's signed withdrawal: tokens burned on the ledger, credited off-chain on the bill. */
export const Redemption = Type.Object(
  {
    redemptionId: Type.String(),
    prosumerId: Type.String(),
    meterId: Type.String(),
    amount: Decimal('token base units'),
    nonce: Type.String(),
    time: Time(),
  },
  { ...Strict, description: 'redemption' },
);
export type Redemption = Static<typeof Redemption>;

export const FlexRequestStatus = Type.Union([Type.Literal('open'), Type.Literal('closed')]);
export const FlexRequest = Type.Object(
  {
    requestId: Type.String(),
    congestionPoint: Type.String(),
    day: Type.String({ description: 'YYYY-MM-DD (UTC); ISP i is hour i of it' }),
    requestedWh: Type.Array(Type.String(), { description: 'requested flexibility per ISP, Wh' }),
    status: FlexRequestStatus,
    createdAt: Time(),
  },
  { ...Strict, description: 'flexibility request' },
);
export type FlexRequest = Static<typeof FlexRequest>;

export const FlexOfferStatus = Type.Union([Type.Literal('submitted'), Type.Literal('accepted')]);
export const FlexOffer = Type.Object(
  {
    offerId: Type.String(),
    requestId: Type.String(),
    aggregatorMsp: Type.String(),
    offeredWh: Type.Array(Type.String(), { description: 'offered flexibility per ISP, Wh' }),
    price: Decimal('price of the whole offer, token base units'),
    status: FlexOfferStatus,
    createdAt: Time(),
  },
  { ...Strict, description: 'flexibility offer' },
);
export type FlexOffer = Static<typeof FlexOffer>;

/** How a settled order's escrowed price was split: price - penalty to the aggregator, the penalty back to the DSO. */
export const OrderSettlement = Type.Object(
  {
    deliveredWh: Type.Array(Type.String()),
    deficiencyWh: Type.Array(Type.String()),
    penalty: Type.String(),
    toAggregator: Type.String(),
    toDso: Type.String(),
    settledAt: Time(),
    txId: Type.String(),
  },
  Strict,
);
export type OrderSettlement = Static<typeof OrderSettlement>;

export const FlexOrderStatus = Type.Union([Type.Literal('open'), Type.Literal('settled')]);
export const FlexOrder = Type.Object(
  {
    orderId: Type.String(),
    requestId: Type.String(),
    offerId: Type.String(),
    aggregatorMsp: Type.String(),
    day: Type.String({ description: 'copied from the request' }),
    offeredWh: Type.Array(Type.String()),
    enrolledWh: Type.Array(Type.String(), {
      description: 'per period, the flexWh of the enrollments not cancelled (Wh), never above offeredWh',
    }),
    price: Type.String(),
    status: FlexOrderStatus,
    createdAt: Time(),
    settlement: Type.Optional(OrderSettlement),
  },
  { ...Strict, description: 'flexibility order' },
);
export type FlexOrder = Static<typeof FlexOrder>;

export const EnrollmentStatus = Type.Union([
  Type.Literal('offered'),
  Type.Literal('accepted'),
  Type.Literal('active'),
  Type.Literal('excluded'),
  Type.Literal('closed'),
  Type.Literal('cancelled'),
]);
export type EnrollmentStatus = Static<typeof EnrollmentStatus>;

export const VerifiedPeriod = Type.Object(
  {
    outcome: Type.Literal('verified'),
    periodIndex: Type.Integer(),
    deviationWh: Type.String(),
    direction: Type.String(),
    prevFingerprint: Type.String(),
    newFingerprint: Type.String(),
    penalty: Type.String(),
    submissionHash: Type.String(),
    txId: Type.String(),
    settledAt: Time(),
  },
  Strict,
);
export const InvalidProofPeriod = Type.Object(
  {
    outcome: Type.Literal('invalidProof'),
    periodIndex: Type.Integer(),
    forfeited: Type.String(),
    submissionHash: Type.String(),
    txId: Type.String(),
    settledAt: Time(),
  },
  Strict,
);
export const MissedPeriod = Type.Object(
  { outcome: Type.Literal('missed'), periodIndex: Type.Integer(), claimed: Type.String(), txId: Type.String(), settledAt: Time() },
  Strict,
);
/** Settlement of one period of an enrollment; a period has at most one, written once. */
export const PeriodResult = Type.Union([VerifiedPeriod, InvalidProofPeriod, MissedPeriod], { description: 'settlement of one period' });
export type PeriodResult = Static<typeof PeriodResult>;

/** The enrollment terms a prosumer signs (AcceptEnrollmentPayload without type, ledger and nonce). */
export const EnrollmentTermsFields = {
  enrollmentId: Type.String(),
  orderId: Type.String(),
  meterId: Type.String(),
  prosumerId: Type.String(),
  circuitId: Type.String(),
  requestCommitment: Type.String({ description: 'Poseidon commitment to the request profile and its salt (field element, decimal)' }),
  reward: Type.String(),
  ratePerWh: Type.String(),
  toleranceWh: Type.String(),
  flexWh: Type.Array(Type.String()),
  startTime: Time('ISO 8601 UTC'),
  periodSeconds: Type.Integer(),
  graceSeconds: Type.Integer(),
};
export const EnrollmentTerms = Type.Object(EnrollmentTermsFields, Strict);
export type EnrollmentTerms = Static<typeof EnrollmentTerms>;

export const Enrollment = Type.Object(
  {
    ...EnrollmentTermsFields,
    requestId: Type.String(),
    aggregatorMsp: Type.String(),
    periodCount: Type.Integer(),
    status: EnrollmentStatus,
    chainHead: Type.String({ description: 'fingerprint of the last verified period ("0" before the first)' }),
    results: Type.Array(Type.Union([PeriodResult, Type.Null()])),
    createdAt: Time(),
    acceptedAt: Type.Optional(Time()),
    fundedAt: Type.Optional(Time()),
    finishedAt: Type.Optional(Time()),
    released: Type.Optional(Type.String({ description: 'escrow released to the prosumer at close' })),
    exclusion: Type.Optional(Type.Object({ periodIndex: Type.Integer(), txId: Type.String() }, Strict)),
  },
  { ...Strict, description: 'enrollment record' },
);
export type Enrollment = Static<typeof Enrollment>;

/** Where a key under two-organisation governance stands (verification keys, auditor keys). */
export const GovernedKeyStatus = Type.Union([Type.Literal('proposed'), Type.Literal('active'), Type.Literal('retired')]);
export type GovernedKeyStatus = Static<typeof GovernedKeyStatus>;
const GovernedKeyFields = {
  keyHash: Type.String(),
  status: GovernedKeyStatus,
  proposedBy: Type.String(),
  proposedAt: Time(),
  approvedBy: Type.Optional(Type.String()),
  approvedAt: Type.Optional(Time()),
  retirementProposedBy: Type.Optional(Type.String()),
  retirementProposedAt: Type.Optional(Time()),
  retiredBy: Type.Optional(Type.String()),
  retiredAt: Type.Optional(Time()),
};

export const VerificationKeyRecord = Type.Object(
  {
    ...GovernedKeyFields,
    circuitId: Type.String(),
    // ProposeVerificationKey only ever stores a JSON object (its canonical form).
    verificationKey: OpaqueObject({ description: 'the Groth16 verification key, as registered' }),
    keyHash: Type.String({ description: "sha256 (hex) of the key's stable JSON: what the approving organisation names" }),
  },
  { ...Strict, description: 'verification key record' },
);
export type VerificationKeyRecord = Static<typeof VerificationKeyRecord>;

/** An auditor's public sealing key (issue 12, T9); only the public half is on the ledger. */
export const AuditorKeyRecord = Type.Object(
  {
    ...GovernedKeyFields,
    auditorId: Type.String(),
    publicKeyPem: Type.String({ description: 'EC P-256 public key, SPKI PEM' }),
    keyHash: Type.String({ description: 'sha256 (hex) of the DER SPKI: the kid of the auditor’s entry in sealed documents' }),
    description: Type.Optional(Type.String({ description: 'who the auditor is (public)' })),
  },
  { ...Strict, description: 'auditor key record' },
);
export type AuditorKeyRecord = Static<typeof AuditorKeyRecord>;

/** What `RecordHeartbeat` stores for each organisation. */
export const HeartbeatRecord = Type.Object(
  { mspId: Type.String(), role: Type.String(), note: Type.String(), txId: Type.String(), time: Time() },
  Strict,
);
export type HeartbeatRecord = Static<typeof HeartbeatRecord>;
