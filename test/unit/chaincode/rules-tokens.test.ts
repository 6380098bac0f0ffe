import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChaincodeError, rules } from './support/chaincode';

const ACCOUNTS = ['org:DsoMSP', 'org:AggregatorMSP', 'prosumer:p1', 'prosumer:p2', 'escrow:enrollment:e1', 'escrow:order:o1'];
const empty = (): rules.TokenState => ({ balances: new Map(), minted: 0n, burned: 0n });

describe('rules/tokens', () => {
  it('mints, transfers and burns', () => {
    let s = rules.applyMovements(empty(), [{ from: null, to: 'org:DsoMSP', amount: 100n }]);
    s = rules.applyMovements(s, [{ from: 'org:DsoMSP', to: 'escrow:order:o1', amount: 60n }]);
    s = rules.applyMovements(s, [{ from: 'org:DsoMSP', to: null, amount: 40n }]);
    assert.equal(rules.balanceOf(s, 'org:DsoMSP'), 0n);
    assert.equal(rules.balanceOf(s, 'escrow:order:o1'), 60n);
    assert.equal(s.minted, 100n);
    assert.equal(s.burned, 40n);
  });

  it('refuses to overdraw an account, atomically', () => {
    const s = rules.applyMovements(empty(), [{ from: null, to: 'prosumer:p1', amount: 10n }]);
    assert.throws(
      () => rules.applyMovements(s, [{ from: 'prosumer:p1', to: 'prosumer:p2', amount: 5n }, { from: 'prosumer:p1', to: null, amount: 6n }]),
      (err: unknown) => err instanceof ChaincodeError && err.code === 'RULE_VIOLATION',
    );
    assert.equal(rules.balanceOf(s, 'prosumer:p1'), 10n);
  });

  it('property: minted - burned always equals the sum of balances and escrows, none negative', () => {
    const movement = fc.record({
      from: fc.option(fc.constantFrom(...ACCOUNTS), { nil: null }),
      to: fc.option(fc.constantFrom(...ACCOUNTS), { nil: null }),
      amount: fc.bigInt({ min: 0n, max: 1000n }),
    });
    fc.assert(
      fc.property(fc.array(fc.array(movement, { maxLength: 3 }), { maxLength: 60 }), (batches) => {
        let s = empty();
        for (const batch of batches) {
          try {
            s = rules.applyMovements(s, batch);
          } catch (err) {
            if (!(err instanceof ChaincodeError)) throw err;
          }
          assert.equal(rules.supplyImbalance(s), 0n);
          for (const v of s.balances.values()) assert.ok(v >= 0n);
        }
      }),
      { numRuns: 300 },
    );
  });
});
