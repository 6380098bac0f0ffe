/**
 * HTTP schemas that are the gateway's own: errors, path parameters, the `{txId, result}`
 * of a submission, and `relayed()`, which turns one of the protocol's ledger schemas
 * (@flexproof/protocol `schemas`, the one definition of every record and view) into the
 * schema of a route that passes the ledger's answer on.
 */
import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { schemas } from '@flexproof/protocol';

/**
 * @deprecated the protocol's schemas under their old name here; import `schemas` from
 * `@flexproof/protocol` (services/period-submissions.ts still names this).
 */
export const cc = schemas;

export const ErrorResponse = Type.Object(
  {
    code: Type.String({
      description:
        'BAD_INPUT, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT, REPLAY, TOO_MANY_REQUESTS, PAYLOAD_TOO_LARGE, URI_TOO_LONG, UNSUPPORTED_MEDIA_TYPE, a chaincode rule code (RULE_VIOLATION, CLOCK_SKEW, ...), LEDGER_UNAVAILABLE, LEDGER_CONTENDED, ...',
    }),
    message: Type.String(),
    txId: Type.Optional(Type.String({ description: 'the Fabric transaction, when one was created' })),
  },
  { $id: 'ErrorResponse', additionalProperties: false },
);

/** The error answers every route may give, by status. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const s of [400, 401, 403, 413, 503, ...statuses]) out[s] = Type.Ref(ErrorResponse);
  return out;
}

/** Path segment `:periodIndex` (params are not coerced: signed payloads must reach the chaincode untouched). */
export const PeriodIndexParam = Type.String({ pattern: '^([0-9]|1[0-9]|2[0-3])$', description: 'period (hour) 0 to 23' });

/**
 * The answer schema of a route that relays a ledger record or view: the protocol's schema
 * with every object opened (no field required, others allowed) at every depth. The
 * OpenAPI document shows the chaincode's fields; the serializer passes on what the ledger
 * answered as it answered it, so a field a newer chaincode adds is not dropped on the way
 * and a record of an older one is not refused. The TypeScript type stays the protocol's
 * (Static of the schema): what a route returns is checked against the full record.
 */
export function relayed<T extends TSchema>(schema: T, description?: string): TUnsafe<Static<T>> {
  const open = openUp(JSON.parse(JSON.stringify(schema))) as Record<string, unknown>;
  return Type.Unsafe<Static<T>>(description === undefined ? open : { ...open, description });
}

function openUp(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(openUp);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'required' || key === 'additionalProperties') continue;
    if (key === 'properties') {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, openUp(v)]));
    } else if (key === 'items' || key === 'anyOf' || key === 'oneOf' || key === 'allOf') {
      out[key] = openUp(value);
    } else {
      out[key] = value;
    }
  }
  if (out.type === 'object') out.additionalProperties = true;
  return out;
}

/** Answer of every route that submits a transaction (the protocol's, for the client too). */
export const Submitted = schemas.Submitted;
