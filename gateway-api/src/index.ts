export { connectToPeer, type FabricConnection, type FabricIdentityConfig } from './fabric/connect';
export {
  readNetworkDescriptor,
  identityOf,
  type NetworkDescriptor,
  type OrgDescriptor,
} from './fabric/network-descriptor';
export { buildApp, type AppDependencies } from './app';
export { ApiError, toHttpError, statusOfChaincodeCode } from './errors';
export { loadConfig, ConfigError, SETTINGS, ORG_DEFAULTS, MAX_BATCH_ITEMS, type GatewayConfig } from './config';
export { startGateway, type GatewayInstance } from './instance';
// toLedgerError for the ledger adapter's unit tests (test-only), which map Fabric errors with it.
export { FabricLedger, toLedgerError } from './ledger/fabric-ledger';
export type { LedgerPort, LedgerEvent, EventFilter, SubmitOptions, SubmitOutcome } from './ledger/ledger-port';
export { eventMatches } from './ledger/ledger-port';
export { expandBatchEvent, isBatchEvent } from './ledger/batch-events';
export {
  PeriodSubmissions,
  DEFAULT_PERIOD_BATCHING,
  type PeriodBatchingOptions,
  type PeriodOutcome,
  type PeriodLog,
  type SubmitPeriodInput,
} from './services/period-submissions';
export { GatewayMetrics, FLUSH_REASONS, type FlushReason } from './metrics';
export { IdempotentLedger, IdempotencyKeyReused } from './ledger/idempotent-ledger';
export { ChaincodeRefusal, CommitRejected, LedgerContended, LedgerUnavailable, isReadConflict, parseChaincodeMessage } from './ledger/ledger-errors';
export { TX, type TransactionName } from './ledger/transactions';
export { CouchSealedStore, type CouchStoreOptions } from './store/couch-store';
export { startEmbeddedCouch, lockDataDirectory, type EmbeddedCouch } from './store/embedded-couch';
export {
  StoreConflict,
  StoreUnavailable,
  meterDatabaseName,
  periodDocumentId,
  type SealedPeriodStore,
  type SealedPeriodDocument,
  type SealedPeriodInput,
} from './store/sealed-periods';
export {
  STORE_CREDENTIALS_FILE,
  EMBEDDED_STORE_ADMIN,
  storeCredentialsPath,
  readEmbeddedStoreCredentials,
  urlWithCredentials,
  type StoreCredentials,
} from './store/store-credentials';
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
export { SEALED_UPLOAD_BODY_LIMIT } from './routes/sealed-periods';
export { tamperWithSealedDocument, type SealedTamper, type SealedDocumentPlace } from './test-support';
