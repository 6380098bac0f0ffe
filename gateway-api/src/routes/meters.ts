import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { TX } from '../ledger/transactions';
import { cc, Meter, Record_ } from '../schemas/http';
import type { RouteOptions } from '../services/services';
import { ledgerRoute } from './ledger-route';

const tags = ['meters'];
const MeterParams = Type.Object({ meterId: cc.Id });
const Reason = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

export const meterRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/meters',
    summary: 'Register a meter with its prosumer public key',
    tags,
    roles: ['dso'],
    transaction: TX.registerMeter,
    kind: 'submit',
    created: true,
    body: cc.RegisterMeterInput,
    argument: ({ body }) => body,
    response: Meter,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/meters/:meterId/suspend',
    summary: 'Suspend a meter',
    tags,
    roles: ['dso'],
    transaction: TX.suspendMeter,
    kind: 'submit',
    params: MeterParams,
    body: Reason,
    argument: ({ params, body }) => ({ meterId: params.meterId, reason: body.reason }),
    response: Meter,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/meters/:meterId/reactivate',
    summary: 'Reactivate a suspended meter',
    tags,
    roles: ['dso'],
    transaction: TX.reactivateMeter,
    kind: 'submit',
    params: MeterParams,
    body: Reason,
    argument: ({ params, body }) => ({ meterId: params.meterId, reason: body.reason }),
    response: Meter,
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/meters/:meterId',
    summary: 'A meter',
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: TX.getMeter,
    kind: 'evaluate',
    params: MeterParams,
    argument: ({ params }) => ({ meterId: params.meterId }),
    response: Meter,
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/congestion-points/:congestionPoint/meters',
    summary: 'The meters at a congestion point',
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: TX.listMetersByCongestionPoint,
    kind: 'evaluate',
    params: Type.Object({ congestionPoint: cc.Id }),
    argument: ({ params }) => ({ congestionPoint: params.congestionPoint }),
    response: Record_('meters at a congestion point', { congestionPoint: Type.String(), meters: Type.Array(Meter) }),
  });

};
