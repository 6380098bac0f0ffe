/**
 * The meter's MQTT message and its validation. Format (UTF-8 JSON, one object):
 *
 *   {"ts": 1750000000000, "registerWh": 1234567}
 *
 * - `ts`: when the meter read its register, unix time in milliseconds (integer);
 * - `registerWh`: the cumulative energy register in Wh, a non-negative integer, as a
 *   JSON number (safe integer) or a decimal string ("1234567") for larger registers.
 * Other fields are ignored. Validation here looks at one message; the order rules
 * (duplicate, out-of-order, decreasing register) need the previous reading and live in
 * the reading log.
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
  | 'DUPLICATE_TIMESTAMP'
  | 'OUT_OF_ORDER'
  | 'REGISTER_DECREASED';

export type ParsedMessage = { ok: true; reading: MeterReading } | { ok: false; reason: RejectReason; detail: string };

/** A message is a few dozen bytes; anything above this is not a meter message. */
export const MAX_MESSAGE_BYTES = 1024;
/** 40 decimal digits: far above any real register, small enough to parse cheaply. */
const DECIMAL_REGISTER = /^(0|[1-9][0-9]{0,39})$/;
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
    if (!Number.isSafeInteger(registerWh)) return reject('NOT_NUMERIC', 'registerWh must be an integer (a decimal string above 2^53)');
    register = BigInt(registerWh);
  } else if (typeof registerWh === 'string') {
    if (/^-[0-9]/.test(registerWh)) return reject('NEGATIVE_REGISTER', 'registerWh is negative');
    if (!DECIMAL_REGISTER.test(registerWh)) return reject('NOT_NUMERIC', 'registerWh is not a decimal integer');
    register = BigInt(registerWh);
  } else {
    return reject('NOT_NUMERIC', 'registerWh is missing or not a number');
  }
  return { ok: true, reading: { ts, registerWh: register } };
}

/** The order rule against the last accepted reading: strictly later, register not below. */
export function checkOrder(previous: MeterReading | undefined, next: MeterReading): ParsedMessage {
  if (previous !== undefined) {
    if (next.ts === previous.ts) return reject('DUPLICATE_TIMESTAMP', 'a reading with this ts was already accepted');
    if (next.ts < previous.ts) return reject('OUT_OF_ORDER', `ts is ${previous.ts - next.ts} ms before the last accepted reading`);
    if (next.registerWh < previous.registerWh) return reject('REGISTER_DECREASED', 'registerWh is below the last accepted register');
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
