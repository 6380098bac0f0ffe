// Read conflicts (MVCC, phantom) that outlast the Fabric adapter's own resubmissions: the
// adapter gives up with LedgerContended, the gateway answers 503 LEDGER_CONTENDED with a
// short Retry-After (not the chaincode's 409 CONFLICT, which no client retries), the typed
// client resends under its one retry policy with the same Idempotency-Key, and the
// idempotent ledger lets that resend run (nothing committed before). A period settled by
// the transaction it collided with is answered from the record.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { ChaincodeRefusal, PeriodSubmissions, toHttpError } from '@flexproof/gateway-api';
import { CommitRejected, FabricLedger, LedgerContended } from '@flexproof/gateway-api';
import {
  CHAINCODE_ERROR_CODES,
  GATEWAY_ERROR_CODES,
  GATEWAY_ERROR_STATUS,
  GatewayClient,
  GatewayError,
  isGatewayErrorCode,
} from '@flexproof/protocol';
import { FakeLedgerForTests } from './support/fake-ledger';
import { TOKENS, buildTestGateway, type TestGateway } from './support/gateway';
import { hashOf, periodInput } from './support/periods';

const TRANSFER = 'org.flexproof.tokens:Transfer';
const SUBMIT_PERIOD = 'org.flexproof.programs:SubmitPeriod';

/** A Fabric connection whose commits come back with the given validation codes, one per attempt. */
function ledgerCommitting(codes: number[], mvccRetries = 3): { ledger: FabricLedger; attempts: () => number } {
  let attempts = 0;
  const contract = {
    newProposal: () => {
      const id = `tx-${attempts}`;
      return {
        getTransactionId: () => id,
        endorse: async () => ({
          getResult: () => new TextEncoder().encode('{"ok":true}'),
          submit: async () => {
            const code = codes[attempts++] ?? 0;
            return { getStatus: async () => ({ successful: code === 0, code }) };
          },
        }),
      };
    },
  };
  const connection = { gateway: { getNetwork: () => ({ getContract: () => contract }) } };
  return { ledger: new FabricLedger(connection as never, { channel: 'c', chaincode: 'cc', mvccRetries, retryBackoffMs: 1 }), attempts: () => attempts };
}

describe('gateway: read conflicts that outlast the retries (LEDGER_CONTENDED)', () => {
  it('the adapter gives up with LedgerContended, naming the code, the last txId and the attempts; other rejections stay CommitRejected', async () => {
    // 11 = MVCC_READ_CONFLICT, 12 = PHANTOM_READ_CONFLICT, 10 = ENDORSEMENT_POLICY_FAILURE.
    const mvcc = ledgerCommitting([11, 11, 11], 2);
    await assert.rejects(
      mvcc.ledger.submit('org.flexproof.tokens:Transfer', {}),
      (err: unknown) => err instanceof LedgerContended && err.validationCode === 'MVCC_READ_CONFLICT' && err.attempts === 3 && err.txId === 'tx-2',
    );
    assert.equal(mvcc.attempts(), 3);
    const mixed = ledgerCommitting([11, 12], 1);
    await assert.rejects(
      mixed.ledger.submit('org.flexproof.tokens:Transfer', {}),
      (err: unknown) => err instanceof LedgerContended && err.validationCode === 'PHANTOM_READ_CONFLICT' && err.attempts === 2,
    );
    const policy = ledgerCommitting([10]);
    await assert.rejects(policy.ledger.submit('org.flexproof.tokens:Mint', {}), (err: unknown) => err instanceof CommitRejected && !(err instanceof LedgerContended));
  });

  it('maps a read conflict to 503 LEDGER_CONTENDED with a 1 s Retry-After; CONFLICT and other rejections keep their answers', () => {
    for (const err of [new LedgerContended('MVCC_READ_CONFLICT', 'tx-a', 4), new CommitRejected('PHANTOM_READ_CONFLICT', 'tx-b')]) {
      const answer = toHttpError(err);
      assert.equal(answer.status, 503, err.name);
      assert.equal(answer.body.code, 'LEDGER_CONTENDED');
      assert.equal(answer.body.txId, err.txId);
      assert.match(answer.body.message, new RegExp(`${err.validationCode}.*nothing was committed`));
      assert.equal(answer.retryAfterSeconds, 1);
      assert.equal(answer.internal, false, 'expected under load: not logged as a fault');
    }
    const refusal = toHttpError(new ChaincodeRefusal('CONFLICT', 'period 0 is already settled', 'tx-c'));
    assert.deepEqual([refusal.status, refusal.body.code, refusal.retryAfterSeconds], [409, 'CONFLICT', undefined]);
    const rejected = toHttpError(new CommitRejected('ENDORSEMENT_POLICY_FAILURE', 'tx-d'));
    assert.deepEqual([rejected.status, rejected.body.code], [502, 'LEDGER_REJECTED']);
  });

  it("the protocol lists the gateway's own codes apart from the chaincode's, each with a status; every ledger or store outage is a 503", () => {
    assert.deepEqual(Object.keys(GATEWAY_ERROR_STATUS).sort(), [...GATEWAY_ERROR_CODES].sort());
    for (const code of CHAINCODE_ERROR_CODES) assert.equal(isGatewayErrorCode(code), false, code);
    assert.equal(GATEWAY_ERROR_STATUS.LEDGER_CONTENDED, 503);
    for (const code of ['LEDGER_UNAVAILABLE', 'STORE_UNAVAILABLE', 'NONCE_STORE_UNAVAILABLE', 'NONCE_STORE_FULL'] as const) assert.equal(GATEWAY_ERROR_STATUS[code], 503, code);
    assert.equal(GATEWAY_ERROR_STATUS.LEDGER_REJECTED, 502, 'a rejection other than a read conflict is not retried');
  });

  describe('over HTTP, with the typed client', () => {
    let gw: TestGateway;
    let url: string;
    beforeEach(async () => {
      gw = await buildTestGateway();
      await gw.app.listen({ port: 0, host: '127.0.0.1' });
      url = `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}`;
    });
    afterEach(async () => gw.app.close());

    /** A client that records what it sent and how long it waited, without waiting. */
    function client(retry: { deadlineMs?: number } = {}) {
      const sent: Headers[] = [];
      const waits: number[] = [];
      let clock = 0;
      const c = new GatewayClient({
        baseUrl: url,
        token: TOKENS.dso,
        retry,
        now: () => clock,
        sleep: async (ms) => {
          waits.push(ms);
          clock += ms;
        },
        fetch: (input, init) => {
          sent.push(new Headers(init?.headers));
          return fetch(input, init);
        },
      });
      return { c, sent, waits };
    }

    it('answers 503 with Retry-After 1 and the client resends with the same Idempotency-Key until it commits once', async () => {
      let attempts = 0;
      gw.ledger.on(TRANSFER, () => {
        attempts++;
        if (attempts <= 2) throw new LedgerContended('MVCC_READ_CONFLICT', `tx-conflict-${attempts}`, 4);
        return { amount: '5', to: 'org:AggregatorMSP' };
      });
      const raw = await gw.app.inject({ method: 'POST', url: '/v1/tokens/transfer', headers: { authorization: `Bearer ${TOKENS.dso}` }, payload: { to: 'org:AggregatorMSP', amount: '5' } });
      assert.equal(raw.statusCode, 503);
      assert.equal(raw.headers['retry-after'], '1');
      assert.equal(raw.json().code, 'LEDGER_CONTENDED');

      attempts = 0;
      gw.ledger.submitted.length = 0;
      const { c, sent, waits } = client();
      const done = await c.transfer({ to: 'org:AggregatorMSP', amount: '5' }, { idempotencyKey: 'transfer-1' });
      assert.deepEqual(done.result, { amount: '5', to: 'org:AggregatorMSP' });
      assert.equal(gw.ledger.submitted.length, 3, 'two contended attempts, then the one that committed');
      assert.deepEqual(waits, [1000, 1000], "the gateway's Retry-After");
      assert.deepEqual(sent.map((h) => h.get('idempotency-key')), ['transfer-1', 'transfer-1', 'transfer-1']);
      // The committed outcome is now the key's: a late resend gets it without a new transaction.
      const again = await c.transfer({ to: 'org:AggregatorMSP', amount: '5' }, { idempotencyKey: 'transfer-1' });
      assert.equal(again.txId, done.txId);
      assert.equal(gw.ledger.submitted.length, 3);
    });

    it('contention past the client deadline is unavailable with code LEDGER_CONTENDED, after the attempts the deadline allows', async () => {
      gw.ledger.on(TRANSFER, () => {
        throw new LedgerContended('PHANTOM_READ_CONFLICT', 'tx-hot', 4);
      });
      const { c, waits } = client({ deadlineMs: 2500 });
      await assert.rejects(
        c.transfer({ to: 'org:AggregatorMSP', amount: '5' }),
        (e: unknown) => e instanceof GatewayError && e.kind === 'unavailable' && e.status === 503 && e.code === 'LEDGER_CONTENDED' && /gave up after 3 attempt/.test(e.message),
      );
      assert.deepEqual(waits, [1000, 1000]);
    });
  });

  describe('a period collides with the transaction that settled it', () => {
    const METER = { meterId: 'meter-1', prosumerId: 'prosumer-of-meter-1' };

    function contendedOnce(ledger: FakeLedgerForTests, settleMeanwhile: (input: Record<string, unknown>) => void): void {
      let first = true;
      ledger.on(SUBMIT_PERIOD, (input) => {
        if (first) {
          first = false;
          settleMeanwhile(input);
          throw new LedgerContended('MVCC_READ_CONFLICT', 'tx-lost-race', 4);
        }
        return ledger.settlePeriodForTests(input);
      });
    }

    it('answers from the record: the same submission (through another gateway) is a replay, another one a 409', async () => {
      for (const [variant, expected] of [
        [0, 'replay'],
        [1, 'conflict'],
      ] as const) {
        const ledger = new FakeLedgerForTests();
        ledger.addEnrollment({ enrollmentId: 'enr-0', meterId: METER.meterId });
        const mine = periodInput(METER, 'enr-0', 3, hashOf('enr-0', 3));
        // The colliding transaction settled period 3, with this very body or with another one.
        contendedOnce(ledger, () => {
          ledger.currentTxId = 'tx-other-gateway';
          ledger.settlePeriodForTests(periodInput(METER, 'enr-0', 3, hashOf('enr-0', 3, variant)) as unknown as Record<string, unknown>);
        });
        const periods = new PeriodSubmissions(ledger, { maxItems: 1 });
        if (expected === 'replay') {
          const outcome = await periods.settle(mine);
          assert.deepEqual([outcome.replayed, outcome.txId, outcome.outcome], [true, 'tx-other-gateway', 'verified']);
        } else {
          await assert.rejects(periods.settle(mine), (e: unknown) => (e as { statusCode?: number; code?: string }).statusCode === 409 && (e as { code?: string }).code === 'CONFLICT');
        }
        assert.equal(ledger.submitted.length, 1, 'not resubmitted by the gateway');
      }
    });

    it('still unsettled after the conflict: LedgerContended is the answer (503), and the resend settles it', async () => {
      const ledger = new FakeLedgerForTests();
      ledger.addEnrollment({ enrollmentId: 'enr-0', meterId: METER.meterId });
      contendedOnce(ledger, () => undefined);
      const periods = new PeriodSubmissions(ledger, { maxItems: 1 });
      const mine = periodInput(METER, 'enr-0', 3, hashOf('enr-0', 3));
      const err = await periods.settle(mine).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof LedgerContended);
      assert.equal(toHttpError(err).status, 503);
      const outcome = await periods.settle(mine);
      assert.deepEqual([outcome.replayed, outcome.outcome], [false, 'verified']);
      assert.equal(ledger.submitted.length, 2);
    });
  });
});
