/**
 * Requests and answers of the gateway routes the client calls, each the TypeScript type of
 * the protocol schema the route declares (gateway-api/src/routes: `body` and `response`),
 * so the client, the gateway and the chaincode read one definition. The names are the
 * client's own (EnrollmentRecord is schemas.Enrollment, MeterRecord schemas.Meter, ...),
 * kept so callers compile unchanged. Amounts and energies are decimal strings: token base
 * units and Wh, never floats.
 *
 * The gateway relays a ledger answer as the ledger gave it (its response schemas are
 * opened up, see gateway-api/src/schemas/http.ts `relayed`), so a record from a newer
 * chaincode may carry fields not named here; the ones named are the protocol's.
 */
import type { Static, TUnsafe } from '@sinclair/typebox';
import type * as schemas from '../schemas/index';

/**
 * @deprecated A ledger record with fields beyond the named ones; every answer is now a
 * protocol schema's type (see the names below). Kept for callers that still name it.
 */
export type LedgerRecord<T> = T & { [field: string]: unknown };

/** Answer of every route that submits a transaction: `{ txId, result }` (schemas.Submitted). */
export type Submitted<T> = Static<ReturnType<typeof schemas.Submitted<TUnsafe<T>>>>;

// ---- tokens -----------------------------------------------------------------------

export type MintInput = Static<typeof schemas.MintInput>;
export type BurnInput = Static<typeof schemas.BurnInput>;
export type TransferInput = Static<typeof schemas.TransferInput>;
/** Mint's and Burn's answer: the account and the amount. */
export type TokenMovement = Static<typeof schemas.TokenMovement>;
/** Transfer's answer: both accounts and the amount. */
export type TokenTransfer = Static<typeof schemas.TokenTransfer>;
export type AccountBalance = Static<typeof schemas.Account>;
export type TokenSupply = Static<typeof schemas.SupplyView>;
export type SupplyAudit = Static<typeof schemas.SupplyAudit>;
/** CompactBalances' answer: which accounts (or the supply) were folded, and how many deltas. */
export type Compaction = Static<typeof schemas.Compaction>;

// ---- meters -----------------------------------------------------------------------

export type RegisterMeterInput = Static<typeof schemas.RegisterMeterInput>;
export type MeterRecord = Static<typeof schemas.Meter>;

// ---- market -----------------------------------------------------------------------

export type CreateFlexRequestInput = Static<typeof schemas.CreateFlexRequestInput>;
/** The body of POST /v1/flex-requests/:requestId/offers: the transaction's input without the request id, which is in the path. */
export type SubmitFlexOfferInput = Omit<Static<typeof schemas.SubmitFlexOfferInput>, 'requestId'>;
export type FlexRequestRecord = Static<typeof schemas.FlexRequest>;
export type FlexOfferRecord = Static<typeof schemas.FlexOffer>;
export type FlexOrderRecord = Static<typeof schemas.FlexOrder>;
export type FlexRequestView = Static<typeof schemas.FlexRequestView>;
export type FlexOrderView = Static<typeof schemas.FlexOrderView>;

// ---- enrollments ------------------------------------------------------------------

export type OfferEnrollmentInput = Static<typeof schemas.OfferEnrollmentInput>;
export type EnrollmentRecord = Static<typeof schemas.Enrollment>;
export type EnrollmentList = Static<typeof schemas.EnrollmentList>;
export type PeriodResult = Static<typeof schemas.PeriodResult>;
export type EnrollmentView = Static<typeof schemas.EnrollmentView>;
export type ClaimedPeriod = Static<typeof schemas.ClaimedPeriod>;

// ---- verification keys -------------------------------------------------------------

export type VerificationKeyRecord = Static<typeof schemas.VerificationKeyRecord>;
/** GET /v1/verification-keys: every record without its key (fetch one for the key). */
export type VerificationKeyList = Static<typeof schemas.VerificationKeyList>;
/**
 * What the edge routes answer for a verification key: the ledger's record reduced to the
 * four fields the edge checks (it recomputes keyHash from verificationKey).
 */
export type EdgeVerificationKey = Static<typeof schemas.EdgeVerificationKey>;

// ---- auditor keys -------------------------------------------------------------------

export type ProposeAuditorKeyInput = Static<typeof schemas.ProposeAuditorKeyInput>;
export type AuditorKeyRecord = Static<typeof schemas.AuditorKeyRecord>;
export type AuditorKeyList = Static<typeof schemas.AuditorKeyList>;
/** An auditor key as the edge route lists it: active ones only, four fields. */
export type EdgeAuditorKey = Static<typeof schemas.EdgeAuditorKeys>['keys'][number];

// ---- events ---------------------------------------------------------------------------

export type EventFilter = Static<typeof schemas.EventStreamQuery>;

/**
 * One server-sent event: `ready` first (the ledger stream is open), then one per chaincode
 * event, `id` its block number and `data` its payload with `txId`. The stream's framing
 * is no JSON schema's (the route declares text/event-stream); each chaincode event's
 * payload is `schemas.CHAINCODE_EVENTS[event]`.
 */
export interface GatewayEvent {
  event: string;
  id?: string;
  data: unknown;
}

// ---- edge routes ------------------------------------------------------------------------

/** A prosumer-signed action as AcceptEnrollment or Withdraw takes it, relayed as signed. */
export type SignedAction = Static<typeof schemas.AcceptEnrollmentInput> | Static<typeof schemas.WithdrawInput>;
/**
 * The body of a period submission: the signed payload, the Groth16 proof and its public
 * signals. The proof is relayed as the site made it, so any object type is taken (snarkjs'
 * Groth16Proof is an interface, which an index-signature record does not accept).
 */
export type SubmitPeriodBody = Omit<Static<typeof schemas.SubmitPeriodInput>, 'proof'> & { proof: object };
/** The answer of a period submission: the settlement (or, `replayed`, the one recorded for this same body). */
export type PeriodSettlement = Static<typeof schemas.EdgePeriodOutcome>;
/** Withdraw's answer: the redemption recorded. */
export type Redemption = Static<typeof schemas.Redemption>;
/** A sealed period document as the store keeps it (the gateway never decrypts it). */
export type SealedPeriodDocument = Static<typeof schemas.SealedDocument>;
export type SealedPeriodDocuments = Static<typeof schemas.SealedDocuments>;
export type StoredPeriods = Static<typeof schemas.StoredPeriods>;
/**
 * The answer of a sealed upload: 201 created, or 200 unchanged for the very document
 * stored. (The route declares it inline, gateway-api/src/routes/edge.ts: no protocol
 * schema yet.)
 */
export interface SealedUploadAnswer {
  stored: 'created' | 'unchanged';
}

// ---- health ---------------------------------------------------------------------------

export type Readiness = Static<typeof schemas.Readiness>;
