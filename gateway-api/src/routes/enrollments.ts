import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { schemas } from '@flexproof/protocol';
import { PeriodIndexParam, relayed } from '../schemas/http';
import type { RouteOptions } from '../services/services';
import { ledgerRoute } from './ledger-route';

const tags = ['enrollments'];
const EnrollmentParams = Type.Object({ enrollmentId: schemas.Id });
/** Most offers or deposits in one batch transaction (the chaincode's own bound). */
export const MAX_FUNDING_BATCH = schemas.MAX_FUNDING_BATCH;
const Enrollment = relayed(schemas.Enrollment);
const Enrollments = (description: string) => relayed(schemas.EnrollmentList, description);

export const enrollmentRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/enrollments',
    summary: 'Offer an enrollment of a meter under an order (the prosumer accepts it from its edge client)',
    tags,
    roles: ['aggregator'],
    transaction: 'offerEnrollment',
    created: true,
    body: schemas.OfferEnrollmentInput,
    argument: ({ body }) => body,
    response: Enrollment,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/enrollments/batch',
    summary: `Offer up to ${MAX_FUNDING_BATCH} enrollments in one transaction; all or none (a refusal names \`offers[i]\`)`,
    tags,
    roles: ['aggregator'],
    transaction: 'offerEnrollments',
    created: true,
    body: Type.Object(
      { offers: Type.Array(schemas.OfferEnrollmentInput, { minItems: 1, maxItems: MAX_FUNDING_BATCH, description: 'each as POST /v1/enrollments takes it' }) },
      { additionalProperties: false },
    ),
    argument: ({ body }) => ({ offers: body.offers }),
    response: Enrollments('the enrollments offered, in the order of the offers'),
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/enrollments/deposits',
    summary: `Fund up to ${MAX_FUNDING_BATCH} accepted enrollments in one transaction (one debit of the total); all or none`,
    tags,
    roles: ['aggregator'],
    transaction: 'depositRewards',
    body: Type.Object(
      { enrollmentIds: Type.Array(schemas.Id, { minItems: 1, maxItems: MAX_FUNDING_BATCH, uniqueItems: true }) },
      { additionalProperties: false },
    ),
    argument: ({ body }) => ({ enrollmentIds: body.enrollmentIds }),
    response: Enrollments('the enrollments funded, now active'),
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/enrollments/:enrollmentId/cancel',
    summary: 'Withdraw an enrollment that is not funded yet',
    tags,
    roles: ['aggregator'],
    transaction: 'cancelEnrollment',
    params: EnrollmentParams,
    argument: ({ params }) => ({ enrollmentId: params.enrollmentId }),
    response: Enrollment,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/enrollments/:enrollmentId/fund',
    summary: 'Deposit the reward into the enrollment escrow; the program starts',
    tags,
    roles: ['aggregator'],
    transaction: 'depositReward',
    params: EnrollmentParams,
    argument: ({ params }) => ({ enrollmentId: params.enrollmentId }),
    response: Enrollment,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/enrollments/:enrollmentId/periods/:periodIndex/claim',
    summary: "Claim a period nobody submitted before its deadline (its share of the reward)",
    tags,
    roles: ['aggregator'],
    transaction: 'claimMissedPeriod',
    params: Type.Object({ enrollmentId: schemas.Id, periodIndex: PeriodIndexParam }),
    argument: ({ params }) => ({ enrollmentId: params.enrollmentId, periodIndex: Number(params.periodIndex) }),
    response: relayed(schemas.ClaimedPeriod),
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/enrollments/:enrollmentId/close',
    summary: 'Close an enrollment whose periods are all settled; the rest of the escrow goes to the prosumer',
    tags,
    roles: ['dso', 'aggregator'],
    transaction: 'closeEnrollment',
    params: EnrollmentParams,
    argument: ({ params }) => ({ enrollmentId: params.enrollmentId }),
    response: Enrollment,
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/enrollments/:enrollmentId',
    summary: 'An enrollment with each period (end, deadline, result), its escrow and the next period due',
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: 'getEnrollment',
    params: EnrollmentParams,
    argument: ({ params }) => ({ enrollmentId: params.enrollmentId }),
    response: relayed(schemas.EnrollmentView),
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/enrollments/:enrollmentId/history',
    summary: 'Every committed version of an enrollment',
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: 'getEnrollmentHistory',
    params: EnrollmentParams,
    argument: ({ params }) => ({ enrollmentId: params.enrollmentId }),
    response: relayed(schemas.EnrollmentHistory, 'enrollment history'),
  });
};
