import assert from 'node:assert/strict';
import { PENALTY_DEVIATION_WH, TOLERANCE_WH, drawCohort, drawDeviations, seededRandom } from '../../../bench/dist/workload';

describe('bench workload draw', () => {
  it('is the same for a seed and differs between seeds', () => {
    const a = drawDeviations(8, 1, { penaltyShare: 0.8 });
    assert.deepEqual(drawDeviations(8, 1, { penaltyShare: 0.8 }), a);
    assert.notDeepEqual(drawDeviations(8, 2, { penaltyShare: 0.8 }), a);
    assert.deepEqual(drawCohort(500, 3, { invalidShare: 0.01, offlineShare: 0.02 }), drawCohort(500, 3, { invalidShare: 0.01, offlineShare: 0.02 }));
  });

  it('seededRandom stays in [0, 1)', () => {
    const r = seededRandom(42);
    for (let i = 0; i < 10_000; i++) {
      const v = r();
      assert.ok(v >= 0 && v < 1, String(v));
    }
  });

  for (const seed of [1, 2, 3]) {
    it(`deviations (seed ${seed}): about 80 % above the tolerance, each within its range`, () => {
      const devs = drawDeviations(40, seed, { penaltyShare: 0.8 }).flat();
      assert.equal(devs.length, 40 * 24);
      const above = devs.filter((d) => d > TOLERANCE_WH);
      for (const d of devs) assert.ok(Number.isInteger(d) && d >= 0 && d <= PENALTY_DEVIATION_WH.max, String(d));
      for (const d of above) assert.ok(d >= PENALTY_DEVIATION_WH.min);
      const share = above.length / devs.length;
      assert.ok(share > 0.75 && share < 0.85, `share ${share}`);
    });
  }

  it('deviations: the shares 0 and 1 and a fixed deviation are exact', () => {
    assert.ok(drawDeviations(4, 1, { penaltyShare: 0 }).flat().every((d) => d <= TOLERANCE_WH));
    assert.ok(drawDeviations(4, 1, { penaltyShare: 1 }).flat().every((d) => d > TOLERANCE_WH));
    assert.ok(drawDeviations(4, 1, { penaltyShare: 0.8, fixedDeviationWh: 50 }).flat().every((d) => d === 50));
  });

  for (const seed of [1, 9]) {
    it(`cohort (seed ${seed}, M = 10,000): exactly 2 % offline; about 1 % of submissions invalid, each the prosumer's last`, () => {
      const cohort = drawCohort(10_000, seed, { invalidShare: 0.01, offlineShare: 0.02 });
      assert.equal(cohort.filter((d) => d.offline).length, 200);
      for (const d of cohort) if (d.offline) assert.equal(d.invalidAt, undefined);
      // A full day: each online prosumer submits periods 0..invalidAt (or all 24).
      let submissions = 0;
      let invalid = 0;
      for (const d of cohort) {
        if (d.offline) continue;
        if (d.invalidAt === undefined) submissions += 24;
        else {
          assert.ok(Number.isInteger(d.invalidAt) && d.invalidAt >= 0 && d.invalidAt < 24);
          submissions += d.invalidAt + 1;
          invalid++;
        }
      }
      const share = invalid / submissions;
      assert.ok(share > 0.008 && share < 0.012, `invalid share ${share}`);
    });
  }

  it('cohort: shares 0 give nobody offline and no invalid proof', () => {
    assert.ok(drawCohort(1000, 1, { invalidShare: 0, offlineShare: 0 }).every((d) => !d.offline && d.invalidAt === undefined));
    assert.equal(drawCohort(1000, 1, { invalidShare: 0, offlineShare: 1 }).filter((d) => d.offline).length, 1000);
  });
});
