/**
 * The meter reading, our own MQTT message format and the order rules. Format (UTF-8
 * JSON, one object):
 *
 *   {"ts": 1750000000000, "importWh": 1234567, "exportWh": 89012}
 *
 * - `ts`: when the meter read its registers, unix time in milliseconds (integer);
 * - `importWh`: the cumulative import register (energy taken from the grid), Wh;
 * - `exportWh` (optional): the cumulative export register (energy fed into the grid),
 *   Wh, for a meter that has one;
 * - `registerWh`: the legacy name of `importWh` (sites and simulators of the first
 *   version send it); a message with both `registerWh` and `importWh` is refused, since
 *   which one is meant cannot be known.
 * Registers are non-negative safe integers (at most 2^53 - 1, nine million GWh), as a
 * JSON number or a decimal string. Other fields are ignored.
 *
 * Validation here looks at one message; the order rules (duplicate, out-of-order, a
 * decreasing register, a jump beyond the meter's rated power) need the previous reading
 * and are applied by the reading log before it stores one. A reading refused by them is
 * never stored, so one absurd value cannot make every later genuine reading look
 * "decreasing" (threat T10). The other formats households' meters publish are read by
 * the adapters in ./adapters, which produce the same MeterReading.
 */

export interface MeterReading {
  /** Unix time in milliseconds. */
  ts: number;
  /** Cumulative import register (from the grid), Wh. */
  importWh: bigint;
  /** Cumulative export register (into the grid), Wh; absent for a meter without one. */
  exportWh?: bigint;
}

export const REJECT_REASONS = [
  'NOT_JSON',
  'NOT_AN_OBJECT',
  'TOO_LARGE',
  'BAD_TIMESTAMP',
  'FUTURE_TIMESTAMP',
  'NOT_NUMERIC',
  'NEGATIVE_REGISTER',
  'REGISTER_OUT_OF_RANGE',
  'CONFLICTING_FIELDS',
  'MISSING_FIELD',
  'BAD_UNIT',
  'BAD_FRAME',
  'BAD_CRC',
  'NOT_A_READING',
  'DUPLICATE_TIMESTAMP',
  'OUT_OF_ORDER',
  'REGISTER_DECREASED',
  'REGISTER_JUMP',
  'EXPORT_REGISTER_DECREASED',
  'EXPORT_REGISTER_JUMP',
  'EXPORT_REGISTER_MISSING',
] as const;

/**
 * Why a message was refused. `REGISTER_*` name the import register (its name from the
 * first version, when it was the only one); `EXPORT_REGISTER_*` the export register.
 * `BAD_FRAME`, `BAD_CRC`, `MISSING_FIELD`, `BAD_UNIT`: a DSMR telegram or vendor JSON
 * that is not what its format says; `NOT_A_READING`: a well-formed message of the
 * device that carries no register (another component's status).
 */
export type RejectReason = (typeof REJECT_REASONS)[number];

export function isRejectReason(value: unknown): value is RejectReason {
  return typeof value === 'string' && (REJECT_REASONS as readonly string[]).includes(value);
}

export type ParsedMessage = { ok: true; reading: MeterReading } | { ok: false; reason: RejectReason; detail: string };

/** A message is a few dozen bytes; anything above this is not a meter message. */
export const MAX_MESSAGE_BYTES = 1024;
/** 40 decimal digits: cheap to parse; the range is checked after. */
const DECIMAL_REGISTER = /^(0|[1-9][0-9]{0,39})$/;
export const MAX_REGISTER = BigInt(Number.MAX_SAFE_INTEGER);
/** Earliest plausible timestamp (2001-09-09): catches seconds sent instead of milliseconds. */
export const MIN_TS = 1_000_000_000_000;

export interface ParseOptions {
  /** Now, unix ms. */
  now: number;
  /** How far in the future a timestamp may be (meter clock ahead of ours). */
  maxClockSkewMs: number;
}

export function parseMeterMessage(message: Uint8Array | string, options: ParseOptions): ParsedMessage {
  const size = typeof message === 'string' ? Buffer.byteLength(message) : message.length;
  if (size > MAX_MESSAGE_BYTES) return reject('TOO_LARGE', `${size} bytes, at most ${MAX_MESSAGE_BYTES}`);
  const object = parseJsonObject(message);
  if (!object.ok) return object;
  const { ts, registerWh, importWh, exportWh } = object.value;
  const time = checkTimestamp(ts, options);
  if (time !== undefined) return time;
  if (registerWh !== undefined && importWh !== undefined) {
    return reject('CONFLICTING_FIELDS', 'registerWh and importWh: give one of them (registerWh is the old name of importWh)');
  }
  const importField = importWh !== undefined ? 'importWh' : 'registerWh';
  const imported = parseRegister(importWh ?? registerWh, importField);
  if (typeof imported !== 'bigint') return imported;
  if (exportWh === undefined) return { ok: true, reading: { ts: ts as number, importWh: imported } };
  const exported = parseRegister(exportWh, 'exportWh');
  if (typeof exported !== 'bigint') return exported;
  return { ok: true, reading: { ts: ts as number, importWh: imported, exportWh: exported } };
}

/** The message parsed as one JSON object (shared by the JSON adapters). */
export function parseJsonObject(message: Uint8Array | string): { ok: true; value: Record<string, unknown> } | { ok: false; reason: RejectReason; detail: string } {
  let value: unknown;
  try {
    value = JSON.parse(typeof message === 'string' ? message : Buffer.from(message).toString('utf8'));
  } catch {
    return reject('NOT_JSON', 'message is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return reject('NOT_AN_OBJECT', 'message is not a JSON object');
  return { ok: true, value: value as Record<string, unknown> };
}

/** A refusal if `ts` is not a plausible unix-ms time at most maxClockSkewMs ahead of now. */
export function checkTimestamp(ts: unknown, options: ParseOptions, field = 'ts'): ParsedMessage | undefined {
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < MIN_TS) {
    return reject('BAD_TIMESTAMP', `${field} must be unix time in milliseconds (integer)`);
  }
  if (ts > options.now + options.maxClockSkewMs) return reject('FUTURE_TIMESTAMP', `${field} is ${ts - options.now} ms in the future`);
  return undefined;
}

/** A register in Wh given as a JSON number or decimal string; the refusal names `field`. */
export function parseRegister(value: unknown, field: string): bigint | { ok: false; reason: RejectReason; detail: string } {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return reject('NOT_NUMERIC', `${field} is not a finite number`);
    if (value < 0) return reject('NEGATIVE_REGISTER', `${field} is negative`);
    if (!Number.isInteger(value)) return reject('NOT_NUMERIC', `${field} must be an integer`);
    if (!Number.isSafeInteger(value)) return reject('REGISTER_OUT_OF_RANGE', `${field} is above 2^53 - 1`);
    return BigInt(value);
  }
  if (typeof value === 'string') {
    if (/^-[0-9]/.test(value)) return reject('NEGATIVE_REGISTER', `${field} is negative`);
    if (!DECIMAL_REGISTER.test(value)) return reject('NOT_NUMERIC', `${field} is not a decimal integer`);
    const register = BigInt(value);
    if (register > MAX_REGISTER) return reject('REGISTER_OUT_OF_RANGE', `${field} is above 2^53 - 1`);
    return register;
  }
  return reject('NOT_NUMERIC', `${field} is missing or not a number`);
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
 * The rules against the last accepted reading: strictly later, neither register below
 * its last value, and neither growing by more than the meter's rated power allows over
 * the time between the two. Each register is bounded on its own: the connection's rating
 * bounds each direction, and a three-phase meter that nets per phase can move both
 * registers in one interval. A meter that reported an export register must keep
 * reporting it (a message without it is malformed, and holding the register silently
 * would hide exported energy); one that starts to report it is accepted (energy before
 * its first value is unknown, counted 0, as for the first import reading).
 */
export function checkOrder(previous: MeterReading | undefined, next: MeterReading, rules: OrderRules = {}): ParsedMessage {
  if (previous !== undefined) {
    if (next.ts === previous.ts) return reject('DUPLICATE_TIMESTAMP', 'a reading with this ts was already accepted');
    if (next.ts < previous.ts) return reject('OUT_OF_ORDER', `ts is ${previous.ts - next.ts} ms before the last accepted reading`);
    if (next.importWh < previous.importWh) return reject('REGISTER_DECREASED', 'importWh is below the last accepted import register');
    if (previous.exportWh !== undefined) {
      if (next.exportWh === undefined) return reject('EXPORT_REGISTER_MISSING', 'exportWh is missing; the last accepted reading had an export register');
      if (next.exportWh < previous.exportWh) return reject('EXPORT_REGISTER_DECREASED', 'exportWh is below the last accepted export register');
    }
    if (rules.ratedPowerW !== undefined) {
      const elapsedMs = next.ts - previous.ts;
      const limit = maxRegisterIncrease(rules.ratedPowerW, elapsedMs);
      // The size of a jump stays out of the detail: it is a reading, and details are logged.
      const rated = `than the rated ${rules.ratedPowerW} W allows (${limit} Wh)`;
      if (next.importWh - previous.importWh > limit) return reject('REGISTER_JUMP', `importWh rose more in ${elapsedMs} ms ${rated}`);
      if (previous.exportWh !== undefined && next.exportWh !== undefined && next.exportWh - previous.exportWh > limit) {
        return reject('EXPORT_REGISTER_JUMP', `exportWh rose more in ${elapsedMs} ms ${rated}`);
      }
    }
  }
  return { ok: true, reading: next };
}

/** The message a simulator or a meter adapter publishes (our own format). */
export function formatMeterMessage(reading: MeterReading): string {
  const wire = (v: bigint): number | string => (v <= MAX_REGISTER ? Number(v) : v.toString());
  return JSON.stringify({ ts: reading.ts, importWh: wire(reading.importWh), ...(reading.exportWh !== undefined ? { exportWh: wire(reading.exportWh) } : {}) });
}

export function reject(reason: RejectReason, detail: string): { ok: false; reason: RejectReason; detail: string } {
  return { ok: false, reason, detail };
}
