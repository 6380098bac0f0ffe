import { CircuitError, CircuitErrorCode } from './errors';

// Decimal text of a field element as snarkjs writes it: no sign, no leading zero, at most
// 78 digits (the scalar and base field orders have 77). Checked before BigInt() parses it,
// so a hostile megabyte of digits costs nothing.
const CANONICAL_DECIMAL = /^(0|[1-9][0-9]{0,77})$/;

/** The value as a bigint when it is a canonical decimal string, otherwise undefined. */
export function parseCanonicalDecimal(value: unknown): bigint | undefined {
  if (typeof value !== 'string' || !CANONICAL_DECIMAL.test(value)) return undefined;
  return BigInt(value);
}

export type IntegerLike = bigint | number | string;

/**
 * Converts a caller's integer (bigint, safe integer, or canonical decimal string) to a
 * bigint within [0, limit), or throws: INVALID_INPUT for anything that is not an integer,
 * INPUT_OUT_OF_RANGE for an integer outside the range.
 */
export function toBoundedInteger(value: IntegerLike, limit: bigint, name: string): bigint {
  let parsed: bigint | undefined;
  if (typeof value === 'bigint') parsed = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) parsed = BigInt(value);
  else if (typeof value === 'string') parsed = parseCanonicalDecimal(value);
  if (parsed === undefined) {
    throw new CircuitError('INVALID_INPUT', `${name} must be an integer (bigint, safe integer or decimal string)`, {
      details: { name },
    });
  }
  if (parsed < 0n || parsed >= limit) {
    throw new CircuitError('INPUT_OUT_OF_RANGE', `${name} must be in [0, ${limit})`, {
      details: { name, limit: limit.toString() },
    });
  }
  return parsed;
}

/** Checks a list's length before its elements are looked at. */
export function checkLength(value: unknown, expected: number, name: string, code: CircuitErrorCode = 'INVALID_INPUT'): readonly unknown[] {
  if (!Array.isArray(value) || value.length !== expected) {
    throw new CircuitError(code, `${name} must be a list of ${expected}`, {
      details: { name, expected, actual: Array.isArray(value) ? value.length : typeof value },
    });
  }
  return value;
}

// Signed decimal text: an optional minus sign, then a canonical decimal; "-0" is refused
// so that each integer has one spelling. At most 78 digits, as above.
const SIGNED_DECIMAL = /^(0|-?[1-9][0-9]{0,77})$/;

/**
 * Converts a caller's signed integer (bigint, safe integer, or decimal string with an
 * optional minus sign) to a bigint within [min, max], or throws: INVALID_INPUT for
 * anything that is not an integer, INPUT_OUT_OF_RANGE for one outside the range.
 */
export function toSignedInteger(value: IntegerLike, min: bigint, max: bigint, name: string): bigint {
  let parsed: bigint | undefined;
  if (typeof value === 'bigint') parsed = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) parsed = BigInt(value);
  else if (typeof value === 'string' && SIGNED_DECIMAL.test(value)) parsed = BigInt(value);
  if (parsed === undefined) {
    throw new CircuitError('INVALID_INPUT', `${name} must be an integer (bigint, safe integer or signed decimal string)`, {
      details: { name },
    });
  }
  if (parsed < min || parsed > max) {
    throw new CircuitError('INPUT_OUT_OF_RANGE', `${name} must be in [${min}, ${max}]`, {
      details: { name, min: min.toString(), max: max.toString() },
    });
  }
  return parsed;
}
