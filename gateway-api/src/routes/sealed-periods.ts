/**
 * Sealed period documents (issue 12, S6, T9). The gateway stores and hands out
 * ciphertext: it checks a document's shape and that it names the place it is uploaded
 * to (checkSealedShape), never opens one, and never logs one. Who gets what:
 *   the owning meter (edge routes)   its own documents, to open with its sealing key
 *   auditors                          the documents, to open offline with their own key
 *   dso, aggregator, auditor          which periods have a document, and its hash
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { schemas } from '@flexproof/protocol';
import { evaluate } from '../ledger/transactions';
import { errorResponses } from '../schemas/http';
import type { RouteOptions, Services } from '../services/services';

const strict = { additionalProperties: false } as const;

/** The upload's JWE and body: the protocol's (schemas.SealedJwe, checked further by checkSealedShape). */
export const SealedJweSchema = schemas.SealedJwe;
export const SealedUpload = schemas.SealedUpload;
export type SealedUploadBody = schemas.SealedUpload;

/**
 * Largest body of an upload: the largest JWE checkSealedShape accepts (64 KiB of
 * ciphertext, 16 recipients) with room to spare, far below the general body limit.
 */
export const SEALED_UPLOAD_BODY_LIMIT = 128 * 1024;

export const SealedDocuments = schemas.SealedDocuments;
const StoredPeriods = schemas.StoredPeriods;

export const EnrollmentQuery = Type.Object({ enrollmentId: schemas.Id }, strict);

export async function sealedDocumentsOf(services: Services, meterId: string, enrollmentId: string): Promise<schemas.SealedDocuments> {
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
export const sealedPeriodRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get(
    '/meters/:meterId/sealed-periods',
    {
      schema: {
        summary: "A meter's sealed period documents of one enrollment (ciphertext), for an auditor to open with its own key",
        description:
          'Roles: auditor. The documents as stored; the gateway cannot open them. An auditor opens its own entry with its private key, offline (flexproof-audit).',
        tags: ['audit'],
        security: [{ bearer: [] }],
        params: Type.Object({ meterId: schemas.Id }),
        querystring: EnrollmentQuery,
        response: { 200: SealedDocuments, ...errorResponses(404) },
      },
      onRequest: services.guards.org('auditor'),
    },
    async (request) => {
      return sealedDocumentsOf(services, request.params.meterId, request.query.enrollmentId);
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
        params: Type.Object({ enrollmentId: schemas.Id }),
        response: { 200: StoredPeriods, ...errorResponses(404, 422) },
      },
      onRequest: services.guards.org('dso', 'aggregator', 'auditor'),
    },
    async (request) => {
      const { enrollmentId } = request.params;
      const view = await evaluate(services.ledger, 'getEnrollment', { enrollmentId });
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
