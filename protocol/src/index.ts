// @flexproof/protocol: the formats the edge, the gateways and the auditors share, with no
// Fabric, snarkjs or web framework behind them (importing it loads jose, @sinclair/typebox
// and node:crypto).

export { canonicalJson, stableStringify } from './canonical-json';
export {
  SEALED_PERIOD_CTY,
  SEALED_PERIOD_ALG,
  SEALED_PERIOD_ENC,
  SEALED_LIMITS,
  SealedDataError,
  isSealedDataError,
  generateSealingKeyPair,
  checkSealingPublicKey,
  checkSealingPrivateKey,
  sealingKeyHash,
  sealPeriod,
  openPeriod,
  checkSealedShape,
  sealedContentHash,
} from './sealed-period';
export type {
  PeriodPlace,
  PeriodPlaintext,
  PeriodDocument,
  SealedPeriodJwe,
  SealedRecipientEntry,
  SealedEphemeralKey,
  SealedProtectedHeader,
  SealingRecipient,
  SealedDataErrorCode,
} from './sealed-period';

// ---- issue 16/15 (operator slice): edge request signing, chaincode error codes, the
// canonical verification-key hash, and the typed gateway client.
export {
  EDGE_HEADERS,
  EDGE_HEADER_PATTERNS,
  EDGE_SIGNING_VERSION,
  MSP_ID_PATTERN,
  edgeSigningString,
  readEdgeSignatureHeaders,
  sha256Hex,
  signEdgeRequest,
  verifyEdgeSignature,
} from './edge-request-signing';
export type { EdgeRequestParts, EdgeSignatureHeaders } from './edge-request-signing';
export {
  CHAINCODE_ERROR_CODES,
  CHAINCODE_ERROR_STATUS,
  UNKNOWN_CHAINCODE_CODE_STATUS,
  isChaincodeErrorCode,
  httpStatusOfChaincodeCode,
  formatChaincodeError,
  parseChaincodeError,
} from './errors';
export type { ChaincodeErrorCode } from './errors';
export {
  VERIFICATION_KEY_FIELDS,
  DERIVED_VERIFICATION_KEY_FIELDS,
  VerificationKeyFormError,
  canonicalVerificationKey,
  canonicalVerificationKeyHash,
  verificationKeyHash,
} from './verification-key';
export * from './client/index';

// ---- issue 16 (enrollment packages): terms, request profile and salt sealed to the site.
export {
  ENROLLMENT_PACKAGE_CTY,
  ENROLLMENT_PACKAGE_LIMITS,
  checkEnrollmentPackage,
  sealEnrollmentPackage,
  openEnrollmentPackage,
  enrollmentPackagePlace,
} from './enrollment-package';
export type { EnrollmentPackage, EnrollmentPackageTerms, EnrollmentPackageJwe, EnrollmentPackageHeader } from './enrollment-package';

// ---- issue 15 (schemas): every record, view, transaction input and output and event
// payload as a TypeBox schema (types via Static<>), under one namespace: the client's
// types (client/types.ts) are these schemas' Static types, some under the same names
// (EnrollmentView), some under the client's (MeterRecord is schemas.Meter).
export * as schemas from './schemas/index';
export { CONTRACTS, TRANSACTIONS, TX, transactionById } from './transactions';
export type { ContractName, TransactionIds, TransactionKey, TransactionKind, TransactionName, TransactionSpec, Transactions } from './transactions';

// ---- issue 15 (the chaincode's client entry, moved here): prosumer payload signing,
// token account names, and the chaincode settings clients must agree with.
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
} from './prosumer-signing';
export type { LedgerTarget, ProsumerPayload, SignedProsumerAction } from './prosumer-signing';
export type {
  AcceptEnrollmentPayload,
  AuthorizeMeterPayload,
  SubmitPeriodPayload,
  WithdrawPayload,
} from './schemas/inputs';
export type { EnrollmentTerms, ProsumerKeyType } from './schemas/records';
export { PERIODS_PER_DAY } from './schemas/primitives';
export { GENESIS_FINGERPRINT, DEFAULT_PERIOD_SECONDS, DEFAULT_GRACE_SECONDS } from './schemas/records';
export { orgAccount, prosumerAccount, enrollmentEscrow, orderEscrow } from './accounts';
export { DEFAULT_CHAINCODE_NAME, DEFAULT_MAX_CLOCK_SKEW_SECONDS, chaincodeNameFrom, maxClockSkewSecondsFrom } from './settings';
