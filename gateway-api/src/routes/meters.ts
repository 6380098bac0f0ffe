import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { schemas } from '@flexproof/protocol';
import { relayed } from '../schemas/http';
import type { RouteOptions } from '../services/services';
import { ledgerRoute } from './ledger-route';

const tags = ['meters'];
const MeterParams = Type.Object({ meterId: schemas.Id });
const Meter = relayed(schemas.Meter);
const Reason = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

export const meterRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/meters',
    summary: 'Register a meter with its prosumer public key',
    tags,
    roles: ['dso'],
    transaction: 'registerMeter',
    created: true,
    body: schemas.RegisterMeterInput,
    argument: ({ body }) => body,
    response: Meter,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/meters/:meterId/suspend',
    summary: 'Suspend a meter',
    tags,
    roles: ['dso'],
    transaction: 'suspendMeter',
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
    transaction: 'reactivateMeter',
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
    transaction: 'getMeter',
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
    transaction: 'listMetersByCongestionPoint',
    params: Type.Object({ congestionPoint: schemas.Id }),
    argument: ({ params }) => ({ congestionPoint: params.congestionPoint }),
    response: relayed(schemas.MetersAtCongestionPoint, 'meters at a congestion point'),
  });

};
