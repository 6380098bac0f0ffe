/**
 * Auditor sealing keys (issue 12, S5): the P-256 public keys edges seal raw period data
 * to, governed like verification keys (one organisation proposes, the other approves
 * naming the key hash; retirement likewise). The chaincode is the authority; the edge
 * reads the active keys through GET /v1/edge/auditor-keys and recomputes each hash.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { schemas } from '@flexproof/protocol';
import { relayed } from '../schemas/http';
import type { RouteOptions } from '../services/services';
import { ledgerRoute } from './ledger-route';

const tags = ['auditor keys'];
const AuditorParams = Type.Object({ auditorId: schemas.Id });

export const AuditorKeyRecord = relayed(schemas.AuditorKeyRecord);

export const auditorKeyRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/auditor-keys',
    summary: 'Propose the sealing public key of a new auditor id (the other organisation approves)',
    tags,
    roles: ['dso', 'aggregator'],
    transaction: 'proposeAuditorKey',
    created: true,
    body: schemas.ProposeAuditorKeyInput,
    argument: ({ body }) => body,
    response: AuditorKeyRecord,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/auditor-keys/:auditorId/approve',
    summary: 'Approve a proposed auditor key, naming its hash; edges seal to it from then on',
    tags,
    roles: ['dso', 'aggregator'],
    transaction: 'approveAuditorKey',
    params: AuditorParams,
    body: Type.Object({ keyHash: schemas.Sha256Hex }, { additionalProperties: false }),
    argument: ({ params, body }) => ({ auditorId: params.auditorId, keyHash: body.keyHash }),
    response: AuditorKeyRecord,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/auditor-keys/:auditorId/retire',
    summary: 'Propose retiring an active auditor key (the other organisation approves)',
    tags,
    roles: ['dso', 'aggregator'],
    transaction: 'proposeAuditorKeyRetirement',
    params: AuditorParams,
    argument: ({ params }) => ({ auditorId: params.auditorId }),
    response: AuditorKeyRecord,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/auditor-keys/:auditorId/retire/approve',
    summary: 'Approve the retirement of an auditor key; edges stop sealing new periods to it',
    tags,
    roles: ['dso', 'aggregator'],
    transaction: 'approveAuditorKeyRetirement',
    params: AuditorParams,
    argument: ({ params }) => ({ auditorId: params.auditorId }),
    response: AuditorKeyRecord,
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/auditor-keys',
    summary: 'Every auditor key record, with its status, hash and public key',
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: 'listAuditorKeys',
    argument: () => ({}),
    response: relayed(schemas.AuditorKeyList, 'auditor key records'),
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/auditor-keys/:auditorId',
    summary: "One auditor's key record",
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: 'getAuditorKey',
    params: AuditorParams,
    argument: ({ params }) => ({ auditorId: params.auditorId }),
    response: AuditorKeyRecord,
  });
};
