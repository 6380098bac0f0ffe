import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { TX } from '../ledger/transactions';
import { cc, Record_ } from '../schemas/http';
import type { RouteOptions } from '../services/services';
import { ledgerRoute } from './ledger-route';

const tags = ['market'];
const FlexRequest = Record_('flexibility request', { requestId: Type.String(), status: Type.String() });
const FlexOffer = Record_('flexibility offer', { offerId: Type.String(), requestId: Type.String(), status: Type.String() });
const FlexOrder = Record_('flexibility order', { orderId: Type.String(), offerId: Type.String(), status: Type.String() });

export const marketRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/flex-requests',
    summary: 'Ask for flexibility at a congestion point on a day (Wh per hourly ISP)',
    tags,
    roles: ['dso'],
    transaction: TX.createFlexRequest,
    kind: 'submit',
    created: true,
    body: cc.CreateFlexRequestInput,
    argument: ({ body }) => body,
    response: FlexRequest,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/flex-requests/:requestId/close',
    summary: 'Stop taking offers for a request',
    tags,
    roles: ['dso'],
    transaction: TX.closeFlexRequest,
    kind: 'submit',
    params: Type.Object({ requestId: cc.Id }),
    argument: ({ params }) => ({ requestId: params.requestId }),
    response: FlexRequest,
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/flex-requests/:requestId',
    summary: 'A request with its offers and orders',
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: TX.getFlexRequest,
    kind: 'evaluate',
    params: Type.Object({ requestId: cc.Id }),
    argument: ({ params }) => ({ requestId: params.requestId }),
    response: Record_('request, offers and orders', {
      request: FlexRequest,
      offers: Type.Array(FlexOffer),
      orders: Type.Array(FlexOrder),
    }),
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/flex-requests/:requestId/offers',
    summary: 'Offer flexibility for a request (Wh per ISP, price in token base units)',
    tags,
    roles: ['aggregator'],
    transaction: TX.submitFlexOffer,
    kind: 'submit',
    created: true,
    params: Type.Object({ requestId: cc.Id }),
    body: Type.Omit(cc.SubmitFlexOfferInput, ['requestId']),
    argument: ({ params, body }) => ({ ...body, requestId: params.requestId }),
    response: FlexOffer,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/flex-offers/:offerId/order',
    summary: 'Accept an offer as an order (the price moves into escrow)',
    tags,
    roles: ['dso'],
    transaction: TX.acceptFlexOffer,
    kind: 'submit',
    created: true,
    params: Type.Object({ offerId: cc.Id }),
    body: Type.Object({ orderId: cc.Id }, { additionalProperties: false }),
    argument: ({ params, body }) => ({ orderId: body.orderId, offerId: params.offerId }),
    response: FlexOrder,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/flex-orders/:orderId/settle',
    summary: 'Settle an order from the verified deviations of its enrollments',
    tags,
    roles: ['dso', 'aggregator'],
    transaction: TX.settleFlexOrder,
    kind: 'submit',
    params: Type.Object({ orderId: cc.Id }),
    argument: ({ params }) => ({ orderId: params.orderId }),
    response: FlexOrder,
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/flex-orders/:orderId',
    summary: 'An order with the ids and status of its enrollments',
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: TX.getFlexOrder,
    kind: 'evaluate',
    params: Type.Object({ orderId: cc.Id }),
    argument: ({ params }) => ({ orderId: params.orderId }),
    response: Record_('order and enrollments', { order: FlexOrder, enrollments: Type.Array(Record_('enrollment summary')) }),
  });
};
