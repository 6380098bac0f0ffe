/**
 * @flexproof/edge-client: the program at a prosumer site (CLI: dist/cli.js,
 * `flexproof-edge`), and its parts for tests and embedding.
 */
export { EdgeError, isEdgeError, type EdgeErrorCode } from './errors';
export {
  loadConfig,
  parseConfig,
  defaultTopic,
  ENV_OVERRIDES,
  ACCEPT_POLICY_TERMS,
  DEFAULT_GATEWAY_MSP_ID,
  DEFAULT_RATED_POWER_W,
  METER_FORMATS,
  type MeterFormat,
  type P1Config,
  type TasmotaConfig,
  type ShellyConfig,
  type AcceptPolicy,
  type BrokerUserConfig,
  type EdgeConfig,
  type EnrollmentConfig,
  type GatewayEntry,
} from './config';
export { decideAutoAccept, commitmentDifferences, policyRefusals, missingPolicyTerms, termsTable, type AcceptDecision, type TermRefusal } from './accept-policy';
export { checkLedgerKey, lookUpLedgerKey, localKeyHash, type LedgerKeyCheck } from './ledger-key';
export { acceptByHand, withdrawByHand } from './manual-actions';
export { createSiteKey, loadSiteKey, type SiteKey, type SiteKeyType } from './site-key';
export { createSealingKey, loadSealingKey, ensureSealingKey, SEALING_KEY_FILE, type SealingKey } from './sealing-key';
export { chooseRecipients, type RecipientChoice, type AuditorKeyRefusal } from './sealing-recipients';
export { readOwnPeriod, formatOwnPeriod, type OwnPeriodReadings } from './own-readings';
export { parseMeterMessage, checkOrder, formatMeterMessage, maxRegisterIncrease, MAX_MESSAGE_BYTES, REJECT_REASONS, type MeterReading, type ParsedMessage, type RejectReason } from './meter-message';
export { registerAt, exportRegisterAt, intervalEnergies, type PeriodEnergy } from './interval-energy';
export {
  meterDecoder,
  P1Source,
  TelegramFramer,
  parseDsmrTelegram,
  parseTasmotaSml,
  parseShelly,
  type MeterDecoder,
  type P1SourceOptions,
  type SerialPortLike,
} from './adapters';
export { intervalBoundaries, periodStartMs, periodEndMs, periodDeadlineMs, periodAt, PERIOD_COUNT, type PeriodTiming } from './period-clock';
export { ReadingLog, readRejectCounts, type RejectCounts } from './reading-log';
export {
  EdgeStateFile,
  type SealedPeriodRecord,
  type PeriodRecord,
  type PeriodStatus,
  type EdgeStateData,
  type EnrollmentHold,
  type EnrollmentState,
  type HoldCode,
} from './edge-state';
export { GatewayError, isRetryableStatus, type GatewayPort, type EnrollmentView, type LedgerVerificationKey, type PeriodOutcome, type AuditorKeyEntry, type StoredSealedPeriod } from './gateway-port';
export { HttpGateway } from './http-gateway';
export { FailoverGateway, type FailoverMember } from './failover-gateway';
export { edgeRequestHeaders, edgeSigningString, EDGE_HEADERS, EDGE_SIGNING_VERSION } from './edge-request-signing';
export { CircuitsProver, type CircuitsProverOptions, type ProverPort } from './prover';
export { provePeriod, periodFingerprintSalt, tamperWith } from './period-proof';
export { EnrollmentPipeline, GENESIS_FINGERPRINT } from './enrollment-pipeline';
export { EdgeNode, READINGS_FILE, STATE_FILE } from './edge-node';
export { MeterSubscription, mqttTlsOptions, type MqttTlsOptions, type MeterSource } from './meter-subscription';
export { startEmbeddedBroker, siteBrokerAccounts, type BrokerAccount, type EmbeddedBroker, type EmbeddedBrokerOptions } from './embedded-broker';
export { LoadModel, mulberry32 } from './load-model';
export { MeterSimulator } from './meter-simulator';
export { statusReport, formatStatus, type StatusReport } from './status-report';
export { jsonLogger, memoryLogger, silentLogger, type Logger, type LogFields } from './log';
// ---- issue 16 (enrollment packages): `flexproof-edge enroll PACKAGE`.
export {
  enrollFromPackage,
  formatEnrollResult,
  ledgerDifferences,
  writeSealingPublicKey,
  SEALING_PUBLIC_KEY_FILE,
  type EnrollFromPackageOptions,
  type EnrollResult,
  type EnrollRefusalReason,
} from './enrollment-package';
// `flexproof-edge artifacts install|show`: the verified install of a ceremony bundle.
export { INSTALLED_FILE, InstallRefused, installBundle, installedArtifacts, type LedgerKeyRecord } from './artifacts-install';
// The CLI in-process (argv in, exit code out), as bin/flexproof-edge.js runs it, so a
// test drives a command without a child process.
export { main as runEdgeCli } from './cli';
// For the unit tests only (test-only exports): the tasmota time parser, the broker's
// credential check and the reject-counts path, each checked on its own there.
export { zonedTime } from './adapters';
export { authenticateAccount } from './embedded-broker';
export { rejectCountsFile } from './reading-log';
// Also test-only: the pipeline's pure decision functions, under one
// name, so the index does not hand forty step helpers to embedders. Tests must take
// them from here rather than from src/, or GatewayError from dist and from src differ
// and the decisions' `instanceof` checks fail.
export * as pipelineDecisions from './pipeline-decisions';
