/**
 * What the edge client needs from the gateway (edge API, prefix /v1/edge). The real
 * adapter is HttpGateway; unit tests use a fake. Bodies of signed actions are passed as
 * text, so a retry resends the identical bytes.
 */
import type { SealedPeriodJwe, schemas } from '@flexproof/protocol';

/** The period outcome the gateway returns (resubmitting the same body returns the recorded one). */
export interface PeriodOutcome {
  outcome: string;
  enrollmentId: string;
  periodIndex: number;
  txId?: string;
  replayed?: boolean;
  result?: Record<string, unknown>;
}

/** The ledger's view of an enrollment (chaincode GetEnrollment), the fields the edge reads. */
export interface EnrollmentView {
  enrollment: {
    enrollmentId: string;
    orderId?: string;
    meterId: string;
    prosumerId: string;
    circuitId: string;
    requestCommitment: string;
    reward?: string;
    ratePerWh?: string;
    toleranceWh?: string;
    flexWh?: string[];
    startTime: string;
    periodSeconds: number;
    graceSeconds: number;
    status: string;
    chainHead?: string;
  } & Record<string, unknown>;
  periods?: { periodIndex: number; result: ({ outcome: string; submissionHash?: string; txId?: string } & Record<string, unknown>) | null }[];
  nextPeriod?: number | null;
}

/**
 * The verification key the ledger holds for an enrollment's circuit (protocol P4,
 * GET /v1/edge/enrollments/:id/verification-key): the chaincode's GetVerificationKey record.
 */
export interface LedgerVerificationKey {
  circuitId: string;
  /** proposed, active, retired... only an active key verifies submissions. */
  status: string;
  /** sha256 hex of the key's canonical JSON (chaincode verificationKeyHash). */
  keyHash: string;
  verificationKey: unknown;
}

/**
 * An auditor key as the ledger holds it (chaincode ListAuditorKeys, through
 * GET /v1/edge/auditor-keys). The edge trusts none of it blindly: it recomputes keyHash
 * from publicKeyPem (sealing-recipients.ts).
 */
export type AuditorKeyEntry = Pick<schemas.AuditorKeyRecord, 'auditorId' | 'publicKeyPem' | 'keyHash' | 'status'>;

/** A sealed period document as the store keeps it (the gateway never decrypts it). */
export interface StoredSealedPeriod {
  enrollmentId: string;
  periodIndex: number;
  /** The JWE (General JSON Serialization) as uploaded. */
  jwe: unknown;
  /** sha256 hex of the canonical JSON of jwe. */
  contentHash: string;
  uploadedAt: string;
}

export interface GatewayPort {
  getEnrollment(enrollmentId: string): Promise<EnrollmentView>;
  /** `body`: JSON text of the signed AcceptEnrollment. */
  acceptEnrollment(enrollmentId: string, body: string): Promise<unknown>;
  /** `body`: JSON text of the signed SubmitPeriod with proof and public signals. */
  submitPeriod(enrollmentId: string, periodIndex: number, body: string): Promise<PeriodOutcome>;
  /**
   * PUT /v1/edge/meters/:meterId/periods/:periodIndex/sealed?enrollmentId=E with { jwe }:
   * 'created', or 'unchanged' when the store holds this very document; a different one is
   * a 409 (GatewayError). The JWE is ciphertext: no reading or salt is in the request.
   */
  uploadSealedPeriod(meterId: string, enrollmentId: string, periodIndex: number, jwe: SealedPeriodJwe): Promise<{ stored: 'created' | 'unchanged' }>;
  /** GET /v1/edge/auditor-keys: the auditor keys the ledger holds as active (checked by the caller). */
  getAuditorKeys(): Promise<{ keys: AuditorKeyEntry[] }>;
  /** GET /v1/edge/meters/:meterId/sealed-periods?enrollmentId=E: this site's sealed documents (ciphertext). */
  getSealedPeriods(meterId: string, enrollmentId: string): Promise<{ meterId: string; periods: StoredSealedPeriod[] }>;
  /** The ledger's key for the enrollment's circuit (only for an enrollment of this meter). */
  getVerificationKey(enrollmentId: string): Promise<LedgerVerificationKey>;
  /** `body`: JSON text of the signed Withdraw. */
  withdraw(body: string): Promise<unknown>;
}

/**
 * A failed gateway call. `retryable`: the link, the gateway or the ledger is down, or the
 * request timed out (network error, 408, 429, 5xx): try again later with the same body.
 * Otherwise the gateway refused the request for good (other 4xx).
 */
export class GatewayError extends Error {
  readonly status: number | undefined;
  readonly code: string;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly txId: string | undefined;

  constructor(init: { status?: number; code: string; message: string; retryable: boolean; retryAfterMs?: number; txId?: string; cause?: unknown }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'GatewayError';
    this.status = init.status;
    this.code = init.code;
    this.retryable = init.retryable;
    this.retryAfterMs = init.retryAfterMs;
    this.txId = init.txId;
  }
}

/** HTTP statuses worth retrying: the request may succeed later unchanged. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
