/**
 * Register values of the vendor formats to integer Wh. Meters publish kWh with a few
 * decimals (DSMR: exactly 3; Tasmota: as its script says) or Wh with decimals (Shelly);
 * the register is taken from the decimal digits, never through float arithmetic, and
 * rounded down to the Wh (a cumulative register only ever moves up past a Wh boundary,
 * so rounding down keeps it monotonic).
 */
import { MAX_REGISTER, reject, type ParsedMessage } from '../meter-message';

export type EnergyUnit = 'kWh' | 'Wh';

type Refusal = Extract<ParsedMessage, { ok: false }>;

const DECIMAL = /^([0-9]{1,20})(?:\.([0-9]{1,20}))?$/;

/** A non-negative decimal ("014594.213") in `unit` as Wh, rounded down; the refusal names `field`. */
export function decimalToWh(text: string, unit: EnergyUnit, field: string): bigint | Refusal {
  if (/^-[0-9]/.test(text)) return reject('NEGATIVE_REGISTER', `${field} is negative`);
  const match = DECIMAL.exec(text);
  if (!match) return reject('NOT_NUMERIC', `${field} is not a decimal number`);
  const whole = BigInt(match[1] as string);
  const fraction = match[2] ?? '';
  const wh = unit === 'kWh' ? whole * 1000n + BigInt(fraction.slice(0, 3).padEnd(3, '0')) : whole;
  if (wh > MAX_REGISTER) return reject('REGISTER_OUT_OF_RANGE', `${field} is above 2^53 - 1 Wh`);
  return wh;
}

/**
 * A JSON number in `unit` as Wh. The number's shortest decimal form (String(n)) is the
 * text the device wrote for every value a meter publishes; values below 1e-6 (which
 * String writes with an exponent) are 0 Wh in either unit.
 */
export function jsonNumberToWh(value: unknown, unit: EnergyUnit, field: string): bigint | Refusal {
  if (typeof value !== 'number') return reject('NOT_NUMERIC', `${field} is missing or not a number`);
  if (!Number.isFinite(value)) return reject('NOT_NUMERIC', `${field} is not a finite number`);
  if (value < 0) return reject('NEGATIVE_REGISTER', `${field} is negative`);
  if (value >= 1e21) return reject('REGISTER_OUT_OF_RANGE', `${field} is above 2^53 - 1 Wh`);
  return decimalToWh(value < 1e-6 ? '0' : String(value), unit, field);
}
