import assert from 'node:assert/strict';
import { checkOrder, formatMeterMessage, parseMeterMessage, type RejectReason } from '../../../edge-client/src/meter-message';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const opts = { now: NOW, maxClockSkewMs: 300_000 };

function reason(message: string | Buffer): RejectReason | 'ok' {
  const parsed = parseMeterMessage(message, opts);
  return parsed.ok ? 'ok' : parsed.reason;
}

describe('edge-client: meter message validation', () => {
  it('accepts the documented format, with the register as a number or a decimal string', () => {
    const n = parseMeterMessage(JSON.stringify({ ts: NOW, registerWh: 1234567 }), opts);
    const s = parseMeterMessage(JSON.stringify({ ts: NOW, registerWh: '123456789012345678901234567890' }), opts);
    assert.ok(n.ok && n.reading.registerWh === 1234567n && n.reading.ts === NOW);
    assert.ok(s.ok && s.reading.registerWh === 123456789012345678901234567890n);
    assert.equal(reason(JSON.stringify({ ts: NOW, registerWh: 0, unit: 'Wh' })), 'ok');
  });

  it('drops what is not a reading, with a reason, never throwing', () => {
    const cases: [string | Buffer, RejectReason][] = [
      ['not json', 'NOT_JSON'],
      [Buffer.from([0xff, 0xfe, 0x00]), 'NOT_JSON'],
      ['[1,2]', 'NOT_AN_OBJECT'],
      ['null', 'NOT_AN_OBJECT'],
      [JSON.stringify({ registerWh: 5 }), 'BAD_TIMESTAMP'],
      [JSON.stringify({ ts: '2026-06-01', registerWh: 5 }), 'BAD_TIMESTAMP'],
      [JSON.stringify({ ts: Math.floor(NOW / 1000), registerWh: 5 }), 'BAD_TIMESTAMP'],
      [JSON.stringify({ ts: NOW + 0.5, registerWh: 5 }), 'BAD_TIMESTAMP'],
      [JSON.stringify({ ts: NOW + 3_600_000, registerWh: 5 }), 'FUTURE_TIMESTAMP'],
      [JSON.stringify({ ts: NOW }), 'NOT_NUMERIC'],
      [JSON.stringify({ ts: NOW, registerWh: 'abc' }), 'NOT_NUMERIC'],
      [JSON.stringify({ ts: NOW, registerWh: '12.5' }), 'NOT_NUMERIC'],
      [JSON.stringify({ ts: NOW, registerWh: 12.5 }), 'NOT_NUMERIC'],
      [JSON.stringify({ ts: NOW, registerWh: '0012' }), 'NOT_NUMERIC'],
      [JSON.stringify({ ts: NOW, registerWh: null }), 'NOT_NUMERIC'],
      [JSON.stringify({ ts: NOW, registerWh: true }), 'NOT_NUMERIC'],
      [JSON.stringify({ ts: NOW, registerWh: 2 ** 60 }), 'NOT_NUMERIC'],
      [`{"ts":${NOW},"registerWh":1e400}`, 'NOT_NUMERIC'],
      [JSON.stringify({ ts: NOW, registerWh: -1 }), 'NEGATIVE_REGISTER'],
      [JSON.stringify({ ts: NOW, registerWh: '-5' }), 'NEGATIVE_REGISTER'],
      [JSON.stringify({ ts: NOW, registerWh: 1, pad: 'x'.repeat(2000) }), 'TOO_LARGE'],
    ];
    for (const [message, expected] of cases) assert.equal(reason(message), expected, `message ${String(message).slice(0, 60)}`);
  });

  it('orders readings: duplicate and earlier timestamps and a decreasing register are refused', () => {
    const last = { ts: NOW, registerWh: 1000n };
    const at = (ts: number, registerWh: bigint) => checkOrder(last, { ts, registerWh });
    assert.equal(at(NOW + 1, 1000n).ok, true, 'same register later: no consumption');
    assert.equal(at(NOW + 1, 1001n).ok, true);
    const dup = at(NOW, 1000n);
    assert.ok(!dup.ok && dup.reason === 'DUPLICATE_TIMESTAMP');
    const early = at(NOW - 1, 999n);
    assert.ok(!early.ok && early.reason === 'OUT_OF_ORDER');
    const down = at(NOW + 1, 999n);
    assert.ok(!down.ok && down.reason === 'REGISTER_DECREASED');
    assert.equal(checkOrder(undefined, last).ok, true);
  });

  it('formats what it parses', () => {
    const parsed = parseMeterMessage(formatMeterMessage({ ts: NOW, registerWh: 2n ** 70n }), opts);
    assert.ok(parsed.ok && parsed.reading.registerWh === 2n ** 70n);
  });
});
