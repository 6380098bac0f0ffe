/**
 * The meter's MQTT message and its validation. Format (UTF-8 JSON, one object):
 *
 *   {"ts": 1750000000000, "registerWh": 1234567}
 *
 * - `ts`: when the meter read its register, unix time in milliseconds (integer);
 * - `registerWh`: the cumulative energy register in Wh, a non-negative safe integer
 *   (at most 2^53 - 1, nine million GWh), as a JSON number or a decimal string.
 * Other fields are ignored. Validation here looks at one message; the order rules
 * (duplicate, out-of-order, decreasing register, a jump beyond the meter's rated power)
 * need the previous reading and are applied by the reading log before it stores one.
 * A reading refused by them is never stored, so one absurd value cannot make every later
 * genuine reading look "decreasing" (threat T10).
 */

export interface MeterReading {
  /** Unix time in milliseconds. */
  ts: number;
  /** Cumulative energy register, Wh. */
  registerWh: bigint;
}

export type RejectReason =
  | 'NOT_JSON'
  | 'NOT_AN_OBJECT'
  | 'TOO_LARGE'
  | 'BAD_TIMESTAMP'
  | 'FUTURE_TIMESTAMP'
  | 'NOT_NUMERIC'
  | 'NEGATIVE_REGISTER'
  | 'REGISTER_OUT_OF_RANGE'
  | 'DUPLICATE_TIMESTAMP'
  | 'OUT_OF_ORDER'
  | 'REGISTER_DECREASED'
  | 'REGISTER_JUMP';

export type ParsedMessage = { ok: true; reading: MeterReading } | { ok: false; reason: RejectReason; detail: string };

/** A message is a few dozen bytes; anything above this is not a meter message. */
export const MAX_MESSAGE_BYTES = 1024;
/** 40 decimal digits: cheap to parse; the range is checked after. */
const DECIMAL_REGISTER = /^(0|[1-9][0-9]{0,39})$/;
const MAX_REGISTER = BigInt(Number.MAX_SAFE_INTEGER);
/** Earliest plausible timestamp (2001-09-09): catches seconds sent instead of milliseconds. */
const MIN_TS = 1_000_000_000_000;

export interface ParseOptions {
  /** Now, unix ms. */
  now: number;
  /** How far in the future a timestamp may be (meter clock ahead of ours). */
  maxClockSkewMs: number;
}

export function parseMeterMessage(message: Uint8Array | string, options: ParseOptions): ParsedMessage {
  const size = typeof message === 'string' ? Buffer.byteLength(message) : message.length;
  if (size > MAX_MESSAGE_BYTES) return reject('TOO_LARGE', `${size} bytes, at most ${MAX_MESSAGE_BYTES}`);
  let value: unknown;
  try {
    value = JSON.parse(typeof message === 'string' ? message : Buffer.from(message).toString('utf8'));
  } catch {
    return reject('NOT_JSON', 'message is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return reject('NOT_AN_OBJECT', 'message is not a JSON object');
  const { ts, registerWh } = value as Record<string, unknown>;
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < MIN_TS) {
    return reject('BAD_TIMESTAMP', 'ts must be unix time in milliseconds (integer)');
  }
  if (ts > options.now + options.maxClockSkewMs) return reject('FUTURE_TIMESTAMP', `ts is ${ts - options.now} ms in the future`);
  let register: bigint;
  if (typeof registerWh === 'number') {
    if (!Number.isFinite(registerWh)) return reject('NOT_NUMERIC', 'registerWh is not a finite number');
    if (registerWh < 0) return reject('NEGATIVE_REGISTER', 'registerWh is negative');
    if (!Number.isInteger(registerWh)) return reject('NOT_NUMERIC', 'registerWh must be an integer');
    if (!Number.isSafeInteger(registerWh)) return reject('REGISTER_OUT_OF_RANGE', 'registerWh is above 2^53 - 1');
    register = BigInt(registerWh);
  } else if (typeof registerWh === 'string') {
    if (/^-[0-9]/.test(registerWh)) return reject('NEGATIVE_REGISTER', 'registerWh is negative');
    if (!DECIMAL_REGISTER.test(registerWh)) return reject('NOT_NUMERIC', 'registerWh is not a decimal integer');
    register = BigInt(registerWh);
    if (register > MAX_REGISTER) return reject('REGISTER_OUT_OF_RANGE', 'registerWh is above 2^53 - 1');
  } else {
    return reject('NOT_NUMERIC', 'registerWh is missing or not a number');
  }
  return { ok: true, reading: { ts, registerWh: register } };
}

/**
 * How much more than rated power times elapsed time a register may grow: 10 % for the
 * meter's clock and sampling jitter, and 1 Wh for the register's resolution (a 1 kW load
 * read every second moves an integer register by 0 or 1 Wh).
 */
export const RATED_POWER_MARGIN = { numerator: 11n, denominator: 10n, resolutionWh: 1n } as const;

/** The most a register may grow in `elapsedMs` at `ratedPowerW` (Wh), margin included. */
export function maxRegisterIncrease(ratedPowerW: number, elapsedMs: number): bigint {
  const { numerator, denominator, resolutionWh } = RATED_POWER_MARGIN;
  return (BigInt(ratedPowerW) * BigInt(elapsedMs) * numerator) / (3_600_000n * denominator) + resolutionWh;
}

export interface OrderRules {
  /** The meter's rated power (W); omitted: no bound on the increase. */
  ratedPowerW?: number;
}

/**
 * The rules against the last accepted reading: strictly later, register not below, and
 * not more energy than the meter's rated power allows over the time between the two.
 */
export function checkOrder(previous: MeterReading | undefined, next: MeterReading, rules: OrderRules = {}): ParsedMessage {
  if (previous !== undefined) {
    if (next.ts === previous.ts) return reject('DUPLICATE_TIMESTAMP', 'a reading with this ts was already accepted');
    if (next.ts < previous.ts) return reject('OUT_OF_ORDER', `ts is ${previous.ts - next.ts} ms before the last accepted reading`);
    if (next.registerWh < previous.registerWh) return reject('REGISTER_DECREASED', 'registerWh is below the last accepted register');
    if (rules.ratedPowerW !== undefined) {
      const elapsedMs = next.ts - previous.ts;
      const limit = maxRegisterIncrease(rules.ratedPowerW, elapsedMs);
      const increase = next.registerWh - previous.registerWh;
      if (increase > limit) {
        // The size of the jump stays out of the detail: it is a reading, and details are logged.
        return reject('REGISTER_JUMP', `registerWh rose more in ${elapsedMs} ms than the rated ${rules.ratedPowerW} W allows (${limit} Wh)`);
      }
    }
  }
  return { ok: true, reading: next };
}

/** The message a simulator or a meter adapter publishes. */
export function formatMeterMessage(reading: MeterReading): string {
  const register = reading.registerWh <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(reading.registerWh) : reading.registerWh.toString();
  return JSON.stringify({ ts: reading.ts, registerWh: register });
}

function reject(reason: RejectReason, detail: string): ParsedMessage {
  return { ok: false, reason, detail };
}
