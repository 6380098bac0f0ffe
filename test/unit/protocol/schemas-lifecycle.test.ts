/**
 * The protocol's schemas against the chaincode at run time: a whole program (keys, meters,
 * market, enrollments single and batched, verified, invalid and missed periods, close,
 * order settlement, withdrawal, compaction, retirements) runs on the chaincode harness,
 * and every transaction's argument, answer and event must match the transaction map's
 * input and output schemas and CHAINCODE_EVENTS exactly (records are exact: a field the
 * chaincode writes and the protocol lacks fails, as does a missing or renamed one).
 */
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import type { TSchema } from '@sinclair/typebox';
import { ACTION_WITHDRAW, CONTRACTS, schemas, signPayload, TRANSACTIONS, type TransactionKey } from '@flexproof/protocol';
import {
  AGGREGATOR,
  ChaincodeHarness,
  CIRCUIT_ID,
  claimOpens,
  DSO,
  flat,
  newAuditorKey,
  newProsumer,
  offerInput,
  periodEnd,
  signedAccept,
  submission,
  TARGET,
  VKEY,
  type ContractName,
  type Json,
  type Prosumer,
} from '../chaincode/support/harness';

const SHORT: Record<string, ContractName> = Object.fromEntries(
  Object.entries(CONTRACTS).map(([short, full]) => [full, short as ContractName]),
);

function mismatch(schema: TSchema, value: unknown): string | undefined {
  if (Value.Check(schema, value)) return undefined;
  const first = Value.Errors(schema, value).First();
  return `${first?.path || '/'}: ${first?.message} (value ${JSON.stringify(first?.value)?.slice(0, 80)})`;
}

describe('protocol schemas against the running chaincode (harness)', function () {
  this.timeout(120_000);
  const h = new ChaincodeHarness();
  const called = new Set<TransactionKey>();
  const eventsSeen = new Set<string>();
  const problems: string[] = [];

  /** One transaction through the map: argument, answer and event checked against the protocol. */
  async function run(msp: string, key: TransactionKey, input: unknown): Promise<Json> {
    const spec = TRANSACTIONS[key];
    if (spec.input !== null) {
      const bad = mismatch(spec.input, input);
      if (bad) problems.push(`${spec.id} input ${bad}`);
    }
    const before = h.stub.events.length;
    const out = await h.call(msp, SHORT[spec.contract] as ContractName, spec.name, input ?? {});
    called.add(key);
    const bad = mismatch(spec.output, out);
    if (bad) problems.push(`${spec.id} output ${bad}`);
    for (const e of h.stub.events.slice(before)) {
      eventsSeen.add(e.name);
      const schema = (schemas.CHAINCODE_EVENTS as Record<string, TSchema>)[e.name];
      if (!schema) problems.push(`event ${e.name}: not in CHAINCODE_EVENTS`);
      else {
        const badEvent = mismatch(schema, e.payload);
        if (badEvent) problems.push(`event ${e.name} ${badEvent}`);
      }
    }
    return out;
  }

  async function claimAll(enrollmentId: string, from: number): Promise<void> {
    for (let q = from; q < 24; q++) await run(AGGREGATOR, 'claimMissedPeriod', { enrollmentId, periodIndex: q });
  }

  it('every transaction, answer and event of a whole program matches the protocol', async () => {
    const [p1, p2, p3, p4, p5] = [0, 1, 2, 3, 4].map((n) => newProsumer(n)) as [Prosumer, Prosumer, Prosumer, Prosumer, Prosumer];

    await run(DSO, 'ping', null);
    await run(DSO, 'recordHeartbeat', { note: 'schemas test' });
    await run(AGGREGATOR, 'getHeartbeat', { mspId: DSO });

    const vk = await run(AGGREGATOR, 'proposeVerificationKey', { circuitId: CIRCUIT_ID, verificationKey: VKEY });
    await run(DSO, 'approveVerificationKey', { circuitId: CIRCUIT_ID, keyHash: vk.keyHash });
    await run(DSO, 'getVerificationKey', { circuitId: CIRCUIT_ID });
    await run(DSO, 'listVerificationKeys', {});

    const auditor = newAuditorKey();
    const ak = await run(DSO, 'proposeAuditorKey', { auditorId: 'regulator', publicKeyPem: auditor.publicKeyPem, description: 'the regulator' });
    await run(AGGREGATOR, 'approveAuditorKey', { auditorId: 'regulator', keyHash: ak.keyHash });
    await run(DSO, 'getAuditorKey', { auditorId: 'regulator' });
    await run(DSO, 'listAuditorKeys', {});

    for (const p of [p1, p2, p3, p4, p5]) {
      await run(DSO, 'registerMeter', { meterId: p.meterId, prosumerId: p.prosumerId, publicKeyPem: p.publicKeyPem, congestionPoint: 'cp-north' });
    }
    await run(DSO, 'suspendMeter', { meterId: p4.meterId, reason: 'inspection' });
    await run(DSO, 'reactivateMeter', { meterId: p4.meterId, reason: 'inspected' });
    await run(DSO, 'getMeter', { meterId: p4.meterId });
    await run(DSO, 'getProsumer', { prosumerId: p1.prosumerId });
    await run(DSO, 'listMetersByCongestionPoint', { congestionPoint: 'cp-north' });

    await run(DSO, 'mint', { account: 'org:DsoMSP', amount: '100000' });
    await run(DSO, 'mint', { account: 'org:AggregatorMSP', amount: '100000' });
    await run(DSO, 'burn', { account: 'org:DsoMSP', amount: '1' });
    await run(DSO, 'transfer', { to: 'org:AggregatorMSP', amount: '10' });
    await run(DSO, 'createFlexRequest', { requestId: 'req-1', congestionPoint: 'cp-north', day: '2030-03-01', requestedWh: flat('1000') });
    await run(AGGREGATOR, 'submitFlexOffer', { offerId: 'offer-1', requestId: 'req-1', offeredWh: flat('1000'), price: '2400' });
    await run(DSO, 'acceptFlexOffer', { orderId: 'order-1', offerId: 'offer-1' });
    await run(DSO, 'closeFlexRequest', { requestId: 'req-1' });

    const e1 = await run(AGGREGATOR, 'offerEnrollment', offerInput('enr-1', 'order-1', p1));
    await run(DSO, 'acceptEnrollment', signedAccept(p1, e1, '10'));
    await run(AGGREGATOR, 'depositReward', { enrollmentId: 'enr-1' });
    const batch = await run(AGGREGATOR, 'offerEnrollments', { offers: [offerInput('enr-2', 'order-1', p2), offerInput('enr-3', 'order-1', p3)] });
    await run(DSO, 'acceptEnrollment', signedAccept(p2, batch.enrollments[0], '10'));
    await run(DSO, 'acceptEnrollment', signedAccept(p3, batch.enrollments[1], '10'));
    await run(AGGREGATOR, 'depositRewards', { enrollmentIds: ['enr-2', 'enr-3'] });
    await run(AGGREGATOR, 'offerEnrollment', offerInput('enr-4', 'order-1', p4));
    await run(AGGREGATOR, 'cancelEnrollment', { enrollmentId: 'enr-4' });
    const e5 = await run(AGGREGATOR, 'offerEnrollment', offerInput('enr-5', 'order-1', p5));
    await run(DSO, 'acceptEnrollment', signedAccept(p5, e5, '10'));
    await run(AGGREGATOR, 'depositReward', { enrollmentId: 'enr-5' });

    h.advanceTo(periodEnd(0) + 1);
    await run(DSO, 'submitPeriod', await submission(h, p1, 'enr-1', 0, '0', { deviation: '40' }));
    await run(DSO, 'submitPeriods', {
      items: [await submission(h, p2, 'enr-2', 0, '0'), await submission(h, p3, 'enr-3', 0, '0', { valid: false })],
    });
    await run(DSO, 'submitPeriod', await submission(h, p5, 'enr-5', 0, '0', { valid: false }));
    await run(DSO, 'getEnrollment', { enrollmentId: 'enr-3' });

    h.advanceTo(claimOpens(23));
    await claimAll('enr-1', 1);
    await claimAll('enr-2', 1);
    await run(DSO, 'getEnrollment', { enrollmentId: 'enr-1' });
    await run(AGGREGATOR, 'closeEnrollment', { enrollmentId: 'enr-1' });
    await run(AGGREGATOR, 'closeEnrollment', { enrollmentId: 'enr-2' });
    await run(DSO, 'getEnrollmentHistory', { enrollmentId: 'enr-1' });
    await run(DSO, 'getFlexRequest', { requestId: 'req-1' });
    await run(AGGREGATOR, 'settleFlexOrder', { orderId: 'order-1' });
    await run(DSO, 'getFlexOrder', { orderId: 'order-1' });

    const released = await run(DSO, 'getBalance', { account: `prosumer:${p1.prosumerId}` });
    assert.ok(BigInt(released.balance) > 0n, 'the close released escrow to the prosumer');
    const payload = { type: ACTION_WITHDRAW, ...TARGET, meterId: p1.meterId, prosumerId: p1.prosumerId, amount: '1', nonce: '99' } as const;
    await run(DSO, 'withdraw', { payload, signature: signPayload(payload, p1.privateKey) });
    await run(DSO, 'listRedemptions', { account: `prosumer:${p1.prosumerId}` });
    await run(DSO, 'getBalances', {});
    await run(DSO, 'getBalances', { accounts: ['org:DsoMSP', `prosumer:${p2.prosumerId}`] });
    await run(DSO, 'getSupply', {});
    await run(DSO, 'compactBalances', { accountId: 'org:AggregatorMSP' });
    await run(DSO, 'compactBalances', {});
    await run(DSO, 'auditSupply', {});

    await run(DSO, 'proposeVerificationKeyRetirement', { circuitId: CIRCUIT_ID });
    await run(AGGREGATOR, 'approveVerificationKeyRetirement', { circuitId: CIRCUIT_ID });
    await run(AGGREGATOR, 'proposeAuditorKeyRetirement', { auditorId: 'regulator' });
    await run(DSO, 'approveAuditorKeyRetirement', { auditorId: 'regulator' });
    await run(DSO, 'getVerificationKey', { circuitId: CIRCUIT_ID });
    await run(DSO, 'getAuditorKey', { auditorId: 'regulator' });

    assert.deepEqual(problems, [], 'every argument, answer and event matches the protocol');
    const missing = (Object.keys(TRANSACTIONS) as TransactionKey[]).filter((k) => !called.has(k));
    assert.deepEqual(missing, [], 'the program exercised every transaction of the map');
    const unseen = Object.keys(schemas.CHAINCODE_EVENTS).filter((n) => !eventsSeen.has(n));
    assert.deepEqual(unseen, [], 'the program emitted every event of CHAINCODE_EVENTS');
  });

  it('the check catches a record that drifts (the demo\'s old order split)', () => {
    const order = { settlement: { aggregatorAmount: '1', dsoAmount: '0' } };
    assert.ok(mismatch(schemas.OrderSettlement, order.settlement));
  });
});
