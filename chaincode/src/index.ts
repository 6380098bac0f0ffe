/**
 * Entry point loaded by `fabric-chaincode-node server` (package.json "main"): the
 * contracts this chaincode serves. The first one is the default contract.
 */
import { SystemContract } from './system-contract';

export { SystemContract } from './system-contract';
export { ChaincodeError, parseErrorCode } from './errors';
export const contracts: unknown[] = [SystemContract];
