/**
 * @deprecated Import these from `@flexproof/protocol`; this entry
 * (`@flexproof/chaincode/client`) only keeps its importers compiling until they are
 * switched, and then goes away (issue 15).
 *
 * Every name here is the protocol's (record types, error codes, prosumer signing,
 * stableStringify, verificationKeyHash, settings, account names) under the name this
 * entry always gave it, except the chaincode's own ChaincodeError and parseErrorCode.
 * Nothing here imports Fabric.
 */
import type { SignedProsumerAction, ProsumerPayload } from '@flexproof/protocol';

export { ChaincodeError, CHAINCODE_ERROR_CODES, parseErrorCode, type ChaincodeErrorCode } from './errors';
export {
  ACTION_ACCEPT_ENROLLMENT,
  ACTION_AUTHORIZE_METER,
  ACTION_SUBMIT_PERIOD,
  ACTION_WITHDRAW,
  DEFAULT_LEDGER_TARGET,
  canonicalEncoding,
  enrollmentTerms,
  prosumerKeyType,
  samePublicKey,
  signPayload,
  verifyPayloadSignature,
  type LedgerTarget,
  type ProsumerPayload,
  type AcceptEnrollmentPayload,
  type AuthorizeMeterPayload,
  type SubmitPeriodPayload,
  type WithdrawPayload,
  PERIODS_PER_DAY,
  GENESIS_FINGERPRINT,
  DEFAULT_PERIOD_SECONDS,
  DEFAULT_GRACE_SECONDS,
  schemas,
  stableStringify,
  verificationKeyHash,
  DEFAULT_CHAINCODE_NAME,
  DEFAULT_MAX_CLOCK_SKEW_SECONDS,
  chaincodeNameFrom,
  maxClockSkewSecondsFrom,
  orgAccount,
  prosumerAccount,
  enrollmentEscrow,
  orderEscrow,
} from '@flexproof/protocol';
export type { SignedProsumerAction, EnrollmentTerms } from '@flexproof/protocol';
/** @deprecated The protocol's SignedProsumerAction. */
export type SignedAction<P extends ProsumerPayload = ProsumerPayload> = SignedProsumerAction<P>;

// The record types, each the protocol's `schemas.<Name>` (model.ts aliases them).
export type {
  MeterStatus,
  ProsumerKeyType,
  Meter,
  ProsumerRecord,
  Account,
  Supply,
  Redemption,
  FlexRequestStatus,
  FlexRequest,
  FlexOfferStatus,
  FlexOffer,
  FlexOrderStatus,
  OrderSettlement,
  FlexOrder,
  EnrollmentStatus,
  PeriodResult,
  Enrollment,
  GovernedKeyStatus,
  VerificationKeyStatus,
  AuditorKeyStatus,
  GovernedKey,
  VerificationKeyRecord,
  AuditorKeyRecord,
} from './model';
