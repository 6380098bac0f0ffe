import assert from 'node:assert/strict';
import { gatewayEnv, parseOptions, UsageError, type BenchOptions } from '../../../bench/dist/options';

const parse = (...argv: string[]): BenchOptions => {
  const o = parseOptions(argv);
  assert.notEqual(o, 'help');
  return o as BenchOptions;
};

describe('bench options', () => {
  it('defaults: both paths, the realistic mix, N = 32, 8 chains, no full day', () => {
    const o = parse();
    assert.deepEqual(o.paths, ['plain', 'batched']);
    assert.deepEqual(o.prosumers, [200]);
    assert.equal(o.chains, 8);
    assert.equal(o.batchItems, 32);
    assert.equal(o.penaltyShare, 0.8);
    assert.equal(o.invalidShare, 0.01);
    assert.equal(o.offlineShare, 0.02);
    assert.equal(o.deviationWh, undefined);
    assert.equal(o.fullDay, undefined);
    assert.equal(o.compact, false);
  });

  it('parses every new option', () => {
    const o = parse('--paths', 'batched', '--batch', '16', '--batch-window', '100', '--batch-in-flight', '6', '--penalty-share', '0.9',
      '--invalid-share', '0', '--offline-share', '0.05', '--deviation', '50', '--seed', '7', '--full-day', '2000', '--compact', '--prosumers', '10,100');
    assert.deepEqual(o.paths, ['batched']);
    assert.equal(o.batchItems, 16);
    assert.equal(o.batchWindowMs, 100);
    assert.equal(o.batchInFlight, 6);
    assert.equal(o.penaltyShare, 0.9);
    assert.equal(o.invalidShare, 0);
    assert.equal(o.offlineShare, 0.05);
    assert.equal(o.deviationWh, 50);
    assert.equal(o.seed, 7);
    assert.equal(o.fullDay, 2000);
    assert.equal(o.compact, true);
    assert.deepEqual(o.prosumers, [10, 100]);
  });

  it('refuses bad values, naming the option and the rule', () => {
    const cases: [string[], RegExp][] = [
      [['--paths', 'plain,fast'], /--paths: fast is not one of plain, batched/],
      [['--paths', 'plain,plain'], /--paths: a path is named twice/],
      [['--batch', '0'], /--batch needs an integer of at least 1/],
      [['--batch', '65'], /--batch needs an integer of at most 64/],
      [['--batch', '2.5'], /--batch needs an integer/],
      [['--penalty-share', '1.5'], /--penalty-share needs a fraction between 0 and 1/],
      [['--invalid-share', '-0.1'], /--invalid-share needs a fraction/],
      [['--offline-share', 'x'], /--offline-share needs a fraction/],
      [['--full-day', '0'], /--full-day needs an integer of at least 1/],
      [['--batch-window'], /--batch-window needs a value/],
      [['--prosumers', '10,0'], /--prosumers: 0 is not a positive integer/],
      [['--frobnicate'], /unknown option --frobnicate/],
    ];
    for (const [argv, message] of cases) assert.throws(() => parseOptions(argv), (err: unknown) => err instanceof UsageError && message.test(err.message), argv.join(' '));
  });

  it('--help is help', () => {
    assert.equal(parseOptions(['--help']), 'help');
  });

  it('the plain path turns coalescing off; the batched path sets N, window and in-flight when given', () => {
    assert.deepEqual(gatewayEnv('plain', parse('--batch', '16')), { FLEXPROOF_BATCH_MAX_ITEMS: '1' });
    assert.deepEqual(gatewayEnv('batched', parse('--batch', '16', '--batch-window', '40')), { FLEXPROOF_BATCH_MAX_ITEMS: '16', FLEXPROOF_BATCH_WINDOW_MS: '40' });
    assert.deepEqual(gatewayEnv('batched', parse('--batch-in-flight', '8')), { FLEXPROOF_BATCH_MAX_ITEMS: '32', FLEXPROOF_BATCH_WINDOW_MS: String(parse().batchWindowMs), FLEXPROOF_BATCH_MAX_IN_FLIGHT: '8' });
  });
});
