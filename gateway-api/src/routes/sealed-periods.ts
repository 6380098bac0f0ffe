/**
 * Sealed period documents (issue 12, S6, T9). The gateway stores and hands out
 * ciphertext: it checks a document's shape and that it names the place it is uploaded
 * to (checkSealedShape), never opens one, and never logs one. Who gets what:
 *   the owning meter (edge routes)   its own documents, to open with its sealing key
 *   auditors                          the documents, to open offline with their own key
 *   dso, aggregator, auditor          which periods have a document, and its hash
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { SEALED_LIMITS, SEALED_PERIOD_ALG } from '@flexproof/protocol';
import { TX } from '../ledger/transactions';
import { cc, errorResponses } from '../schemas/http';
import type { RouteOptions, Services } from '../services/services';

/** The length is in the pattern too, so a generator that follows the pattern (the route fuzz) meets it. */
const base64url = (description: string, maxLength: number, minLength = 1) =>
  Type.String({
    minLength,
    maxLength,
    pattern: minLength === maxLength ? `^[A-Za-z0-9_-]{${maxLength}}$` : `^[A-Za-z0-9_-]{${minLength},${maxLength}}$`,
    description: `${description} (base64url, no padding)`,
  });
const strict = { additionalProperties: false } as const;

/**
 * The upload's JWE (RFC 7516 General JSON Serialization), as @flexproof/protocol's
 * sealPeriod makes it. The schema documents and bounds it; checkSealedShape is the
 * authority on the rest (canonical base64url of the exact sizes, distinct kids, the
 * protected header naming this meter, enrollment and period).
 */
export const SealedJweSchema = Type.Object(
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
                strict,
              ),
            },
            strict,
          ),
          encrypted_key: base64url('the content key wrapped for this recipient (AES key wrap)', 54, 54),
        },
        strict,
      ),
      { minItems: 1, maxItems: SEALED_LIMITS.maxRecipients, description: "the prosumer's own key and each auditor key it seals to" },
    ),
  },
  { ...strict, description: 'JWE General JSON Serialization: ECDH-ES+A256KW per recipient, A256GCM content' },
);

export const SealedUpload = Type.Object({ jwe: SealedJweSchema }, strict);
export type SealedUploadBody = Static<typeof SealedUpload>;

/**
 * Largest body of an upload: the largest JWE checkSealedShape accepts (64 KiB of
 * ciphertext, 16 recipients) with room to spare, far below the general body limit.
 */
export const SEALED_UPLOAD_BODY_LIMIT = 128 * 1024;

/** A stored document as the owning meter and auditors get it. The JWE is passed on as stored. */
const SealedDocument = Type.Object(
  {
    enrollmentId: Type.String(),
    periodIndex: Type.Integer(),
    jwe: Type.Unknown({ description: 'the sealed document (JWE General JSON Serialization) as stored' }),
    contentHash: Type.String({ description: 'sha256 (hex) of the JWE’s sorted-key JSON, as recorded by the store' }),
    uploadedAt: Type.String(),
  },
  strict,
);

export const SealedDocuments = Type.Object(
  { meterId: Type.String(), enrollmentId: Type.String(), periods: Type.Array(SealedDocument) },
  strict,
);

const StoredPeriods = Type.Object(
  {
    enrollmentId: Type.String(),
    meterId: Type.String(),
    periods: Type.Array(
      Type.Object({ periodIndex: Type.Integer(), contentHash: Type.String(), uploadedAt: Type.String() }, strict),
    ),
  },
  strict,
);

export const EnrollmentQuery = Type.Object({ enrollmentId: cc.Id }, strict);

export async function sealedDocumentsOf(services: Services, meterId: string, enrollmentId: string): Promise<Static<typeof SealedDocuments>> {
  const documents = await services.store.listSealedPeriods(meterId, enrollmentId);
  return {
    meterId,
    enrollmentId,
    periods: documents.map((d) => ({
      enrollmentId: d.enrollmentId,
      periodIndex: d.periodIndex,
      jwe: d.jwe,
      contentHash: d.contentHash,
      uploadedAt: d.uploadedAt,
    })),
  };
}

/** Organisation routes over the store. */
export const sealedPeriodRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  app.get(
    '/meters/:meterId/sealed-periods',
    {
      schema: {
        summary: "A meter's sealed period documents of one enrollment (ciphertext), for an auditor to open with its own key",
        description:
          'Roles: auditor. The documents as stored; the gateway cannot open them. An auditor opens its own entry with its private key, offline (flexproof-audit).',
        tags: ['audit'],
        security: [{ bearer: [] }],
        params: Type.Object({ meterId: cc.Id }),
        querystring: EnrollmentQuery,
        response: { 200: SealedDocuments, ...errorResponses(404) },
      },
      onRequest: services.guards.org('auditor'),
    },
    async (request) => {
      const { meterId } = request.params as { meterId: string };
      const { enrollmentId } = request.query as { enrollmentId: string };
      return sealedDocumentsOf(services, meterId, enrollmentId);
    },
  );

  app.get(
    '/enrollments/:enrollmentId/stored-periods',
    {
      schema: {
        summary: 'Which periods of an enrollment have a sealed document in the store, with its content hash',
        description: 'Roles: dso, aggregator, auditor. Existence and hash only: no document.',
        tags: ['audit'],
        security: [{ bearer: [] }],
        params: Type.Object({ enrollmentId: cc.Id }),
        response: { 200: StoredPeriods, ...errorResponses(404, 422) },
      },
      onRequest: services.guards.org('dso', 'aggregator', 'auditor'),
    },
    async (request) => {
      const { enrollmentId } = request.params as { enrollmentId: string };
      const view = (await services.ledger.evaluate(TX.getEnrollment, { enrollmentId })) as { enrollment: { meterId: string } };
      const meterId = view.enrollment.meterId;
      const documents = await services.store.listSealedPeriods(meterId, enrollmentId);
      return {
        enrollmentId,
        meterId,
        periods: documents.map((d) => ({ periodIndex: d.periodIndex, contentHash: d.contentHash, uploadedAt: d.uploadedAt })),
      };
    },
  );
};
