/**
 * The one place transaction arguments are checked. The schemas themselves are the
 * protocol's (`schemas` of @flexproof/protocol: one TypeBox schema per argument, the same
 * the gateway takes request bodies with), re-exported here for the contracts. Every
 * transaction takes a single JSON string; `parseInput` parses it, validates it and
 * reports the first offending field and the rule it breaks as BAD_INPUT.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ChaincodeError } from './errors';

export { schemas } from '@flexproof/protocol';

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
