import { strict as assert } from 'node:assert';
import { jsonLogger } from '@flexproof/edge-client';

/** Lines written by a jsonLogger, parsed. */
function capture(level?: 'debug' | 'info' | 'warn' | 'error', base?: Record<string, unknown>) {
  const raw: string[] = [];
  const logger = jsonLogger({ level, base, write: (line) => raw.push(line) });
  return { logger, raw, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('edge-client: structured logs (pino)', () => {
  it('writes one JSON line per event: ISO time, level name, event, base fields and the fields', () => {
    const { logger, raw, lines } = capture('info', { meterId: 'meter-1' });
    logger.info('period.settled', { periodIndex: 3, outcome: 'verified', deviationWh: 12n });
    assert.equal(raw.length, 1);
    assert.ok(raw[0]?.endsWith('\n'), 'one line each');
    const [line] = lines();
    assert.equal(line?.level, 'info');
    assert.equal(line?.event, 'period.settled');
    assert.equal(line?.meterId, 'meter-1');
    assert.equal(line?.periodIndex, 3);
    assert.equal(line?.deviationWh, '12', 'a bigint as its decimal string');
    assert.ok(!Number.isNaN(Date.parse(String(line?.time))) && String(line?.time).endsWith('Z'), 'an ISO time');
  });

  it('drops levels below the configured one', () => {
    const { logger, lines } = capture('warn');
    logger.debug('a');
    logger.info('b');
    logger.warn('c');
    logger.error('d');
    assert.deepEqual(lines().map((l) => [l.level, l.event]), [['warn', 'c'], ['error', 'd']]);
  });

  it('redacts secret field names at any depth and in any case, and logs errors without their stack', () => {
    const { logger, raw, lines } = capture('debug');
    const err = Object.assign(new Error('gateway said no'), { code: 'E_GATEWAY' });
    logger.error('period.failed', {
      readings: [101n, 102n],
      nested: { CommitmentSalt: '0x5ec2e7', inner: { privateKey: 'PEM-SECRET', fingerprintSalt: '77' } },
      err,
    });
    const [line] = lines();
    assert.equal(line?.readings, '[redacted]');
    const nested = line?.nested as { CommitmentSalt: string; inner: Record<string, string> };
    assert.equal(nested.CommitmentSalt, '[redacted]');
    assert.deepEqual(nested.inner, { privateKey: '[redacted]', fingerprintSalt: '[redacted]' });
    assert.deepEqual(line?.err, { name: 'Error', message: 'gateway said no', code: 'E_GATEWAY' });
    for (const secret of ['101', '0x5ec2e7', 'PEM-SECRET', 'stack', 'at ']) assert.ok(!raw[0]?.includes(secret), `no ${secret} in the line`);
  });
});
