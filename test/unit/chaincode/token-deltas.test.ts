import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Context } from 'fabric-contract-api';
import { ledger, rules } from './support/chaincode';
import { AGGREGATOR, ChaincodeHarness, DSO, expectCode, OUTSIDER, tokenImbalance } from './support/harness';
import { InMemoryStubForTests } from './support/in-memory-stub';

const { KEY } = ledger;
type Movement = { from: string | null; to: string | null; amount: bigint };

function tx(stub: InMemoryStubForTests, txId: string): Context {
  stub.beginTransaction(txId, Date.parse('2030-03-01T00:00:00Z'));
  return { stub: stub.asStub(), clientIdentity: {} } as unknown as Context;
}

function keysOfType(stub: InMemoryStubForTests, type: string): string[] {
  return [...stub.snapshot().keys()].filter((k) => stub.splitCompositeKey(k).objectType === type);
}

const ACCOUNTS = ['org:AggregatorMSP', 'org:DsoMSP', 'prosumer:p1', 'escrow:enrollment:e1', 'escrow:order:o1'];

describe('ledger: delta records for org accounts and the supply', () => {
  it('a credit to an org account and a mint read nothing: only a delta is written', async () => {
    const stub = new InMemoryStubForTests();
    const reads: string[] = [];
    const getState = stub.getState.bind(stub);
    stub.getState = async (k: string) => {
      reads.push(k);
      return getState(k);
    };
    const range = stub.getStateByPartialCompositeKey.bind(stub);
    stub.getStateByPartialCompositeKey = (type: string, attrs: string[]) => {
      reads.push(`range:${type}`);
      return range(type, attrs);
    };
    const ctx = tx(stub, 'tx1');
    await ledger.applyTokenMovements(ctx, [{ from: null, to: 'org:AggregatorMSP', amount: 5n }]);
    await ledger.applyTokenMovements(ctx, [{ from: null, to: 'org:AggregatorMSP', amount: 7n }]);
    assert.deepEqual(reads, [], 'no read of the account or the supply');
    stub.commit();
    assert.deepEqual(keysOfType(stub, KEY.accountDelta).length, 1, 'one delta per account per transaction');
    assert.deepEqual(keysOfType(stub, KEY.supplyDelta).length, 1, 'one supply delta per transaction');
    assert.deepEqual(keysOfType(stub, KEY.account), [], 'no base record written');
    const q = tx(stub, 'q');
    assert.equal(await ledger.readBalance(q, 'org:AggregatorMSP'), 12n);
    assert.deepEqual(await ledger.readSupply(q), { minted: '12', burned: '0' });
  });

  it('a debit reads the folded balance (range read) and refuses an overdraft of base + deltas', async () => {
    const stub = new InMemoryStubForTests();
    let ctx = tx(stub, 'tx1');
    await ledger.applyTokenMovements(ctx, [{ from: null, to: 'org:DsoMSP', amount: 10n }]);
    stub.commit();
    ctx = tx(stub, 'tx2');
    await ledger.applyTokenMovements(ctx, [{ from: null, to: 'org:DsoMSP', amount: 5n }]);
    stub.commit();
    ctx = tx(stub, 'tx3');
    await assert.rejects(
      ledger.applyTokenMovements(ctx, [{ from: 'org:DsoMSP', to: 'prosumer:p', amount: 16n }]),
      /\[RULE_VIOLATION\] insufficient balance in org:DsoMSP: has 15, needs 16/,
    );
    stub.rollback();
    ctx = tx(stub, 'tx4');
    await ledger.applyTokenMovements(ctx, [{ from: 'org:DsoMSP', to: 'prosumer:p', amount: 15n }]);
    stub.commit();
    const q = tx(stub, 'q');
    assert.equal(await ledger.readBalance(q, 'org:DsoMSP'), 0n);
    assert.equal(await ledger.readBalance(q, 'prosumer:p'), 15n);
    assert.equal(keysOfType(stub, KEY.accountDelta).length, 3);
  });

  it('property: random mints, burns, transfers, penalties and compactions: folded balances equal a plain ledger, the invariant holds', async () => {
    const movement = fc.record({
      from: fc.option(fc.constantFrom(...ACCOUNTS), { nil: null }),
      to: fc.option(fc.constantFrom(...ACCOUNTS), { nil: null }),
      amount: fc.bigInt({ min: 0n, max: 50n }),
    });
    const step = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('movements' as const), movements: fc.array(movement, { minLength: 1, maxLength: 4 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), account: fc.option(fc.constantFrom(...ACCOUNTS.slice(0, 2)), { nil: null }) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
        const stub = new InMemoryStubForTests();
        let plain: ReturnType<typeof rules.applyMovements> = { balances: new Map(), minted: 0n, burned: 0n };
        let n = 0;
        for (const s of steps) {
          const ctx = tx(stub, `tx${++n}`);
          if (s.kind === 'compact') {
            if (s.account) await ledger.compactAccount(ctx, s.account);
            else {
              for (const id of await ledger.accountsWithDeltas(ctx)) await ledger.compactAccount(ctx, id);
              await ledger.compactSupply(ctx);
            }
            stub.commit();
          } else {
            const ms = s.movements.filter((m) => m.from !== m.to || m.from === null) as Movement[];
            let expected: typeof plain | undefined;
            try {
              expected = rules.applyMovements(plain, ms);
            } catch {
              expected = undefined;
            }
            try {
              await ledger.applyTokenMovements(ctx, ms);
              assert.ok(expected, 'the ledger accepts only what the plain ledger accepts');
              stub.commit();
              plain = expected;
            } catch (err) {
              if (err instanceof assert.AssertionError) throw err;
              assert.equal(expected, undefined, `the ledger refused what the plain ledger accepts: ${String(err)}`);
              stub.rollback();
            }
          }
          const q = tx(stub, `q${n}`);
          for (const id of ACCOUNTS) assert.equal(await ledger.readBalance(q, id), rules.balanceOf(plain, id), id);
          assert.deepEqual(await ledger.readSupply(q), { minted: plain.minted.toString(), burned: plain.burned.toString() });
          const all = await ledger.readAllBalances(q);
          let total = 0n;
          for (const a of all) {
            assert.ok(a.balance >= 0n);
            total += a.balance;
          }
          assert.equal(plain.minted - plain.burned - total, 0n, 'minted - burned = all balances');
        }
      }),
      { numRuns: 120 },
    );
  });
});

describe('contract org.flexproof.tokens: deltas, CompactBalances and AuditSupply', () => {
  it('balances and supply fold the deltas; CompactBalances folds them into the base records without changing a balance', async () => {
    const h = new ChaincodeHarness();
    await h.call(DSO, 'tokens', 'Mint', { account: 'org:AggregatorMSP', amount: '500' });
    await h.call(DSO, 'tokens', 'Mint', { account: 'org:AggregatorMSP', amount: '100' });
    await h.call(DSO, 'tokens', 'Mint', { account: 'org:DsoMSP', amount: '50' });
    await h.call(AGGREGATOR, 'tokens', 'Transfer', { to: 'prosumer:p1', amount: '60' });
    await h.call(DSO, 'tokens', 'Burn', { account: 'org:DsoMSP', amount: '20' });
    const audit = await h.call(DSO, 'tokens', 'AuditSupply', {});
    assert.deepEqual(audit, { minted: '650', burned: '20', balances: '630', accounts: 3, imbalance: '0' });
    assert.deepEqual((await h.call(DSO, 'tokens', 'GetBalances', {})).accounts, [
      { accountId: 'org:AggregatorMSP', balance: '540' },
      { accountId: 'org:DsoMSP', balance: '30' },
      { accountId: 'prosumer:p1', balance: '60' },
    ]);
    assert.equal(keysOfType(h.stub, KEY.accountDelta).length, 5);

    const one = await h.call(AGGREGATOR, 'tokens', 'CompactBalances', { accountId: 'org:DsoMSP' });
    assert.deepEqual(one, { compacted: [{ accountId: 'org:DsoMSP', deltas: 2 }] });
    assert.equal(h.lastEvent()?.name, 'BalancesCompacted');
    const rest = await h.call(DSO, 'tokens', 'CompactBalances', {});
    assert.deepEqual(rest, { compacted: [{ accountId: 'org:AggregatorMSP', deltas: 3 }, { supply: true, deltas: 4 }] });
    assert.deepEqual(keysOfType(h.stub, KEY.accountDelta), []);
    assert.deepEqual(keysOfType(h.stub, KEY.supplyDelta), []);
    assert.deepEqual(await h.call(DSO, 'tokens', 'AuditSupply', {}), audit, 'compaction changes no figure');
    assert.deepEqual(await h.call(DSO, 'tokens', 'GetSupply', {}), { minted: '650', burned: '20', outstanding: '630' });
    assert.equal((await h.call(DSO, 'tokens', 'GetBalance', { account: 'org:AggregatorMSP' })).balance, '540');
    assert.deepEqual(await h.call(DSO, 'tokens', 'CompactBalances', {}), { compacted: [] });
    assert.equal(await tokenImbalance(h), 0n);
  });

  it('CompactBalances and AuditSupply refuse outsiders and bad input, changing nothing', async () => {
    const h = new ChaincodeHarness();
    await h.call(DSO, 'tokens', 'Mint', { account: 'org:AggregatorMSP', amount: '5' });
    const before = new Map(h.stub.snapshot());
    await expectCode(h.call(OUTSIDER, 'tokens', 'CompactBalances', {}), 'FORBIDDEN');
    await expectCode(h.call(OUTSIDER, 'tokens', 'AuditSupply', {}), 'FORBIDDEN');
    const notOrg = await expectCode(h.call(DSO, 'tokens', 'CompactBalances', { accountId: 'prosumer:p1' }), 'BAD_INPUT');
    assert.match(notOrg.message, /^\[BAD_INPUT\] accountId: /);
    await expectCode(h.call(DSO, 'tokens', 'CompactBalances', { accountId: 'org:OutsiderMSP' }), 'BAD_INPUT');
    await expectCode(h.call(DSO, 'tokens', 'CompactBalances', { accountId: 'nope' }), 'BAD_INPUT');
    await expectCode(h.call(DSO, 'tokens', 'CompactBalances', { extra: 1 }), 'BAD_INPUT');
    await expectCode(h.call(DSO, 'tokens', 'AuditSupply', { extra: 1 }), 'BAD_INPUT');
    assert.deepEqual(h.stub.snapshot(), before);
  });

  it('property: through the contracts, random mints, burns, transfers and compactions keep AuditSupply at 0 and match a plain ledger', async () => {
    type Op =
      | { kind: 'mint'; account: string; amount: number }
      | { kind: 'burn'; account: string; amount: number }
      | { kind: 'transfer'; from: string; to: string; amount: number }
      | { kind: 'compact'; account?: string };
    const org = fc.constantFrom(AGGREGATOR, DSO);
    const holder = fc.constantFrom('org:AggregatorMSP', 'org:DsoMSP', 'prosumer:p1', 'prosumer:p2');
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('mint' as const), account: holder, amount: fc.integer({ min: 1, max: 100 }) }),
      fc.record({ kind: fc.constant('burn' as const), account: fc.constantFrom('org:AggregatorMSP', 'org:DsoMSP'), amount: fc.integer({ min: 1, max: 100 }) }),
      fc.record({ kind: fc.constant('transfer' as const), from: org, to: holder, amount: fc.integer({ min: 1, max: 100 }) }),
      fc.record({ kind: fc.constant('compact' as const), account: fc.option(fc.constantFrom('org:AggregatorMSP', 'org:DsoMSP'), { nil: undefined }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const h = new ChaincodeHarness();
        const plain = new Map<string, bigint>();
        let minted = 0n;
        let burned = 0n;
        const bal = (id: string) => plain.get(id) ?? 0n;
        for (const o of ops) {
          try {
            if (o.kind === 'mint') {
              await h.call(DSO, 'tokens', 'Mint', { account: o.account, amount: String(o.amount) });
              plain.set(o.account, bal(o.account) + BigInt(o.amount));
              minted += BigInt(o.amount);
            } else if (o.kind === 'burn') {
              const ok = bal(o.account) >= BigInt(o.amount);
              await (ok
                ? h.call(DSO, 'tokens', 'Burn', { account: o.account, amount: String(o.amount) })
                : expectCode(h.call(DSO, 'tokens', 'Burn', { account: o.account, amount: String(o.amount) }), 'RULE_VIOLATION'));
              if (ok) {
                plain.set(o.account, bal(o.account) - BigInt(o.amount));
                burned += BigInt(o.amount);
              }
            } else if (o.kind === 'transfer') {
              const from = `org:${o.from}`;
              if (from === o.to) continue;
              const ok = bal(from) >= BigInt(o.amount);
              const input = { to: o.to, amount: String(o.amount) };
              await (ok ? h.call(o.from, 'tokens', 'Transfer', input) : expectCode(h.call(o.from, 'tokens', 'Transfer', input), 'RULE_VIOLATION'));
              if (ok) {
                plain.set(from, bal(from) - BigInt(o.amount));
                plain.set(o.to, bal(o.to) + BigInt(o.amount));
              }
            } else {
              await h.call(AGGREGATOR, 'tokens', 'CompactBalances', o.account ? { accountId: o.account } : {});
            }
          } catch (err) {
            assert.fail(`unexpected: ${String(err)}`);
          }
          const audit = await h.call(DSO, 'tokens', 'AuditSupply', {});
          assert.equal(audit.imbalance, '0');
          assert.deepEqual([audit.minted, audit.burned], [minted.toString(), burned.toString()]);
        }
        const { accounts } = await h.call(DSO, 'tokens', 'GetBalances', { accounts: ['org:AggregatorMSP', 'org:DsoMSP', 'prosumer:p1', 'prosumer:p2'] });
        for (const a of accounts as { accountId: string; balance: string }[]) assert.equal(a.balance, bal(a.accountId).toString(), a.accountId);
      }),
      { numRuns: 40 },
    );
  });
});
