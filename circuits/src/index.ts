// @flexproof/circuits: the hourly deviation proof (v1 consumption, v2 signed net energy), for the edge client (proving) and the
// chaincode (verification). Importing this module loads snarkjs and poseidon-lite, never
// the circom compiler: building artifacts runs in a child process.

export { CircuitError, isCircuitError } from './errors';
export type { CircuitErrorCode, CircuitErrorOptions } from './errors';
export {
  SCALAR_FIELD_ORDER,
  BASE_FIELD_ORDER,
  PERIODS_PER_DAY,
  READING_BITS,
  ENERGY_BITS,
  MAX_READING,
  MAX_PERIOD_ENERGY,
  PUBLIC_SIGNAL_NAMES,
  NET_PROFILE_BITS,
  NET_PROFILE_OFFSET,
  MIN_NET_REQUEST,
  MAX_NET_REQUEST,
  NET_COMPARE_BITS,
} from './constants';
export type { PublicSignalName } from './constants';
export { CIRCUIT_IDS, SMALL_CIRCUIT_ID, SMALL_NET_CIRCUIT_ID, circuitShape, isCircuitId, assertCircuitId } from './circuit-ids';
export type { CircuitId, CircuitKind, CircuitShape } from './circuit-ids';
export type { IntegerLike } from './field';
export {
  requestCommitment,
  fingerprint,
  periodDeviation,
  randomSalt,
  deriveSalt,
  poseidon,
  encodeNetRequest,
  decodeNetRequest,
  encodeNetProfile,
  netRequestCommitment,
  netFingerprint,
  netPeriodDeviation,
  requestCommitmentFor,
  fingerprintFor,
  periodDeviationFor,
} from './hashing';
export type { PeriodDeviation, PeriodChainParams } from './hashing';
export { buildDeviationInput, expectedPublicSignals, buildNetDeviationInput, expectedNetPublicSignals } from './witness';
export type { DeviationInput, DeviationWitnessParams, NetDeviationInput, NetDeviationWitnessParams, AnyDeviationInput } from './witness';
export { PUBLIC_SIGNAL_COUNT, checkPublicSignals, decodePublicSignals, encodePublicSignals } from './public-signals';
export type { DeviationPublicSignals } from './public-signals';
export { checkProof, checkVerificationKey, canonicalSubmission, submissionHash, parseSubmission } from './proof-format';
export type { Groth16Proof, VerificationKey, G1Point, G2Point } from './proof-format';
export { proveDeviation } from './prove';
export type { DeviationProof } from './prove';
export { verifyDeviationProof } from './verify';
export {
  prepareVerificationKey,
  verifyPrepared,
  verifyDeviationProofPrepared,
  verifyBatch,
  verifyBatchDetailed,
  batchCoefficients,
} from './prepared-verify';
export type { PreparedVerificationKey, BatchItem, BatchVerdict } from './prepared-verify';
export { validateVerificationKey } from './verification-key';
export {
  cacheRoot,
  artifactsDir,
  loadArtifacts,
  loadArtifactsFrom,
  ensureArtifacts,
  checkArtifactIntegrity,
  readVerificationKey,
} from './artifacts';
export type { ArtifactFile, ArtifactManifest, CircuitArtifacts, CacheOptions, EnsureOptions, SetupProgress } from './artifacts';
export { circuitSourceHash } from './circuit-source';
export {
  BUNDLE_FORMAT,
  BUNDLE_MANIFEST_FILE,
  BUNDLE_FILES,
  readBundle,
  replaceDirectory,
  writeBundle,
  bundleCheckoutProblems,
  verificationKeyOfZkey,
} from './bundle';
export type { BundleManifest, BundleContribution, BundleBeacon, BundleSource, BundleRole, BundleFileName, CeremonyBundle } from './bundle';
export { MANIFEST_FILE, sha256File } from './artifacts';
// The ceremony's contribution rules, so a check of a snarkjs report (the ceremony
// tests' among them) uses the parser the ceremony CLI uses.
export { contributionsFromReport, contributorProblem, describeContributions, MIN_CONTRIBUTORS } from './setup/contributions';
export type { Contribution } from './setup/contributions';
