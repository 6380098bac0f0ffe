import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { schemas } from '@flexproof/protocol';
import { ChaincodeError, rules } from './support/chaincode';

type PeriodResult = schemas.PeriodResult;

const parties = { escrowAccount: 'escrow:enrollment:e1', aggregatorAccount: 'org:AggregatorMSP', prosumerAccount: 'prosumer:p1' };
const timing = { startMs: 1_000_000, periodSeconds: 3600, graceSeconds: 900, periodCount: 24 };
const empty = (): (PeriodResult | null)[] => Array.from({ length: 24 }, () => null);
const missed = (p: number): PeriodResult => ({ outcome: 'missed', periodIndex: p, claimed: '0', txId: 't', settledAt: 'x' });

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ChaincodeError ? err.code : 'NOT_A_CHAINCODE_ERROR';
  }
  return undefined;
}

describe('rules/programs', () => {
  it('penalty = min(escrow, rate * max(0, deviation - tolerance)) (README worked example)', () => {
    assert.equal(rules.penaltyFor(2400n, 2n, 10n, 45n), 70n);
    assert.equal(rules.penaltyFor(2400n, 2n, 10n, 10n), 0n);
    assert.equal(rules.penaltyFor(2400n, 2n, 10n, 3n), 0n);
    assert.equal(rules.penaltyFor(50n, 2n, 10n, 45n), 50n);
  });

  it('period shares are reward/24 with the remainder on the last period', () => {
    assert.equal(rules.periodShare(2401n, 0, 24), 100n);
    assert.equal(rules.periodShare(2401n, 23, 24), 101n);
    assert.equal(rules.periodShare(10n, 5, 24), 0n);
    assert.equal(rules.periodShare(10n, 23, 24), 10n);
  });

  it('period p ends at start + (p+1)*len and its deadline is end + grace', () => {
    assert.equal(rules.periodEndMs(timing, 0), 1_000_000 + 3_600_000);
    assert.equal(rules.periodDeadlineMs(timing, 23), 1_000_000 + 24 * 3_600_000 + 900_000);
  });

  it('a submission window opens at the end of the period and closes at its deadline', () => {
    const end = rules.periodEndMs(timing, 0);
    const deadline = rules.periodDeadlineMs(timing, 0);
    assert.equal(codeOf(() => rules.assertSubmissionWindow(empty(), timing, 0, end - 1)), 'RULE_VIOLATION');
    assert.equal(codeOf(() => rules.assertSubmissionWindow(empty(), timing, 0, end)), undefined);
    assert.equal(codeOf(() => rules.assertSubmissionWindow(empty(), timing, 0, deadline)), undefined);
    assert.equal(codeOf(() => rules.assertSubmissionWindow(empty(), timing, 0, deadline + 1)), 'DEADLINE_PASSED');
  });

  it('periods settle in order, skipping periods whose deadline passed', () => {
    const now = rules.periodDeadlineMs(timing, 0) + 1; // period 0 missed, period 1 still open
    assert.equal(rules.nextSubmittablePeriod(empty(), timing, now), 1);
    assert.equal(codeOf(() => rules.assertSubmissionWindow(empty(), { ...timing, graceSeconds: 7200 }, 1, rules.periodEndMs(timing, 1))), 'RULE_VIOLATION');
    const results = empty();
    results[0] = missed(0);
    assert.equal(codeOf(() => rules.assertSubmissionWindow(results, timing, 0, now)), 'CONFLICT');
  });

  it('a missed period is claimable only after its deadline plus the skew, once, for its share capped by the escrow', () => {
    const deadline = rules.periodDeadlineMs(timing, 3);
    const skew = 120_000;
    assert.equal(rules.claimOpensAfterMs(timing, 3, skew), deadline + skew);
    assert.equal(codeOf(() => rules.claimMissedPeriod(parties, empty(), timing, 3, deadline, 2400n, 2400n, skew)), 'RULE_VIOLATION');
    assert.equal(codeOf(() => rules.claimMissedPeriod(parties, empty(), timing, 3, deadline + 1, 2400n, 2400n, skew)), 'RULE_VIOLATION');
    assert.equal(codeOf(() => rules.claimMissedPeriod(parties, empty(), timing, 3, deadline + skew, 2400n, 2400n, skew)), 'RULE_VIOLATION');
    const claim = rules.claimMissedPeriod(parties, empty(), timing, 3, deadline + skew + 1, 2400n, 2400n, skew);
    assert.equal(claim.amount, 100n);
    assert.deepEqual(claim.movements, [{ from: parties.escrowAccount, to: parties.aggregatorAccount, amount: 100n }]);
    assert.equal(rules.claimMissedPeriod(parties, empty(), timing, 3, deadline + skew + 1, 2400n, 30n, skew).amount, 30n);
    assert.equal(rules.claimMissedPeriod(parties, empty(), timing, 3, deadline + 1, 2400n, 2400n, 0).amount, 100n, 'skew 0: right after the deadline');
    const results = empty();
    results[3] = missed(3);
    assert.equal(codeOf(() => rules.claimMissedPeriod(parties, results, timing, 3, deadline + skew + 1, 2400n, 2400n, skew)), 'CONFLICT');
  });

  it('property: a claim and a submission are never both possible, however far within the skew a proposal is stamped', () => {
    // T1: a member may stamp its proposal up to the skew off real time. A claim stamped
    // `ahead` ms early and a submission stamped `behind` ms late never overlap in real time.
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 600_000 }),
        fc.integer({ min: 0, max: 30 * 86_400_000 }),
        fc.integer({ min: -1, max: 1 }),
        (p, skew, realMs, sign) => {
          const stamp = realMs + sign * skew; // the stamp any client can choose, at most skew away
          const claimable = codeOf(() => rules.claimMissedPeriod(parties, empty(), timing, p, stamp, 2400n, 2400n, skew)) === undefined;
          const submittableInRealTime = realMs <= rules.periodDeadlineMs(timing, p);
          return !(claimable && submittableInRealTime);
        },
      ),
    );
  });

  it('an invalid proof forfeits the whole escrow to the aggregator', () => {
    const s = rules.settleInvalidProof(parties, 1234n);
    assert.equal(s.amount, 1234n);
    assert.deepEqual(s.movements, [{ from: parties.escrowAccount, to: parties.aggregatorAccount, amount: 1234n }]);
  });

  it('close releases the rest to the prosumer, only once every period is settled or claimed', () => {
    const results = empty();
    for (let p = 0; p < 23; p++) results[p] = missed(p);
    assert.equal(codeOf(() => rules.releaseAtClose(parties, results, 24, 500n)), 'RULE_VIOLATION');
    results[23] = missed(23);
    assert.deepEqual(rules.releaseAtClose(parties, results, 24, 500n).movements, [
      { from: parties.escrowAccount, to: parties.prosumerAccount, amount: 500n },
    ]);
  });

  it('an excluded enrollment refuses every action with EXCLUDED', () => {
    for (const action of ['SubmitPeriod', 'ClaimMissedPeriod', 'CloseEnrollment', 'DepositReward']) {
      assert.equal(codeOf(() => rules.assertEnrollmentStatus('excluded', ['active', 'accepted', 'offered'], action)), 'EXCLUDED');
    }
  });

  it('property: a penalty never exceeds the escrow and is never negative', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 24n }), fc.bigInt({ min: 0n, max: 10n ** 6n }), fc.bigInt({ min: 0n, max: 10n ** 9n }), fc.bigInt({ min: 0n, max: 10n ** 9n }), (escrow, rate, tol, dev) => {
        const penalty = rules.penaltyFor(escrow, rate, tol, dev);
        return penalty >= 0n && penalty <= escrow;
      }),
    );
  });

  it('property: the 24 period shares add up to the reward', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), (reward) => {
        let total = 0n;
        for (let p = 0; p < 24; p++) total += rules.periodShare(reward, p, 24);
        return total === reward;
      }),
    );
  });
});

/**
 * Model-based property test of a whole program over the pure rules: random actions
 * (valid proof with random deviation, invalid proof, claim, close, at random times)
 * against one escrow. Checks the invariants of the issue.
 */
type Action =
  | { kind: 'valid'; period: number; deviation: bigint; atOffsetMs: number }
  | { kind: 'invalid'; period: number; atOffsetMs: number }
  | { kind: 'claim'; period: number; atOffsetMs: number }
  | { kind: 'close'; atOffsetMs: number };

const short = { startMs: 0, periodSeconds: 10, graceSeconds: 5, periodCount: 24 };
const horizon = rules.periodDeadlineMs(short, 23) + 10_000;

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('valid' as const), period: fc.integer({ min: 0, max: 23 }), deviation: fc.bigInt({ min: 0n, max: 500n }), atOffsetMs: fc.integer({ min: 0, max: horizon }) }),
  fc.record({ kind: fc.constant('invalid' as const), period: fc.integer({ min: 0, max: 23 }), atOffsetMs: fc.integer({ min: 0, max: horizon }) }),
  fc.record({ kind: fc.constant('claim' as const), period: fc.integer({ min: 0, max: 23 }), atOffsetMs: fc.integer({ min: 0, max: horizon }) }),
  fc.record({ kind: fc.constant('close' as const), atOffsetMs: fc.integer({ min: 0, max: horizon }) }),
);

describe('rules/programs: program invariants (property)', () => {
  it('escrow never negative, penalty <= escrow, nothing after exclusion, no period twice, total conserved', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 100_000n }),
        fc.bigInt({ min: 0n, max: 50n }),
        fc.bigInt({ min: 0n, max: 100n }),
        fc.array(actionArb, { maxLength: 80 }),
        (reward, rate, tol, rawActions) => {
          const actions = [...rawActions].sort((a, b) => a.atOffsetMs - b.atOffsetMs);
          let state = { balances: new Map([[parties.escrowAccount, reward]]) as ReadonlyMap<string, bigint>, minted: reward, burned: 0n };
          const results = empty();
          let status: 'active' | 'excluded' | 'closed' = 'active';
          const settledCount = new Map<number, number>();
          for (const a of actions) {
            const escrow = rules.balanceOf(state, parties.escrowAccount);
            let movements: rules.TokenMovement[] = [];
            try {
              rules.assertEnrollmentStatus(status, ['active'], a.kind);
              if (a.kind === 'valid' || a.kind === 'invalid') {
                rules.assertSubmissionWindow(results, short, a.period, a.atOffsetMs);
                const s = a.kind === 'valid' ? rules.settleVerifiedPeriod(parties, escrow, rate, tol, a.deviation) : rules.settleInvalidProof(parties, escrow);
                assert.ok(s.amount <= escrow, 'penalty never exceeds the escrow');
                movements = s.movements;
                results[a.period] = a.kind === 'valid'
                  ? { outcome: 'verified', periodIndex: a.period, deviationWh: String(a.deviation), direction: '0', prevFingerprint: '0', newFingerprint: '1', penalty: String(s.amount), submissionHash: 'h', txId: 't', settledAt: 'x' }
                  : { outcome: 'invalidProof', periodIndex: a.period, forfeited: String(s.amount), submissionHash: 'h', txId: 't', settledAt: 'x' };
                settledCount.set(a.period, (settledCount.get(a.period) ?? 0) + 1);
                if (a.kind === 'invalid') status = 'excluded';
              } else if (a.kind === 'claim') {
                const s = rules.claimMissedPeriod(parties, results, short, a.period, a.atOffsetMs, reward, escrow, 2_000);
                movements = s.movements;
                results[a.period] = { outcome: 'missed', periodIndex: a.period, claimed: String(s.amount), txId: 't', settledAt: 'x' };
                settledCount.set(a.period, (settledCount.get(a.period) ?? 0) + 1);
              } else {
                movements = rules.releaseAtClose(parties, results, 24, escrow).movements;
                status = 'closed';
              }
              state = rules.applyMovements(state, movements);
            } catch (err) {
              if (!(err instanceof ChaincodeError)) throw err;
              if (status === 'excluded') assert.equal(err.code, 'EXCLUDED', 'an excluded enrollment refuses with EXCLUDED');
            }
            assert.ok(rules.balanceOf(state, parties.escrowAccount) >= 0n, 'escrow never negative');
            assert.equal(rules.supplyImbalance(state), 0n, 'nothing created or lost');
          }
          for (const n of settledCount.values()) assert.equal(n, 1, 'no period settles twice');
          if (status === 'excluded') assert.equal(rules.balanceOf(state, parties.escrowAccount), 0n);
          if (status === 'closed') assert.equal(rules.balanceOf(state, parties.escrowAccount), 0n);
        },
      ),
      { numRuns: 300 },
    );
  });
});
