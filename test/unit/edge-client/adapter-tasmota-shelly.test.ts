import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  checkOrder,
  meterDecoder,
  parseShelly,
  parseTasmotaSml,
  zonedTime,
  type MeterReading,
  type ParsedMessage,
  type RejectReason,
  type ShellyConfig,
  type TasmotaConfig,
} from '@flexproof/edge-client';

const FIXTURES = path.join(__dirname, '../../fixtures/meters');
const lines = (file: string): string[] => readFileSync(path.join(FIXTURES, file), 'utf8').split('\n').filter((l) => l !== '');
const reason = (p: ParsedMessage): RejectReason | 'ok' => (p.ok ? 'ok' : p.reason);
const reading = (p: ParsedMessage): MeterReading => {
  assert.ok(p.ok, p.ok ? '' : `${p.reason}: ${p.detail}`);
  return p.reading;
};
const NOW = Date.UTC(2024, 4, 1, 12);
const opts = { now: NOW, maxClockSkewMs: 3_600_000 };

describe('edge-client adapters: Tasmota SML', () => {
  const config: TasmotaConfig = { meterName: 'SML', importField: 'Total_in', exportField: 'Total_out', unit: 'kWh', timeZone: 'Europe/Berlin' };

  it('reads recorded SENSOR messages: kWh to Wh from the decimal digits, local time in the configured zone', () => {
    const readings = lines('tasmota-sml-tele-sensor.jsonl').map((l) => reading(parseTasmotaSml(l, { ...opts, now: Date.UTC(2024, 4, 1, 11) }, config)));
    // 11:45 in Berlin in May (UTC+2) is 09:45 UTC.
    assert.deepEqual(readings[0], { ts: Date.UTC(2024, 4, 1, 9, 45), importWh: 12_345_678n, exportWh: 2_345_012n });
    assert.deepEqual(readings.map((r) => r.exportWh), [2_345_012n, 2_345_471n, 2_345_930n, 2_346_112n]);
    assert.deepEqual(readings.map((r) => r.importWh), [12_345_678n, 12_345_680n, 12_345_682n, 12_345_903n]);
    readings.slice(1).forEach((r, i) => assert.equal(checkOrder(readings[i], r, { ratedPowerW: 10_000 }).ok, true));
    const utc = parseTasmotaSml(lines('tasmota-sml-tele-sensor.jsonl')[0]!, opts, { ...config, timeZone: 'UTC' });
    assert.equal(reading(utc).ts, Date.UTC(2024, 4, 1, 11, 45));
  });

  it('configurable names and unit; a message without the export field is a meter without export', () => {
    const own: TasmotaConfig = { meterName: 'MT175', importField: 'Verbrauch', exportField: 'Einspeisung', unit: 'Wh', timeZone: 'UTC' };
    const msg = JSON.stringify({ Time: '2024-05-01T10:00:00', MT175: { Verbrauch: 1234567.9, Einspeisung: 42 } });
    assert.deepEqual(reading(parseTasmotaSml(msg, opts, own)), { ts: Date.UTC(2024, 4, 1, 10), importWh: 1_234_567n, exportWh: 42n });
    const noExport = JSON.stringify({ Time: '2024-05-01T10:00:00', SML: { Total_in: 1.5 } });
    assert.deepEqual(reading(parseTasmotaSml(noExport, opts, { ...config, timeZone: 'UTC' })), { ts: Date.UTC(2024, 4, 1, 10), importWh: 1500n });
    assert.equal(reading(meterDecoder({ meterFormat: 'tasmota-sml', tasmota: config }).decode(lines('tasmota-sml-tele-sensor.jsonl')[0]!, opts)).importWh, 12_345_678n);
  });

  it('refuses corrupted messages by reason, naming the field, never the value', () => {
    const good = JSON.parse(lines('tasmota-sml-tele-sensor.jsonl')[1]!) as { Time: string; SML: Record<string, unknown> };
    const variant = (time: unknown, sml: unknown) => JSON.stringify({ Time: time, SML: sml });
    const cases: [string, RejectReason, RegExp?][] = [
      ['{"Time":"2024-05-01T12:00:00","SML":{"Total_in":12345.6789', 'NOT_JSON'],
      ['[1,2]', 'NOT_AN_OBJECT'],
      [JSON.stringify({ SML: good.SML }), 'MISSING_FIELD', /^Time/],
      [variant('2024-05-01 12:00:00', good.SML), 'BAD_TIMESTAMP'],
      [variant('2024-02-30T12:00:00', good.SML), 'BAD_TIMESTAMP'],
      [variant('2025-05-01T12:00:00', good.SML), 'FUTURE_TIMESTAMP'],
      [JSON.stringify({ Time: good.Time, ENERGY: { Total: 3 } }), 'MISSING_FIELD', /^SML:/],
      [variant(good.Time, { Total_out: 1 }), 'MISSING_FIELD', /SML\.Total_in/],
      [variant(good.Time, { ...good.SML, Total_in: '12345.6801' }), 'NOT_NUMERIC', /SML\.Total_in/],
      [variant(good.Time, { ...good.SML, Total_in: -3.5 }), 'NEGATIVE_REGISTER', /SML\.Total_in/],
      [variant(good.Time, { ...good.SML, Total_out: -0.001 }), 'NEGATIVE_REGISTER', /SML\.Total_out/],
      [variant(good.Time, { ...good.SML, Total_out: 1e22 }), 'REGISTER_OUT_OF_RANGE', /SML\.Total_out/],
      [variant(good.Time, { ...good.SML, Total_in: 9.1e12 }), 'REGISTER_OUT_OF_RANGE'],
      [JSON.stringify({ Time: good.Time, SML: good.SML, pad: 'x'.repeat(5000) }), 'TOO_LARGE'],
    ];
    for (const [message, expected, detail] of cases) {
      const parsed = parseTasmotaSml(message, opts, { ...config, timeZone: 'UTC' });
      assert.equal(reason(parsed), expected, message.slice(0, 80));
      if (detail && !parsed.ok) assert.match(parsed.detail, detail);
      assert.ok(!parsed.ok && !/12345|2345\./.test(parsed.detail));
    }
  });

  it('a decreasing export register between recorded messages is refused', () => {
    const [a, b] = lines('tasmota-sml-tele-sensor.jsonl').map((l) => reading(parseTasmotaSml(l, opts, config)));
    const down = { ...b!, exportWh: a!.exportWh! - 1n };
    assert.equal(reason(checkOrder(a, down)), 'EXPORT_REGISTER_DECREASED');
  });

  it('converts local time across daylight-saving changes (the repeated hour takes the earlier instant)', () => {
    assert.equal(zonedTime('2024-01-15T12:00:00', 'Europe/Berlin'), Date.UTC(2024, 0, 15, 11));
    assert.equal(zonedTime('2024-07-15T12:00:00', 'Europe/Berlin'), Date.UTC(2024, 6, 15, 10));
    assert.equal(zonedTime('2024-10-27T02:30:00', 'Europe/Berlin'), Date.UTC(2024, 9, 27, 0, 30), 'the first 02:30 (summer time)');
    assert.equal(zonedTime('2024-10-27T03:30:00', 'Europe/Berlin'), Date.UTC(2024, 9, 27, 2, 30));
    assert.equal(zonedTime('2024-03-31T01:59:59', 'Europe/Berlin'), Date.UTC(2024, 2, 31, 0, 59, 59));
    assert.equal(zonedTime('2024-03-31T03:00:00', 'Europe/Berlin'), Date.UTC(2024, 2, 31, 1));
    assert.equal(zonedTime('2024-05-01T12:00:00', 'America/New_York'), Date.UTC(2024, 4, 1, 16));
    assert.equal(zonedTime('2024-13-01T12:00:00', 'UTC'), undefined);
  });
});

describe('edge-client adapters: Shelly Gen2+', () => {
  const config: ShellyConfig = { component: 'emdata:0' };

  it('reads recorded NotifyStatus notifications (params.ts) and skips those about other components', () => {
    const outcomes = lines('shelly-pro3em-events-rpc.jsonl').map((l) => parseShelly(l, opts, config));
    assert.deepEqual(outcomes.map(reason), ['ok', 'NOT_A_READING', 'ok']);
    assert.deepEqual(reading(outcomes[0]!), { ts: 1_714_557_600_050, importWh: 12_112n, exportWh: 4_513n });
    assert.deepEqual(reading(outcomes[2]!), { ts: 1_714_557_660_050, importWh: 12_112n, exportWh: 4_543n });
    assert.equal(checkOrder(reading(outcomes[0]!), reading(outcomes[2]!), { ratedPowerW: 10_000 }).ok, true);
  });

  it('reads the status publication with the receive time, and em1data channels', () => {
    const status = readFileSync(path.join(FIXTURES, 'shelly-pro3em-status-emdata0.json'), 'utf8');
    assert.deepEqual(reading(parseShelly(status, opts, config)), { ts: NOW, importWh: 12_112n, exportWh: 4_543n });
    assert.equal(reason(parseShelly(status, opts, { component: 'emdata:1' })), 'NOT_A_READING', 'another instance');
    const proEm = readFileSync(path.join(FIXTURES, 'shelly-proem-events-rpc-em1data.json'), 'utf8');
    assert.deepEqual(reading(parseShelly(proEm, { ...opts, now: 1_707_931_000_000 }, { component: 'em1data:1' })), { ts: 1_707_930_973_110, importWh: 6_644n, exportWh: 2_595n });
    assert.equal(reason(parseShelly(proEm, opts, { component: 'em1data:0' })), 'NOT_A_READING');
    assert.equal(reading(meterDecoder({ meterFormat: 'shelly', shelly: config }).decode(status, opts)).exportWh, 4_543n);
  });

  it('refuses corrupted messages by reason, naming the field', () => {
    const good = JSON.parse(lines('shelly-pro3em-events-rpc.jsonl')[0]!) as { params: { ts: number; 'emdata:0': Record<string, unknown> } };
    const notify = (params: unknown) => JSON.stringify({ ...good, params });
    const data = good.params['emdata:0'];
    const cases: [string, RejectReason, RegExp?][] = [
      ['{"method":"NotifyStatus",', 'NOT_JSON'],
      [JSON.stringify({ ...good, method: 'NotifyEvent' }), 'NOT_A_READING'],
      [notify({ ts: good.params.ts, 'emdata:0': { ...data, total_act_ret: undefined } }), 'MISSING_FIELD', /total_act_ret/],
      [notify({ ts: good.params.ts, 'emdata:0': { ...data, total_act: undefined } }), 'MISSING_FIELD', /total_act /],
      [notify({ ts: good.params.ts, 'emdata:0': { ...data, total_act: '12112.19' } }), 'NOT_NUMERIC', /total_act /],
      [notify({ ts: good.params.ts, 'emdata:0': { ...data, total_act_ret: -1 } }), 'NEGATIVE_REGISTER', /total_act_ret/],
      [notify({ 'emdata:0': data }), 'BAD_TIMESTAMP'],
      [notify({ ts: '1714557600', 'emdata:0': data }), 'BAD_TIMESTAMP'],
      [notify({ ts: 1_714_557_600_050, 'emdata:0': data }), 'FUTURE_TIMESTAMP', /params\.ts/],
      [notify({ ts: 1714557600, 'emdata:0': 5 }), 'NOT_AN_OBJECT'],
      [JSON.stringify({ ...good, params: null }), 'MISSING_FIELD'],
      [JSON.stringify({ id: 0, a_total_act_energy: 1 }), 'MISSING_FIELD', /emdata:0\.total_act /],
    ];
    for (const [message, expected, detail] of cases) {
      const parsed = parseShelly(message, opts, config);
      assert.equal(reason(parsed), expected, message.slice(0, 100));
      if (detail && !parsed.ok) assert.match(`${parsed.detail} `, detail);
      assert.ok(!parsed.ok && !/12112|4513/.test(parsed.detail));
    }
  });
});
