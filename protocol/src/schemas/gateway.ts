/**
 * The answers (and the one body) that are the gateway's own rather than the chaincode's:
 * what an edge reads to check keys, the outcome of a relayed period, and the sealed
 * documents the gateway stores. Here so the client and the gateway share them.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { SEALED_LIMITS, SEALED_PERIOD_ALG } from '../sealed-period';
import { Id, OpaqueObject, Strict } from './primitives';
import { PeriodResult } from './records';

/** Answer of every gateway route that submits a transaction. */
export function Submitted<T extends TSchema>(result: T) {
  return Type.Object({ txId: Type.String(), result }, Strict);
}

/**
 * What an edge client needs to check that its proving key matches the ledger's before it
 * accepts or submits (T4): the key registered for a circuit, with its hash.
 */
export const EdgeVerificationKey = Type.Object(
  {
    circuitId: Type.String(),
    status: Type.String({ description: 'proposed, active or retired' }),
    keyHash: Type.String({ description: "sha256 (hex) of the key's stable JSON (verificationKeyHash of @flexproof/protocol)" }),
    verificationKey: OpaqueObject({ description: 'the Groth16 verification key, as registered' }),
  },
  Strict,
);
export type EdgeVerificationKey = Static<typeof EdgeVerificationKey>;

/** The ledger's active auditor keys, as an edge needs them to seal (it recomputes each hash). */
export const EdgeAuditorKeys = Type.Object(
  {
    keys: Type.Array(
      Type.Object(
        {
          auditorId: Type.String(),
          publicKeyPem: Type.String({ description: 'EC P-256 public key, SPKI PEM' }),
          keyHash: Type.String({ description: 'sha256 (hex) of the DER SPKI, as the ledger holds it' }),
          status: Type.Literal('active'),
        },
        Strict,
      ),
    ),
  },
  Strict,
);
export type EdgeAuditorKeys = Static<typeof EdgeAuditorKeys>;

/** A relayed period's answer: SubmitPeriod's outcome, its transaction, and whether it was a replay. */
export const EdgePeriodOutcome = Type.Object(
  {
    outcome: Type.Union([Type.Literal('verified'), Type.Literal('invalidProof')]),
    enrollmentId: Type.String(),
    periodIndex: Type.Integer(),
    result: PeriodResult,
    txId: Type.String(),
    replayed: Type.Boolean({ description: 'true when this same submission had already settled the period' }),
  },
  Strict,
);
export type EdgePeriodOutcome = Static<typeof EdgePeriodOutcome>;

/** The length is in the pattern too, so a generator that follows the pattern (the route fuzz) meets it. */
const base64url = (description: string, maxLength: number, minLength = 1) =>
  Type.String({
    minLength,
    maxLength,
    pattern: minLength === maxLength ? `^[A-Za-z0-9_-]{${maxLength}}$` : `^[A-Za-z0-9_-]{${minLength},${maxLength}}$`,
    description: `${description} (base64url, no padding)`,
  });

/**
 * A sealed period document (RFC 7516 General JSON Serialization), as sealPeriod makes it.
 * The schema documents and bounds it; checkSealedShape is the authority on the rest
 * (canonical base64url of the exact sizes, distinct kids, the protected header naming
 * the meter, enrollment and period it is uploaded for).
 */
export const SealedJwe = Type.Object(
  {
    protected: base64url('protected header {enc: A256GCM, cty: flexproof.period.v1, fpm: meterId, fpe: enrollmentId, fpp: periodIndex}', SEALED_LIMITS.maxProtectedChars),
    iv: base64url('96-bit AES-GCM nonce', 16, 16),
    ciphertext: base64url('the encrypted period document', SEALED_LIMITS.maxCiphertextChars),
    tag: base64url('AES-GCM tag', 22, 22),
    recipients: Type.Array(
      Type.Object(
        {
          header: Type.Object(
            {
              alg: Type.Literal(SEALED_PERIOD_ALG),
              kid: Type.String({ pattern: '^[0-9a-f]{64}$', description: "sha256 (hex) of the recipient key's DER SPKI" }),
              epk: Type.Object(
                { kty: Type.Literal('EC'), crv: Type.Literal('P-256'), x: base64url('x', 43, 43), y: base64url('y', 43, 43) },
                Strict,
              ),
            },
            Strict,
          ),
          encrypted_key: base64url('the content key wrapped for this recipient (AES key wrap)', 54, 54),
        },
        Strict,
      ),
      { minItems: 1, maxItems: SEALED_LIMITS.maxRecipients, description: "the prosumer's own key and each auditor key it seals to" },
    ),
  },
  { ...Strict, description: 'JWE General JSON Serialization: ECDH-ES+A256KW per recipient, A256GCM content' },
);

/** The body of an edge's upload of a sealed period. */
export const SealedUpload = Type.Object({ jwe: SealedJwe }, Strict);
export type SealedUpload = Static<typeof SealedUpload>;

/** A stored document as the owning meter and auditors get it. The JWE is passed on as stored. */
export const SealedDocument = Type.Object(
  {
    enrollmentId: Type.String(),
    periodIndex: Type.Integer(),
    jwe: Type.Unknown({ description: 'the sealed document (JWE General JSON Serialization) as stored' }),
    contentHash: Type.String({ description: 'sha256 (hex) of the JWE’s sorted-key JSON, as recorded by the store' }),
    uploadedAt: Type.String(),
  },
  Strict,
);
export const SealedDocuments = Type.Object({ meterId: Type.String(), enrollmentId: Type.String(), periods: Type.Array(SealedDocument) }, Strict);
export type SealedDocuments = Static<typeof SealedDocuments>;

/** Which periods of an enrollment have a stored document, with its hash (no document). */
export const StoredPeriods = Type.Object(
  {
    enrollmentId: Type.String(),
    meterId: Type.String(),
    periods: Type.Array(Type.Object({ periodIndex: Type.Integer(), contentHash: Type.String(), uploadedAt: Type.String() }, Strict)),
  },
  Strict,
);
export type StoredPeriods = Static<typeof StoredPeriods>;

/** The query of the event stream (GET /v1/events): filters and the block to replay from. */
export const EventStreamQuery = Type.Object(
  {
    enrollmentId: Type.Optional(Id),
    meterId: Type.Optional(Id),
    fromBlock: Type.Optional(Type.String({ pattern: '^[0-9]{1,19}$', description: 'replay from this block (the `id` of a message)' })),
  },
  Strict,
);
export type EventStreamQuery = Static<typeof EventStreamQuery>;

/** GET /readyz: whether the peer (through the chaincode) and the sealed-period store answer. */
export const Readiness = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('not ready')]),
    checks: Type.Object({
      ledger: Type.Union([Type.Literal('up'), Type.Literal('down')]),
      store: Type.Union([Type.Literal('up'), Type.Literal('down')]),
    }),
  },
  Strict,
);
export type Readiness = Static<typeof Readiness>;
