import assert from 'node:assert/strict';
import { LoadModel } from '@flexproof/edge-client';

describe('edge-client: simulated household load', () => {
  it('has a realistic day: a night floor, an evening peak with the EV, a few to tens of kWh a day', () => {
    const model = new LoadModel({ noise: 0 });
    const hours = Array.from({ length: 24 }, (_, h) => model.naturalHourWh(h));
    const day = hours.reduce((a, b) => a + b, 0);
    assert.ok(day > 8_000 && day < 40_000, `day energy ${day} Wh`);
    assert.ok((hours[19] ?? 0) > 3 * (hours[3] ?? 0), 'evening (EV charging) well above the night');
    assert.ok(hours.every((e) => e > 0));
  });

  it('is reproducible from its seed, and noisy', () => {
    const a = new LoadModel({ seed: 7 });
    const b = new LoadModel({ seed: 7 });
    const c = new LoadModel({ seed: 8 });
    const sa = [1, 2, 3].map(() => a.powerW(12));
    assert.deepEqual(sa, [1, 2, 3].map(() => b.powerW(12)));
    assert.notDeepEqual(sa, [1, 2, 3].map(() => c.powerW(12)));
  });

  it('follows a request profile with the configured compliance', () => {
    const request = Array.from({ length: 24 }, () => 500);
    const natural = new LoadModel({ noise: 0 });
    const energyAt = (m: LoadModel, h: number): number => {
      let sum = 0;
      for (let i = 0; i < 600; i++) sum += m.powerW(h + (i + 0.5) / 600);
      return sum / 600;
    };
    const full = new LoadModel({ noise: 0, follow: { requestProfileWh: request, compliance: 1 } });
    const half = new LoadModel({ noise: 0, follow: { requestProfileWh: request, compliance: 0.5 } });
    for (const h of [3, 12, 19]) {
      assert.ok(Math.abs(energyAt(full, h) - 500) < 1, `hour ${h}: full compliance meets the request`);
      const expected = 0.5 * 500 + 0.5 * natural.naturalHourWh(h);
      assert.ok(Math.abs(energyAt(half, h) - expected) < 1, `hour ${h}: half compliance is half way`);
    }
    assert.throws(() => new LoadModel({ follow: { requestProfileWh: request, compliance: 1.5 } }), RangeError);
  });
});
