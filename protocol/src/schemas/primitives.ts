/**
 * The field rules every shape is built from: ids, amounts, field elements, times. This is
 * their one definition: the chaincode validates transaction arguments with them
 * (chaincode/src/schemas.ts re-exports these schemas) and the gateway takes bodies with them.
 */
import { Type, type TUnsafe } from '@sinclair/typebox';

/** Settlement periods (ISPs) in a program day and in a flexibility request. */
export const PERIODS_PER_DAY = 24;
/** Integers on the wire: decimal strings without sign or leading zeros, at most 40 digits. */
export const DECIMAL_PATTERN = '^(0|[1-9][0-9]{0,39})$';

/** The action types prosumers sign (domain separation; v2 payloads name channel and chaincode). */
export const PROSUMER_ACTIONS = {
  acceptEnrollment: 'flexproof.acceptEnrollment.v2',
  submitPeriod: 'flexproof.submitPeriod.v2',
  withdraw: 'flexproof.withdraw.v2',
  authorizeMeter: 'flexproof.authorizeMeter.v2',
} as const;

/**
 * A JSON object whose inner shape another check owns (a Groth16 key or proof, checked
 * by the verifier). The JSON Schema is `{ type: 'object', properties: {},
 * additionalProperties: true }`; Type.Unsafe only fixes the static type, which for
 * `Type.Object({}, ...)` alone would be `{}`, a type even a string satisfies.
 */
export function OpaqueObject(options: { description?: string } = {}): TUnsafe<Record<string, unknown>> {
  return Type.Unsafe<Record<string, unknown>>(Type.Object({}, { additionalProperties: true, ...options }));
}

/** Ids of meters, prosumers, requests, offers, orders, enrollments: no ':' (account names use it). */
export const Id = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' });
export const CircuitId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' });
/** Non-negative integer, decimal string (token base units or Wh). */
export const Amount = Type.String({ pattern: DECIMAL_PATTERN });
/** Positive integer, decimal string. */
export const PositiveAmount = Type.String({ pattern: '^[1-9][0-9]{0,39}$' });
/** A BN254 field element as a canonical decimal string (commitments, fingerprints). */
export const FieldElement = Type.String({ pattern: '^(0|[1-9][0-9]{0,76})$' });
export const PerPeriodWh = Type.Array(Amount, { minItems: PERIODS_PER_DAY, maxItems: PERIODS_PER_DAY });
export const Day = Type.String({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' });
export const IsoTime = Type.String({
  pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,3})?Z$',
});
export const AccountId = Type.String({
  pattern: '^(org:[A-Za-z0-9._-]{1,64}|prosumer:[A-Za-z0-9][A-Za-z0-9._-]{0,127}|escrow:(enrollment|order):[A-Za-z0-9][A-Za-z0-9._-]{0,127})$',
});
export const Base64Signature = Type.String({ pattern: '^[A-Za-z0-9+/]{16,256}={0,2}$' });
export const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });
export const Nonce = PositiveAmount;
export const PeriodIndex = Type.Integer({ minimum: 0, maximum: PERIODS_PER_DAY - 1 });
/** A Fabric channel name (Fabric's rule: lower case, digits, '.', '-'). */
export const ChannelName = Type.String({ pattern: '^[a-z][a-z0-9.-]{0,248}$' });
/** A chaincode name (Fabric's rule: letters and digits, single '-' or '_' between them). */
export const ChaincodeName = Type.String({ maxLength: 128, pattern: '^[A-Za-z0-9]+([-_][A-Za-z0-9]+)*$' });
/** SPKI PEM of a public key (its kind is checked by prosumerKeyType or canonicalSealingKeyPem). */
export const PublicKeyPem = Type.String({ minLength: 64, maxLength: 1024 });

/** Objects that cross a boundary carry exactly their fields (a typo is refused, not ignored). */
export const Strict = { additionalProperties: false } as const;
