/**
 * The chaincode's prosumer signing helpers (canonical encoding, sign, verify), from its
 * Fabric-free client entry: the package root also loads fabric-contract-api, which costs
 * 200 ms and prints its decorator logs on stdout.
 */
export {
  ACTION_ACCEPT_ENROLLMENT,
  ACTION_SUBMIT_PERIOD,
  enrollmentTerms,
  prosumerKeyType,
  signPayload,
  verifyPayloadSignature,
  type AcceptEnrollmentPayload,
  type EnrollmentTerms,
  type SignedAction,
  type SubmitPeriodPayload,
} from '@flexproof/chaincode/client';
