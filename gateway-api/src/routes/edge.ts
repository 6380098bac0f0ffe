/**
 * Routes for edge clients (prosumer sites), authenticated by the meter's signature
 * (auth/edge-signature.ts). A meter acts only on its own data. Prosumer actions carry
 * the prosumer's own signature over the chaincode payload: the gateway relays them and
 * could not forge them; the chaincode verifies them.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { requireOwnMeter } from '../auth/guards';
import { ApiError } from '../errors';
import { ChaincodeRefusal } from '../ledger/ledger-errors';
import { TX } from '../ledger/transactions';
import { cc, Enrollment, EnrollmentView, errorResponses, Meter, PeriodIndexParam, Record_, Submitted } from '../schemas/http';
import { settlePeriod, type SubmitPeriodInput } from '../services/period-submissions';
import type { RouteOptions, Services } from '../services/services';
import { StoreConflict } from '../store/raw-readings';
import { StoredPeriods, storedPeriodsOf } from './readings';

const tags = ['edge'];
const security = [{ edgeSignature: [] }];
/** Every edge route can also answer a replayed nonce (409) and a meter over its nonce budget (429). */
const edgeErrors = (...statuses: number[]) => errorResponses(409, 429, ...statuses);
const MAX_READING = 2n ** 32n - 1n;

const PeriodOutcome = Type.Object(
  {
    outcome: Type.String({ description: 'verified or invalidProof' }),
    enrollmentId: Type.String(),
    periodIndex: Type.Integer(),
    result: Record_('the period result recorded on the ledger'),
    txId: Type.String(),
    replayed: Type.Boolean({ description: 'true when this same submission had already settled the period' }),
  },
  { additionalProperties: false },
);

const ReadingsUpload = Type.Object(
  {
    readings: Type.Array(Type.String({ pattern: '^(0|[1-9][0-9]{0,9})$' }), {
      minItems: 1,
      maxItems: 256,
      description: 'interval energies of the period, Wh, decimal strings below 2^32',
    }),
    fingerprintSalt: cc.FieldElement,
  },
  { additionalProperties: false },
);

/**
 * What an edge client needs to check that its proving key matches the ledger's before it
 * accepts or submits (T4): the key registered for the enrollment's circuit, with its hash.
 */
export const EdgeVerificationKey = Type.Object(
  {
    circuitId: Type.String(),
    status: Type.String({ description: 'proposed, active or retired' }),
    keyHash: Type.String({ description: "sha256 (hex) of the key's stable JSON (chaincode verificationKeyHash)" }),
    verificationKey: Type.Object({}, { additionalProperties: true, description: 'the Groth16 verification key, as registered' }),
  },
  { additionalProperties: false },
);

async function enrollmentView(services: Services, enrollmentId: string) {
  return (await services.ledger.evaluate(TX.getEnrollment, { enrollmentId })) as {
    enrollment: { enrollmentId: string; meterId: string; circuitId: string; status: string; acceptedAt?: string };
  } & Record<string, unknown>;
}

/** The edge guard and the rule that the enrollment belongs to the signing meter. */
async function ownEnrollment(services: Services, request: FastifyRequest, enrollmentId: string) {
  const view = await enrollmentView(services, enrollmentId);
  requireOwnMeter(request, view.enrollment.meterId);
  return view;
}

export const edgeRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  const preValidation = services.guards.edge;

  app.post(
    '/enrollments/:enrollmentId/accept',
    {
      schema: {
        summary: 'Accept an enrollment (payload signed by the prosumer, relayed to AcceptEnrollment)',
        tags,
        security,
        params: Type.Object({ enrollmentId: cc.Id }),
        body: cc.AcceptEnrollmentInput,
        response: { 200: Submitted(Enrollment), ...edgeErrors(404, 422) },
      },
      preValidation,
    },
    async (request) => {
      const { enrollmentId } = request.params as { enrollmentId: string };
      const body = request.body as Static<typeof cc.AcceptEnrollmentInput>;
      if (body.payload.enrollmentId !== enrollmentId) {
        throw new ApiError(400, 'BAD_INPUT', 'body.payload.enrollmentId: differs from the path');
      }
      requireOwnMeter(request, body.payload.meterId);
      try {
        const outcome = await services.ledger.submit(TX.acceptEnrollment, body, {
          idempotencyKey: `acceptEnrollment\n${enrollmentId}\n${body.payload.nonce}\n${body.signature}`,
        });
        return { txId: outcome.txId, result: outcome.result };
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
          'Resubmitting the identical signed period returns the recorded outcome (`replayed: true`); another submission for a settled period is a 409.',
        tags,
        security,
        params: Type.Object({ enrollmentId: cc.Id, periodIndex: PeriodIndexParam }),
        body: cc.SubmitPeriodInput,
        response: { 200: PeriodOutcome, ...edgeErrors(404, 422) },
      },
      preValidation,
    },
    async (request) => {
      const { enrollmentId, periodIndex } = request.params as { enrollmentId: string; periodIndex: string };
      const body = request.body as SubmitPeriodInput;
      if (body.payload.enrollmentId !== enrollmentId) {
        throw new ApiError(400, 'BAD_INPUT', 'body.payload.enrollmentId: differs from the path');
      }
      if (body.payload.periodIndex !== Number(periodIndex)) {
        throw new ApiError(400, 'BAD_INPUT', 'body.payload.periodIndex: differs from the path');
      }
      requireOwnMeter(request, body.payload.meterId);
      return settlePeriod(services.ledger, body);
    },
  );

  app.put(
    '/meters/:meterId/periods/:periodIndex/readings',
    {
      schema: {
        summary: "Store a period's raw readings and fingerprint salt off-chain (once; identical re-upload is accepted)",
        tags,
        security,
        params: Type.Object({ meterId: cc.Id, periodIndex: PeriodIndexParam }),
        querystring: Type.Object({ enrollmentId: cc.Id }, { additionalProperties: false }),
        body: ReadingsUpload,
        response: {
          200: Type.Object({ stored: Type.Literal('unchanged') }),
          201: Type.Object({ stored: Type.Literal('created') }),
          ...edgeErrors(404),
        },
      },
      preValidation,
    },
    async (request, reply) => {
      const { meterId, periodIndex } = request.params as { meterId: string; periodIndex: string };
      const { enrollmentId } = request.query as { enrollmentId: string };
      const body = request.body as { readings: string[]; fingerprintSalt: string };
      requireOwnMeter(request, meterId);
      const tooLarge = body.readings.findIndex((r) => BigInt(r) > MAX_READING);
      if (tooLarge >= 0) throw new ApiError(400, 'BAD_INPUT', `body.readings.${tooLarge}: must be below 2^32`);
      const view = await enrollmentView(services, enrollmentId);
      if (view.enrollment.meterId !== meterId) {
        throw new ApiError(403, 'FORBIDDEN', `enrollment ${enrollmentId} is not an enrollment of meter ${meterId}`);
      }
      try {
        const stored = await services.store.putPeriod({
          meterId,
          enrollmentId,
          periodIndex: Number(periodIndex),
          readings: body.readings,
          fingerprintSalt: body.fingerprintSalt,
        });
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
        params: Type.Object({ enrollmentId: cc.Id }),
        response: { 200: EnrollmentView, ...edgeErrors(404) },
      },
      preValidation,
    },
    async (request) => ownEnrollment(services, request, (request.params as { enrollmentId: string }).enrollmentId),
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
        params: Type.Object({ enrollmentId: cc.Id }),
        response: { 200: EdgeVerificationKey, ...edgeErrors(404) },
      },
      preValidation,
    },
    async (request) => {
      const view = await ownEnrollment(services, request, (request.params as { enrollmentId: string }).enrollmentId);
      const key = (await services.ledger.evaluate(TX.getVerificationKey, { circuitId: view.enrollment.circuitId })) as {
        circuitId: string;
        status: string;
        keyHash: string;
        verificationKey: Record<string, unknown>;
      };
      return { circuitId: key.circuitId, status: key.status, keyHash: key.keyHash, verificationKey: key.verificationKey };
    },
  );

  app.get(
    '/meters/:meterId',
    {
      schema: {
        summary: "The meter's own record (status, last accepted nonce)",
        tags,
        security,
        params: Type.Object({ meterId: cc.Id }),
        response: { 200: Meter, ...edgeErrors(404) },
      },
      preValidation,
    },
    async (request) => {
      const { meterId } = request.params as { meterId: string };
      requireOwnMeter(request, meterId);
      return services.ledger.evaluate(TX.getMeter, { meterId });
    },
  );

  app.get(
    '/meters/:meterId/readings',
    {
      schema: {
        summary: "The meter's own stored raw readings",
        tags,
        security,
        params: Type.Object({ meterId: cc.Id }),
        querystring: Type.Object({ enrollmentId: Type.Optional(cc.Id) }, { additionalProperties: false }),
        response: { 200: StoredPeriods, ...edgeErrors(404) },
      },
      preValidation,
    },
    async (request) => {
      const { meterId } = request.params as { meterId: string };
      requireOwnMeter(request, meterId);
      return storedPeriodsOf(services, meterId, (request.query as { enrollmentId?: string }).enrollmentId);
    },
  );

  app.post(
    '/withdrawals',
    {
      schema: {
        summary: "Withdraw (burn) tokens of the prosumer's account for off-chain redemption (signed, relayed to Withdraw)",
        tags,
        security,
        body: cc.WithdrawInput,
        response: { 201: Submitted(Record_('redemption')), ...edgeErrors(404, 422) },
      },
      preValidation,
    },
    async (request, reply) => {
      const body = request.body as Static<typeof cc.WithdrawInput>;
      requireOwnMeter(request, body.payload.meterId);
      const outcome = await services.ledger.submit(TX.withdraw, body, {
        idempotencyKey: `withdraw\n${body.payload.meterId}\n${body.payload.nonce}\n${body.signature}`,
      });
      return reply.code(201).send({ txId: outcome.txId, result: outcome.result });
    },
  );
};

/** The acceptance of an enrollment as the ledger recorded it, if it was accepted. */
async function recordedAcceptance(services: Services, enrollmentId: string): Promise<{ txId: string; result: unknown } | undefined> {
  const history = (await services.ledger.evaluate(TX.getEnrollmentHistory, { enrollmentId })) as {
    history: { txId: string; value: { status?: string } | null }[];
  };
  const accepted = history.history.find((h) => h.value?.status === 'accepted');
  if (!accepted) return undefined;
  return { txId: accepted.txId, result: accepted.value };
}
