import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SerialPortMock } from 'serialport';
import {
  memoryLogger,
  meterDecoder,
  P1Source,
  parseDsmrTelegram,
  ReadingLog,
  TelegramFramer,
  type ParsedMessage,
  type RejectReason,
  type SerialPortLike,
} from '@flexproof/edge-client';

const FIXTURES = path.join(__dirname, '../../fixtures/meters');
const ISKRA = readFileSync(path.join(FIXTURES, 'dsmr-5.0.2-iskra-am550.txt'), 'latin1');
const SAGEMCOM = readFileSync(path.join(FIXTURES, 'dsmr-5.0-sagemcom-xs210.txt'), 'latin1');
const ISKRA_TS = Date.UTC(2026, 8, 9, 21, 7, 49); // 260909230749S: summer time, UTC+2
const opts = { now: ISKRA_TS + 60_000, maxClockSkewMs: 300_000 };

/**
 * CRC-16/ARC bit by bit, as the DSMR standard describes it (polynomial 0x8005 reflected,
 * initial value 0): an independent reference for the library the adapter uses.
 */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** The telegram with its body edited and the CRC made right again: only the edit is wrong. */
function edited(telegram: string, edit: (body: string) => string): string {
  const body = edit(telegram.slice(0, telegram.lastIndexOf('!') + 1));
  return `${body}${crc16(Buffer.from(body, 'latin1')).toString(16).toUpperCase().padStart(4, '0')}\r\n`;
}

function reason(parsed: ParsedMessage): RejectReason | 'ok' {
  return parsed.ok ? 'ok' : parsed.reason;
}

/** Waits until `check` holds (polling; real sockets and timers). */
async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('edge-client adapters: DSMR P1 telegrams', () => {
  it('the reference CRC is CRC-16/ARC (check value of "123456789" is 0xBB3D)', () => {
    assert.equal(crc16(Buffer.from('123456789')), 0xbb3d);
    assert.equal(edited(ISKRA, (b) => b), ISKRA, 'the recorded telegram carries the CRC the reference computes');
  });

  it('reads recorded telegrams: both tariffs summed per register, kWh to Wh, S and W times', () => {
    const iskra = parseDsmrTelegram(ISKRA, opts);
    assert.deepEqual(iskra, { ok: true, reading: { ts: ISKRA_TS, importWh: 14_594_213n + 15_966_058n, exportWh: 117_923n + 352_530n } });
    // 171105201324W: winter time, UTC+1.
    const sagemcom = parseDsmrTelegram(Buffer.from(SAGEMCOM, 'latin1'), { now: Date.UTC(2017, 10, 5, 20), maxClockSkewMs: 0 });
    assert.deepEqual(sagemcom, { ok: true, reading: { ts: Date.UTC(2017, 10, 5, 19, 13, 24), importWh: 51_775n, exportWh: 24_413n } });
    assert.equal(meterDecoder({ meterFormat: 'dsmr-p1' }).decode(ISKRA, opts).ok, true);
  });

  it('refuses corrupted telegrams with the reason, and keeps the values out of the detail', () => {
    const cases: [string, RejectReason][] = [
      [ISKRA.replace('1-0:1.8.1(014594.213', '1-0:1.8.1(014594.218'), 'BAD_CRC'], // one digit flipped on the line
      [ISKRA.replace('!BDB4', '!BDB5'), 'BAD_CRC'],
      [ISKRA.replace('\r\n1-0:2.8.1(000117.923*kWh)', '\r\n1-0:2.8.1(000117.923*kWh)\r\n'), 'BAD_CRC'], // a byte more
      [edited(ISKRA, (b) => b.replace('1-0:2.8.2(000352.530*kWh)\r\n', '')), 'MISSING_FIELD'],
      [edited(ISKRA, (b) => b.replace('1-0:1.8.1(014594.213*kWh)\r\n', '')), 'MISSING_FIELD'],
      [edited(ISKRA, (b) => b.replace('0-0:1.0.0(260909230749S)\r\n', '')), 'MISSING_FIELD'],
      [edited(ISKRA, (b) => b.replace('1-0:1.8.2(015966.058*kWh)', '1-0:1.8.2(015966058*Wh)')), 'BAD_UNIT'],
      [edited(ISKRA, (b) => b.replace('1-0:1.8.2(015966.058*kWh)', '1-0:1.8.2(015966.05*kWh)')), 'NOT_NUMERIC'],
      [edited(ISKRA, (b) => b.replace('1-0:1.8.2(015966.058*kWh)', '1-0:1.8.2(-15966.058*kWh)')), 'NOT_NUMERIC'],
      [edited(ISKRA, (b) => b.replace('260909230749S', '261309230749S')), 'BAD_TIMESTAMP'], // month 13
      [edited(ISKRA, (b) => b.replace('260909230749S', '260931230749S')), 'BAD_TIMESTAMP'], // 31 September
      [edited(ISKRA, (b) => b.replace('260909230749S', '260909230749X')), 'BAD_TIMESTAMP'],
      [edited(ISKRA, (b) => b.replace('260909230749S', '270909230749S')), 'FUTURE_TIMESTAMP'],
      [edited(ISKRA, (b) => b.replace('0-0:96.14.0(0001)', '1-0:1.8.1(000000.000*kWh)')), 'BAD_FRAME'], // an OBIS twice
      [edited(ISKRA, (b) => b.replace('/ISK5', '/ISK4')), 'BAD_FRAME'], // not a DSMR 4/5 header
      [ISKRA.replace('!BDB4', '!'), 'BAD_FRAME'], // no CRC (DSMR 2.2)
      [ISKRA.slice(10), 'BAD_FRAME'],
      ['garbage\r\n!0000', 'BAD_FRAME'],
      [`/ISK5\\2M550E-1011\r\n${'0-0:96.13.0()\r\n'.repeat(600)}!0000`, 'TOO_LARGE'],
    ];
    for (const [telegram, expected] of cases) {
      const parsed = parseDsmrTelegram(telegram, opts);
      assert.equal(reason(parsed), expected, `${expected}: ${JSON.stringify(telegram.slice(0, 60))}`);
      assert.ok(!parsed.ok && !/014594|015966|000117|000352/.test(parsed.detail), `no reading in the detail: ${!parsed.ok && parsed.detail}`);
    }
  });

  it('frames telegrams from a byte stream cut at any point, skipping the tail caught mid-way', () => {
    const stream = Buffer.from(`4*kWh)\r\n!1A2B\r\n${ISKRA}${SAGEMCOM}`, 'latin1');
    for (const size of [1, 2, 3, 7, 64, 500, stream.length]) {
      const framer = new TelegramFramer();
      const frames: string[] = [];
      for (let i = 0; i < stream.length; i += size) frames.push(...framer.push(stream.subarray(i, i + size)).map((f) => f.toString('latin1')));
      assert.deepEqual(frames, [ISKRA.trimEnd(), SAGEMCOM.trimEnd()], `chunks of ${size}`);
    }
    // A telegram cut short by the next one: the fragment is handed on (and refused), the next one is whole.
    const framer = new TelegramFramer();
    const frames = framer.push(Buffer.from(ISKRA.slice(0, 300) + SAGEMCOM, 'latin1'));
    assert.equal(frames.length, 2);
    assert.equal(reason(parseDsmrTelegram(frames[0]!, opts)), 'BAD_FRAME');
    assert.equal(frames[1]!.toString('latin1'), SAGEMCOM.trimEnd());
    // A stream with no '!' for too long is handed on as one oversized fragment (TOO_LARGE), then framing resumes.
    const flood = new TelegramFramer();
    const out = flood.push(Buffer.from(`/ISK5\\x\r\n${'1-0:32.7.0(242.9*V)\r\n'.repeat(500)}`, 'latin1'));
    assert.equal(out.length, 1);
    assert.equal(reason(parseDsmrTelegram(out[0]!, opts)), 'TOO_LARGE');
    assert.deepEqual(flood.push(Buffer.from(ISKRA, 'latin1')).map((f) => f.toString('latin1')), [ISKRA.trimEnd()]);
  });

  it('a telegram whose export register went down is refused by the reading log (EXPORT_REGISTER_DECREASED)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flexproof-dsmr-'));
    try {
      const log = await ReadingLog.open(path.join(dir, 'readings.jsonl'));
      const next = (edit: (b: string) => string) => parseDsmrTelegram(edited(ISKRA, edit), { ...opts, now: ISKRA_TS + 3_600_000 });
      const first = parseDsmrTelegram(ISKRA, opts);
      assert.ok(first.ok);
      assert.equal((await log.accept(first.reading)).ok, true);
      const lower = next((b) => b.replace('260909230749S', '260909230759S').replace('1-0:2.8.1(000117.923', '1-0:2.8.1(000117.900'));
      assert.ok(lower.ok, 'the telegram itself is well-formed');
      assert.equal(reason(await log.accept(lower.reading)), 'EXPORT_REGISTER_DECREASED');
      const lowerImport = next((b) => b.replace('260909230749S', '260909230759S').replace('1-0:1.8.2(015966.058', '1-0:1.8.2(015966.000'));
      assert.ok(lowerImport.ok);
      assert.equal(reason(await log.accept(lowerImport.reading)), 'REGISTER_DECREASED');
      const later = next((b) => b.replace('260909230749S', '260909230759S').replace('1-0:2.8.1(000117.923', '1-0:2.8.1(000117.930'));
      assert.ok(later.ok);
      assert.equal((await log.accept(later.reading)).ok, true);
      assert.deepEqual(log.readings.map((r) => r.exportWh), [470_453n, 470_460n]);
      await log.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a P1 dongle over TCP: a real local server, chunked telegrams, a corrupt one, a reconnect', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const outcomes: (RejectReason | 'ok')[] = [];
    const logger = memoryLogger();
    const decoder = meterDecoder({ meterFormat: 'dsmr-p1' });
    const source = P1Source.start({
      p1: { host: '127.0.0.1', port, baudRate: 115_200 },
      onTelegram: async (telegram) => {
        // As the store does: a little later than at once, so the next chunks queue up behind.
        await new Promise((r) => setTimeout(r, 5));
        outcomes.push(reason(decoder.decode(telegram, { now: ISKRA_TS + 3_600_000, maxClockSkewMs: 0 })));
      },
      onFatal: (error) => assert.fail(String(error)),
      logger,
      reconnectMs: 50,
    });
    try {
      await until(() => sockets.length === 1 && source.connected, 'the connection');
      const bytes = Buffer.from(ISKRA + ISKRA.replace('1-0:1.8.1(014594.213', '1-0:1.8.1(014594.218') + edited(ISKRA, (b) => b.replace('260909230749S', '260909230759S')), 'latin1');
      for (let i = 0; i < bytes.length; i += 100) {
        sockets[0]!.write(bytes.subarray(i, i + 100));
        await new Promise((r) => setTimeout(r, 1));
      }
      await until(() => outcomes.length === 3, 'three telegrams');
      assert.deepEqual(outcomes, ['ok', 'BAD_CRC', 'ok']);
      // The dongle drops the connection: the source comes back by itself.
      sockets[0]!.destroy();
      await until(() => sockets.length === 2, 'the reconnect');
      sockets[1]!.write(Buffer.from(SAGEMCOM, 'latin1'));
      await until(() => outcomes.length === 4, 'the telegram after the reconnect');
      assert.equal(outcomes[3], 'ok');
      assert.ok(logger.lines.some((l) => l.event === 'p1.disconnected' && l.level === 'warn'));
    } finally {
      await source.stop();
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => server.close(r));
    }
    assert.equal(source.connected, false);
  });

  it('reads a serial P1 port (serialport mock binding), reopening it after the device goes away', async () => {
    const devicePath = '/dev/ttyFLEXP1';
    SerialPortMock.binding.createPort(devicePath, { echo: false, record: false });
    const opened: SerialPortMock[] = [];
    const outcomes: (RejectReason | 'ok')[] = [];
    const source = P1Source.start({
      p1: { serialPath: devicePath, baudRate: 115_200 },
      serialPort: (o) => {
        const port = new SerialPortMock({ path: o.path, baudRate: o.baudRate, autoOpen: false });
        opened.push(port);
        return port as unknown as SerialPortLike;
      },
      onTelegram: async (telegram) => {
        outcomes.push(reason(parseDsmrTelegram(telegram, opts)));
      },
      onFatal: (error) => assert.fail(String(error)),
      logger: memoryLogger(),
      reconnectMs: 20,
    });
    try {
      await until(() => source.connected, 'the open port');
      assert.equal(opened[0]!.baudRate, 115_200);
      const data = Buffer.from(ISKRA + ISKRA.replace('!BDB4', '!0000'), 'latin1');
      opened[0]!.port!.emitData(data.subarray(0, 333));
      opened[0]!.port!.emitData(data.subarray(333));
      await until(() => outcomes.length === 2, 'two telegrams');
      assert.deepEqual(outcomes, ['ok', 'BAD_CRC']);
      opened[0]!.close();
      await until(() => opened.length === 2 && source.connected, 'the port reopened');
      opened[1]!.port!.emitData(Buffer.from(ISKRA, 'latin1'));
      await until(() => outcomes.length === 3, 'a telegram after the reopen');
    } finally {
      await source.stop();
      SerialPortMock.binding.reset();
    }
  });

  it('the native serialport binding loads on this machine', async () => {
    const { SerialPort } = await import('serialport');
    assert.ok(Array.isArray(await SerialPort.list()));
  });
});
