// A write whose outcome is unknown never runs twice. The Fabric adapter over a fake
// Fabric (a contract whose transactions go to a fake orderer and commit into a fake
// ledger: the first copy of a txId decides its status, a later copy is a DUPLICATE_TXID
// and changes nothing) reports a failure after the transaction went to the orderer as
// LedgerUnavailable with outcome 'unknown' and a handle; IdempotentLedger keeps that
// handle under the key and a retry resumes the same transaction instead of proposing anew.
import assert from 'node:assert/strict';
import { GatewayError } from '@hyperledger/fabric-gateway';
import { CommitRejected, FabricLedger, IdempotentLedger, LedgerUnavailable, buildApp, toHttpError } from '@flexproof/gateway-api';
import { MemorySealedStoreForTests, TOKENS, TOKEN_ENTRIES } from './support/gateway';

const MINT = 'org.flexproof.tokens:Mint';
const VALID = 0;
const MVCC_READ_CONFLICT = 11;
const DUPLICATE_TXID = 9;
const DEADLINE_EXCEEDED = 4;
const UNAVAILABLE = 14;

function grpcFailure(code: number, message: string): GatewayError {
  return new GatewayError({ code, message, details: [], cause: Object.assign(new Error(message), { code, details: '', metadata: undefined as never }) });
}

/**
 * What goes wrong at each call, in order: a submit step says what the orderer does with
 * the copy ('ok': ordered and answered; 'lost-answer': ordered, the answer lost; 'dropped':
 * accepted and lost before any block, then answered; 'unreachable': never ordered), a
 * status step whether the status comes back ('ok', 'timeout', or 'duplicate': the
 * status of a later copy).
 */
interface Script {
  submit?: Array<'ok' | 'lost-answer' | 'dropped' | 'unreachable'>;
  status?: Array<'ok' | 'timeout' | 'duplicate'>;
  /** Validation code of each new txId when its first copy is in a block (default VALID). */
  codes?: Record<string, number>;
  endorse?: 'unreachable';
}

class FakeFabric {
  proposals = 0;
  /** Every copy handed to the orderer, by txId, in order. */
  readonly ordered: string[] = [];
  /** Status of each txId in a block: the first copy's. */
  readonly committed = new Map<string, number>();
  duplicates = 0;
  /** What the chaincode did: the amounts of the Mints that committed valid. */
  readonly minted: unknown[] = [];
  readonly #script: Required<Omit<Script, 'endorse'>> & Pick<Script, 'endorse'>;

  constructor(script: Script = {}) {
    this.#script = { submit: [...(script.submit ?? [])], status: [...(script.status ?? [])], codes: script.codes ?? {}, endorse: script.endorse };
  }

  ledger(): FabricLedger {
    const contract = { newProposal: (_name: string, options: { arguments: string[] }) => this.#proposal(options.arguments[0] ?? 'null') };
    const connection = { gateway: { getNetwork: () => ({ getContract: () => contract }) } };
    return new FabricLedger(connection as never, { channel: 'c', chaincode: 'cc', mvccRetries: 0, retryBackoffMs: 1 });
  }

  #proposal(argument: string) {
    const txId = `tx-${this.proposals++}`;
    const { amount } = JSON.parse(argument) as { amount: unknown };
    const result = new TextEncoder().encode(JSON.stringify({ minted: amount, by: txId }));
    return {
      getTransactionId: () => txId,
      endorse: async () => {
        if (this.#script.endorse === 'unreachable') throw grpcFailure(UNAVAILABLE, 'no peer');
        return {
          getTransactionId: () => txId,
          getResult: () => result,
          submit: async () => this.#submit(txId, amount),
        };
      },
    };
  }

  async #submit(txId: string, amount: unknown) {
    const step = this.#script.submit.shift() ?? 'ok';
    if (step === 'unreachable') throw grpcFailure(UNAVAILABLE, 'no orderer could be reached');
    this.ordered.push(txId);
    if (step !== 'dropped') this.#commit(txId, amount);
    if (step === 'lost-answer') throw grpcFailure(DEADLINE_EXCEEDED, 'submit timed out');
    return {
      getTransactionId: () => txId,
      getStatus: async () => {
        const s = this.#script.status.shift() ?? 'ok';
        if (s === 'timeout') throw grpcFailure(DEADLINE_EXCEEDED, 'commit status timed out');
        if (s === 'duplicate') return { successful: false, code: DUPLICATE_TXID, transactionId: txId, blockNumber: 9n };
        const code = this.committed.get(txId);
        // Not in a block: a real status call would wait past its deadline.
        if (code === undefined) throw grpcFailure(DEADLINE_EXCEEDED, 'commit status timed out');
        return { successful: code === VALID, code, transactionId: txId, blockNumber: 1n };
      },
    };
  }

  #commit(txId: string, amount: unknown): void {
    if (this.committed.has(txId)) {
      this.duplicates++;
      return;
    }
    const code = this.#script.codes[txId] ?? VALID;
    this.committed.set(txId, code);
    if (code === VALID) this.minted.push(amount);
  }
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (v) => assert.fail(`expected a failure, got ${JSON.stringify(v)}`),
    (e: unknown) => e,
  );
}

function assertUnknown(err: unknown, txId: string): asserts err is LedgerUnavailable {
  assert.ok(err instanceof LedgerUnavailable, `expected LedgerUnavailable, got ${String(err)}`);
  assert.equal(err.outcome, 'unknown');
  assert.equal(err.txId, txId);
  assert.equal(err.pending?.txId, txId);
}

describe('gateway: a write whose outcome is unknown never runs twice', () => {
  describe('the Fabric adapter', () => {
    it('a failure after the transaction went to the orderer is outcome unknown, with a handle; one before is not', async () => {
      for (const script of [{ status: ['timeout' as const] }, { submit: ['lost-answer' as const] }, { submit: ['unreachable' as const] }]) {
        const fabric = new FakeFabric(script);
        const err = await failure(fabric.ledger().submit(MINT, { amount: 5 }));
        assertUnknown(err, 'tx-0');
        assert.ok(err.cause instanceof GatewayError, 'the gRPC failure is kept for the log');
        assert.ok(!Object.keys(err).includes('pending'), 'the handle (the signed envelope) is not serialised into logs');
        const answer = toHttpError(err);
        assert.deepEqual([answer.status, answer.body.code, answer.body.txId], [503, 'LEDGER_UNAVAILABLE', 'tx-0']);
      }
      const endorsing = new FakeFabric({ endorse: 'unreachable' });
      const err = await failure(endorsing.ledger().submit(MINT, { amount: 5 }));
      assert.ok(err instanceof LedgerUnavailable);
      assert.equal(err.outcome, 'not-sent');
      assert.equal(err.pending, undefined);
      assert.deepEqual(endorsing.ordered, []);
    });

    it('resuming sends the same signed transaction again and answers as the first would have', async () => {
      const fabric = new FakeFabric({ status: ['timeout'] });
      const err = await failure(fabric.ledger().submit(MINT, { amount: 5 }));
      assertUnknown(err, 'tx-0');
      const resumed = await (err.pending as NonNullable<typeof err.pending>).resume();
      assert.deepEqual(resumed, { result: { minted: 5, by: 'tx-0' }, txId: 'tx-0' });
      assert.deepEqual(fabric.ordered, ['tx-0', 'tx-0'], 'one txId, sent twice');
      assert.equal(fabric.duplicates, 1, 'the second copy changed nothing');
      assert.deepEqual(fabric.minted, [5]);
      assert.equal(fabric.proposals, 1);
    });

    it('an invalidated first transaction resumes as CommitRejected; a duplicate status stays unknown and is read again without another copy', async () => {
      const mvcc = new FakeFabric({ status: ['timeout'], codes: { 'tx-0': MVCC_READ_CONFLICT } });
      const err = await failure(mvcc.ledger().submit(MINT, { amount: 5 }));
      assertUnknown(err, 'tx-0');
      const rejected = await failure((err.pending as NonNullable<typeof err.pending>).resume());
      assert.ok(rejected instanceof CommitRejected);
      assert.deepEqual([rejected.validationCode, rejected.txId], ['MVCC_READ_CONFLICT', 'tx-0']);

      const dup = new FakeFabric({ status: ['timeout', 'duplicate'] });
      const first = await failure(dup.ledger().submit(MINT, { amount: 5 }));
      assertUnknown(first, 'tx-0');
      const pending = first.pending as NonNullable<typeof first.pending>;
      assertUnknown(await failure(pending.resume()), 'tx-0');
      assert.equal(dup.ordered.length, 2);
      assert.deepEqual((await pending.resume()).txId, 'tx-0');
      assert.equal(dup.ordered.length, 2, 'known to be in a block: only its status was read');
      assert.deepEqual(dup.minted, [5]);
    });
  });

  describe('IdempotentLedger over the adapter', () => {
    it('a timeout after submit, then a retry with the same key: one transaction, the retry answers its txId and result', async () => {
      for (const script of [{ status: ['timeout' as const] }, { submit: ['lost-answer' as const] }, { submit: ['dropped' as const] }]) {
        const fabric = new FakeFabric(script);
        const ledger = new IdempotentLedger(fabric.ledger());
        assertUnknown(await failure(ledger.submit(MINT, { amount: 5 }, { idempotencyKey: 'k' })), 'tx-0');
        const retry = await ledger.submit(MINT, { amount: 5 }, { idempotencyKey: 'k' });
        assert.deepEqual(retry, { result: { minted: 5, by: 'tx-0' }, txId: 'tx-0' }, JSON.stringify(script));
        assert.deepEqual(new Set(fabric.ordered), new Set(['tx-0']), 'exactly one transaction went to the orderer');
        assert.equal(fabric.proposals, 1);
        assert.deepEqual(fabric.minted, [5], 'minted once');
        // Now the key's outcome: a later resend is answered without touching Fabric.
        const sent = fabric.ordered.length;
        assert.deepEqual(await ledger.submit(MINT, { amount: 5 }, { idempotencyKey: 'k' }), retry);
        assert.equal(fabric.ordered.length, sent);
      }
    });

    it('an invalidated first attempt: the retry proposes anew, and that one is the outcome', async () => {
      const fabric = new FakeFabric({ status: ['timeout'], codes: { 'tx-0': MVCC_READ_CONFLICT } });
      const ledger = new IdempotentLedger(fabric.ledger());
      assertUnknown(await failure(ledger.submit(MINT, { amount: 5 }, { idempotencyKey: 'k' })), 'tx-0');
      const retry = await ledger.submit(MINT, { amount: 5 }, { idempotencyKey: 'k' });
      assert.deepEqual(retry, { result: { minted: 5, by: 'tx-1' }, txId: 'tx-1' });
      assert.equal(fabric.proposals, 2);
      assert.deepEqual(fabric.minted, [5]);
      assert.deepEqual(await ledger.submit(MINT, { amount: 5 }, { idempotencyKey: 'k' }), retry);
      assert.equal(fabric.proposals, 2);
    });

    it('still unknown: 503 again, the key keeps the handle, and a later retry still resumes the first transaction', async () => {
      const fabric = new FakeFabric({ submit: ['ok', 'unreachable', 'ok'], status: ['timeout', 'timeout'] });
      const ledger = new IdempotentLedger(fabric.ledger());
      const first = await failure(ledger.submit(MINT, { amount: 5 }, { idempotencyKey: 'k' }));
      assertUnknown(first, 'tx-0');
      // The orderer unreachable on the first retry; the status timing out on the second.
      for (let i = 0; i < 2; i++) {
        const again = await failure(ledger.submit(MINT, { amount: 5 }, { idempotencyKey: 'k' }));
        assertUnknown(again, 'tx-0');
        assert.equal(toHttpError(again).status, 503);
      }
      assert.deepEqual((await ledger.submit(MINT, { amount: 5 }, { idempotencyKey: 'k' })).txId, 'tx-0');
      assert.equal(fabric.proposals, 1);
      assert.deepEqual(fabric.minted, [5]);
    });

    it('concurrent retries share one resumption; another body under the key is still refused', async () => {
      const fabric = new FakeFabric({ status: ['timeout'] });
      const ledger = new IdempotentLedger(fabric.ledger());
      await failure(ledger.submit(MINT, { amount: 5 }, { idempotencyKey: 'k' }));
      await assert.rejects(ledger.submit(MINT, { amount: 6 }, { idempotencyKey: 'k' }), { name: 'IdempotencyKeyReused' });
      const [a, b] = await Promise.all([ledger.submit(MINT, { amount: 5 }, { idempotencyKey: 'k' }), ledger.submit(MINT, { amount: 5 }, { idempotencyKey: 'k' })]);
      assert.equal(a, b);
      assert.deepEqual(fabric.ordered, ['tx-0', 'tx-0'], 'one resend, not one per retry');
    });

    it('a handle that fails in an unforeseen way is kept, not forgotten', async () => {
      let resumes = 0;
      const pending = {
        txId: 'tx-odd',
        resume: async () => {
          if (++resumes === 1) throw new Error('something unforeseen');
          return { result: { ok: true }, txId: 'tx-odd' };
        },
      };
      let submits = 0;
      const inner = {
        submit: async () => {
          submits++;
          throw new LedgerUnavailable('lost', 'tx-odd', undefined, pending);
        },
      };
      const ledger = new IdempotentLedger(inner as never);
      await failure(ledger.submit(MINT, {}, { idempotencyKey: 'k' }));
      assertUnknown(await failure(ledger.submit(MINT, {}, { idempotencyKey: 'k' })), 'tx-odd');
      assert.deepEqual(await ledger.submit(MINT, {}, { idempotencyKey: 'k' }), { result: { ok: true }, txId: 'tx-odd' });
      assert.equal(submits, 1);
    });

    it('an unknown outcome outlives the capacity (only the TTL ends it); other entries make room', async () => {
      const fabric = new FakeFabric({ status: ['timeout'] });
      const ledger = new IdempotentLedger(fabric.ledger(), { maxEntries: 1 });
      await failure(ledger.submit(MINT, { amount: 5 }, { idempotencyKey: 'unknown' }));
      await ledger.submit(MINT, { amount: 1 }, { idempotencyKey: 'a' });
      await ledger.submit(MINT, { amount: 2 }, { idempotencyKey: 'b' });
      assert.equal((await ledger.submit(MINT, { amount: 5 }, { idempotencyKey: 'unknown' })).txId, 'tx-0');
      assert.deepEqual(fabric.minted, [5, 1, 2]);
      // 'a' was evicted for 'b': a resend of it is a new transaction, as before.
      assert.equal((await ledger.submit(MINT, { amount: 1 }, { idempotencyKey: 'a' })).txId, 'tx-3');
    });

    it('without a key nothing is resumed: a resend is a new proposal (the key is what makes a retry safe)', async () => {
      const fabric = new FakeFabric({ status: ['timeout'] });
      const ledger = new IdempotentLedger(fabric.ledger());
      assertUnknown(await failure(ledger.submit(MINT, { amount: 5 })), 'tx-0');
      assert.equal((await ledger.submit(MINT, { amount: 5 })).txId, 'tx-1');
      assert.equal(fabric.proposals, 2);
      assert.deepEqual(fabric.minted, [5, 5], 'the double a key prevents');
    });
  });

  it('over HTTP: 503 LEDGER_UNAVAILABLE naming the txId, then the resend with the same Idempotency-Key answers 200 with that txId', async () => {
    const fabric = new FakeFabric({ status: ['timeout'] });
    const app = await buildApp({ org: 'dso', mspId: 'DsoMSP', ledger: fabric.ledger(), store: new MemorySealedStoreForTests(), tokens: TOKEN_ENTRIES });
    try {
      const request = {
        method: 'POST' as const,
        url: '/v1/tokens/mint',
        headers: { authorization: `Bearer ${TOKENS.dso}`, 'idempotency-key': 'mint-1' },
        payload: { account: 'org:AggregatorMSP', amount: '5' },
      };
      const first = await app.inject(request);
      assert.equal(first.statusCode, 503);
      assert.deepEqual([first.json().code, first.json().txId], ['LEDGER_UNAVAILABLE', 'tx-0']);
      assert.ok(first.headers['retry-after']);
      const retry = await app.inject(request);
      assert.ok(retry.statusCode < 300, retry.body);
      assert.equal(retry.json().txId, 'tx-0');
      assert.equal(fabric.proposals, 1);
      assert.equal(fabric.committed.size, 1);
    } finally {
      await app.close();
    }
  });
});
