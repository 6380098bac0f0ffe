/**
 * The records this chaincode keeps in world state, exactly as written (sorted-key JSON).
 * Each type is the protocol's (`schemas` of @flexproof/protocol, types via Static<>), so
 * what the chaincode writes and what clients read are one definition; the protocol's
 * tests run every transaction and check each record, answer and event against the
 * schemas (test/unit/protocol/schemas-lifecycle.test.ts).
 * Amounts of tokens (base units) and of energy (Wh) are decimal strings here and bigint
 * inside the rules; times are ISO 8601 strings taken from transaction timestamps.
 * Nothing secret is stored: no readings, no request profile (only its commitment), no
 * salts, no private keys.
 */
import type { schemas } from '@flexproof/protocol';

export { PERIODS_PER_DAY, GENESIS_FINGERPRINT, DEFAULT_PERIOD_SECONDS, DEFAULT_GRACE_SECONDS } from '@flexproof/protocol';

export type MeterStatus = schemas.MeterStatus;
export type ProsumerKeyType = schemas.ProsumerKeyType;
export type Meter = schemas.Meter;
/**
 * A prosumer id and the key it is bound to: the key of its first meter. A further meter
 * under the id with another key needs the prosumer's authorisation signed by this key
 * (AuthorizeMeterPayload), so the DSO cannot add a key of its own and withdraw.
 */
export type ProsumerRecord = schemas.ProsumerRecord;
/** A token account: `org:<MSP>`, `prosumer:<id>`, `escrow:enrollment:<id>` or `escrow:order:<id>`. */
export type Account = schemas.Account;
/** Everything ever minted and burned; minted - burned = the sum of all accounts. */
export type Supply = schemas.Supply;
/** A prosumer's signed withdrawal: tokens burned here, credited off-chain on the bill. */
export type Redemption = schemas.Redemption;
export type FlexRequestStatus = FlexRequest['status'];
export type FlexRequest = schemas.FlexRequest;
export type FlexOfferStatus = FlexOffer['status'];
export type FlexOffer = schemas.FlexOffer;
export type FlexOrderStatus = FlexOrder['status'];
export type OrderSettlement = schemas.OrderSettlement;
/** `enrolledWh`: per period, the flexWh of the order's enrollments not cancelled, never above offeredWh. */
export type FlexOrder = schemas.FlexOrder;
export type EnrollmentStatus = schemas.EnrollmentStatus;
/** Settlement of one period of an enrollment; a period has at most one, written once. */
export type PeriodResult = schemas.PeriodResult;
/** The enrollment terms a prosumer signs; every field must equal the ledger's. */
export type EnrollmentTerms = schemas.EnrollmentTerms;
/** An enrollment: the terms the prosumer signs plus what the ledger keeps. */
export type Enrollment = schemas.Enrollment;

/** Where a key under two-organisation governance stands (verification keys, auditor keys). */
export type GovernedKeyStatus = schemas.GovernedKeyStatus;
export type VerificationKeyStatus = GovernedKeyStatus;
export type AuditorKeyStatus = GovernedKeyStatus;

/** A Groth16 verification key as a record holds it: the canonical form, a JSON object. */
export type VerificationKey = schemas.VerificationKeyRecord['verificationKey'];
export type VerificationKeyRecord = schemas.VerificationKeyRecord;
/**
 * An auditor's public key, to which every edge seals each period's raw data (readings,
 * fingerprint salt) while the key is active (issue 12, T9). Only the public half is
 * here: the auditor keeps its private key; nothing in the record is secret.
 */
export type AuditorKeyRecord = schemas.AuditorKeyRecord;

/**
 * What the ledger keeps of the governance of a key, whatever its kind: one organisation
 * proposes it (or its retirement), the other approves, naming the key hash it reviewed.
 * The fields both governed records share (the rules in rules/governance.ts read only these).
 */
export type GovernedKey = Pick<
  VerificationKeyRecord & AuditorKeyRecord,
  | 'keyHash'
  | 'status'
  | 'proposedBy'
  | 'proposedAt'
  | 'approvedBy'
  | 'approvedAt'
  | 'retirementProposedBy'
  | 'retirementProposedAt'
  | 'retiredBy'
  | 'retiredAt'
>;
