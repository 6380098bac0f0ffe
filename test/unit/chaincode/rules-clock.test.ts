import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chaincodeNameFrom, DEFAULT_MAX_CLOCK_SKEW_SECONDS, maxClockSkewSecondsFrom } from '@flexproof/protocol';
import { ChaincodeError, rules } from './support/chaincode';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ChaincodeError ? err.code : 'NOT_A_CHAINCODE_ERROR';
  }
  return undefined;
}

const PEER = Date.parse('2030-03-01T12:00:00.000Z');

describe('rules/clock: the proposal timestamp against the peer clock', () => {
  it('passes within the skew, exactly at it, and refuses one millisecond beyond, both ways', () => {
    for (const skew of [0, 2, 120]) {
      const ms = skew * 1000;
      assert.equal(codeOf(() => rules.assertProposalTimeWithinSkew(PEER, PEER, skew)), undefined);
      assert.equal(codeOf(() => rules.assertProposalTimeWithinSkew(PEER + ms, PEER, skew)), undefined);
      assert.equal(codeOf(() => rules.assertProposalTimeWithinSkew(PEER - ms, PEER, skew)), undefined);
      assert.equal(codeOf(() => rules.assertProposalTimeWithinSkew(PEER + ms + 1, PEER, skew)), 'CLOCK_SKEW');
      assert.equal(codeOf(() => rules.assertProposalTimeWithinSkew(PEER - ms - 1, PEER, skew)), 'CLOCK_SKEW');
    }
    assert.equal(codeOf(() => rules.assertProposalTimeWithinSkew(Number.NaN, PEER, 120)), 'CLOCK_SKEW');
  });

  it('names the direction and the skew, and the year-2100 stamp of the issue', () => {
    const ahead = (() => {
      try {
        rules.assertProposalTimeWithinSkew(Date.parse('2100-01-01T00:00:00Z'), PEER, 120);
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    assert.match(ahead, /^\[CLOCK_SKEW\] the proposal timestamp 2100-01-01T00:00:00.000Z is ahead of this peer's clock by more than 120 s$/);
    assert.throws(() => rules.assertProposalTimeWithinSkew(PEER - 121_000, PEER, 120), /behind this peer's clock/);
  });

  it('property: refused exactly when |proposal - peer| > skew', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10_000_000, max: 10_000_000 }), fc.integer({ min: 0, max: 3600 }), (offset, skew) => {
        const refused = codeOf(() => rules.assertProposalTimeWithinSkew(PEER + offset, PEER, skew)) === 'CLOCK_SKEW';
        return refused === Math.abs(offset) > skew * 1000;
      }),
    );
  });

  it('reads the skew and the chaincode name from their settings, refusing bad values at start-up', () => {
    assert.equal(DEFAULT_MAX_CLOCK_SKEW_SECONDS, 120);
    assert.equal(maxClockSkewSecondsFrom(undefined), 120);
    assert.equal(maxClockSkewSecondsFrom(''), 120);
    assert.equal(maxClockSkewSecondsFrom('0'), 0);
    assert.equal(maxClockSkewSecondsFrom('5'), 5);
    assert.equal(maxClockSkewSecondsFrom('86400'), 86400);
    for (const bad of ['-1', '1.5', '05', 'abc', '86401', ' 5', '1e3']) {
      assert.throws(() => maxClockSkewSecondsFrom(bad), /FLEXPROOF_MAX_CLOCK_SKEW_SECONDS/, bad);
    }
    assert.equal(chaincodeNameFrom(undefined), 'flexproof');
    assert.equal(chaincodeNameFrom('flexproof-test_2'), 'flexproof-test_2');
    for (const bad of ['-x', 'a b', 'a--b', 'x'.repeat(129), 'a/b']) {
      assert.throws(() => chaincodeNameFrom(bad), /FLEXPROOF_CHAINCODE_NAME/, bad);
    }
  });
});
