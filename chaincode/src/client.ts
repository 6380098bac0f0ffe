/**
 * The part of the chaincode package that clients use (edge client, gateway, demo, tests):
 * record types, error codes, the prosumer signing helpers, argument schemas and account
 * names. Nothing here imports Fabric, so loading it neither pulls in
 * fabric-contract-api nor logs its decorator registrations. Import it as
 * `@flexproof/chaincode/client`.
 */
export { ChaincodeError, CHAINCODE_ERROR_CODES, parseErrorCode, type ChaincodeErrorCode } from './errors';
export * from './signing';
export * from './model';
export * as schemas from './schemas';
export { stableStringify } from './stable-json';
export { verificationKeyHash } from './rules/verifiers';
export {
  DEFAULT_CHAINCODE_NAME,
  DEFAULT_MAX_CLOCK_SKEW_SECONDS,
  chaincodeNameFrom,
  maxClockSkewSecondsFrom,
} from './settings';
export { orgAccount, prosumerAccount, enrollmentEscrow, orderEscrow } from './rules/accounts';
