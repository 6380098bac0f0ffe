/**
 * DSMR P1 telegrams (the Dutch/Belgian smart-meter port, DSMR 5.0.2 P1 Companion
 * Standard). A telegram is ASCII lines ending in CRLF:
 *
 *   /ISK5\2M550E-1011            header: '/', 3-letter manufacturer, '5', identification
 *                                (blank line)
 *   0-0:1.0.0(260909230749S)     time of the telegram, YYMMDDhhmmss + S (summer, UTC+2) or W (winter, UTC+1)
 *   1-0:1.8.1(014594.213*kWh)    import, tariff 1
 *   1-0:1.8.2(015966.058*kWh)    import, tariff 2
 *   1-0:2.8.1(000117.923*kWh)    export, tariff 1
 *   1-0:2.8.2(000352.530*kWh)    export, tariff 2
 *   ...                          (other objects are ignored)
 *   !BDB4                        CRC16 of everything from '/' to '!' inclusive
 *
 * The CRC is CRC-16/ARC (polynomial 0x8005 reflected, initial 0, as the standard
 * specifies), 4 hex digits; a telegram whose CRC does not match is refused (BAD_CRC):
 * a bit flipped on the serial line must not become a reading. The import register is the
 * sum of the two tariff registers, the export register likewise, in Wh.
 */
import { crc16 } from 'crc';
import { checkTimestamp, reject, type ParsedMessage, type ParseOptions } from '../meter-message';
import { decimalToWh } from './energy-units';

/** A DSMR 5 telegram is about 1 kB; with the longest optional text message still below 4 kB. */
export const MAX_TELEGRAM_BYTES = 8192;

export const OBIS = {
  time: '0-0:1.0.0',
  importTariff1: '1-0:1.8.1',
  importTariff2: '1-0:1.8.2',
  exportTariff1: '1-0:2.8.1',
  exportTariff2: '1-0:2.8.2',
} as const;

const HEADER = /^\/[A-Za-z]{3}5[\x21-\x7e][\x20-\x7e]{0,95}\r\n/;
const DATA_LINE = /^([0-9]{1,3}-[0-9]{1,3}:[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})((?:\([^()\r\n]*\))+)$/;
const KWH = /^\(([0-9]{1,12}\.[0-9]{3})\*kWh\)$/;
const TIME = /^\(([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([SW])\)$/;

export function parseDsmrTelegram(telegram: Uint8Array | string, options: ParseOptions): ParsedMessage {
  const bytes = typeof telegram === 'string' ? Buffer.from(telegram, 'latin1') : Buffer.from(telegram);
  if (bytes.length > MAX_TELEGRAM_BYTES) return reject('TOO_LARGE', `${bytes.length} bytes, at most ${MAX_TELEGRAM_BYTES}`);
  const text = bytes.toString('latin1');
  const header = HEADER.exec(text);
  if (!header) return reject('BAD_FRAME', "header: a telegram starts with /XXX5<identification> and CRLF");
  const bang = text.lastIndexOf('!');
  if (bang < header[0].length) return reject('BAD_FRAME', "end: no '!' after the header");
  const tail = /^([0-9A-Fa-f]{4})(\r\n)?$/.exec(text.slice(bang + 1));
  if (!tail) return reject('BAD_FRAME', "CRC: 4 hex digits after '!' (DSMR 4 and later)");
  const expected = Number.parseInt(tail[1] as string, 16);
  if (crc16(bytes.subarray(0, bang + 1)) !== expected) return reject('BAD_CRC', "CRC: the CRC16 after '!' does not match the telegram");

  const objects = new Map<string, string>();
  for (const line of text.slice(header[0].length, bang).split('\r\n')) {
    const data = DATA_LINE.exec(line);
    // Blank lines, and continuation lines of older gas objects: not ours to read.
    if (!data) continue;
    const obis = data[1] as string;
    if (objects.has(obis)) return reject('BAD_FRAME', `OBIS ${obis} appears twice`);
    objects.set(obis, data[2] as string);
  }
  const time = objects.get(OBIS.time);
  if (time === undefined) return reject('MISSING_FIELD', `OBIS ${OBIS.time} (time of the telegram) is missing`);
  const ts = telegramTime(time);
  if (ts === undefined) return reject('BAD_TIMESTAMP', `OBIS ${OBIS.time}: YYMMDDhhmmss followed by S or W`);
  const refused = checkTimestamp(ts, options, `OBIS ${OBIS.time}`);
  if (refused !== undefined) return refused;
  const registers: bigint[] = [];
  for (const obis of [OBIS.importTariff1, OBIS.importTariff2, OBIS.exportTariff1, OBIS.exportTariff2]) {
    const value = objects.get(obis);
    if (value === undefined) return reject('MISSING_FIELD', `OBIS ${obis} is missing`);
    const kwh = KWH.exec(value);
    if (!kwh) {
      return /\*kWh\)$/.test(value)
        ? reject('NOT_NUMERIC', `OBIS ${obis}: a kWh value with 3 decimals`)
        : reject('BAD_UNIT', `OBIS ${obis}: the unit must be kWh`);
    }
    const wh = decimalToWh(kwh[1] as string, 'kWh', `OBIS ${obis}`);
    if (typeof wh !== 'bigint') return wh;
    registers.push(wh);
  }
  const [import1, import2, export1, export2] = registers as [bigint, bigint, bigint, bigint];
  return { ok: true, reading: { ts, importWh: import1 + import2, exportWh: export1 + export2 } };
}

/** The time of 0-0:1.0.0 as unix ms: S is summer time (UTC+2), W winter time (UTC+1). */
function telegramTime(value: string): number | undefined {
  const m = TIME.exec(value);
  if (!m) return undefined;
  const [yy, mo, dd, hh, mi, ss] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const local = Date.UTC(2000 + yy, mo - 1, dd, hh, mi, ss);
  const d = new Date(local);
  // Date.UTC rolls 31 April over into May: the fields must come back as written.
  if (d.getUTCMonth() !== mo - 1 || d.getUTCDate() !== dd || d.getUTCHours() !== hh || d.getUTCMinutes() !== mi || d.getUTCSeconds() !== ss) return undefined;
  return local - (m[7] === 'S' ? 2 : 1) * 3_600_000;
}

/**
 * Cuts telegrams out of a byte stream (serial line or TCP dongle), which delivers them
 * in arbitrary chunks. A telegram runs from '/' to '!' and the 4 CRC characters after
 * it. Bytes before a '/' cannot belong to a telegram and are skipped (the tail of a
 * telegram caught mid-way when the port opened, the CRLF after the CRC). A fragment cut
 * short by a new '/' before its '!', or longer than MAX_TELEGRAM_BYTES, is returned too,
 * so the parser refuses it with a reason and the refusal is counted, rather than
 * vanishing here.
 */
export class TelegramFramer {
  #pending: Buffer = Buffer.alloc(0);

  /** Adds a chunk; returns the telegrams (and broken fragments) it completed, in order. */
  push(chunk: Uint8Array): Buffer[] {
    this.#pending = this.#pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#pending, chunk]);
    const frames: Buffer[] = [];
    for (;;) {
      const start = this.#pending.indexOf(0x2f); // '/'
      if (start < 0) {
        this.#pending = Buffer.alloc(0);
        return frames;
      }
      if (start > 0) this.#pending = this.#pending.subarray(start);
      const bang = this.#pending.indexOf(0x21); // '!'
      const nextStart = this.#pending.indexOf(0x2f, 1);
      if (nextStart > 0 && (bang < 0 || nextStart < bang)) {
        frames.push(Buffer.from(this.#pending.subarray(0, nextStart)));
        this.#pending = this.#pending.subarray(nextStart);
        continue;
      }
      if (bang < 0) {
        if (this.#pending.length > MAX_TELEGRAM_BYTES) {
          frames.push(Buffer.from(this.#pending));
          this.#pending = Buffer.alloc(0);
        }
        return frames;
      }
      // The CRC: up to 4 hex characters; a non-hex one ends the telegram early (no CRC: refused by the parser).
      let end = bang + 1;
      while (end < this.#pending.length && end < bang + 5 && isHex(this.#pending[end] as number)) end++;
      if (end < bang + 5 && end === this.#pending.length) return frames; // the CRC may still be on its way
      frames.push(Buffer.from(this.#pending.subarray(0, end)));
      this.#pending = this.#pending.subarray(end);
    }
  }
}

function isHex(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}
