import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { TX } from '../ledger/transactions';
import { cc, errorResponses } from '../schemas/http';
import { auditEnrollment, type LedgerPeriod } from '../services/audit';
import type { RouteOptions } from '../services/services';

const Verdict = Type.Union(
  [Type.Literal('match'), Type.Literal('mismatch'), Type.Literal('missingData'), Type.Literal('notVerified')],
  { description: 'notVerified: the ledger holds no fingerprint for the period (unsettled, missed or invalid proof)' },
);

const AuditReport = Type.Object(
  {
    enrollmentId: Type.String(),
    meterId: Type.String(),
    summary: Type.Object({
      match: Type.Integer(),
      mismatch: Type.Integer(),
      missingData: Type.Integer(),
      notVerified: Type.Integer(),
    }),
    periods: Type.Array(
      Type.Object({
        periodIndex: Type.Integer(),
        verdict: Verdict,
        outcome: Type.Union([Type.String(), Type.Null()]),
        ledgerFingerprint: Type.Optional(Type.String()),
        recomputedFingerprint: Type.Optional(Type.String()),
      }),
    ),
  },
  { additionalProperties: false },
);

export const auditRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  app.get(
    '/enrollments/:enrollmentId/audit',
    {
      schema: {
        summary: "Recompute each period's fingerprint from the stored raw readings and compare it with the ledger",
        description:
          'Roles: auditor, dso, aggregator. The answer holds verdicts and fingerprints only, no reading (raw readings: auditors, GET /v1/meters/{meterId}/readings).',
        tags: ['audit'],
        security: [{ bearer: [] }],
        params: Type.Object({ enrollmentId: cc.Id }),
        response: { 200: AuditReport, ...errorResponses(404, 422) },
      },
      onRequest: services.guards.org('auditor', 'dso', 'aggregator'),
    },
    async (request) => {
      const { enrollmentId } = request.params as { enrollmentId: string };
      const view = (await services.ledger.evaluate(TX.getEnrollment, { enrollmentId })) as {
        enrollment: { enrollmentId: string; meterId: string };
        periods: LedgerPeriod[];
      };
      const stored = await services.store.listPeriods(view.enrollment.meterId, enrollmentId);
      return auditEnrollment(view.enrollment, view.periods, stored, await services.fingerprint());
    },
  );
};
