// The simulated household with rooftop solar (issue 14): its net power is negative at
// noon, it follows a signed request additively, and the simulator drives a
// bidirectional meter from it (import and export registers, both non-decreasing).
import assert from 'node:assert/strict';
import { LoadModel, MeterSimulator } from '@flexproof/edge-client';

const SOLAR = { peakW: 4500 };

function hourEnergy(m: LoadModel, h: number): number {
  let sum = 0;
  for (let i = 0; i < 600; i++) sum += m.powerW(h + (i + 0.5) / 600);
  return sum / 600;
}

describe('edge-client: simulated household with solar', () => {
  it('exports at noon (net energy below zero) and imports at night; generation only between sunrise and sunset', () => {
    const model = new LoadModel({ noise: 0, solar: SOLAR });
    const plain = new LoadModel({ noise: 0 });
    const hours = Array.from({ length: 24 }, (_, h) => model.naturalHourWh(h));
    assert.ok((hours[12] ?? 0) < -2000, `noon: ${hours[12]} Wh`);
    assert.ok((hours[3] ?? 0) > 0 && (hours[22] ?? 0) > 0, 'night: import');
    assert.equal(model.generationW(3), 0);
    assert.equal(model.generationW(20), 0);
    assert.ok(Math.abs(model.generationW(13) - SOLAR.peakW) < 1, 'peak at the middle of the day');
    // Net = consumption - generation: the same household without solar, less the sun.
    for (const h of [2, 12, 19]) {
      let sun = 0;
      for (let i = 0; i < 600; i++) sun += model.generationW(h + (i + 0.5) / 600);
      assert.ok(Math.abs(model.naturalHourWh(h) - (plain.naturalHourWh(h) - sun / 600)) < 1e-6, `hour ${h}`);
    }
    assert.ok(model.hasSolar && !plain.hasSolar);
    assert.throws(() => new LoadModel({ solar: { peakW: -1 } }), RangeError);
    assert.throws(() => new LoadModel({ solar: { peakW: 1000, sunriseHour: 20, sunsetHour: 6 } }), RangeError);
  });

  it('follows a signed request: less export at noon, less import in the evening, half way at compliance 0.5', () => {
    const natural = new LoadModel({ noise: 0, solar: SOLAR });
    const request = Array.from({ length: 24 }, (_, h) => {
      const wh = natural.naturalHourWh(h);
      return h >= 10 && h <= 15 && wh < 0 ? wh * 0.5 : h >= 17 && h <= 21 && wh > 0 ? wh * 0.6 : wh;
    });
    const full = new LoadModel({ noise: 0, solar: SOLAR, follow: { requestProfileWh: request, compliance: 1 } });
    const half = new LoadModel({ noise: 0, solar: SOLAR, follow: { requestProfileWh: request, compliance: 0.5 } });
    for (const h of [3, 12, 13, 18, 20]) {
      assert.ok(Math.abs(hourEnergy(full, h) - (request[h] ?? 0)) < 1, `hour ${h}: ${hourEnergy(full, h)} against ${request[h]}`);
      const expected = 0.5 * (request[h] ?? 0) + 0.5 * natural.naturalHourWh(h);
      assert.ok(Math.abs(hourEnergy(half, h) - expected) < 1, `hour ${h}: half compliance is half way`);
    }
    assert.ok(hourEnergy(full, 12) < 0, 'still exporting at noon, only less');
  });

  it('the simulator drives both registers: import while the net power is positive, export while negative', () => {
    let now = Date.parse('2026-06-01T00:00:00Z');
    const simulator = new MeterSimulator({
      url: 'mqtt://127.0.0.1:1',
      topic: 't',
      model: new LoadModel({ noise: 0, solar: SOLAR, ev: false }),
      acceleration: 3600,
      realStartMs: now,
      intervalMs: 1000,
      initialRegisterWh: 1000,
      initialExportRegisterWh: 50,
      now: () => now,
    });
    try {
      const readings = [];
      for (let h = 0; h < 24; h++) {
        now += 1000;
        readings.push(simulator.advance());
      }
      const night = readings[2]!;
      const noon = readings[12]!;
      const noonEnd = readings[13]!;
      assert.ok(night.exportWh !== undefined, 'a bidirectional meter sends the export register');
      assert.equal(readings[1]!.exportWh, readings[0]!.exportWh, 'no export at night');
      assert.ok(noonEnd.exportWh! - noon.exportWh! > 2000n, 'export at noon');
      assert.ok(noonEnd.importWh - noon.importWh < 10n, 'hardly any import at noon');
      for (let i = 1; i < readings.length; i++) {
        assert.ok(readings[i]!.importWh >= readings[i - 1]!.importWh && readings[i]!.exportWh! >= readings[i - 1]!.exportWh!, 'both registers non-decreasing');
      }
    } finally {
      void simulator.stop();
    }
  });

  it('a household without solar keeps a meter with no export register', () => {
    const now = Date.parse('2026-06-01T00:00:00Z');
    const simulator = new MeterSimulator({ url: 'mqtt://127.0.0.1:1', topic: 't', model: new LoadModel({ noise: 0 }), acceleration: 3600, intervalMs: 1000, now: () => now + 1000 });
    try {
      assert.equal(simulator.advance().exportWh, undefined);
    } finally {
      void simulator.stop();
    }
  });
});
