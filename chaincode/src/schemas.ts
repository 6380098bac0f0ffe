/**
 * One TypeBox schema per transaction argument, and the one place they are checked.
 * Every transaction takes a single JSON string; `parseInput` parses it, validates it
 * and reports the first offending field and the rule it breaks as BAD_INPUT. The same
 * schemas can serve the gateway's request bodies.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ChaincodeError } from './errors';
import { DECIMAL_PATTERN } from './rules/amounts';
import { ACTION_ACCEPT_ENROLLMENT, ACTION_AUTHORIZE_METER, ACTION_SUBMIT_PERIOD, ACTION_WITHDRAW } from './signing';
import { PERIODS_PER_DAY } from './model';

// ---- building blocks ------------------------------------------------------------

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
const Strict = { additionalProperties: false } as const;

// ---- meters ---------------------------------------------------------------------

export const AuthorizeMeterPayloadSchema = Type.Object(
  {
    type: Type.Literal(ACTION_AUTHORIZE_METER),
    channel: ChannelName,
    chaincode: ChaincodeName,
    prosumerId: Id,
    meterId: Id,
    publicKeyPem: PublicKeyPem,
    nonce: Nonce,
  },
  Strict,
);
export const RegisterMeterInput = Type.Object(
  {
    meterId: Id,
    prosumerId: Id,
    publicKeyPem: PublicKeyPem,
    congestionPoint: Id,
    /** Needed when the prosumer id is bound to another key: the prosumer's consent, signed by that key. */
    authorization: Type.Optional(Type.Object({ payload: AuthorizeMeterPayloadSchema, signature: Base64Signature }, Strict)),
  },
  Strict,
);
export const ProsumerIdInput = Type.Object({ prosumerId: Id }, Strict);
export const MeterStatusChangeInput = Type.Object(
  { meterId: Id, reason: Type.String({ minLength: 1, maxLength: 200 }) },
  Strict,
);
export const MeterIdInput = Type.Object({ meterId: Id }, Strict);
export const CongestionPointInput = Type.Object({ congestionPoint: Id }, Strict);

// ---- tokens ---------------------------------------------------------------------

export const MintInput = Type.Object({ account: AccountId, amount: PositiveAmount }, Strict);
export const BurnInput = MintInput;
export const TransferInput = Type.Object({ to: AccountId, amount: PositiveAmount }, Strict);
export const WithdrawPayloadSchema = Type.Object(
  {
    type: Type.Literal(ACTION_WITHDRAW),
    channel: ChannelName,
    chaincode: ChaincodeName,
    meterId: Id,
    prosumerId: Id,
    amount: PositiveAmount,
    nonce: Nonce,
  },
  Strict,
);
export const WithdrawInput = Type.Object({ payload: WithdrawPayloadSchema, signature: Base64Signature }, Strict);
export const AccountInput = Type.Object({ account: AccountId }, Strict);
export const AccountsInput = Type.Object(
  { accounts: Type.Optional(Type.Array(AccountId, { minItems: 1, maxItems: 1000 })) },
  Strict,
);
export const EmptyInput = Type.Object({}, Strict);
export const CompactBalancesInput = Type.Object({ accountId: Type.Optional(AccountId) }, Strict);

// ---- market ---------------------------------------------------------------------

export const CreateFlexRequestInput = Type.Object(
  { requestId: Id, congestionPoint: Id, day: Day, requestedWh: PerPeriodWh },
  Strict,
);
export const FlexRequestIdInput = Type.Object({ requestId: Id }, Strict);
export const SubmitFlexOfferInput = Type.Object(
  { offerId: Id, requestId: Id, offeredWh: PerPeriodWh, price: PositiveAmount },
  Strict,
);
export const AcceptFlexOfferInput = Type.Object({ orderId: Id, offerId: Id }, Strict);
export const FlexOrderIdInput = Type.Object({ orderId: Id }, Strict);

// ---- programs -------------------------------------------------------------------

export const OfferEnrollmentInput = Type.Object(
  {
    enrollmentId: Id,
    orderId: Id,
    meterId: Id,
    circuitId: CircuitId,
    requestCommitment: FieldElement,
    reward: PositiveAmount,
    ratePerWh: Amount,
    toleranceWh: Amount,
    flexWh: PerPeriodWh,
    startTime: IsoTime,
    periodSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86400 })),
    graceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 86400 })),
  },
  Strict,
);
export const EnrollmentIdInput = Type.Object({ enrollmentId: Id }, Strict);
export const AcceptEnrollmentPayloadSchema = Type.Object(
  {
    type: Type.Literal(ACTION_ACCEPT_ENROLLMENT),
    channel: ChannelName,
    chaincode: ChaincodeName,
    nonce: Nonce,
    enrollmentId: Id,
    orderId: Id,
    meterId: Id,
    prosumerId: Id,
    circuitId: CircuitId,
    requestCommitment: FieldElement,
    reward: PositiveAmount,
    ratePerWh: Amount,
    toleranceWh: Amount,
    flexWh: PerPeriodWh,
    startTime: IsoTime,
    periodSeconds: Type.Integer({ minimum: 1, maximum: 86400 }),
    graceSeconds: Type.Integer({ minimum: 0, maximum: 7 * 86400 }),
  },
  Strict,
);
export const AcceptEnrollmentInput = Type.Object(
  { payload: AcceptEnrollmentPayloadSchema, signature: Base64Signature },
  Strict,
);
export const SubmitPeriodPayloadSchema = Type.Object(
  {
    type: Type.Literal(ACTION_SUBMIT_PERIOD),
    channel: ChannelName,
    chaincode: ChaincodeName,
    enrollmentId: Id,
    meterId: Id,
    prosumerId: Id,
    circuitId: CircuitId,
    periodIndex: PeriodIndex,
    submissionHash: Sha256Hex,
  },
  Strict,
);
export const SubmitPeriodInput = Type.Object(
  {
    payload: SubmitPeriodPayloadSchema,
    signature: Base64Signature,
    /** Groth16 proof as snarkjs prints it; its inner shape is checked by the verifier (BAD_INPUT). */
    proof: Type.Object({}, { additionalProperties: true }),
    publicSignals: Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: 16 }),
  },
  Strict,
);
export const ClaimMissedPeriodInput = Type.Object({ enrollmentId: Id, periodIndex: PeriodIndex }, Strict);

// ---- verifiers ------------------------------------------------------------------

export const ProposeVerificationKeyInput = Type.Object(
  { circuitId: CircuitId, verificationKey: Type.Object({}, { additionalProperties: true }) },
  Strict,
);
export const ApproveVerificationKeyInput = Type.Object({ circuitId: CircuitId, keyHash: Sha256Hex }, Strict);
export const CircuitIdInput = Type.Object({ circuitId: CircuitId }, Strict);

// ---- auditors --------------------------------------------------------------------

/** Public text, one line: printable, no control characters. */
const Description = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });
export const ProposeAuditorKeyInput = Type.Object(
  {
    auditorId: Id,
    /** EC P-256 SPKI PEM; its kind and form are checked by canonicalSealingKeyPem. */
    publicKeyPem: PublicKeyPem,
    description: Type.Optional(Description),
  },
  Strict,
);
export const ApproveAuditorKeyInput = Type.Object({ auditorId: Id, keyHash: Sha256Hex }, Strict);
export const AuditorIdInput = Type.Object({ auditorId: Id }, Strict);

export const RecordHeartbeatInput = Type.Object({ note: Type.String({ minLength: 1, maxLength: 200 }) }, Strict);
export const GetHeartbeatInput = Type.Object({ mspId: Type.String({ minLength: 1, maxLength: 128 }) }, Strict);

// ---- validation -----------------------------------------------------------------

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

/** Parses and validates a transaction argument; BAD_INPUT names the field and the rule. */
export function parseInput<T extends TSchema>(schema: T, json: string): Static<T> {
  return checkInput(schema, parseJsonObject(json), '');
}

/** The argument of a transaction as a JSON object (BAD_INPUT otherwise). */
export function parseJsonObject(json: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new ChaincodeError('BAD_INPUT', 'argument must be a JSON object');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ChaincodeError('BAD_INPUT', 'argument must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/**
 * Checks a parsed value against a schema; `path` (e.g. `items[3]`) prefixes the field
 * the message names, so an item of a batch is named as it is in the argument.
 */
export function checkInput<T extends TSchema>(schema: T, value: unknown, path: string): Static<T> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ChaincodeError('BAD_INPUT', path ? `${path}: must be a JSON object` : 'argument must be a JSON object');
  }
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  if (!check.Check(value)) {
    const first = check.Errors(value).First();
    const field = first?.path ? first.path.slice(1).replace(/\//g, '.') : '';
    const named = path ? (field ? `${path}.${field}` : path) : field || 'argument';
    throw new ChaincodeError('BAD_INPUT', `${named}: ${first?.message ?? 'invalid'}`);
  }
  return value as Static<T>;
}

/**
 * The list of a batch transaction's argument `{ "<field>": [...] }`: the argument must
 * be an object with that field only, holding an array of 1 to `max` entries. The entries
 * are checked one by one by the caller, so each refusal names its index.
 */
export function parseBatchArgument(json: string, field: string, max: number, what: string): unknown[] {
  const value = parseJsonObject(json);
  for (const k of Object.keys(value)) {
    if (k !== field) throw new ChaincodeError('BAD_INPUT', `${k}: unknown field (the argument holds only ${field})`);
  }
  const list = value[field];
  if (!Array.isArray(list) || list.length < 1 || list.length > max) {
    throw new ChaincodeError('BAD_INPUT', `${field}: must be an array of 1 to ${max} ${what}`);
  }
  return list as unknown[];
}
