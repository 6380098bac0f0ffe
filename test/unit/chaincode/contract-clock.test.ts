// T1: time on the ledger is real time within the skew. Each peer refuses a proposal
// stamped further than the skew from its own clock (CLOCK_SKEW), in every contract,
// for submit and evaluate alike; the refusal changes nothing; the peer clock never
// reaches the state; claims and the DSO's settlement wait for the skew.
import assert from 'node:assert/strict';
import {
  activeEnrollment,
  AGGREGATOR,
  ChaincodeHarness,
  claimOpens,
  DSO,
  expectCode,
  flat,
  GRACE_SECONDS,
  newAuditorKey,
  newProsumer,
  openOrder,
  periodEnd,
  registerCircuit,
  registerMeter,
  T0,
  type ContractName,
} from './support/harness';

const PRODUCTION_SKEW_SECONDS = 120;

interface Probe {
  contract: ContractName;
  method: string;
  msp: string;
  input: (n: number) => unknown;
}

/** One transaction per contract that succeeds on a fresh harness (n makes ids unique). */
const PROBES: Probe[] = [
  { contract: 'system', method: 'RecordHeartbeat', msp: DSO, input: (n) => ({ note: `beat ${n}` }) },
  { contract: 'system', method: 'Ping', msp: DSO, input: () => ({}) },
  { contract: 'tokens', method: 'Mint', msp: DSO, input: () => ({ account: 'org:AggregatorMSP', amount: '5' }) },
  { contract: 'tokens', method: 'GetSupply', msp: AGGREGATOR, input: () => ({}) },
  {
    contract: 'market',
    method: 'CreateFlexRequest',
    msp: DSO,
    input: (n) => ({ requestId: `r${n}`, congestionPoint: 'cp-north', day: '2030-03-01', requestedWh: flat('1') }),
  },
  { contract: 'meters', method: 'ListMetersByCongestionPoint', msp: AGGREGATOR, input: () => ({ congestionPoint: 'cp-north' }) },
  { contract: 'programs', method: 'GetEnrollment', msp: AGGREGATOR, input: () => ({ enrollmentId: 'enr-1' }) },
  { contract: 'verifiers', method: 'ListVerificationKeys', msp: DSO, input: () => ({}) },
  {
    contract: 'auditors',
    method: 'ProposeAuditorKey',
    msp: AGGREGATOR,
    input: (n) => ({ auditorId: `auditor-${n}`, publicKeyPem: newAuditorKey().publicKeyPem }),
  },
  { contract: 'auditors', method: 'ListAuditorKeys', msp: DSO, input: () => ({}) },
];

async function withEnrollment(h: ChaincodeHarness) {
  const p = newProsumer(0);
  await registerCircuit(h);
  await registerMeter(h, p);
  await openOrder(h);
  await activeEnrollment(h, p, 'enr-1', 'order-1');
  return p;
}

describe('contracts: the clock-skew guard (T1)', () => {
  for (const skewSeconds of [PRODUCTION_SKEW_SECONDS, 2]) {
    it(`skew ${skewSeconds} s: every contract refuses a proposal skew + 1 s ahead or behind, and takes skew - 1 s`, async () => {
      const h = new ChaincodeHarness({ maxSkewSeconds: skewSeconds });
      await withEnrollment(h);
      const skewMs = skewSeconds * 1000;
      let n = 0;
      for (const probe of PROBES) {
        for (const offset of [skewMs + 1000, -(skewMs + 1000), skewMs + 1, -(skewMs + 1)]) {
          const before = new Map(h.stub.snapshot());
          const events = h.stub.events.length;
          const err = await expectCode(h.callStamped(h.nowMs + offset, probe.msp, probe.contract, probe.method, probe.input(++n)), 'CLOCK_SKEW');
          assert.match(err.message, offset > 0 ? /ahead of this peer's clock/ : /behind this peer's clock/);
          assert.deepEqual(h.stub.snapshot(), before, `${probe.contract}.${probe.method} ${offset} ms: nothing changes`);
          assert.equal(h.stub.events.length, events);
        }
        for (const offset of [skewMs - 1000, -(skewMs - 1000), skewMs, -skewMs]) {
          await h.callStamped(h.nowMs + offset, probe.msp, probe.contract, probe.method, probe.input(++n));
        }
      }
    });
  }

  it('a transaction writes the same state whatever the peer clock reads: the clock only guards', async () => {
    const states: string[] = [];
    for (const peerOffsetMs of [0, 119_000, -119_000]) {
      const h = new ChaincodeHarness({ maxSkewSeconds: PRODUCTION_SKEW_SECONDS });
      const stamp = T0 + 5_000;
      h.advanceTo(stamp + peerOffsetMs); // the peer clock
      await h.callStamped(stamp, DSO, 'tokens', 'Mint', { account: 'org:DsoMSP', amount: '7' });
      await h.callStamped(stamp, DSO, 'system', 'RecordHeartbeat', { note: 'n' });
      await h.callStamped(stamp, DSO, 'market', 'CreateFlexRequest', { requestId: 'r', congestionPoint: 'cp', day: '2030-03-01', requestedWh: flat('1') });
      const entries = [...h.stub.snapshot()].map(([k, v]) => [k, v.toString('utf8')]);
      states.push(JSON.stringify(entries));
    }
    assert.equal(new Set(states).size, 1);
    assert.match(states[0]!, /2030-03-01T00:00:05.000Z/, 'times written are the proposal timestamp');
  });

  it('the aggregator stamping the year 2100 claims nothing; nothing changes', async () => {
    const h = new ChaincodeHarness({ maxSkewSeconds: PRODUCTION_SKEW_SECONDS });
    await withEnrollment(h);
    const before = new Map(h.stub.snapshot());
    for (let p = 0; p < 24; p++) {
      await expectCode(
        h.callStamped(Date.parse('2100-01-01T00:00:00Z'), AGGREGATOR, 'programs', 'ClaimMissedPeriod', { enrollmentId: 'enr-1', periodIndex: p }),
        'CLOCK_SKEW',
      );
    }
    await expectCode(h.callStamped(Date.parse('2100-01-01T00:00:00Z'), AGGREGATOR, 'programs', 'CloseEnrollment', { enrollmentId: 'enr-1' }), 'CLOCK_SKEW');
    assert.deepEqual(h.stub.snapshot(), before);
  });

  it('a claim stamped up to the skew ahead still waits for deadline + skew in real time', async () => {
    const h = new ChaincodeHarness({ maxSkewSeconds: PRODUCTION_SKEW_SECONDS });
    await withEnrollment(h);
    const deadline = periodEnd(0) + GRACE_SECONDS * 1000;
    h.advanceTo(deadline + 1); // real time: the period has just become unsubmittable
    const before = new Map(h.stub.snapshot());
    await expectCode(h.callStamped(h.nowMs + 120_000 - 1, AGGREGATOR, 'programs', 'ClaimMissedPeriod', { enrollmentId: 'enr-1', periodIndex: 0 }), 'RULE_VIOLATION');
    await expectCode(h.callStamped(h.nowMs + 120_001, AGGREGATOR, 'programs', 'ClaimMissedPeriod', { enrollmentId: 'enr-1', periodIndex: 0 }), 'CLOCK_SKEW');
    assert.deepEqual(h.stub.snapshot(), before);
    h.advanceTo(deadline + 120_000 + 1);
    await h.call(AGGREGATOR, 'programs', 'ClaimMissedPeriod', { enrollmentId: 'enr-1', periodIndex: 0 });
  });

  it('the DSO stamping the next day cannot settle an order of today', async () => {
    const h = new ChaincodeHarness({ maxSkewSeconds: PRODUCTION_SKEW_SECONDS });
    await openOrder(h);
    h.advanceTo(T0 + 3_600_000);
    const before = new Map(h.stub.snapshot());
    await expectCode(h.callStamped(T0 + 86_400_000 + 121_000, DSO, 'market', 'SettleFlexOrder', { orderId: 'order-1' }), 'CLOCK_SKEW');
    h.advanceTo(T0 + 86_400_000 - 1_000); // one second before the end of the day, stamped the skew ahead
    await expectCode(h.callStamped(h.nowMs + 120_000, DSO, 'market', 'SettleFlexOrder', { orderId: 'order-1' }), 'RULE_VIOLATION');
    assert.deepEqual(h.stub.snapshot(), before);
  });

  it('the harness default skew is the one claims use', () => {
    const h = new ChaincodeHarness();
    assert.equal(claimOpens(0), periodEnd(0) + GRACE_SECONDS * 1000 + h.clock.maxSkewSeconds * 1000 + 1);
  });
});
