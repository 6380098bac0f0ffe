import assert from 'node:assert/strict';
import { percentile, perSecond, rateOverWindow, summariseLatencies, sustainedWindow } from '../../../bench/dist/stats';

describe('bench statistics', () => {
  describe('percentile (nearest rank)', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose

    it('p50, p95, p99 of 1..100 are 50, 95, 99', () => {
      assert.equal(percentile(hundred, 50), 50);
      assert.equal(percentile(hundred, 95), 95);
      assert.equal(percentile(hundred, 99), 99);
    });

    it('p0 is the minimum and p100 the maximum', () => {
      assert.equal(percentile(hundred, 0), 1);
      assert.equal(percentile(hundred, 100), 100);
    });

    it('never interpolates: every answer is a sample', () => {
      const samples = [10, 20, 30, 40];
      for (let p = 0; p <= 100; p += 5) assert.ok(samples.includes(percentile(samples, p)), `p${p}`);
      assert.equal(percentile(samples, 50), 20);
      assert.equal(percentile(samples, 51), 30);
    });

    it('p99 of 10 samples is the largest: too few samples for a tail', () => {
      assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 1000], 99), 1000);
    });

    it('a single sample is every percentile; no sample is NaN', () => {
      assert.equal(percentile([7], 1), 7);
      assert.equal(percentile([7], 99), 7);
      assert.ok(Number.isNaN(percentile([], 50)));
    });

    it('does not reorder the caller’s array', () => {
      const samples = [3, 1, 2];
      percentile(samples, 50);
      assert.deepEqual(samples, [3, 1, 2]);
    });

    it('refuses p outside 0..100', () => {
      assert.throws(() => percentile([1], 101), RangeError);
      assert.throws(() => percentile([1], -1), RangeError);
      assert.throws(() => percentile([1], Number.NaN), RangeError);
    });
  });

  it('summarises latencies', () => {
    const s = summariseLatencies([100, 200, 300, 400]);
    assert.deepEqual(s, { count: 4, p50Ms: 200, p95Ms: 400, p99Ms: 400, maxMs: 400, meanMs: 250 });
    assert.equal(summariseLatencies([]).count, 0);
  });

  describe('rate over a window', () => {
    it('counts timestamps in [from, to) per second', () => {
      const ts = [1000, 1500, 1999, 2000, 2500, 3000];
      assert.equal(rateOverWindow(ts, 1000, 2000), 3); // 2000 is outside: half-open
      assert.equal(rateOverWindow(ts, 1000, 3000), 2.5);
      assert.equal(rateOverWindow(ts, 1000, 3001), 6 / 2.001);
    });

    it('is 0 for an empty or inverted window', () => {
      assert.equal(rateOverWindow([1, 2, 3], 5, 5), 0);
      assert.equal(rateOverWindow([1, 2, 3], 5, 4), 0);
      assert.equal(rateOverWindow([], 0, 1000), 0);
    });

    it('a steady 20 per second over a minute reads 20/s in any whole-second window', () => {
      const ts = Array.from({ length: 1200 }, (_, i) => 10_000 + i * 50);
      assert.equal(rateOverWindow(ts, 10_000, 70_000), 20);
      assert.equal(rateOverWindow(ts, 25_000, 35_000), 20);
    });
  });

  it('skips a warm-up of 10 % (at most 10 s) before the sustained window', () => {
    assert.deepEqual(sustainedWindow(0, 30_000), { fromMs: 3000, toMs: 30_000 });
    assert.deepEqual(sustainedWindow(1000, 301_000), { fromMs: 11_000, toMs: 301_000 });
    assert.deepEqual(sustainedWindow(5000, 5000), { fromMs: 5000, toMs: 5000 });
  });

  it('buckets commits per whole second from the start', () => {
    assert.deepEqual(perSecond([0, 999, 1000, 2500, 2999, 5000], 0, 3000), [2, 1, 2]);
    assert.deepEqual(perSecond([], 0, 0), []);
  });
});
