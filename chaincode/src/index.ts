/**
 * Entry point loaded by `fabric-chaincode-node server` (package.json "main"): the
 * contracts this chaincode serves. The first one is the default contract.
 *
 * It also re-exports the names of the former client surface (client.ts, the protocol's
 * names) and the chaincode's own helpers, for the chaincode's tests; clients import
 * `@flexproof/protocol`, which does not load Fabric.
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
export * from './client';
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
