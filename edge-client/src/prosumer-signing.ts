/**
 * The prosumer signing helpers (canonical encoding, sign, verify) the chaincode checks
 * against, from the Fabric-free protocol package. Every payload the edge signs names the
 * channel and chaincode it is for (protocol P1), from the config's `ledger`.
 */
export {
  ACTION_ACCEPT_ENROLLMENT,
  ACTION_SUBMIT_PERIOD,
  ACTION_WITHDRAW,
  DEFAULT_LEDGER_TARGET,
  enrollmentTerms,
  prosumerKeyType,
  signPayload,
  verifyPayloadSignature,
  type AcceptEnrollmentPayload,
  type EnrollmentTerms,
  type LedgerTarget,
  type SignedProsumerAction,
  type SubmitPeriodPayload,
  type WithdrawPayload,
} from '@flexproof/protocol';
