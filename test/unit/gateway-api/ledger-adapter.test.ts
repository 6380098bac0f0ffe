import assert from 'node:assert/strict';
import { GatewayError } from '@hyperledger/fabric-gateway';
import {
  ChaincodeRefusal,
  CommitRejected,
  FabricLedger,
  IdempotencyKeyReused,
  IdempotentLedger,
  LedgerUnavailable,
  parseChaincodeMessage,
  toLedgerError,
} from '@flexproof/gateway-api';
import { FakeLedgerForTests } from './support/fake-ledger';

function gatewayError(code: number, detailMessages: string[]): GatewayError {
  return new GatewayError({
    code,
    message: 'failed',
    details: detailMessages.map((message) => ({ address: '127.0.0.1:7051', mspId: 'AggregatorMSP', message })),
    cause: Object.assign(new Error('grpc'), { code, details: '', metadata: undefined as never }),
  });
}

describe('gateway Fabric adapter: error classification and idempotency', () => {
  it("reads the chaincode's code from the [CODE] prefix, after the peer's wrapper, never from free text", () => {
    assert.deepEqual(parseChaincodeMessage('chaincode response 500, [NOT_FOUND] meter m1 not found'), { code: 'NOT_FOUND', message: 'meter m1 not found' });
    assert.deepEqual(parseChaincodeMessage('[RULE_VIOLATION] period 3 has not ended yet'), { code: 'RULE_VIOLATION', message: 'period 3 has not ended yet' });
    assert.equal(parseChaincodeMessage('the meter was not found [NOT_FOUND]'), undefined);
    assert.equal(parseChaincodeMessage('chaincode response 500, conflict: not found'), undefined);
  });

  it('turns endorsement details into a ChaincodeRefusal and transport failures into LedgerUnavailable', () => {
    const refusal = toLedgerError(gatewayError(10, ['chaincode response 500, [CONFLICT] period 0 is already settled']), 'tx1');
    assert.ok(refusal instanceof ChaincodeRefusal);
    assert.equal(refusal.code, 'CONFLICT');
    assert.equal(refusal.txId, 'tx1');
    assert.ok(toLedgerError(gatewayError(14, []), 'tx2') instanceof LedgerUnavailable);
    assert.ok(toLedgerError(gatewayError(4, []), 'tx3') instanceof LedgerUnavailable);
    // Endorsements that do not match (a peer one block behind): retryable, not a 500.
    assert.ok(toLedgerError(gatewayError(10, ['ProposalResponsePayloads do not match']), 'tx4') instanceof LedgerUnavailable);
    // No reachable peers satisfy the endorsement policy (the other organisation's peer is down): retryable.
    const down = toLedgerError(gatewayError(9, ['no combination of peers can be derived which satisfy the endorsement policy']), 'tx5');
    assert.ok(down instanceof LedgerUnavailable);
    assert.match(down.message, /no reachable peers satisfy the endorsement policy/);
    const other = gatewayError(2, ['access denied']);
    assert.equal(toLedgerError(other), other, 'unclassified errors pass through (a logged 500)');
  });

  /** A Fabric connection whose commits come back with the given validation codes, one per attempt. */
  function ledgerCommitting(codes: number[]): { ledger: FabricLedger; attempts: () => number } {
    let attempts = 0;
    const contract = {
      newProposal: () => ({
        getTransactionId: () => `tx-${attempts}`,
        endorse: async () => ({
          getResult: () => new TextEncoder().encode('{"ok":true}'),
          submit: async () => {
            const code = codes[attempts++] ?? 0;
            return { getStatus: async () => ({ successful: code === 0, code }) };
          },
        }),
      }),
    };
    const connection = { gateway: { getNetwork: () => ({ getContract: () => contract }) } };
    return { ledger: new FabricLedger(connection as never, { channel: 'c', chaincode: 'cc', mvccRetries: 3, retryBackoffMs: 1 }), attempts: () => attempts };
  }

  it('resubmits a transaction rejected for a read conflict, MVCC or phantom (a range read changed), and no other', async () => {
    // 11 = MVCC_READ_CONFLICT, 12 = PHANTOM_READ_CONFLICT, 10 = ENDORSEMENT_POLICY_FAILURE.
    const mixed = ledgerCommitting([11, 12, 0]);
    assert.deepEqual((await mixed.ledger.submit('org.flexproof.programs:DepositRewards', {})).result, { ok: true });
    assert.equal(mixed.attempts(), 3);
    const phantom = ledgerCommitting([12, 12, 12, 12]);
    await assert.rejects(phantom.ledger.submit('org.flexproof.programs:DepositRewards', {}), (err: unknown) => err instanceof CommitRejected && err.validationCode === 'PHANTOM_READ_CONFLICT');
    assert.equal(phantom.attempts(), 4, 'the first attempt and three retries');
    const policy = ledgerCommitting([10, 0]);
    await assert.rejects(policy.ledger.submit('org.flexproof.tokens:Mint', {}), CommitRejected);
    assert.equal(policy.attempts(), 1);
  });

  it('shares a submission between calls with the same key and forgets failures', async () => {
    const fake = new FakeLedgerForTests();
    let calls = 0;
    fake.on('org.flexproof.tokens:Mint', () => {
      calls++;
      if (calls === 2) throw new ChaincodeRefusal('RULE_VIOLATION', 'no');
      return { n: calls };
    });
    const ledger = new IdempotentLedger(fake);
    const [a, b] = await Promise.all([
      ledger.submit('org.flexproof.tokens:Mint', {}, { idempotencyKey: 'k1' }),
      ledger.submit('org.flexproof.tokens:Mint', {}, { idempotencyKey: 'k1' }),
    ]);
    assert.equal(a, b);
    await assert.rejects(ledger.submit('org.flexproof.tokens:Mint', {}, { idempotencyKey: 'k2' }), ChaincodeRefusal);
    assert.deepEqual((await ledger.submit('org.flexproof.tokens:Mint', {}, { idempotencyKey: 'k2' })).result, { n: 3 });
  });

  it('refuses a key reused for another argument or transaction, in flight or done, without submitting; a forgotten failure frees the key', async () => {
    const fake = new FakeLedgerForTests();
    let calls = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    fake.on('org.flexproof.tokens:Mint', async (arg) => {
      calls++;
      await gate;
      return arg;
    });
    fake.on('org.flexproof.tokens:Burn', () => {
      calls++;
      throw new ChaincodeRefusal('RULE_VIOLATION', 'no');
    });
    const ledger = new IdempotentLedger(fake);
    const first = ledger.submit('org.flexproof.tokens:Mint', { amount: '1' }, { idempotencyKey: 'k' });
    await assert.rejects(ledger.submit('org.flexproof.tokens:Mint', { amount: '2' }, { idempotencyKey: 'k' }), (e: unknown) => e instanceof IdempotencyKeyReused && e.idempotencyKey === 'k');
    release();
    assert.deepEqual((await first).result, { amount: '1' });
    await assert.rejects(ledger.submit('org.flexproof.tokens:Burn', { amount: '1' }, { idempotencyKey: 'k' }), IdempotencyKeyReused);
    assert.equal((await ledger.submit('org.flexproof.tokens:Mint', { amount: '1' }, { idempotencyKey: 'k' })).txId, (await first).txId);
    assert.equal(calls, 1);
    // A failed submission is forgotten: its key may then carry another request.
    await assert.rejects(ledger.submit('org.flexproof.tokens:Burn', { amount: '1' }, { idempotencyKey: 'b' }), ChaincodeRefusal);
    assert.deepEqual((await ledger.submit('org.flexproof.tokens:Mint', { amount: '3' }, { idempotencyKey: 'b' })).result, { amount: '3' });
  });
});
