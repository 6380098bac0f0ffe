/**
 * The chaincode's prosumer signing helpers (canonical encoding, sign, verify), from its
 * Fabric-free client entry: the package root also loads fabric-contract-api, which costs
 * 200 ms and prints its decorator logs on stdout. Every payload the edge signs names the
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
  type SignedAction,
  type SubmitPeriodPayload,
  type WithdrawPayload,
} from '@flexproof/chaincode/client';
