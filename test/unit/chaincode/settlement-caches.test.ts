// What settlement caches per chaincode process (parsed meter keys, parsed verification
// key records) and the cheap refusal of a settled period: a cache never answers for
// another key or other bytes, and the refusal comes before any proof is verified.
import assert from 'node:assert/strict';
import type { Context } from 'fabric-contract-api';
import { ledger } from './support/chaincode';
import {
  activeEnrollment,
  AGGREGATOR,
  ChaincodeHarness,
  DSO,
  expectCode,
  flat,
  newProsumer,
  openOrder,
  periodEnd,
  registerCircuit,
  registerMeter,
  submission,
  type Prosumer,
} from './support/harness';

const { KEY, readSharedRecord, writeRecord } = ledger;

describe('chaincode settlement caches', () => {
  describe('meter public keys (parsed once per process, by the exact PEM)', () => {
    it('never serves a cached key for another meter: a submission signed with the cached key of another meter is BAD_SIGNATURE', async () => {
      const h = new ChaincodeHarness();
      await registerCircuit(h);
      await openOrder(h, 'order-1', '2400', flat('100000'));
      await h.call(DSO, 'tokens', 'Mint', { account: 'org:AggregatorMSP', amount: '12000' });
      const prosumers = [newProsumer(10, 'ec'), newProsumer(11, 'ec'), newProsumer(12, 'ed25519')] as Prosumer[];
      for (const [i, p] of prosumers.entries()) {
        await registerMeter(h, p);
        await activeEnrollment(h, p, `enr-${i}`, 'order-1');
      }
      const [a, b, c] = prosumers as [Prosumer, Prosumer, Prosumer];
      h.advanceTo(periodEnd(0) + 1000);
      // a's key is parsed and cached by its first settlement...
      assert.equal((await h.call(AGGREGATOR, 'programs', 'SubmitPeriod', await submission(h, a, 'enr-0', 0, '0'))).outcome, 'verified');
      // ...and does not verify b's or c's submissions, however often it was used.
      for (const [p, id] of [[b, 'enr-1'], [c, 'enr-2']] as const) {
        const forged = await submission(h, p, id, 0, '0', { signWith: a.privateKey });
        await expectCode(h.call(AGGREGATOR, 'programs', 'SubmitPeriod', forged), 'BAD_SIGNATURE');
        await expectCode(h.call(AGGREGATOR, 'programs', 'SubmitPeriod', forged), 'BAD_SIGNATURE');
        const { outcomes } = await h.call(AGGREGATOR, 'programs', 'SubmitPeriods', { items: [forged] });
        assert.deepEqual([outcomes[0].outcome, outcomes[0].code], ['refused', 'BAD_SIGNATURE']);
        assert.equal((await h.call(AGGREGATOR, 'programs', 'SubmitPeriod', await submission(h, p, id, 0, '0'))).outcome, 'verified');
      }
      // A cached key still refuses what it did not sign: an altered payload.
      h.advanceTo(periodEnd(1) + 1000);
      const good = await submission(h, a, 'enr-0', 1, '1000');
      await expectCode(h.call(AGGREGATOR, 'programs', 'SubmitPeriod', { ...good, payload: { ...good.payload, submissionHash: 'ab'.repeat(32) } }), 'BAD_SIGNATURE');
      assert.equal((await h.call(AGGREGATOR, 'programs', 'SubmitPeriod', good)).outcome, 'verified');
    });
  });

  describe('shared records (readSharedRecord)', () => {
    it('parses once per bytes: the same value while the bytes stay, a fresh one when they change; frozen', async () => {
      const h = new ChaincodeHarness();
      // One Context per transaction, as Fabric makes them (the write overlay lives with it).
      const begin = (txId: string): Context => {
        h.stub.beginTransaction(txId, h.nowMs, h.channelId);
        return { stub: h.stub.asStub() } as unknown as Context;
      };
      const a = begin('tx-a');
      await writeRecord(a, KEY.verificationKey, ['c-shared'], { circuitId: 'c-shared', keyHash: 'h1', nested: { ic: ['1'] } });
      h.stub.commit();
      const one = await readSharedRecord<{ keyHash: string; nested: { ic: string[] } }>(begin('tx-b'), KEY.verificationKey, ['c-shared']);
      h.stub.commit();
      const c = begin('tx-c');
      const two = await readSharedRecord<{ keyHash: string }>(c, KEY.verificationKey, ['c-shared']);
      assert.equal(two, one, 'same bytes: the parsed value is shared');
      assert.ok(Object.isFrozen(one) && Object.isFrozen(one?.nested.ic), 'deeply frozen: no reader can change it for the next');
      await writeRecord(c, KEY.verificationKey, ['c-shared'], { circuitId: 'c-shared', keyHash: 'h2', nested: { ic: ['2'] } });
      const inTx = await readSharedRecord<{ keyHash: string }>(c, KEY.verificationKey, ['c-shared']);
      assert.equal(inTx?.keyHash, 'h2', "this transaction's own write is what it reads");
      h.stub.rollback();
      const d = begin('tx-d');
      const after = await readSharedRecord<{ keyHash: string }>(d, KEY.verificationKey, ['c-shared']);
      assert.equal(after?.keyHash, 'h1', 'the rolled-back bytes are not served');
      assert.notEqual(after, one, 'parsed again once the cached bytes changed');
      assert.equal(await readSharedRecord(d, KEY.verificationKey, ['absent']), undefined);
      h.stub.commit();
    });
  });

  describe('a settled period is refused CONFLICT before any verification', () => {
    async function settledOnce(valid: boolean) {
      const h = new ChaincodeHarness();
      await registerCircuit(h);
      await openOrder(h, 'order-1', '2400', flat('100000'));
      await h.call(DSO, 'tokens', 'Mint', { account: 'org:AggregatorMSP', amount: '6000' });
      const p = newProsumer(0) as Prosumer;
      await registerMeter(h, p);
      await activeEnrollment(h, p, 'enr-0', 'order-1');
      h.advanceTo(periodEnd(0) + 1000);
      const first = await submission(h, p, 'enr-0', 0, '0', { valid });
      await h.call(AGGREGATOR, 'programs', 'SubmitPeriod', first);
      return { h, p, first };
    }

    it('after an invalid proof excluded the enrollment, its resubmission is CONFLICT (the gateway replays it), not EXCLUDED', async () => {
      const { h, p, first } = await settledOnce(false);
      assert.equal((await h.call(DSO, 'programs', 'GetEnrollment', { enrollmentId: 'enr-0' })).enrollment.status, 'excluded');
      const before = { single: h.verifier.singleCalls, batches: h.verifier.batches.length };
      await expectCode(h.call(AGGREGATOR, 'programs', 'SubmitPeriod', first), 'CONFLICT');
      const other = await submission(h, p, 'enr-0', 0, '0', { newFingerprint: '4242' });
      await expectCode(h.call(AGGREGATOR, 'programs', 'SubmitPeriod', other), 'CONFLICT');
      const { outcomes } = await h.call(AGGREGATOR, 'programs', 'SubmitPeriods', { items: [first] });
      assert.deepEqual([outcomes[0].outcome, outcomes[0].code], ['refused', 'CONFLICT']);
      // A later period of the excluded enrollment is still EXCLUDED.
      h.advanceTo(periodEnd(1) + 1000);
      await expectCode(h.call(AGGREGATOR, 'programs', 'SubmitPeriod', await submission(h, p, 'enr-0', 1, '1000')), 'EXCLUDED');
      assert.deepEqual({ single: h.verifier.singleCalls, batches: h.verifier.batches.length }, before, 'no proof verified for any of them');
    });

    it('a verified period resubmitted, alone or in a batch, is CONFLICT without a verification', async () => {
      const { h, first } = await settledOnce(true);
      const before = { single: h.verifier.singleCalls, batches: h.verifier.batches.length };
      await expectCode(h.call(AGGREGATOR, 'programs', 'SubmitPeriod', first), 'CONFLICT');
      const { outcomes } = await h.call(AGGREGATOR, 'programs', 'SubmitPeriods', { items: [first] });
      assert.deepEqual([outcomes[0].outcome, outcomes[0].code], ['refused', 'CONFLICT']);
      assert.deepEqual({ single: h.verifier.singleCalls, batches: h.verifier.batches.length }, before);
    });
  });
});
