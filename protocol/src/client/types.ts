/**
 * Requests and answers of the gateway routes the client calls, as the gateway's route
 * schemas declare them (gateway-api/src/routes, schemas/http.ts; transaction inputs are
 * the chaincode's schemas). Ledger records carry more fields than the ones named here
 * (the chaincode's model.ts); the named ones are those the routes guarantee.
 * Amounts and energies are decimal strings: token base units and Wh, never floats.
 */

/** A ledger record: the named fields, and whatever else the chaincode's model holds. */
export type LedgerRecord<T> = T & { [field: string]: unknown };

/** Answer of every route that submits a transaction. */
export interface Submitted<T> {
  txId: string;
  result: T;
}

// ---- tokens -----------------------------------------------------------------------

export interface MintInput {
  /** `org:<MSP id>`, or a prosumer or escrow account. */
  account: string;
  /** Positive integer, token base units. */
  amount: string;
}
export type BurnInput = MintInput;
export interface TransferInput {
  to: string;
  amount: string;
}
export type TokenMovement = LedgerRecord<{ amount: string }>;
export type AccountBalance = LedgerRecord<{ accountId: string; balance: string }>;
export type TokenSupply = LedgerRecord<{ minted: string; burned: string; outstanding: string }>;
export type SupplyAudit = LedgerRecord<{ minted: string; burned: string; balances: string; accounts: number; imbalance: string }>;

// ---- meters -----------------------------------------------------------------------

export interface RegisterMeterInput {
  meterId: string;
  prosumerId: string;
  /** The prosumer's public key (SPKI PEM, Ed25519 or EC P-256). */
  publicKeyPem: string;
  congestionPoint: string;
  authorization?: { payload: Record<string, unknown>; signature: string };
}
export type MeterRecord = LedgerRecord<{
  meterId: string;
  prosumerId: string;
  publicKeyPem: string;
  keyType: string;
  congestionPoint: string;
  /** active, suspended or excluded */
  status: string;
  /** Last nonce accepted from the prosumer. */
  nonce: string;
}>;

// ---- market -----------------------------------------------------------------------

export interface CreateFlexRequestInput {
  requestId: string;
  congestionPoint: string;
  /** YYYY-MM-DD */
  day: string;
  /** 24 values, Wh per hourly period. */
  requestedWh: string[];
}
export interface SubmitFlexOfferInput {
  offerId: string;
  offeredWh: string[];
  /** Token base units. */
  price: string;
}
export type FlexRequestRecord = LedgerRecord<{ requestId: string; status: string }>;
export type FlexOfferRecord = LedgerRecord<{ offerId: string; requestId: string; status: string }>;
export type FlexOrderRecord = LedgerRecord<{ orderId: string; offerId: string; status: string }>;
export interface FlexRequestView {
  request: FlexRequestRecord;
  offers: FlexOfferRecord[];
  orders: FlexOrderRecord[];
  [field: string]: unknown;
}
export interface FlexOrderView {
  order: FlexOrderRecord;
  enrollments: LedgerRecord<Record<string, never>>[];
  [field: string]: unknown;
}

// ---- enrollments ------------------------------------------------------------------

export interface OfferEnrollmentInput {
  enrollmentId: string;
  orderId: string;
  meterId: string;
  circuitId: string;
  /** Poseidon commitment to the request profile and its salt, a field element (decimal). */
  requestCommitment: string;
  reward: string;
  ratePerWh: string;
  toleranceWh: string;
  flexWh: string[];
  /** ISO 8601 UTC. */
  startTime: string;
  periodSeconds?: number;
  graceSeconds?: number;
}
export type EnrollmentRecord = LedgerRecord<{
  enrollmentId: string;
  orderId: string;
  meterId: string;
  prosumerId: string;
  circuitId: string;
  requestCommitment: string;
  reward: string;
  ratePerWh: string;
  toleranceWh: string;
  flexWh: string[];
  startTime: string;
  periodSeconds: number;
  graceSeconds: number;
  /** offered, accepted, active, excluded, closed or cancelled */
  status: string;
  chainHead: string;
}>;
export type PeriodResult = LedgerRecord<{ outcome: string; periodIndex: number; txId: string }>;
export interface EnrollmentView {
  enrollment: EnrollmentRecord;
  periods: LedgerRecord<{ periodIndex: number; endTime: string; deadline: string; result: PeriodResult | null }>[];
  escrow: string;
  nextPeriod: number | null;
  [field: string]: unknown;
}
export type ClaimedPeriod = LedgerRecord<{ outcome: string; periodIndex: number }>;

// ---- verification keys -------------------------------------------------------------

export type VerificationKeyRecord = LedgerRecord<{
  circuitId: string;
  keyHash: string;
  /** proposed, active or retired */
  status: string;
}>;

/**
 * What the edge routes answer for a verification key: the ledger's record reduced to the
 * four fields the edge checks (it recomputes keyHash from verificationKey).
 */
export interface EdgeVerificationKey {
  circuitId: string;
  /** proposed, active or retired: only an active key verifies submissions. */
  status: string;
  /** sha256 hex of the key's canonical JSON (canonicalVerificationKeyHash). */
  keyHash: string;
  verificationKey: Record<string, unknown>;
}

// ---- auditor keys -------------------------------------------------------------------

export interface ProposeAuditorKeyInput {
  auditorId: string;
  publicKeyPem: string;
  description?: string;
}
export type AuditorKeyRecord = LedgerRecord<{ auditorId: string; publicKeyPem: string; keyHash: string; status: string }>;
/** An auditor key as the edge route lists it: active ones only, these four fields. */
export interface EdgeAuditorKey {
  auditorId: string;
  /** EC P-256, SPKI PEM. */
  publicKeyPem: string;
  /** sha256 hex of the DER SPKI, as the ledger holds it (the edge recomputes it). */
  keyHash: string;
  status: 'active';
}

// ---- events ---------------------------------------------------------------------------

export interface EventFilter {
  enrollmentId?: string;
  meterId?: string;
  /** Replay from this block (the `id` of an earlier event). */
  fromBlock?: string;
}

/**
 * One server-sent event: `ready` first (the ledger stream is open), then one per chaincode
 * event, `id` its block number and `data` its payload with `txId`.
 */
export interface GatewayEvent {
  event: string;
  id?: string;
  data: unknown;
}

// ---- edge routes ------------------------------------------------------------------------

/** A prosumer-signed action, relayed as signed: the client never reads the payload. */
export interface SignedAction {
  payload: object;
  signature: string;
}
export interface SubmitPeriodBody extends SignedAction {
  /** The Groth16 proof (snarkjs form), relayed as the site made it. */
  proof: object;
  publicSignals: readonly string[];
}
/** The answer of a period submission: the settlement (or, `replayed`, the one recorded for this same body). */
export interface PeriodSettlement extends Submitted<Record<string, unknown>> {
  /** verified or invalidProof */
  outcome: string;
  enrollmentId: string;
  periodIndex: number;
  replayed: boolean;
}
/** A sealed period document as the store keeps it (the gateway never decrypts it). */
export interface SealedPeriodDocument {
  enrollmentId: string;
  periodIndex: number;
  /** The JWE (General JSON Serialization) as uploaded. */
  jwe: unknown;
  /** sha256 hex of the canonical JSON of jwe. */
  contentHash: string;
  uploadedAt: string;
}
export interface SealedPeriodDocuments {
  meterId: string;
  enrollmentId: string;
  periods: SealedPeriodDocument[];
}
export interface StoredPeriods {
  enrollmentId: string;
  meterId: string;
  periods: { periodIndex: number; contentHash: string; uploadedAt: string }[];
}

// ---- health ---------------------------------------------------------------------------

export interface Readiness {
  status: 'ready' | 'not ready';
  /** `up` or `down` per dependency. */
  checks: { ledger: string; store: string };
}
