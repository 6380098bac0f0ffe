/**
 * Tasmota's Smart Meter Interface (SML and the other meter protocols its scripts read):
 * the teleperiod message on `tele/<topic>/SENSOR`,
 *
 *   {"Time":"2024-05-01T12:00:00","SML":{"Total_in":12345.6789,"Total_out":2345.0123,"Power_curr":-1250}}
 *
 * The object's name ("SML" here) is the meter name of the script's `+1,...,<name>` line,
 * its fields the names the script's descriptor lines give (Tasmota's documentation and
 * the common scripts name the import register `Total_in` and the export register
 * `Total_out`, in kWh). All of them are configuration (`tasmota.meterName`,
 * `importField`, `exportField`, `unit`). A message without the export field reads as a
 * meter without an export register.
 *
 * Tasmota writes `Time` as its local time without a zone: it is read in
 * `tasmota.timeZone` (an IANA zone, default UTC), which must be the zone the device is
 * set to. The device's time is used rather than the receive time because a message kept
 * by the broker while the edge was down arrives late, and the register belongs to the
 * time it was read. In the hour a clock is put back, a local time occurs twice; the
 * earlier instant is taken (the later reading is then refused as a duplicate or
 * out-of-order one, never stored at a wrong time with a larger register).
 */
import type { TasmotaConfig } from '../config';
import { checkTimestamp, parseJsonObject, reject, type ParsedMessage, type ParseOptions } from '../meter-message';
import { jsonNumberToWh } from './energy-units';

/** A SENSOR message with a few sensors besides the meter stays well below this. */
export const MAX_TASMOTA_MESSAGE_BYTES = 4096;

const LOCAL_TIME = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})$/;

export function parseTasmotaSml(message: Uint8Array | string, options: ParseOptions, config: TasmotaConfig): ParsedMessage {
  const size = typeof message === 'string' ? Buffer.byteLength(message) : message.length;
  if (size > MAX_TASMOTA_MESSAGE_BYTES) return reject('TOO_LARGE', `${size} bytes, at most ${MAX_TASMOTA_MESSAGE_BYTES}`);
  const parsed = parseJsonObject(message);
  if (!parsed.ok) return parsed;
  const { value } = parsed;
  if (value.Time === undefined) return reject('MISSING_FIELD', 'Time is missing');
  const ts = typeof value.Time === 'string' ? zonedTime(value.Time, config.timeZone) : undefined;
  if (ts === undefined) return reject('BAD_TIMESTAMP', 'Time: local time YYYY-MM-DDThh:mm:ss');
  const refused = checkTimestamp(ts, options, 'Time');
  if (refused !== undefined) return refused;
  const meter = value[config.meterName];
  if (typeof meter !== 'object' || meter === null || Array.isArray(meter)) {
    return reject('MISSING_FIELD', `${config.meterName}: the meter's object is missing (tasmota.meterName)`);
  }
  const fields = meter as Record<string, unknown>;
  const importField = `${config.meterName}.${config.importField}`;
  if (fields[config.importField] === undefined) return reject('MISSING_FIELD', `${importField} is missing (tasmota.importField)`);
  const importWh = jsonNumberToWh(fields[config.importField], config.unit, importField);
  if (typeof importWh !== 'bigint') return importWh;
  if (config.exportField === undefined || fields[config.exportField] === undefined) return { ok: true, reading: { ts, importWh } };
  const exportWh = jsonNumberToWh(fields[config.exportField], config.unit, `${config.meterName}.${config.exportField}`);
  if (typeof exportWh !== 'bigint') return exportWh;
  return { ok: true, reading: { ts, importWh, exportWh } };
}

/** A local wall-clock time in an IANA zone as unix ms; undefined if it is not a valid date and time. */
export function zonedTime(text: string, timeZone: string): number | undefined {
  const m = LOCAL_TIME.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const check = new Date(wall);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || check.getUTCHours() !== h || check.getUTCMinutes() !== mi || check.getUTCSeconds() !== s) {
    return undefined;
  }
  // The zone's offset at the instant the wall time names: try the offsets in force a day
  // either side, keep those that map back to the same wall time, take the earliest instant.
  const candidates = [offsetAt(wall - 86_400_000, timeZone), offsetAt(wall, timeZone), offsetAt(wall + 86_400_000, timeZone)]
    .map((offset) => wall - offset)
    .filter((instant) => wall - offsetAt(instant, timeZone) === instant);
  // A wall time in the gap when clocks go forward does not exist: the offset before the gap names it.
  return candidates.length > 0 ? Math.min(...candidates) : wall - offsetAt(wall - 86_400_000, timeZone);
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Local minus UTC at `instant` in `timeZone`, ms. */
function offsetAt(instant: number, timeZone: string): number {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  const part = (parts: Intl.DateTimeFormatPart[], type: string): number => Number(parts.find((p) => p.type === type)?.value);
  const parts = format.formatToParts(instant);
  const local = Date.UTC(part(parts, 'year'), part(parts, 'month') - 1, part(parts, 'day'), part(parts, 'hour'), part(parts, 'minute'), part(parts, 'second'));
  return local - (instant - (((instant % 1000) + 1000) % 1000));
}

/** Whether the runtime knows the IANA zone (config validation). */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}
