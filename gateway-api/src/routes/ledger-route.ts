/**
 * Most organisation routes are one chaincode transaction or query each: authenticate,
 * validate (schemas), build the transaction's one JSON argument, call the ledger, answer.
 * This helper declares such a route in one object, so each route file reads as a table.
 */
import { createHash } from 'node:crypto';
import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { OrgRole } from '../auth/bearer-tokens';
import type { TransactionName } from '../ledger/transactions';
import { errorResponses, Submitted } from '../schemas/http';
import type { Services } from '../services/services';

export interface LedgerRouteSpec {
  method: 'GET' | 'POST';
  url: string;
  summary: string;
  tags: string[];
  roles: OrgRole[];
  transaction: TransactionName;
  /** submit: a transaction (answer `{txId, result}`, 201 or 200); evaluate: a query (answer the record). */
  kind: 'submit' | 'evaluate';
  params?: TSchema;
  querystring?: TSchema;
  body?: TSchema;
  /** The transaction's argument from the validated request. */
  argument: (request: { params: Record<string, string>; query: Record<string, unknown>; body: Record<string, unknown> }) => unknown;
  response: TSchema;
  /** Extra error statuses the route can answer (400, 401, 403, 413, 503 are always listed). */
  errors?: number[];
  /** Status of a successful submit (default 200). */
  created?: boolean;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

export function ledgerRoute(app: FastifyInstance, services: Services, spec: LedgerRouteSpec): void {
  const okStatus = spec.kind === 'submit' && spec.created ? 201 : 200;
  const response = spec.kind === 'submit' ? Submitted(spec.response) : spec.response;
  app.route({
    method: spec.method,
    url: spec.url,
    schema: {
      summary: spec.summary,
      description: `Roles: ${spec.roles.join(', ')}. Chaincode: ${spec.transaction}.${spec.kind === 'submit' ? ' An `Idempotency-Key` header makes a retry with the same body return the first outcome.' : ''}`,
      tags: spec.tags,
      security: [{ bearer: [] }],
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.querystring ? { querystring: spec.querystring } : {}),
      ...(spec.body ? { body: spec.body } : {}),
      response: { [okStatus]: response, ...errorResponses(404, 409, 422, ...(spec.errors ?? [])) },
    },
    onRequest: services.guards.org(...spec.roles),
    handler: async (request: FastifyRequest, reply) => {
      const argument = spec.argument({
        params: (request.params ?? {}) as Record<string, string>,
        query: (request.query ?? {}) as Record<string, unknown>,
        body: (request.body ?? {}) as Record<string, unknown>,
      });
      if (spec.kind === 'evaluate') return services.ledger.evaluate(spec.transaction, argument);
      const header = request.headers['idempotency-key'];
      const key =
        typeof header === 'string' && IDEMPOTENCY_KEY.test(header)
          ? [request.orgUser?.name ?? '', spec.transaction, header, sha256(JSON.stringify(argument))].join('\n')
          : undefined;
      const outcome = await services.ledger.submit(spec.transaction, argument, { idempotencyKey: key });
      return reply.code(okStatus).send({ txId: outcome.txId, result: outcome.result });
    },
  });
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
