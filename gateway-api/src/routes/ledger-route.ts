/**
 * Most organisation routes are one chaincode transaction or query each: authenticate,
 * validate (schemas), build the transaction's one JSON argument, call the ledger, answer.
 * This helper declares such a route in one object, so each route file reads as a table.
 */
import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { OrgRole } from '../auth/bearer-tokens';
import { ApiError } from '../errors';
import { IdempotencyKeyReused } from '../ledger/idempotent-ledger';
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
const IDEMPOTENCY_KEY_RULE = '1 to 200 printable ASCII characters without spaces';

export function ledgerRoute(app: FastifyInstance, services: Services, spec: LedgerRouteSpec): void {
  const okStatus = spec.kind === 'submit' && spec.created ? 201 : 200;
  const response = spec.kind === 'submit' ? Submitted(spec.response) : spec.response;
  app.route({
    method: spec.method,
    url: spec.url,
    schema: {
      summary: spec.summary,
      description: `Roles: ${spec.roles.join(', ')}. Chaincode: ${spec.transaction}.${spec.kind === 'submit' ? ' An `Idempotency-Key` header makes a retry with the same body return the first outcome; the same key with another body (or on another route) is refused with 422 IDEMPOTENCY_KEY_REUSED.' : ''}`,
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
      if (header !== undefined && (typeof header !== 'string' || !IDEMPOTENCY_KEY.test(header))) {
        throw new ApiError(400, 'BAD_INPUT', `Idempotency-Key header: ${IDEMPOTENCY_KEY_RULE}`);
      }
      // Scoped to the user, not to the route or the body: one key names one request, so a
      // key reused for another body or route is refused instead of running a second transaction.
      const key = header === undefined ? undefined : [request.orgUser?.name ?? '', header].join('\n');
      let outcome;
      try {
        outcome = await services.ledger.submit(spec.transaction, argument, { idempotencyKey: key });
      } catch (err) {
        if (err instanceof IdempotencyKeyReused) {
          throw new ApiError(
            422,
            'IDEMPOTENCY_KEY_REUSED',
            `Idempotency-Key ${JSON.stringify(header)} was already used for a request with another body or route; a retry must send the same body, a new request needs a new key`,
          );
        }
        throw err;
      }
      return reply.code(okStatus).send({ txId: outcome.txId, result: outcome.result });
    },
  });
}
