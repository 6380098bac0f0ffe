export { connectToPeer, type FabricConnection, type FabricIdentityConfig } from './fabric/connect';
export {
  readNetworkDescriptor,
  identityOf,
  type NetworkDescriptor,
  type OrgDescriptor,
} from './fabric/network-descriptor';
export { buildApp, type AppDependencies } from './app';
export { ApiError, toHttpError, statusOfChaincodeCode } from './errors';
export { loadConfig, ConfigError, SETTINGS, ORG_DEFAULTS, type GatewayConfig } from './config';
export { startGateway, loadFingerprint, type GatewayInstance } from './instance';
export { FabricLedger } from './ledger/fabric-ledger';
export type { LedgerPort, LedgerEvent, EventFilter, SubmitOptions, SubmitOutcome } from './ledger/ledger-port';
export { eventMatches } from './ledger/ledger-port';
export { ChaincodeRefusal, CommitRejected, LedgerUnavailable, parseChaincodeMessage } from './ledger/ledger-errors';
export { TX, type TransactionName } from './ledger/transactions';
export { CouchReadingsStore } from './store/couch-store';
export { startEmbeddedCouch, type EmbeddedCouch } from './store/embedded-couch';
export { StoreConflict, StoreUnavailable, meterDatabaseName, type RawReadingsStore, type PeriodReadings, type PeriodReadingsInput } from './store/raw-readings';
export { hashToken, newToken, type TokenEntry, type OrgRole } from './auth/bearer-tokens';
export {
  EDGE_HEADERS,
  EDGE_SIGNING_VERSION,
  edgeSigningString,
  signEdgeRequest,
  verifyEdgeSignature,
  sha256Hex,
  type EdgeRequestParts,
} from './auth/edge-signature';
export {
  FileNonceStore,
  MemoryNonceStore,
  NonceLimitReached,
  NONCE_LOG_FILE,
  DEFAULT_MAX_NONCES,
  DEFAULT_MAX_NONCES_PER_METER,
  type EdgeNonceStore,
  type NonceVerdict,
} from './auth/nonce-store';
export { MAX_JSON_DEPTH, parseJsonBody } from './json-body';
export { auditEnrollment, type FingerprintFn, type EnrollmentAudit } from './services/audit';
export { tamperWithStoredReadings } from './test-support';
