/**
 * Most organisation routes are one chaincode transaction or query each: authenticate,
 * validate (schemas), build the transaction's one JSON argument, call the ledger, answer.
 * This helper declares such a route in one object, so each route file reads as a table.
 * The transaction is named by its key in the protocol's transaction map, which also says
 * whether it is submitted or evaluated and types its argument and answer.
 */
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { OrgRole } from '../auth/bearer-tokens';
import { ApiError } from '../errors';
import { IdempotencyKeyReused } from '../ledger/idempotent-ledger';
import { evaluate, kindOf, submit, TX, type TransactionInput, type TransactionKey, type TransactionOutput } from '../ledger/transactions';
import { errorResponses, Submitted } from '../schemas/http';
import type { Services } from '../services/services';

/** A route with no params, query or body: the argument builder sees `{}` there. */
type None = TObject<Record<never, never>>;

export interface LedgerRouteSpec<K extends TransactionKey, P extends TSchema = None, Q extends TSchema = None, B extends TSchema = None> {
  method: 'GET' | 'POST';
  url: string;
  summary: string;
  tags: string[];
  roles: OrgRole[];
  /** The transaction's key in the protocol's map (it says submit or evaluate). */
  transaction: K;
  params?: P;
  querystring?: Q;
  body?: B;
  /** The transaction's argument from the validated request. */
  argument: (request: { params: Static<P>; query: Static<Q>; body: Static<B> }) => TransactionInput<K>;
  /** The answer (a submission's `result`, or the query's record): a schema of the transaction's output type. */
  response: TSchema & { static: TransactionOutput<K> };
  /** Extra error statuses the route can answer (400, 401, 403, 413, 503 are always listed). */
  errors?: number[];
  /** Status of a successful submit (default 200). */
  created?: boolean;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
const IDEMPOTENCY_KEY_RULE = '1 to 200 printable ASCII characters without spaces';
/** The empty object a part without a schema stands for (None's Static type is `{}`). */
const EMPTY = <B extends TSchema>(): Static<B> => ({}) as Static<B>;

export function ledgerRoute<K extends TransactionKey, P extends TSchema = None, Q extends TSchema = None, B extends TSchema = None>(
  app: FastifyInstance,
  services: Services,
  spec: LedgerRouteSpec<K, P, Q, B>,
): void {
  const kind = kindOf(spec.transaction);
  const okStatus = kind === 'submit' && spec.created ? 201 : 200;
  const response = kind === 'submit' ? Submitted(spec.response) : spec.response;
  app.withTypeProvider<TypeBoxTypeProvider>().route<{ Params: Static<P>; Querystring: Static<Q>; Body: Static<B> }>({
    method: spec.method,
    url: spec.url,
    schema: {
      summary: spec.summary,
      description: `Roles: ${spec.roles.join(', ')}. Chaincode: ${TX[spec.transaction]}.${kind === 'submit' ? ' An `Idempotency-Key` header makes a retry with the same body return the first outcome; the same key with another body (or on another route) is refused with 422 IDEMPOTENCY_KEY_REUSED.' : ''}`,
      tags: spec.tags,
      security: [{ bearer: [] }],
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.querystring ? { querystring: spec.querystring } : {}),
      ...(spec.body ? { body: spec.body } : {}),
      response: { [okStatus]: response, ...errorResponses(404, 409, 422, ...(spec.errors ?? [])) },
    },
    onRequest: services.guards.org(...spec.roles),
    handler: async (request, reply) => {
      // A route without a body schema gets no body (app.ts refuses one): its builder sees
      // the empty object its None type says.
      const argument = spec.argument({ params: request.params, query: request.query, body: request.body ?? EMPTY<B>() });
      if (kind === 'evaluate') return evaluate(services.ledger, spec.transaction, argument);
      const header = request.headers['idempotency-key'];
      if (header !== undefined && (typeof header !== 'string' || !IDEMPOTENCY_KEY.test(header))) {
        throw new ApiError(400, 'BAD_INPUT', `Idempotency-Key header: ${IDEMPOTENCY_KEY_RULE}`);
      }
      // Scoped to the user, not to the route or the body: one key names one request, so a
      // key reused for another body or route is refused instead of running a second transaction.
      const key = header === undefined ? undefined : [request.orgUser?.name ?? '', header].join('\n');
      let outcome;
      try {
        outcome = await submit(services.ledger, spec.transaction, argument, { idempotencyKey: key });
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
