/**
 * The records this chaincode keeps in world state, exactly as written (sorted-key JSON).
 * Amounts of tokens (base units) and of energy (Wh) are decimal strings here and bigint
 * inside the rules; times are ISO 8601 strings taken from transaction timestamps.
 * Nothing secret is stored: no readings, no request profile (only its commitment), no
 * salts, no private keys.
 */

import type { EnrollmentTerms } from './signing';

/** Number of settlement periods (ISPs) in a program day and in a flexibility request. */
export const PERIODS_PER_DAY = 24;
/** Fingerprint chain head of an enrollment before its first settled period. */
export const GENESIS_FINGERPRINT = '0';
export const DEFAULT_PERIOD_SECONDS = 3600;
export const DEFAULT_GRACE_SECONDS = 900;

export type MeterStatus = 'active' | 'suspended' | 'excluded';
export type ProsumerKeyType = 'ec-p256' | 'ed25519';

export interface Meter {
  meterId: string;
  prosumerId: string;
  /** SPKI PEM of the prosumer's signing key (ECDSA P-256 or Ed25519). */
  publicKeyPem: string;
  keyType: ProsumerKeyType;
  congestionPoint: string;
  status: MeterStatus;
  /** Last nonce accepted from this prosumer's signed actions (decimal string, starts at "0"). */
  nonce: string;
  registeredAt: string;
  updatedAt: string;
  /** Why the meter was suspended or excluded, if it was. */
  statusReason?: string;
}

/**
 * A prosumer id and the key it is bound to: the key of its first meter. A further meter
 * under the id with another key needs the prosumer's authorisation signed by this key
 * (AuthorizeMeterPayload), so the DSO cannot add a key of its own and withdraw.
 */
export interface ProsumerRecord {
  prosumerId: string;
  /** SPKI PEM of the bound key. It does not move when a meter with another key is authorised. */
  publicKeyPem: string;
  keyType: ProsumerKeyType;
  /** Last nonce of an accepted AuthorizeMeterPayload (decimal string, starts at "0"). */
  nonce: string;
  registeredAt: string;
  updatedAt: string;
}

/** A token account: `org:<MSP>`, `prosumer:<id>`, `escrow:enrollment:<id>` or `escrow:order:<id>`. */
export interface Account {
  accountId: string;
  balance: string;
}

/** Everything ever minted and burned; minted - burned = the sum of all accounts. */
export interface Supply {
  minted: string;
  burned: string;
}

/** A prosumer's signed withdrawal: tokens burned here, credited off-chain on the bill. */
export interface Redemption {
  redemptionId: string;
  prosumerId: string;
  meterId: string;
  amount: string;
  nonce: string;
  time: string;
}

export type FlexRequestStatus = 'open' | 'closed';

export interface FlexRequest {
  requestId: string;
  congestionPoint: string;
  /** Calendar day (YYYY-MM-DD, UTC) the flexibility is needed on; ISP i is hour i of it. */
  day: string;
  /** Requested flexibility per ISP, Wh. */
  requestedWh: string[];
  status: FlexRequestStatus;
  createdAt: string;
}

export type FlexOfferStatus = 'submitted' | 'accepted';

export interface FlexOffer {
  offerId: string;
  requestId: string;
  aggregatorMsp: string;
  /** Offered flexibility per ISP, Wh. */
  offeredWh: string[];
  /** Price of the whole offer, token base units. */
  price: string;
  status: FlexOfferStatus;
  createdAt: string;
}

export type FlexOrderStatus = 'open' | 'settled';

export interface OrderSettlement {
  deliveredWh: string[];
  deficiencyWh: string[];
  penalty: string;
  toAggregator: string;
  toDso: string;
  settledAt: string;
  txId: string;
}

export interface FlexOrder {
  orderId: string;
  requestId: string;
  offerId: string;
  aggregatorMsp: string;
  /** Copied from the request, so settlement does not depend on the request record. */
  day: string;
  offeredWh: string[];
  /**
   * Per period, the flexWh of the order's enrollments that are not cancelled (Wh): never
   * above offeredWh. OfferEnrollment adds to it, CancelEnrollment gives it back.
   */
  enrolledWh: string[];
  price: string;
  status: FlexOrderStatus;
  createdAt: string;
  settlement?: OrderSettlement;
}

export type EnrollmentStatus = 'offered' | 'accepted' | 'active' | 'excluded' | 'closed' | 'cancelled';

/** Settlement of one period of an enrollment; a period has at most one, written once. */
export type PeriodResult =
  | {
      outcome: 'verified';
      periodIndex: number;
      deviationWh: string;
      direction: string;
      prevFingerprint: string;
      newFingerprint: string;
      penalty: string;
      submissionHash: string;
      txId: string;
      settledAt: string;
    }
  | {
      outcome: 'invalidProof';
      periodIndex: number;
      forfeited: string;
      submissionHash: string;
      txId: string;
      settledAt: string;
    }
  | {
      outcome: 'missed';
      periodIndex: number;
      claimed: string;
      txId: string;
      settledAt: string;
    };

/**
 * An enrollment: the terms the prosumer signs (EnrollmentTerms: ids, circuit, request
 * commitment, reward, rate, tolerance, flexWh, time base) plus what the ledger keeps.
 */
export interface Enrollment extends EnrollmentTerms {
  requestId: string;
  aggregatorMsp: string;
  periodCount: number;
  status: EnrollmentStatus;
  /** Fingerprint of the last verified period ("0" before the first). */
  chainHead: string;
  results: (PeriodResult | null)[];
  createdAt: string;
  acceptedAt?: string;
  fundedAt?: string;
  finishedAt?: string;
  /** Escrow released to the prosumer at close. */
  released?: string;
  exclusion?: { periodIndex: number; txId: string };
}

/** Where a key under two-organisation governance stands (verification keys, auditor keys). */
export type GovernedKeyStatus = 'proposed' | 'active' | 'retired';
export type VerificationKeyStatus = GovernedKeyStatus;
export type AuditorKeyStatus = GovernedKeyStatus;

/**
 * What the ledger keeps of the governance of a key: one organisation proposes it (or its
 * retirement), the other approves, naming the key hash it reviewed.
 */
export interface GovernedKey {
  /** What the approving organisation names (its definition depends on the kind of key). */
  keyHash: string;
  status: GovernedKeyStatus;
  proposedBy: string;
  proposedAt: string;
  approvedBy?: string;
  approvedAt?: string;
  retirementProposedBy?: string;
  retirementProposedAt?: string;
  retiredBy?: string;
  retiredAt?: string;
}

export interface VerificationKeyRecord extends GovernedKey {
  circuitId: string;
  verificationKey: unknown;
  /** sha256 (hex) of the stable JSON of the key: what the approving organisation names. */
  keyHash: string;
}

/**
 * An auditor's public key, to which every edge seals each period's raw data (readings,
 * fingerprint salt) while the key is active (issue 12, T9). Only the public half is
 * here: the auditor keeps its private key; nothing in the record is secret.
 */
export interface AuditorKeyRecord extends GovernedKey {
  auditorId: string;
  /** EC P-256 public key, SPKI PEM as node:crypto exports it (canonical form). */
  publicKeyPem: string;
  /** `sealingKeyHash(publicKeyPem)`: sha256 (hex) of the DER SPKI; the `kid` of the auditor's JWE entry. */
  keyHash: string;
  /** Free text the proposing organisation gave (who the auditor is); public. */
  description?: string;
}
