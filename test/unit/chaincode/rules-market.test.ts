import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChaincodeError, rules, type PeriodResult } from './support/chaincode';

const verified = (p: number, deviationWh: string): PeriodResult => ({
  outcome: 'verified', periodIndex: p, deviationWh, direction: '0', prevFingerprint: '0', newFingerprint: '1', penalty: '0', submissionHash: 'h', txId: 't', settledAt: 'x',
});
const missed = (p: number): PeriodResult => ({ outcome: 'missed', periodIndex: p, claimed: '0', txId: 't', settledAt: 'x' });

describe('rules/market', () => {
  it('delivered = sum of max(0, flexWh - deviation) over verified periods', () => {
    const a = { status: 'closed' as const, flexWh: [100n, 100n, 100n], results: [verified(0, '30'), verified(1, '150'), missed(2)] };
    const b = { status: 'excluded' as const, flexWh: [50n, 50n, 50n], results: [verified(0, '0'), { outcome: 'invalidProof' as const, periodIndex: 1, forfeited: '1', submissionHash: 'h', txId: 't', settledAt: 'x' }, null] };
    assert.deepEqual(rules.deliveredPerPeriod([a, b], 3), [120n, 0n, 0n]);
  });

  it('README worked example: price 2400, offered 1000 Wh x 24, one ISP short by 600 Wh', () => {
    const offered = Array.from({ length: 24 }, () => 1000n);
    const delivered = [...offered];
    delivered[5] = 400n;
    const split = rules.splitOrderPrice(2400n, offered, delivered);
    assert.equal(split.penalty, 60n); // floor(2400 * 600 / 24000)
    assert.equal(split.toAggregator, 2340n);
    assert.equal(split.toDso, 60n);
  });

  it('nothing offered means no penalty; nothing delivered means the whole price back', () => {
    assert.equal(rules.splitOrderPrice(100n, [0n, 0n], [0n, 0n]).penalty, 0n);
    assert.equal(rules.splitOrderPrice(100n, [5n, 5n], [0n, 0n]).penalty, 100n);
  });

  it('an order settles only when its enrollments are final; the DSO waits for the end of the day', () => {
    const code = (fn: () => void) => { try { fn(); } catch (e) { return (e as ChaincodeError).code; } return undefined; };
    assert.equal(code(() => rules.assertOrderSettleable(['closed', 'active'], true, 0, 10)), 'RULE_VIOLATION');
    assert.equal(code(() => rules.assertOrderSettleable(['closed', 'excluded'], false, 5, 10)), 'RULE_VIOLATION');
    assert.equal(code(() => rules.assertOrderSettleable(['closed', 'excluded'], false, 10, 10)), undefined);
    assert.equal(code(() => rules.assertOrderSettleable(['closed', 'cancelled'], true, 5, 10)), undefined);
  });

  it('property: 0 <= penalty <= price and the split adds up to the price', () => {
    const wh = fc.array(fc.bigInt({ min: 0n, max: 10n ** 9n }), { minLength: 24, maxLength: 24 });
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 24n }), wh, wh, (price, offered, delivered) => {
        const s = rules.splitOrderPrice(price, offered, delivered);
        return s.penalty >= 0n && s.penalty <= price && s.toAggregator + s.toDso === price;
      }),
    );
  });
});
