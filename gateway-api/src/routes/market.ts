import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { schemas } from '@flexproof/protocol';
import { relayed } from '../schemas/http';
import type { RouteOptions } from '../services/services';
import { ledgerRoute } from './ledger-route';

const tags = ['market'];
const FlexRequest = relayed(schemas.FlexRequest);
const FlexOffer = relayed(schemas.FlexOffer);
const FlexOrder = relayed(schemas.FlexOrder);

export const marketRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/flex-requests',
    summary: 'Ask for flexibility at a congestion point on a day (Wh per hourly ISP)',
    tags,
    roles: ['dso'],
    transaction: 'createFlexRequest',
    created: true,
    body: schemas.CreateFlexRequestInput,
    argument: ({ body }) => body,
    response: FlexRequest,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/flex-requests/:requestId/close',
    summary: 'Stop taking offers for a request',
    tags,
    roles: ['dso'],
    transaction: 'closeFlexRequest',
    params: Type.Object({ requestId: schemas.Id }),
    argument: ({ params }) => ({ requestId: params.requestId }),
    response: FlexRequest,
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/flex-requests/:requestId',
    summary: 'A request with its offers and orders',
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: 'getFlexRequest',
    params: Type.Object({ requestId: schemas.Id }),
    argument: ({ params }) => ({ requestId: params.requestId }),
    response: relayed(schemas.FlexRequestView),
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/flex-requests/:requestId/offers',
    summary: 'Offer flexibility for a request (Wh per ISP, price in token base units)',
    tags,
    roles: ['aggregator'],
    transaction: 'submitFlexOffer',
    created: true,
    params: Type.Object({ requestId: schemas.Id }),
    body: Type.Omit(schemas.SubmitFlexOfferInput, ['requestId']),
    argument: ({ params, body }) => ({ ...body, requestId: params.requestId }),
    response: FlexOffer,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/flex-offers/:offerId/order',
    summary: 'Accept an offer as an order (the price moves into escrow)',
    tags,
    roles: ['dso'],
    transaction: 'acceptFlexOffer',
    created: true,
    params: Type.Object({ offerId: schemas.Id }),
    body: Type.Object({ orderId: schemas.Id }, { additionalProperties: false }),
    argument: ({ params, body }) => ({ orderId: body.orderId, offerId: params.offerId }),
    response: FlexOrder,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/flex-orders/:orderId/settle',
    summary: 'Settle an order from the verified deviations of its enrollments',
    tags,
    roles: ['dso', 'aggregator'],
    transaction: 'settleFlexOrder',
    params: Type.Object({ orderId: schemas.Id }),
    argument: ({ params }) => ({ orderId: params.orderId }),
    response: FlexOrder,
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/flex-orders/:orderId',
    summary: 'An order with the ids and status of its enrollments',
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: 'getFlexOrder',
    params: Type.Object({ orderId: schemas.Id }),
    argument: ({ params }) => ({ orderId: params.orderId }),
    response: relayed(schemas.FlexOrderView),
  });
};
