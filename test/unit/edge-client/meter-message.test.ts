import assert from 'node:assert/strict';
import { checkOrder, formatMeterMessage, maxRegisterIncrease, parseMeterMessage, type RejectReason } from '@flexproof/edge-client';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const opts = { now: NOW, maxClockSkewMs: 300_000 };

function reason(message: string | Buffer): RejectReason | 'ok' {
  const parsed = parseMeterMessage(message, opts);
  return parsed.ok ? 'ok' : parsed.reason;
}

describe('edge-client: meter message validation', () => {
  it('accepts the documented format, with the register as a number or a decimal string, up to 2^53 - 1', () => {
    const n = parseMeterMessage(JSON.stringify({ ts: NOW, registerWh: 1234567 }), opts);
    const s = parseMeterMessage(JSON.stringify({ ts: NOW, registerWh: String(Number.MAX_SAFE_INTEGER) }), opts);
    assert.ok(n.ok && n.reading.importWh === 1234567n && n.reading.ts === NOW);
    assert.ok(s.ok && s.reading.importWh === BigInt(Number.MAX_SAFE_INTEGER));
    assert.equal(reason(JSON.stringify({ ts: NOW, registerWh: Number.MAX_SAFE_INTEGER })), 'ok');
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
      [JSON.stringify({ ts: NOW, registerWh: 2 ** 60 }), 'REGISTER_OUT_OF_RANGE'],
      [JSON.stringify({ ts: NOW, registerWh: Number.MAX_SAFE_INTEGER + 1 }), 'REGISTER_OUT_OF_RANGE'],
      [JSON.stringify({ ts: NOW, registerWh: String(2n ** 53n) }), 'REGISTER_OUT_OF_RANGE'],
      [JSON.stringify({ ts: NOW, registerWh: '123456789012345678901234567890' }), 'REGISTER_OUT_OF_RANGE'],
      [`{"ts":${NOW},"registerWh":1e400}`, 'NOT_NUMERIC'],
      [JSON.stringify({ ts: NOW, registerWh: -1 }), 'NEGATIVE_REGISTER'],
      [JSON.stringify({ ts: NOW, registerWh: '-5' }), 'NEGATIVE_REGISTER'],
      [JSON.stringify({ ts: NOW, registerWh: 1, pad: 'x'.repeat(2000) }), 'TOO_LARGE'],
    ];
    for (const [message, expected] of cases) assert.equal(reason(message), expected, `message ${String(message).slice(0, 60)}`);
  });

  it('orders readings: duplicate and earlier timestamps and a decreasing register are refused', () => {
    const last = { ts: NOW, importWh: 1000n };
    const at = (ts: number, registerWh: bigint) => checkOrder(last, { ts, importWh: registerWh });
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

  it('bounds the increase by the rated power over the time since the last reading (10 % and 1 Wh margin)', () => {
    const last = { ts: NOW, importWh: 1000n };
    const rules = { ratedPowerW: 10_000 };
    // 10 kW for 15 minutes is 2500 Wh; with the margin 2751 Wh.
    assert.equal(maxRegisterIncrease(10_000, 900_000), 2751n);
    const at = (ms: number, registerWh: bigint) => checkOrder(last, { ts: NOW + ms, importWh: registerWh }, rules);
    assert.equal(at(900_000, 1000n + 2751n).ok, true, 'at the bound');
    const jump = at(900_000, 1000n + 2752n);
    assert.ok(!jump.ok && jump.reason === 'REGISTER_JUMP', 'one Wh beyond it');
    assert.ok(!jump.ok && !jump.detail.includes('2752') && !jump.detail.includes('3752'), 'the reading stays out of the logged detail');
    assert.equal(at(1000, 1000n + 4n).ok, true, '4 Wh in one second: within 10 kW with the margin');
    assert.equal(at(1000, 1000n + 5n).ok, false, '5 Wh in one second is 18 kW');
    assert.equal(at(1000, 1001n).ok, true, 'one register step is always allowed');
    assert.equal(checkOrder(last, { ts: NOW + 1, importWh: 10n ** 15n }).ok, true, 'no rated power given: no bound');
  });

  it('formats what it parses', () => {
    const parsed = parseMeterMessage(formatMeterMessage({ ts: NOW, importWh: 2n ** 52n }), opts);
    assert.ok(parsed.ok && parsed.reading.importWh === 2n ** 52n);
  });

  it('reads import and export registers; registerWh stays the name of the import register; both names at once are refused', () => {
    const both = parseMeterMessage(JSON.stringify({ ts: NOW, importWh: 1000, exportWh: '250' }), opts);
    assert.deepEqual(both, { ok: true, reading: { ts: NOW, importWh: 1000n, exportWh: 250n } });
    assert.deepEqual(parseMeterMessage(JSON.stringify({ ts: NOW, registerWh: 7 }), opts), { ok: true, reading: { ts: NOW, importWh: 7n } });
    assert.deepEqual(parseMeterMessage(JSON.stringify({ ts: NOW, registerWh: 7, exportWh: 3 }), opts), { ok: true, reading: { ts: NOW, importWh: 7n, exportWh: 3n } });
    const conflict = parseMeterMessage(JSON.stringify({ ts: NOW, registerWh: 7, importWh: 7 }), opts);
    assert.ok(!conflict.ok && conflict.reason === 'CONFLICTING_FIELDS' && /registerWh/.test(conflict.detail) && /importWh/.test(conflict.detail));
    const cases: [unknown, RejectReason, string][] = [
      [{ ts: NOW, importWh: 1, exportWh: -1 }, 'NEGATIVE_REGISTER', 'exportWh'],
      [{ ts: NOW, importWh: 1, exportWh: 'x' }, 'NOT_NUMERIC', 'exportWh'],
      [{ ts: NOW, importWh: 1, exportWh: 0.5 }, 'NOT_NUMERIC', 'exportWh'],
      [{ ts: NOW, importWh: 1, exportWh: 2 ** 60 }, 'REGISTER_OUT_OF_RANGE', 'exportWh'],
      [{ ts: NOW, importWh: 1, exportWh: null }, 'NOT_NUMERIC', 'exportWh'],
      [{ ts: NOW, importWh: -1 }, 'NEGATIVE_REGISTER', 'importWh'],
      [{ ts: NOW, exportWh: 5 }, 'NOT_NUMERIC', 'registerWh'],
    ];
    for (const [message, expected, field] of cases) {
      const parsed = parseMeterMessage(JSON.stringify(message), opts);
      assert.ok(!parsed.ok && parsed.reason === expected && parsed.detail.startsWith(field), `${JSON.stringify(message)}: ${JSON.stringify(parsed)}`);
    }
  });

  it('orders the export register as the import one: not decreasing, not beyond the rated power, not vanishing', () => {
    const last = { ts: NOW, importWh: 1000n, exportWh: 500n };
    const rules = { ratedPowerW: 10_000 };
    const at = (importWh: bigint, exportWh: bigint | undefined, ms = 900_000) => {
      const parsed = checkOrder(last, { ts: NOW + ms, importWh, ...(exportWh !== undefined ? { exportWh } : {}) }, rules);
      return parsed.ok ? 'ok' : parsed.reason;
    };
    assert.equal(at(1000n, 500n), 'ok');
    assert.equal(at(1000n, 500n + 2751n), 'ok', 'at the bound');
    assert.equal(at(1000n, 500n + 2752n), 'EXPORT_REGISTER_JUMP');
    assert.equal(at(1000n + 2752n, 500n), 'REGISTER_JUMP');
    assert.equal(at(1000n, 499n), 'EXPORT_REGISTER_DECREASED');
    assert.equal(at(999n, 600n), 'REGISTER_DECREASED');
    assert.equal(at(1100n, undefined), 'EXPORT_REGISTER_MISSING');
    const jump = checkOrder(last, { ts: NOW + 1000, importWh: 1000n, exportWh: 9000n }, rules);
    assert.ok(!jump.ok && !jump.detail.includes('9000') && !jump.detail.includes('8500'), 'the reading stays out of the detail');
    // A meter that starts to report export: its first value is taken as it is (energy before it unknown).
    assert.equal(checkOrder({ ts: NOW, importWh: 1000n }, { ts: NOW + 1000, importWh: 1000n, exportWh: 10n ** 9n }, rules).ok, true);
  });

  it('formats import and export in our format, and parses what it formats', () => {
    const text = formatMeterMessage({ ts: NOW, importWh: 12n, exportWh: 2n ** 53n + 1n });
    assert.equal(text, `{"ts":${NOW},"importWh":12,"exportWh":"${2n ** 53n + 1n}"}`);
    assert.equal(formatMeterMessage({ ts: NOW, importWh: 12n }), `{"ts":${NOW},"importWh":12}`);
    assert.deepEqual(parseMeterMessage(formatMeterMessage({ ts: NOW, importWh: 12n, exportWh: 3n }), opts), { ok: true, reading: { ts: NOW, importWh: 12n, exportWh: 3n } });
  });
});
