import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { schemas } from '@flexproof/protocol';
import { ChaincodeError, rules } from './support/chaincode';

type PeriodResult = schemas.PeriodResult;

const verified = (p: number, deviationWh: string): PeriodResult => ({
  outcome: 'verified', periodIndex: p, deviationWh, direction: '0', prevFingerprint: '0', newFingerprint: '1', penalty: '0', submissionHash: 'h', txId: 't', settledAt: 'x',
});
const missed = (p: number): PeriodResult => ({ outcome: 'missed', periodIndex: p, claimed: '0', txId: 't', settledAt: 'x' });
const invalid = (p: number): PeriodResult => ({ outcome: 'invalidProof', periodIndex: p, forfeited: '0', submissionHash: 'h', txId: 't', settledAt: 'x' });

function codeAndMessage(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (err) {
    return { code: (err as ChaincodeError).code, message: (err as Error).message };
  }
  return { message: '' };
}

describe('rules/market', () => {
  it('delivered = sum of max(0, flexWh - deviation) over verified periods', () => {
    const a = { status: 'closed' as const, flexWh: [100n, 100n, 100n], results: [verified(0, '30'), verified(1, '150'), missed(2)] };
    const b = { status: 'excluded' as const, flexWh: [50n, 50n, 50n], results: [verified(0, '0'), { outcome: 'invalidProof' as const, periodIndex: 1, forfeited: '1', submissionHash: 'h', txId: 't', settledAt: 'x' }, null] };
    assert.deepEqual(rules.deliveredPerPeriod([a, b], [1000n, 1000n, 1000n]), [120n, 0n, 0n]);
  });

  it('delivered is capped at what the order offered, per period', () => {
    const huge = { status: 'closed' as const, flexWh: [10n ** 30n, 10n ** 30n], results: [verified(0, '0'), verified(1, '5')] };
    assert.deepEqual(rules.deliveredPerPeriod([huge], [1000n, 7n]), [1000n, 7n]);
    const split = rules.splitOrderPrice(2400n, [1000n, 7n], rules.deliveredPerPeriod([huge], [1000n, 7n]));
    assert.equal(split.penalty, 0n);
  });

  it('booking an order: per period the enrollments add up to at most the offer; cancelling gives it back', () => {
    const offered = [1000n, 1000n, 0n];
    const booked = rules.bookOrderFlex('o1', offered, [0n, 0n, 0n], [600n, 1000n, 0n]);
    assert.deepEqual(booked, [600n, 1000n, 0n]);
    assert.deepEqual(rules.bookOrderFlex('o1', offered, booked, [400n, 0n, 0n]), [1000n, 1000n, 0n], 'exactly the offer fits');
    const over = codeAndMessage(() => rules.bookOrderFlex('o1', offered, booked, [401n, 0n, 0n]));
    assert.equal(over.code, 'RULE_VIOLATION');
    assert.match(over.message, /flexWh\[0\]: .*1001 Wh in period 0, above the 1000 Wh offered/);
    assert.equal(codeAndMessage(() => rules.bookOrderFlex('o1', offered, booked, [0n, 0n, 1n])).code, 'RULE_VIOLATION');
    assert.match(codeAndMessage(() => rules.bookOrderFlex('o1', offered, booked, [0n, 1n, 0n])).message, /flexWh\[1\]/);
    assert.equal(codeAndMessage(() => rules.bookOrderFlex('o1', offered, booked, [0n, 0n])).code, 'BAD_INPUT');
    assert.deepEqual(rules.releaseOrderFlex(booked, [600n, 1000n, 0n]), [0n, 0n, 0n]);
    assert.deepEqual(rules.releaseOrderFlex([5n], [7n]), [0n], 'never below zero');
  });

  it('property: whatever the enrollments, delivered never exceeds offered in any period', () => {
    const periods = 24;
    const wh = (max: bigint) => fc.array(fc.bigInt({ min: 0n, max }), { minLength: periods, maxLength: periods });
    const result = fc.oneof(
      fc.constant(null),
      fc.bigInt({ min: 0n, max: 10n ** 12n }).map((d) => ({ kind: 'verified' as const, d })),
      fc.constant({ kind: 'missed' as const, d: 0n }),
      fc.constant({ kind: 'invalid' as const, d: 0n }),
    );
    const enrollment = fc.record({
      flexWh: wh(10n ** 31n),
      results: fc.array(result, { minLength: periods, maxLength: periods }),
      cancelled: fc.boolean(),
    });
    fc.assert(
      fc.property(wh(10n ** 6n), fc.array(enrollment, { maxLength: 12 }), (offered, enrollments) => {
        // Through the booking rule, as OfferEnrollment and CancelEnrollment apply it.
        let booked = offered.map(() => 0n);
        const accepted: rules.EnrollmentDelivery[] = [];
        for (const e of enrollments) {
          try {
            booked = rules.bookOrderFlex('o', offered, booked, e.flexWh);
          } catch (err) {
            assert.equal((err as ChaincodeError).code, 'RULE_VIOLATION');
            continue;
          }
          const results = e.results.map((r, p): PeriodResult | null =>
            r === null ? null : r.kind === 'verified' ? verified(p, r.d.toString()) : r.kind === 'missed' ? missed(p) : invalid(p),
          );
          if (e.cancelled) {
            booked = rules.releaseOrderFlex(booked, e.flexWh);
          } else {
            accepted.push({ status: 'closed', flexWh: e.flexWh, results });
          }
          booked.forEach((b, p) => assert.ok(b <= offered[p]!, 'booking never exceeds the offer'));
        }
        const sums = offered.map((_, p) => accepted.reduce((acc, e) => acc + e.flexWh[p]!, 0n));
        sums.forEach((sum, p) => assert.ok(sum <= offered[p]!, 'the enrollments kept add up to at most the offer'));
        const delivered = rules.deliveredPerPeriod(accepted, offered);
        delivered.forEach((d, p) => assert.ok(d >= 0n && d <= offered[p]!, `period ${p}: delivered ${d} > offered ${offered[p]}`));
        // And the cap alone holds even for enrollments nobody booked (absurd flexWh).
        const unbooked = enrollments.map((e) => ({
          status: 'closed' as const,
          flexWh: e.flexWh,
          results: e.results.map((r, p) => (r?.kind === 'verified' ? verified(p, r.d.toString()) : null)),
        }));
        rules.deliveredPerPeriod(unbooked, offered).forEach((d, p) => assert.ok(d <= offered[p]!));
        const split = rules.splitOrderPrice(2400n, offered, delivered);
        assert.ok(split.penalty >= 0n && split.penalty <= 2400n);
      }),
      { numRuns: 300 },
    );
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
    assert.equal(code(() => rules.assertOrderSettleable(['closed', 'active'], true, 0, 10, 0)), 'RULE_VIOLATION');
    assert.equal(code(() => rules.assertOrderSettleable(['closed', 'excluded'], false, 5, 10, 0)), 'RULE_VIOLATION');
    assert.equal(code(() => rules.assertOrderSettleable(['closed', 'cancelled'], true, 5, 10, 120_000)), undefined);
  });

  it('the DSO settles only after the end of the day plus the clock skew (boundary)', () => {
    const code = (fn: () => void) => { try { fn(); } catch (e) { return (e as ChaincodeError).code; } return undefined; };
    const dayEnd = rules.dayEndMs('2030-03-01');
    for (const skew of [0, 2_000, 120_000]) {
      assert.equal(code(() => rules.assertOrderSettleable(['closed'], false, dayEnd + skew, dayEnd, skew)), 'RULE_VIOLATION');
      assert.equal(code(() => rules.assertOrderSettleable(['closed'], false, dayEnd + skew + 1, dayEnd, skew)), undefined);
      assert.equal(code(() => rules.assertOrderSettleable(['closed'], true, dayEnd - 1, dayEnd, skew)), undefined, 'the aggregator need not wait');
    }
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
