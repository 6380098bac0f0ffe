/**
 * HTTP schemas that are the gateway's own: errors, path parameters, and the records the
 * ledger answers with. Transaction arguments reuse the chaincode's schemas
 * (@flexproof/chaincode schemas.ts), the one source of each field's rule.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { schemas as cc } from '@flexproof/chaincode/client';

export { cc };

export const ErrorResponse = Type.Object(
  {
    code: Type.String({
      description:
        'BAD_INPUT, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT, REPLAY, TOO_MANY_REQUESTS, PAYLOAD_TOO_LARGE, URI_TOO_LONG, UNSUPPORTED_MEDIA_TYPE, a chaincode rule code (RULE_VIOLATION, CLOCK_SKEW, ...), LEDGER_UNAVAILABLE, ...',
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

/** Any ledger record; its fields are those of the chaincode's model (chaincode/src/model.ts). */
export function Record_(description: string, properties: Record<string, TSchema> = {}): TSchema {
  return Type.Object(properties, { additionalProperties: true, description });
}

export const Meter = Record_('meter record', {
  meterId: Type.String(),
  prosumerId: Type.String(),
  publicKeyPem: Type.String(),
  keyType: Type.String(),
  congestionPoint: Type.String(),
  status: Type.String({ description: 'active, suspended or excluded' }),
  nonce: Type.String({ description: 'last nonce accepted from the prosumer' }),
});

export const PeriodResult = Record_('settlement of one period', {
  outcome: Type.String({ description: 'verified, invalidProof or missed' }),
  periodIndex: Type.Integer(),
  txId: Type.String(),
});

export const Enrollment = Record_('enrollment record', {
  enrollmentId: Type.String(),
  orderId: Type.String(),
  meterId: Type.String(),
  prosumerId: Type.String(),
  status: Type.String({ description: 'offered, accepted, active, excluded, closed or cancelled' }),
  chainHead: Type.String({ description: 'fingerprint of the last verified period' }),
});

export const EnrollmentView = Type.Object(
  {
    enrollment: Enrollment,
    periods: Type.Array(
      Type.Object(
        {
          periodIndex: Type.Integer(),
          endTime: Type.String(),
          deadline: Type.String(),
          result: Type.Union([PeriodResult, Type.Null()]),
        },
        { additionalProperties: true },
      ),
    ),
    escrow: Type.String({ description: 'tokens left in the enrollment escrow' }),
    nextPeriod: Type.Union([Type.Integer(), Type.Null()], { description: 'the period a proof may be submitted for now' }),
  },
  { additionalProperties: true },
);

/** Answer of every route that submits a transaction. */
export function Submitted(result: TSchema): TSchema {
  return Type.Object({ txId: Type.String(), result }, { additionalProperties: false });
}
