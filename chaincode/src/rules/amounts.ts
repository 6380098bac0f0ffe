import { schemas } from '@flexproof/protocol';
import { ChaincodeError } from '../errors';

/**
 * Integers on the wire are decimal strings without sign or leading zeros (the protocol's
 * `Amount` schema enforces the pattern); inside the rules they are bigint. Never a float.
 */
export const DECIMAL_PATTERN = schemas.DECIMAL_PATTERN;
const DECIMAL = new RegExp(DECIMAL_PATTERN);

export function toBigInt(value: string, field: string): bigint {
  if (!DECIMAL.test(value)) {
    throw new ChaincodeError('BAD_INPUT', `${field}: must be a non-negative integer as a decimal string`);
  }
  return BigInt(value);
}

export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

export function sumBig(values: readonly bigint[]): bigint {
  return values.reduce((acc, v) => acc + v, 0n);
}
