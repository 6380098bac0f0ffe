import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { schemas } from '@flexproof/protocol';
import { relayed } from '../schemas/http';
import type { RouteOptions } from '../services/services';
import { ledgerRoute } from './ledger-route';

const tags = ['verification keys'];
const CircuitParams = Type.Object({ circuitId: schemas.CircuitId });
const KeyRecord = relayed(schemas.VerificationKeyRecord);

export const verificationKeyRoutes: FastifyPluginAsync<RouteOptions> = async (app, { services }) => {
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/verification-keys',
    summary: 'Propose the Groth16 verification key of a new circuit id (the other organisation approves)',
    tags,
    roles: ['dso', 'aggregator'],
    transaction: 'proposeVerificationKey',
    created: true,
    body: schemas.ProposeVerificationKeyInput,
    argument: ({ body }) => body,
    response: KeyRecord,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/verification-keys/:circuitId/approve',
    summary: 'Approve a proposed key, naming its hash; it becomes active',
    tags,
    roles: ['dso', 'aggregator'],
    transaction: 'approveVerificationKey',
    params: CircuitParams,
    body: Type.Object({ keyHash: schemas.Sha256Hex }, { additionalProperties: false }),
    argument: ({ params, body }) => ({ circuitId: params.circuitId, keyHash: body.keyHash }),
    response: KeyRecord,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/verification-keys/:circuitId/retire',
    summary: 'Propose retiring an active key (the other organisation approves)',
    tags,
    roles: ['dso', 'aggregator'],
    transaction: 'proposeVerificationKeyRetirement',
    params: CircuitParams,
    argument: ({ params }) => ({ circuitId: params.circuitId }),
    response: KeyRecord,
  });
  ledgerRoute(app, services, {
    method: 'POST',
    url: '/verification-keys/:circuitId/retire/approve',
    summary: 'Approve the retirement of a key; submissions naming it are refused from then on',
    tags,
    roles: ['dso', 'aggregator'],
    transaction: 'approveVerificationKeyRetirement',
    params: CircuitParams,
    argument: ({ params }) => ({ circuitId: params.circuitId }),
    response: KeyRecord,
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/verification-keys',
    summary: 'Every circuit id with its key status (keys omitted)',
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: 'listVerificationKeys',
    argument: () => ({}),
    response: relayed(schemas.VerificationKeyList, 'key records'),
  });
  ledgerRoute(app, services, {
    method: 'GET',
    url: '/verification-keys/:circuitId',
    summary: "One circuit's key record, with the key",
    tags,
    roles: ['dso', 'aggregator', 'auditor'],
    transaction: 'getVerificationKey',
    params: CircuitParams,
    argument: ({ params }) => ({ circuitId: params.circuitId }),
    response: KeyRecord,
  });
};
