/**
 * Routes for edge clients (prosumer sites), authenticated by the meter's signature
 * (auth/edge-signature.ts). A meter acts only on its own data. Prosumer actions carry
 * the prosumer's own signature over the chaincode payload: the gateway relays them and
 * could not forge them; the chaincode verifies them.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { checkSealedShape, isSealedDataError, schemas, type SealedPeriodJwe } from '@flexproof/protocol';
import { requireOwnMeter } from '../auth/guards';
import { ApiError } from '../errors';
import { ChaincodeRefusal } from '../ledger/ledger-errors';
import { evaluate, submit } from '../ledger/transactions';
import { errorResponses, PeriodIndexParam, relayed, Submitted } from '../schemas/http';
import type { PeriodOutcome as PeriodOutcomeOfService } from '../services/period-submissions';
import type { RouteOptions, Services } from '../services/services';
import { StoreConflict } from '../store/sealed-periods';
import { EnrollmentQuery, SEALED_UPLOAD_BODY_LIMIT, SealedDocuments, SealedUpload, sealedDocumentsOf } from './sealed-periods';

const tags = ['edge'];
const security = [{ edgeSignature: [] }];
/** Every edge route can also answer a replayed nonce (409) and a meter over its nonce budget (429). */
const edgeErrors = (...statuses: number[]) => errorResponses(409, 429, ...statuses);

/**
 * SubmitPeriod's answer as the gateway gives it: the protocol's EdgePeriodOutcome, typed
 * as loosely as services/period-submissions.ts types what it returns (PeriodOutcome).
 */
const PeriodOutcome = Type.Unsafe<PeriodOutcomeOfService>(relayed(schemas.EdgePeriodOutcome));
export const EdgeAuditorKeys = schemas.EdgeAuditorKeys;
export const EdgeVerificationKey = schemas.EdgeVerificationKey;

/** The edge guard and the rule that the enrollment belongs to the signing meter. */
async function ownEnrollment(services: Services, request: FastifyRequest, enrollmentId: string) {
  const view = await evaluate(services.ledger, 'getEnrollment', { enrollmentId });
  requireOwnMeter(request, view.enrollment.meterId);
  return view;
}

/** The four fields of a key record an edge checks (it recomputes keyHash from verificationKey). */
async function edgeVerificationKey(services: Services, circuitId: string) {
  const key = await evaluate(services.ledger, 'getVerificationKey', { circuitId });
  return { circuitId: key.circuitId, status: key.status, keyHash: key.keyHash, verificationKey: key.verificationKey };
}

export const edgeRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  const preValidation = services.guards.edge;

  app.post(
    '/enrollments/:enrollmentId/accept',
    {
      schema: {
        summary: 'Accept an enrollment (payload signed by the prosumer, relayed to AcceptEnrollment)',
        tags,
        security,
        params: Type.Object({ enrollmentId: schemas.Id }),
        body: schemas.AcceptEnrollmentInput,
        response: { 200: Submitted(relayed(schemas.Enrollment)), ...edgeErrors(404, 422) },
      },
      preValidation,
    },
    async (request) => {
      const { enrollmentId } = request.params;
      const body = request.body;
      if (body.payload.enrollmentId !== enrollmentId) {
        throw new ApiError(400, 'BAD_INPUT', 'body.payload.enrollmentId: differs from the path');
      }
      requireOwnMeter(request, body.payload.meterId);
      try {
        return await submit(services.ledger, 'acceptEnrollment', body, {
          idempotencyKey: `acceptEnrollment\n${enrollmentId}\n${body.payload.nonce}\n${body.signature}`,
        });
      } catch (err) {
        if (!(err instanceof ChaincodeRefusal && (err.code === 'REPLAY' || err.code === 'CONFLICT'))) throw err;
        // A retry of an acceptance that committed: answer with the recorded acceptance.
        const recorded = await recordedAcceptance(services, enrollmentId);
        if (!recorded) throw err;
        return recorded;
      }
    },
  );

  app.post(
    '/enrollments/:enrollmentId/periods/:periodIndex',
    {
      schema: {
        summary: "Submit a period's proof (signed by the prosumer, relayed to SubmitPeriod); settles once",
        description:
          'Resubmitting the identical signed period returns the recorded outcome (`replayed: true`); another submission for a settled period is a 409. Under load the gateway settles concurrent periods of different enrollments together in one SubmitPeriods transaction; each request still gets its own period\'s answer, as SubmitPeriod would give it.',
        tags,
        security,
        params: Type.Object({ enrollmentId: schemas.Id, periodIndex: PeriodIndexParam }),
        body: schemas.SubmitPeriodInput,
        response: { 200: PeriodOutcome, ...edgeErrors(404, 422) },
      },
      preValidation,
    },
    async (request) => {
      const { enrollmentId, periodIndex } = request.params;
      const body = request.body;
      if (body.payload.enrollmentId !== enrollmentId) {
        throw new ApiError(400, 'BAD_INPUT', 'body.payload.enrollmentId: differs from the path');
      }
      if (body.payload.periodIndex !== Number(periodIndex)) {
        throw new ApiError(400, 'BAD_INPUT', 'body.payload.periodIndex: differs from the path');
      }
      requireOwnMeter(request, body.payload.meterId);
      return services.periods.settle(body);
    },
  );

  app.put(
    '/meters/:meterId/periods/:periodIndex/sealed',
    {
      schema: {
        summary: "Store a period's sealed document (JWE, ciphertext only) off-chain, once; the identical document again is accepted",
        description:
          'The JWE must name this meter, enrollment and period in its protected header (fpm, fpe, fpp); the enrollment must be the meter’s. A different document for a stored period is a 409: documents are never replaced.',
        tags,
        security,
        params: Type.Object({ meterId: schemas.Id, periodIndex: PeriodIndexParam }),
        querystring: EnrollmentQuery,
        body: SealedUpload,
        response: {
          200: Type.Object({ stored: Type.Literal('unchanged') }),
          201: Type.Object({ stored: Type.Literal('created') }),
          ...edgeErrors(404),
        },
      },
      bodyLimit: Math.min(SEALED_UPLOAD_BODY_LIMIT, services.bodyLimit),
      preValidation,
    },
    async (request, reply) => {
      const { meterId, periodIndex } = request.params;
      const { enrollmentId } = request.query;
      const body = request.body;
      requireOwnMeter(request, meterId);
      const place = { meterId, enrollmentId, periodIndex: Number(periodIndex) };
      let jwe: SealedPeriodJwe;
      try {
        jwe = checkSealedShape(body.jwe, place);
      } catch (err) {
        // The field and rule only: the checker never puts a document's value in them.
        // Indices as in the gateway's other messages: body.jwe.recipients.0.encrypted_key.
        if (isSealedDataError(err)) {
          throw new ApiError(400, 'BAD_INPUT', `body.${(err.field ?? 'jwe').replace(/\[([0-9]+)\]/g, '.$1')}: ${err.rule}`);
        }
        throw err;
      }
      const view = await evaluate(services.ledger, 'getEnrollment', { enrollmentId });
      if (view.enrollment.meterId !== meterId) {
        throw new ApiError(403, 'FORBIDDEN', `enrollment ${enrollmentId} is not an enrollment of meter ${meterId}`);
      }
      try {
        const stored = await services.store.putSealedPeriod({ ...place, jwe });
        return reply.code(stored === 'created' ? 201 : 200).send({ stored });
      } catch (err) {
        if (err instanceof StoreConflict) throw new ApiError(409, 'CONFLICT', err.message);
        throw err;
      }
    },
  );

  app.get(
    '/enrollments/:enrollmentId',
    {
      schema: {
        summary: "The meter's own enrollment, with its periods and the next period due",
        tags,
        security,
        params: Type.Object({ enrollmentId: schemas.Id }),
        response: { 200: relayed(schemas.EnrollmentView), ...edgeErrors(404) },
      },
      preValidation,
    },
    async (request) => ownEnrollment(services, request, request.params.enrollmentId),
  );

  app.get(
    '/enrollments/:enrollmentId/verification-key',
    {
      schema: {
        summary: "The verification key the ledger holds for the circuit of the meter's own enrollment, with its hash",
        description:
          "The edge recomputes the hash of `verificationKey` and compares it with `keyHash` and with its own proving artifacts' key before it accepts the enrollment and before each submission.",
        tags,
        security,
        params: Type.Object({ enrollmentId: schemas.Id }),
        response: { 200: EdgeVerificationKey, ...edgeErrors(404) },
      },
      preValidation,
    },
    async (request) => {
      const view = await ownEnrollment(services, request, request.params.enrollmentId);
      return edgeVerificationKey(services, view.enrollment.circuitId);
    },
  );

  app.get(
    '/verification-keys/:circuitId',
    {
      schema: {
        summary: 'The verification key the ledger holds for a circuit id, with its hash',
        description:
          'For installing a ceremony bundle at a site (`flexproof-edge artifacts install`) before any enrollment names the circuit: the edge compares `keyHash` with the bundle\'s canonical key hash. Verification keys are public; any registered meter may read them.',
        tags,
        security,
        params: Type.Object({ circuitId: schemas.CircuitId }),
        response: { 200: EdgeVerificationKey, ...edgeErrors(404) },
      },
      preValidation,
    },
    async (request) => edgeVerificationKey(services, request.params.circuitId),
  );

  app.get(
    '/meters/:meterId',
    {
      schema: {
        summary: "The meter's own record (status, last accepted nonce)",
        tags,
        security,
        params: Type.Object({ meterId: schemas.Id }),
        response: { 200: relayed(schemas.Meter), ...edgeErrors(404) },
      },
      preValidation,
    },
    async (request) => {
      const { meterId } = request.params;
      requireOwnMeter(request, meterId);
      return evaluate(services.ledger, 'getMeter', { meterId });
    },
  );

  app.get(
    '/meters/:meterId/sealed-periods',
    {
      schema: {
        summary: "The meter's own sealed documents of one enrollment (to open with the prosumer's sealing key)",
        tags,
        security,
        params: Type.Object({ meterId: schemas.Id }),
        querystring: EnrollmentQuery,
        response: { 200: SealedDocuments, ...edgeErrors(404) },
      },
      preValidation,
    },
    async (request) => {
      const { meterId } = request.params;
      requireOwnMeter(request, meterId);
      // The meter's own database holds only what it uploaded itself: no ledger check needed.
      return sealedDocumentsOf(services, meterId, request.query.enrollmentId);
    },
  );

  app.get(
    '/auditor-keys',
    {
      schema: {
        summary: 'The auditor keys the ledger holds as active: the keys an edge seals to (besides its own)',
        description:
          "Relayed from the ledger (auditors:ListAuditorKeys). The edge recomputes each keyHash from publicKeyPem and refuses a key whose hash differs: it does not take the gateway's word for a key.",
        tags,
        security,
        response: { 200: EdgeAuditorKeys, ...edgeErrors() },
      },
      preValidation,
    },
    async () => {
      const { keys } = await evaluate(services.ledger, 'listAuditorKeys', {});
      return {
        keys: keys
          .filter((k) => k.status === 'active')
          .map((k) => ({ auditorId: k.auditorId, publicKeyPem: k.publicKeyPem, keyHash: k.keyHash, status: 'active' as const })),
      };
    },
  );

  app.post(
    '/withdrawals',
    {
      schema: {
        summary: "Withdraw (burn) tokens of the prosumer's account for off-chain redemption (signed, relayed to Withdraw)",
        tags,
        security,
        body: schemas.WithdrawInput,
        response: { 201: Submitted(relayed(schemas.Redemption)), ...edgeErrors(404, 422) },
      },
      preValidation,
    },
    async (request, reply) => {
      const body = request.body;
      requireOwnMeter(request, body.payload.meterId);
      const outcome = await submit(services.ledger, 'withdraw', body, {
        idempotencyKey: `withdraw\n${body.payload.meterId}\n${body.payload.nonce}\n${body.signature}`,
      });
      return reply.code(201).send({ txId: outcome.txId, result: outcome.result });
    },
  );
};

/** The acceptance of an enrollment as the ledger recorded it, if it was accepted. */
async function recordedAcceptance(services: Services, enrollmentId: string): Promise<{ txId: string; result: schemas.Enrollment } | undefined> {
  const { history } = await evaluate(services.ledger, 'getEnrollmentHistory', { enrollmentId });
  for (const h of history) if (h.value?.status === 'accepted') return { txId: h.txId, result: h.value };
  return undefined;
}
