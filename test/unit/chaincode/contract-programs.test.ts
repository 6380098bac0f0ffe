import assert from 'node:assert/strict';
import fc from 'fast-check';
import { signPayload } from '@flexproof/protocol';
import {
  activeEnrollment,
  AGGREGATOR,
  ChaincodeHarness,
  CIRCUIT_ID,
  DSO,
  expectCode,
  claimOpens,
  GRACE_SECONDS,
  newProsumer,
  offerInput,
  openOrder,
  OUTSIDER,
  periodEnd,
  registerCircuit,
  registerMeter,
  signedAccept,
  submission,
  TARGET,
  tokenImbalance,
  VKEY,
  type Prosumer,
} from './support/harness';

const ESCROW = 'escrow:enrollment:enr-1';

async function balance(h: ChaincodeHarness, account: string): Promise<bigint> {
  return BigInt((await h.call(DSO, 'tokens', 'GetBalance', { account })).balance);
}

async function setup(): Promise<{ h: ChaincodeHarness; p: Prosumer }> {
  const h = new ChaincodeHarness();
  const p = newProsumer(0);
  await registerCircuit(h);
  await registerMeter(h, p);
  await openOrder(h);
  await activeEnrollment(h, p, 'enr-1', 'order-1');
  return { h, p };
}

describe('contract org.flexproof.programs', () => {
  it('a day of periods: verified with penalty, missed and claimed, then close releases the rest', async () => {
    const { h, p } = await setup();
    assert.equal(await balance(h, ESCROW), 2400n);

    h.advanceTo(periodEnd(0));
    const out = await h.call(DSO, 'programs', 'SubmitPeriod', await submission(h, p, 'enr-1', 0, '0', { deviation: '45' }));
    assert.equal(out.outcome, 'verified');
    assert.equal(out.result.penalty, '70'); // 2 * (45 - 10)
    assert.equal(h.lastEvent()?.name, 'PeriodSettled');
    assert.equal(h.lastEvent()?.payload.enrollmentId, 'enr-1');
    assert.deepEqual(h.verifier.keysSeen, [VKEY], 'the registered key is used');

    // Period 1 is missed: after its deadline (plus the clock skew) the aggregator claims its share (2400/24 = 100).
    h.advanceTo(periodEnd(1) + GRACE_SECONDS * 1000 + 1);
    await expectCode(h.call(DSO, 'programs', 'SubmitPeriod', await submission(h, p, 'enr-1', 1, '1000')), 'DEADLINE_PASSED');
    await expectCode(h.call(AGGREGATOR, 'programs', 'ClaimMissedPeriod', { enrollmentId: 'enr-1', periodIndex: 1 }), 'RULE_VIOLATION');
    h.advanceTo(claimOpens(1) - 1);
    await expectCode(h.call(AGGREGATOR, 'programs', 'ClaimMissedPeriod', { enrollmentId: 'enr-1', periodIndex: 1 }), 'RULE_VIOLATION');
    h.advanceTo(claimOpens(1));
    await h.call(AGGREGATOR, 'programs', 'ClaimMissedPeriod', { enrollmentId: 'enr-1', periodIndex: 1 });
    await expectCode(h.call(AGGREGATOR, 'programs', 'ClaimMissedPeriod', { enrollmentId: 'enr-1', periodIndex: 1 }), 'CONFLICT');
    await expectCode(h.call(AGGREGATOR, 'programs', 'ClaimMissedPeriod', { enrollmentId: 'enr-1', periodIndex: 5 }), 'RULE_VIOLATION');

    // Period 2 chains on the head left by period 0 (a claim leaves the head unchanged).
    h.advanceTo(periodEnd(2));
    await h.call(DSO, 'programs', 'SubmitPeriod', await submission(h, p, 'enr-1', 2, '1000', { deviation: '5' }));
    let head = '1002';
    for (let q = 3; q < 24; q++) {
      h.advanceTo(periodEnd(q));
      await h.call(AGGREGATOR, 'programs', 'SubmitPeriod', await submission(h, p, 'enr-1', q, head));
      head = String(1000 + q);
    }
    assert.equal(await balance(h, ESCROW), 2400n - 70n - 100n);
    await expectCode(h.call(OUTSIDER, 'programs', 'CloseEnrollment', { enrollmentId: 'enr-1' }), 'FORBIDDEN');
    const closed = await h.call(DSO, 'programs', 'CloseEnrollment', { enrollmentId: 'enr-1' });
    assert.equal(closed.released, '2230');
    assert.equal(await balance(h, `prosumer:${p.prosumerId}`), 2230n);
    assert.equal(await balance(h, ESCROW), 0n);
    assert.equal(await tokenImbalance(h), 0n);

    const view = await h.call(AGGREGATOR, 'programs', 'GetEnrollment', { enrollmentId: 'enr-1' });
    assert.equal(view.enrollment.status, 'closed');
    assert.equal(view.enrollment.chainHead, '1023');
    assert.deepEqual(view.periods.slice(0, 3).map((x: { result: { outcome: string } }) => x.result.outcome), ['verified', 'missed', 'verified']);
    const history = await h.call(AGGREGATOR, 'programs', 'GetEnrollmentHistory', { enrollmentId: 'enr-1' });
    assert.equal(history.history.length, 3 + 24 + 1); // offer, accept, deposit, 24 periods, close
    await expectCode(h.call(DSO, 'programs', 'CloseEnrollment', { enrollmentId: 'enr-1' }), 'CONFLICT');
    // Closed, it no longer holds its circuit's key: the key may be retired.
    await h.call(DSO, 'verifiers', 'ProposeVerificationKeyRetirement', { circuitId: CIRCUIT_ID });
    await h.call(AGGREGATOR, 'verifiers', 'ApproveVerificationKeyRetirement', { circuitId: CIRCUIT_ID });
  });

  it('only the enrolling aggregator offers, funds, claims and cancels; the DSO and outsiders are refused', async () => {
    const h = new ChaincodeHarness();
    const p = newProsumer(0);
    await registerCircuit(h);
    await registerMeter(h, p);
    await openOrder(h);
    const input = offerInput('enr-1', 'order-1', p);
    await expectCode(h.call(DSO, 'programs', 'OfferEnrollment', input), 'FORBIDDEN');
    await expectCode(h.call(OUTSIDER, 'programs', 'OfferEnrollment', input), 'FORBIDDEN');
    const offered = await h.call(AGGREGATOR, 'programs', 'OfferEnrollment', input);
    assert.equal(h.lastEvent()?.name, 'EnrollmentOffered');
    await expectCode(h.call(AGGREGATOR, 'programs', 'OfferEnrollment', { ...input, enrollmentId: 'enr-2' }), 'CONFLICT');
    await h.call(DSO, 'programs', 'AcceptEnrollment', signedAccept(p, offered, '1'));
    await expectCode(h.call(DSO, 'programs', 'DepositReward', { enrollmentId: 'enr-1' }), 'FORBIDDEN');
    await expectCode(h.call(DSO, 'programs', 'CancelEnrollment', { enrollmentId: 'enr-1' }), 'FORBIDDEN');
    await h.call(AGGREGATOR, 'programs', 'DepositReward', { enrollmentId: 'enr-1' });
    await expectCode(h.call(AGGREGATOR, 'programs', 'DepositReward', { enrollmentId: 'enr-1' }), 'RULE_VIOLATION');
    h.advanceTo(claimOpens(0));
    await expectCode(h.call(DSO, 'programs', 'ClaimMissedPeriod', { enrollmentId: 'enr-1', periodIndex: 0 }), 'FORBIDDEN');
    await expectCode(h.call(OUTSIDER, 'programs', 'SubmitPeriod', await submission(h, p, 'enr-1', 1, '0')), 'FORBIDDEN');
    await expectCode(h.call(OUTSIDER, 'programs', 'GetEnrollment', { enrollmentId: 'enr-1' }), 'FORBIDDEN');
  });

  it('acceptance needs the prosumer: wrong key, altered terms and replays are refused', async () => {
    const h = new ChaincodeHarness();
    const p = newProsumer(0);
    const other = newProsumer(1);
    await registerCircuit(h);
    await registerMeter(h, p);
    await registerMeter(h, other);
    await openOrder(h);
    const offered = await h.call(AGGREGATOR, 'programs', 'OfferEnrollment', offerInput('enr-1', 'order-1', p));
    await expectCode(h.call(AGGREGATOR, 'programs', 'AcceptEnrollment', signedAccept(p, offered, '1', other.privateKey)), 'BAD_SIGNATURE');
    const signed = signedAccept(p, offered, '2');
    await expectCode(h.call(AGGREGATOR, 'programs', 'AcceptEnrollment', { ...signed, payload: { ...signed.payload, reward: '1' } }), 'BAD_SIGNATURE');
    await expectCode(h.call(AGGREGATOR, 'programs', 'AcceptEnrollment', signedAccept(p, { ...offered, reward: '1' }, '3')), 'RULE_VIOLATION');
    await expectCode(h.call(AGGREGATOR, 'programs', 'AcceptEnrollment', signedAccept(other, { ...offered, meterId: other.meterId, prosumerId: other.prosumerId }, '4')), 'FORBIDDEN');
    const elsewhere = await expectCode(h.call(AGGREGATOR, 'programs', 'AcceptEnrollment', signedAccept(p, offered, '5', p.privateKey, { ...TARGET, channel: 'otherchannel' })), 'BAD_SIGNATURE');
    assert.match(elsewhere.message, /payload\.channel: signed for channel otherchannel, this is channel flexchannel/);
    await expectCode(h.call(AGGREGATOR, 'programs', 'AcceptEnrollment', signedAccept(p, offered, '6', p.privateKey, { ...TARGET, chaincode: 'other' })), 'BAD_SIGNATURE');
    await h.call(AGGREGATOR, 'programs', 'AcceptEnrollment', signed);
    await expectCode(h.call(AGGREGATOR, 'programs', 'AcceptEnrollment', signed), 'REPLAY');
    await expectCode(h.call(AGGREGATOR, 'programs', 'AcceptEnrollment', signedAccept(p, offered, '9')), 'RULE_VIOLATION');
  });

  it('submissions: wrong key, altered payload or proof, replay and ledger mismatches change nothing', async () => {
    const { h, p } = await setup();
    const other = newProsumer(1);
    h.advanceTo(periodEnd(0) - 1);
    await expectCode(h.call(DSO, 'programs', 'SubmitPeriod', await submission(h, p, 'enr-1', 0, '0')), 'RULE_VIOLATION');
    h.advanceTo(periodEnd(0));
    const before = new Map(h.stub.snapshot());
    const eventsBefore = h.stub.events.length;
    await expectCode(h.call(DSO, 'programs', 'SubmitPeriod', await submission(h, p, 'enr-1', 0, '0', { signWith: other.privateKey })), 'BAD_SIGNATURE');
    const good = await submission(h, p, 'enr-1', 0, '0', { deviation: '20' });
    await expectCode(h.call(DSO, 'programs', 'SubmitPeriod', { ...good, payload: { ...good.payload, periodIndex: 1 } }), 'BAD_SIGNATURE');
    await expectCode(h.call(DSO, 'programs', 'SubmitPeriod', { ...good, publicSignals: good.publicSignals.map((s, i) => (i === 1 ? '0' : s)) }), 'BAD_SIGNATURE');
    await expectCode(h.call(DSO, 'programs', 'SubmitPeriod', { ...good, proof: { fake: 'invalid' } }), 'BAD_SIGNATURE');
    await expectCode(h.call(DSO, 'programs', 'SubmitPeriod', await submission(h, p, 'enr-1', 0, '0', { prevFingerprint: '77' })), 'CONFLICT');
    await expectCode(h.call(DSO, 'programs', 'SubmitPeriod', await submission(h, p, 'enr-1', 0, '0', { requestCommitment: '5' })), 'RULE_VIOLATION');
    await expectCode(h.call(DSO, 'programs', 'SubmitPeriod', await submission(h, p, 'enr-1', 0, '0', { signalPeriod: '1' })), 'RULE_VIOLATION');
    await expectCode(h.call(DSO, 'programs', 'SubmitPeriod', { ...good, verificationKey: { attacker: true } }), 'BAD_INPUT');
    const wrongChannel = await expectCode(h.call(DSO, 'programs', 'SubmitPeriod', await submission(h, p, 'enr-1', 0, '0', { target: { ...TARGET, channel: 'otherchannel' } })), 'BAD_SIGNATURE');
    assert.match(wrongChannel.message, /payload\.channel: /);
    const wrongChaincode = await expectCode(h.call(DSO, 'programs', 'SubmitPeriod', await submission(h, p, 'enr-1', 0, '0', { target: { ...TARGET, chaincode: 'other' } })), 'BAD_SIGNATURE');
    assert.match(wrongChaincode.message, /payload\.chaincode: /);
    const short = await submission(h, p, 'enr-1', 0, '0');
    short.publicSignals.pop();
    short.payload.submissionHash = await h.verifier.submissionHash(short.proof, short.publicSignals);
    short.signature = signPayload(short.payload, p.privateKey);
    await expectCode(h.call(DSO, 'programs', 'SubmitPeriod', short), 'BAD_INPUT');
    assert.deepEqual(h.stub.snapshot(), before, 'refused submissions leave the ledger untouched');
    assert.equal(h.stub.events.length, eventsBefore);

    await h.call(DSO, 'programs', 'SubmitPeriod', good);
    await expectCode(h.call(DSO, 'programs', 'SubmitPeriod', good), 'CONFLICT');
    const view = await h.call(DSO, 'programs', 'GetEnrollment', { enrollmentId: 'enr-1' });
    assert.equal(view.enrollment.results[0].deviationWh, '20');
    assert.equal(view.escrow, String(2400 - 20));
  });

  it('a key with live enrollments cannot be retired; once retired, its circuit takes no enrollment', async () => {
    const { h, p } = await setup(); // enr-1 is active on CIRCUIT_ID
    const before = new Map(h.stub.snapshot());
    const refused = await expectCode(h.call(DSO, 'verifiers', 'ProposeVerificationKeyRetirement', { circuitId: CIRCUIT_ID }), 'RULE_VIOLATION');
    assert.match(refused.message, /1 live enrollment/);
    assert.deepEqual(h.stub.snapshot(), before, 'a refused retirement changes nothing');
    h.advanceTo(periodEnd(0));
    await h.call(DSO, 'programs', 'SubmitPeriod', await submission(h, p, 'enr-1', 0, '0'));
    assert.equal(h.verifier.keysSeen.length, 1, 'the active key from the ledger was used');

    // A retirement proposed while nothing used the key is not approved once an enrollment uses it.
    const h2 = new ChaincodeHarness();
    const q = newProsumer(1);
    await registerCircuit(h2);
    await registerMeter(h2, q);
    await openOrder(h2);
    await h2.call(DSO, 'verifiers', 'ProposeVerificationKeyRetirement', { circuitId: CIRCUIT_ID });
    await h2.call(AGGREGATOR, 'programs', 'OfferEnrollment', offerInput('enr-q', 'order-1', q));
    const pending = new Map(h2.stub.snapshot());
    await expectCode(h2.call(AGGREGATOR, 'verifiers', 'ApproveVerificationKeyRetirement', { circuitId: CIRCUIT_ID }), 'RULE_VIOLATION');
    assert.deepEqual(h2.stub.snapshot(), pending);
    await h2.call(AGGREGATOR, 'programs', 'CancelEnrollment', { enrollmentId: 'enr-q' });
    await h2.call(AGGREGATOR, 'verifiers', 'ApproveVerificationKeyRetirement', { circuitId: CIRCUIT_ID });
    await expectCode(h2.call(AGGREGATOR, 'programs', 'OfferEnrollment', offerInput('enr-r', 'order-1', q)), 'RULE_VIOLATION');
  });

  it('an excluded enrollment no longer holds its key: the key may be retired after the exclusion', async () => {
    const { h, p } = await setup();
    h.advanceTo(periodEnd(0));
    await h.call(AGGREGATOR, 'programs', 'SubmitPeriod', await submission(h, p, 'enr-1', 0, '0', { valid: false }));
    await h.call(DSO, 'verifiers', 'ProposeVerificationKeyRetirement', { circuitId: CIRCUIT_ID });
    const retired = await h.call(AGGREGATOR, 'verifiers', 'ApproveVerificationKeyRetirement', { circuitId: CIRCUIT_ID });
    assert.equal(retired.status, 'retired');
  });

  it('an invalid proof with a valid signature commits: escrow to the aggregator, enrollment and meter excluded', async () => {
    const { h, p } = await setup();
    const aggregatorBefore = await balance(h, 'org:AggregatorMSP');
    h.advanceTo(periodEnd(0));
    const out = await h.call(AGGREGATOR, 'programs', 'SubmitPeriod', await submission(h, p, 'enr-1', 0, '0', { valid: false }));
    assert.equal(out.outcome, 'invalidProof');
    assert.equal(out.result.forfeited, '2400');
    assert.equal(h.lastEvent()?.name, 'EnrollmentExcluded');
    assert.equal(await balance(h, 'org:AggregatorMSP'), aggregatorBefore + 2400n);
    assert.equal(await balance(h, ESCROW), 0n);
    assert.equal((await h.call(DSO, 'meters', 'GetMeter', { meterId: p.meterId })).status, 'excluded');
    assert.equal(await tokenImbalance(h), 0n);

    // Nothing more is accepted for it.
    h.advanceTo(periodEnd(1));
    await expectCode(h.call(DSO, 'programs', 'SubmitPeriod', await submission(h, p, 'enr-1', 1, '1000')), 'EXCLUDED');
    h.advanceTo(claimOpens(2));
    await expectCode(h.call(AGGREGATOR, 'programs', 'ClaimMissedPeriod', { enrollmentId: 'enr-1', periodIndex: 2 }), 'EXCLUDED');
    await expectCode(h.call(AGGREGATOR, 'programs', 'CloseEnrollment', { enrollmentId: 'enr-1' }), 'EXCLUDED');
    await expectCode(h.call(DSO, 'meters', 'ReactivateMeter', { meterId: p.meterId, reason: 'x' }), 'EXCLUDED');
    await openOrder(h, 'order-2');
    await expectCode(h.call(AGGREGATOR, 'programs', 'OfferEnrollment', offerInput('enr-9', 'order-2', p)), 'EXCLUDED');
  });

  it('property: through the contracts, tokens are conserved, escrow >= 0 and no period settles twice', async () => {
    type Step = { kind: 'submit' | 'invalid' | 'claim' | 'close'; period: number; deviation: number; advanceMs: number };
    const step = fc.record({
      kind: fc.constantFrom<Step['kind']>('submit', 'submit', 'submit', 'claim', 'close', 'invalid'),
      period: fc.integer({ min: 0, max: 23 }),
      deviation: fc.integer({ min: 0, max: 2000 }),
      advanceMs: fc.integer({ min: 0, max: 25_000 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 40 }), async (steps) => {
        const { h, p } = await setup();
        h.advanceTo(periodEnd(0));
        for (const s of steps) {
          h.advanceTo(h.nowMs + s.advanceMs);
          const view = await h.call(DSO, 'programs', 'GetEnrollment', { enrollmentId: 'enr-1' });
          try {
            if (s.kind === 'submit' || s.kind === 'invalid') {
              const period = view.nextPeriod ?? s.period;
              const input = await submission(h, p, 'enr-1', period, view.enrollment.chainHead, {
                deviation: String(s.deviation),
                valid: s.kind === 'submit',
                newFingerprint: String(5000 + period),
              });
              await h.call(DSO, 'programs', 'SubmitPeriod', input);
            } else if (s.kind === 'claim') {
              await h.call(AGGREGATOR, 'programs', 'ClaimMissedPeriod', { enrollmentId: 'enr-1', periodIndex: s.period });
            } else {
              await h.call(DSO, 'programs', 'CloseEnrollment', { enrollmentId: 'enr-1' });
            }
          } catch (err) {
            assert.ok((err as { code?: string }).code, `only chaincode errors: ${String(err)}`);
          }
          assert.equal(await tokenImbalance(h), 0n);
          assert.ok((await balance(h, ESCROW)) >= 0n);
        }
        const history = await h.call(DSO, 'programs', 'GetEnrollmentHistory', { enrollmentId: 'enr-1' });
        const firstSettled = new Map<number, string>();
        for (const version of history.history) {
          for (const r of version.value.results) {
            if (!r) continue;
            const seen = firstSettled.get(r.periodIndex);
            if (seen === undefined) firstSettled.set(r.periodIndex, r.txId);
            else assert.equal(seen, r.txId, `period ${r.periodIndex} settled twice`);
          }
        }
      }),
      { numRuns: 25 },
    );
  });
});
