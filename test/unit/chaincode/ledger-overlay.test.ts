import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Context } from 'fabric-contract-api';
import { ledger } from './support/chaincode';
import { InMemoryStubForTests } from './support/in-memory-stub';

const { KEY } = ledger;

/** One transaction on the stub: a fresh Context, as Fabric makes one per transaction. */
function tx(stub: InMemoryStubForTests, txId: string): Context {
  stub.beginTransaction(txId, Date.parse('2030-03-01T00:00:00Z'));
  return { stub: stub.asStub(), clientIdentity: {} } as unknown as Context;
}

function committed(stub: InMemoryStubForTests): Record<string, string> {
  return Object.fromEntries([...stub.snapshot()].map(([k, v]) => [k, v.toString('utf8')]));
}

describe('ledger: the transaction overlay', () => {
  it('a transaction reads its own writes and deletes, in point and range reads (the stub alone does not)', async () => {
    const stub = new InMemoryStubForTests();
    let ctx = tx(stub, 't1');
    await ledger.writeRecord(ctx, KEY.meter, ['m1'], { v: 1 });
    await ledger.writeIndex(ctx, KEY.enrollmentByOrder, ['o1', 'e1']);
    stub.commit();

    ctx = tx(stub, 't2');
    await ledger.writeRecord(ctx, KEY.meter, ['m1'], { v: 2 });
    await ledger.writeRecord(ctx, KEY.meter, ['m0'], { v: 0 });
    assert.deepEqual(await ledger.readRecord(ctx, KEY.meter, ['m1']), { v: 2 });
    assert.equal((await stub.getState(stub.createCompositeKey(KEY.meter, ['m1']))).toString(), '{"v":1}', 'the stub still shows committed state');
    assert.deepEqual(await ledger.listRecords(ctx, KEY.meter, []), [{ v: 0 }, { v: 2 }], 'merged and in key order');
    await ledger.writeIndex(ctx, KEY.enrollmentByOrder, ['o1', 'e0']);
    await ledger.deleteIndex(ctx, KEY.enrollmentByOrder, ['o1', 'e1']);
    assert.deepEqual(await ledger.listIndex(ctx, KEY.enrollmentByOrder, ['o1']), [['o1', 'e0']]);
    assert.equal(await ledger.recordExists(ctx, KEY.enrollmentByOrder, ['o1', 'e1']), false);
    // Write-through: the stub already holds the pending writes.
    assert.deepEqual(stub.pendingKeys().length, 4);
    stub.commit();
    assert.deepEqual(Object.keys(committed(stub)).length, 3);
  });

  it('buffered: a restored snapshot undoes exactly the writes after it; the stub sees one write per key, at the flush', async () => {
    const stub = new InMemoryStubForTests();
    let ctx = tx(stub, 't1');
    await ledger.writeRecord(ctx, KEY.meter, ['a'], { v: 'a0' });
    stub.commit();

    ctx = tx(stub, 't2');
    ledger.bufferWrites(ctx);
    await ledger.writeRecord(ctx, KEY.meter, ['a'], { v: 'a1' });
    const snap = ledger.snapshotWrites(ctx);
    await ledger.writeRecord(ctx, KEY.meter, ['a'], { v: 'a2' });
    await ledger.writeRecord(ctx, KEY.meter, ['b'], { v: 'b' });
    await ledger.deleteIndex(ctx, KEY.meter, ['a']);
    assert.equal(await ledger.readRecord(ctx, KEY.meter, ['a']), undefined);
    ledger.restoreWrites(ctx, snap);
    assert.deepEqual(await ledger.readRecord(ctx, KEY.meter, ['a']), { v: 'a1' });
    assert.equal(await ledger.readRecord(ctx, KEY.meter, ['b']), undefined);
    await ledger.writeRecord(ctx, KEY.order, ['o'], { v: 'o1' });
    await ledger.writeRecord(ctx, KEY.order, ['o'], { v: 'o2' });
    assert.deepEqual(stub.pendingKeys(), [], 'nothing reaches the stub before the flush');
    await ledger.flushWrites(ctx);
    assert.equal(stub.pendingKeys().length, 2, 'one write per key');
    stub.commit();
    assert.deepEqual(Object.values(committed(stub)).sort(), ['{"v":"a1"}', '{"v":"o2"}']);
  });

  it('refuses to buffer after a write-through write, and to snapshot without buffering', async () => {
    const stub = new InMemoryStubForTests();
    const ctx = tx(stub, 't1');
    assert.throws(() => ledger.snapshotWrites(ctx), /not buffered/);
    await ledger.writeRecord(ctx, KEY.meter, ['a'], { v: 1 });
    assert.throws(() => ledger.bufferWrites(ctx), /already written/);
  });

  it('property: buffered writes with random rollbacks equal applying only the kept groups in order', async () => {
    const op = fc.record({
      del: fc.boolean(),
      k: fc.constantFrom('a', 'b', 'c', 'd'),
      v: fc.integer({ min: 0, max: 9 }),
    });
    const group = fc.record({ ops: fc.array(op, { maxLength: 5 }), keep: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 4 }), fc.array(group, { maxLength: 6 }), async (initial, groups) => {
        const stub = new InMemoryStubForTests();
        const model = new Map<string, number>();
        let ctx = tx(stub, 't1');
        for (const o of initial) {
          if (o.del) {
            await ledger.deleteIndex(ctx, KEY.meter, [o.k]);
            model.delete(o.k);
          } else {
            await ledger.writeRecord(ctx, KEY.meter, [o.k], o.v);
            model.set(o.k, o.v);
          }
        }
        stub.commit();
        ctx = tx(stub, 't2');
        ledger.bufferWrites(ctx);
        for (const g of groups) {
          const snap = ledger.snapshotWrites(ctx);
          const next = new Map(model);
          for (const o of g.ops) {
            if (o.del) {
              await ledger.deleteIndex(ctx, KEY.meter, [o.k]);
              next.delete(o.k);
            } else {
              await ledger.writeRecord(ctx, KEY.meter, [o.k], o.v);
              next.set(o.k, o.v);
            }
            assert.deepEqual(await ledger.listRecords(ctx, KEY.meter, []), [...next.keys()].sort().map((k) => next.get(k)));
          }
          if (g.keep) {
            model.clear();
            for (const [k, v] of next) model.set(k, v);
          } else {
            ledger.restoreWrites(ctx, snap);
          }
        }
        await ledger.flushWrites(ctx);
        stub.commit();
        const expected = Object.fromEntries([...model].map(([k, v]) => [stub.createCompositeKey(KEY.meter, [k]), String(v)]));
        assert.deepEqual(committed(stub), expected);
      }),
      { numRuns: 150 },
    );
  });
});
