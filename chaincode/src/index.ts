/**
 * Entry point loaded by `fabric-chaincode-node server` (package.json "main"): the
 * contracts this chaincode serves. The first one is the default contract.
 *
 * Also the library surface for clients (edge client, gateway, tests): error codes,
 * the signing helpers prosumers use, schemas and record types. Those modules import
 * nothing from Fabric.
 */
import { MarketContract } from './contracts/market-contract';
import { MetersContract } from './contracts/meters-contract';
import { ProgramsContract } from './contracts/programs-contract';
import { TokensContract } from './contracts/tokens-contract';
import { VerifiersContract } from './contracts/verifiers-contract';
import { SystemContract } from './system-contract';

export { SystemContract } from './system-contract';
export { MetersContract } from './contracts/meters-contract';
export { TokensContract } from './contracts/tokens-contract';
export { MarketContract } from './contracts/market-contract';
export { ProgramsContract } from './contracts/programs-contract';
export { VerifiersContract } from './contracts/verifiers-contract';
export { ChaincodeError, CHAINCODE_ERROR_CODES, parseErrorCode, type ChaincodeErrorCode } from './errors';
export * from './signing';
export * from './model';
export * as schemas from './schemas';
export { stableStringify } from './stable-json';
export { verificationKeyHash } from './rules/verifiers';
export { orgAccount, prosumerAccount, enrollmentEscrow, orderEscrow } from './rules/accounts';
export {
  CircuitsProofVerifier,
  ProofInputError,
  type DecodedPublicSignals,
  type ProofVerifier,
} from './verifier-port';

export const contracts: unknown[] = [
  SystemContract,
  MetersContract,
  TokensContract,
  MarketContract,
  ProgramsContract,
  VerifiersContract,
];
