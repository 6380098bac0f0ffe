/**
 * Entry point loaded by `fabric-chaincode-node server` (package.json "main"): the
 * contracts this chaincode serves. The first one is the default contract.
 *
 * It also exports the chaincode's own helpers (its error class, sealing-key checks,
 * proof-verifier port, settings), for the chaincode's tests. Every name a client needs
 * (record types, prosumer signing, error codes, settings parsers) is
 * `@flexproof/protocol`'s, which does not load Fabric: import it from there.
 */
import { AuditorsContract } from './contracts/auditors-contract';
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
export { AuditorsContract } from './contracts/auditors-contract';
export { ChaincodeError, parseErrorCode } from './errors';
export { canonicalSealingKeyPem, sealingKeyHash } from './sealing-keys';
// The schemas the contracts check with (the protocol's, through schemas.ts).
export { schemas } from './schemas';
export {
  CircuitsProofVerifier,
  CircuitsVerificationKeyValidator,
  ProofInputError,
  VerificationKeyError,
  type DecodedPublicSignals,
  type ProofBatchItem,
  type ProofBatchVerdict,
  type ProofVerifier,
  type VerificationKeyValidator,
} from './verifier-port';
export { SYSTEM_PEER_CLOCK, type PeerClock } from './peer-clock';
export { CHAINCODE_NAME, MAX_BATCH_ITEMS, MAX_CLOCK_SKEW_SECONDS } from './server-settings';

export const contracts: unknown[] = [
  SystemContract,
  MetersContract,
  TokensContract,
  MarketContract,
  ProgramsContract,
  VerifiersContract,
  AuditorsContract,
];
