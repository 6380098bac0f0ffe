// @flexproof/auditor: the tamper audit of sealed period documents, run with the auditor's
// own private key (the library behind the flexproof-audit command).

export { auditSealedEnrollment, auditPassed, circuitShapeOf, VERDICTS, FAILING_VERDICTS } from './audit';
export type {
  Verdict,
  FingerprintFn,
  AuditCircuits,
  LedgerPeriod,
  SealedDocument,
  PeriodAudit,
  EnrollmentAudit,
  SealedAuditInput,
  UnreadableReason,
} from './audit';
// The two reads of an audit, through the protocol's GatewayClient, with their answers checked.
export { AUDIT_RETRY, readEnrollmentView, readSealedPeriods, enrollmentViewOf, sealedPeriodsOf } from './ledger-answers';
export type { EnrollmentLedgerView, StoredSealedPeriod } from './ledger-answers';
export { runAuditCli, formatAudit, HELP, EXIT_PASSED, EXIT_FAILED, EXIT_USAGE } from './cli';
export type { CliIo } from './cli';
