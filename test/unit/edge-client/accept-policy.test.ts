// T3: the edge signs only terms it agreed to. The FakeGateway's ledger lies about one term
// of the offer at a time; auto-accept must refuse, name that term, and sign nothing.
// `flexproof-edge accept` (acceptByHand) shows the terms and signs only on confirmation,
// and never terms that differ from the config's commitments.
import assert from 'node:assert/strict';
import { acceptByHand, decideAutoAccept, statusReport, withdrawByHand } from '@flexproof/edge-client';
import type { FakeEnrollment } from './support/fake-gateway';
import { Harness, T0, prover } from './support/node-harness';

type Lie = { term: string; lie: (e: FakeEnrollment) => void };

const ECONOMIC_LIES: Lie[] = [
  { term: 'reward', lie: (e) => (e.reward = '2399') },
  { term: 'ratePerWh', lie: (e) => (e.ratePerWh = '2') },
  { term: 'toleranceWh', lie: (e) => (e.toleranceWh = '9') },
  { term: 'flexWh[5]', lie: (e) => (e.flexWh[5] = '101') },
  { term: 'orderId', lie: (e) => (e.orderId = 'order-2') },
];

const COMMITMENT_LIES: Lie[] = [
  { term: 'circuitId', lie: (e) => (e.circuitId = 'flexdev-v1-r60') },
  { term: 'requestCommitment', lie: (e) => (e.requestCommitment = '12345') },
  { term: 'startTime', lie: (e) => (e.startTime = new Date(T0 + 3_600_000).toISOString()) },
  { term: 'periodSeconds', lie: (e) => (e.periodSeconds = 1800) },
  { term: 'graceSeconds', lie: (e) => (e.graceSeconds = 60) },
  { term: 'meterId', lie: (e) => (e.meterId = 'meter-99') },
];

describe('edge-client: accept only the terms of the acceptPolicy (T3)', function () {
  this.timeout(60_000);
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close().catch(() => undefined);
    h?.cleanup();
    h = undefined;
  });

  const offered = async (options: Parameters<typeof Harness.create>[0] = {}, lie?: (e: FakeEnrollment) => void): Promise<Harness> => {
    const harness = await Harness.create({ status: 'offered', ...options });
    const e = harness.gateway.enrollments.get('enr-1')?.e;
    if (e && lie) lie(e);
    return harness;
  };

  it('auto-accepts an offer within the policy, signing the ledger terms for the configured channel and chaincode', async () => {
    h = await offered({ extra: { ledger: { channel: 'flexchannel', chaincode: 'flexproof' } } });
    await h.advance(T0);
    assert.equal(h.gateway.accepted.length, 1);
    const payload = h.gateway.accepted[0] as Record<string, unknown>;
    assert.equal(payload.type, 'flexproof.acceptEnrollment.v2');
    assert.equal(payload.channel, 'flexchannel');
    assert.equal(payload.chaincode, 'flexproof');
    assert.equal(payload.reward, '2400');
    assert.equal(h.node.state.data.enrollments['enr-1']?.hold, undefined);
  });

  for (const { term, lie } of ECONOMIC_LIES) {
    it(`refuses an offer whose ${term} is outside the policy, names it, signs nothing`, async () => {
      h = await offered({}, lie);
      await h.advance(T0);
      assert.equal(h.gateway.accepted.length, 0, 'nothing accepted');
      assert.ok(!h.gateway.calls.some((c) => c.op === 'accept'), 'no accept was even sent');
      const refused = h.logger.lines.find((l) => l.event === 'enrollment.offer-refused');
      assert.equal(refused?.level, 'error');
      assert.deepEqual(refused?.fields.terms, [term]);
      const hold = h.node.state.data.enrollments['enr-1']?.hold;
      assert.equal(hold?.code, 'OFFER_OUTSIDE_POLICY');
      assert.deepEqual(hold?.terms, [term]);
      const report = await statusReport(h.site.config, h.now);
      assert.equal(report.enrollments[0]?.hold?.code, 'OFFER_OUTSIDE_POLICY', 'status shows why it waits');
      // Polled again later: still refused, logged once.
      await h.advance(T0 + 60_000);
      assert.equal(h.gateway.accepted.length, 0);
      assert.equal(h.logger.lines.filter((l) => l.event === 'enrollment.offer-refused').length, 1);
    });
  }

  for (const { term, lie } of COMMITMENT_LIES) {
    it(`refuses an offer whose ${term} differs from the config, names it, signs nothing`, async () => {
      h = await offered({}, lie);
      await h.advance(T0);
      assert.equal(h.gateway.accepted.length, 0);
      const mismatch = h.logger.lines.find((l) => l.event === 'enrollment.terms-mismatch');
      assert.ok((mismatch?.fields.fields as string[]).includes(term), `names ${term}: ${JSON.stringify(mismatch?.fields)}`);
      assert.equal(h.node.state.data.enrollments['enr-1']?.hold?.code, 'TERMS_MISMATCH');
    });
  }

  it('without a policy: no auto-accept; the enrollment waits and the status says which terms are missing', async () => {
    h = await offered({ acceptPolicy: null });
    await h.advance(T0);
    assert.equal(h.gateway.accepted.length, 0);
    const hold = (await statusReport(h.site.config, h.now)).enrollments[0]?.hold;
    assert.equal(hold?.code, 'NO_ACCEPT_POLICY');
    assert.deepEqual(hold?.terms, ['minReward', 'maxRatePerWh', 'minToleranceWh', 'maxFlexWh', 'orderId']);
    assert.match(hold?.message ?? '', /flexproof-edge accept --enrollment enr-1/);
  });

  it('a policy that leaves a term out does not auto-accept either', async () => {
    h = await offered({ acceptPolicy: { minReward: '1', maxRatePerWh: '5', minToleranceWh: '0', maxFlexWh: '1000' } });
    await h.advance(T0);
    assert.equal(h.gateway.accepted.length, 0);
    assert.deepEqual(h.node.state.data.enrollments['enr-1']?.hold?.terms, ['orderId']);
  });

  it('per-period caps: an array of 24 maxFlexWh bounds each period', async () => {
    const caps = new Array<string>(24).fill('100');
    caps[7] = '99';
    h = await offered({ acceptPolicy: { orderId: 'order-1', minReward: '0', maxRatePerWh: '1', minToleranceWh: '0', maxFlexWh: caps } });
    await h.advance(T0);
    assert.equal(h.gateway.accepted.length, 0);
    assert.deepEqual(h.node.state.data.enrollments['enr-1']?.hold?.terms, ['flexWh[7]']);
  });

  it('decideAutoAccept reports every term outside the policy at once', async () => {
    h = await offered({}, (e) => {
      e.reward = '1';
      e.orderId = 'x';
    });
    const view = await h.gateway.getEnrollment('enr-1');
    const decision = decideAutoAccept(view, { meterId: 'meter-17', prosumerId: 'prosumer-17' }, h.site.config.enrollments[0]!);
    assert.equal(decision.kind, 'outside-policy');
    assert.deepEqual(decision.kind === 'outside-policy' && decision.refusals.map((r) => r.term), ['reward', 'orderId']);
  });

  describe('flexproof-edge accept (acceptByHand)', () => {
    const run = async (harness: Harness, answer: boolean) => {
      let asked = 0;
      let text = '';
      const outcome = await acceptByHand(
        {
          config: harness.site.config,
          gateway: harness.gateway,
          prover,
          privateKey: harness.site.siteKey.privateKey,
          confirm: async () => {
            asked++;
            return answer;
          },
          out: (t) => (text += t),
        },
        'enr-1',
      );
      return { outcome, asked, text };
    };

    it('shows the ledger terms beside the policy and signs nothing without confirmation', async () => {
      h = await offered({}, (e) => (e.reward = '100'));
      const { outcome, asked, text } = await run(h, false);
      assert.equal(asked, 1);
      assert.deepEqual(outcome, { signed: false, reason: 'not-confirmed' });
      assert.equal(h.gateway.accepted.length, 0);
      assert.match(text, /! reward\s+100\s+at least 2400/);
      assert.match(text, /OUTSIDE your acceptPolicy:\n {2}reward: 100 is below the policy's minReward 2400/);
      assert.ok(!text.includes(h.site.config.enrollments[0]!.commitmentSalt), 'no secret printed');
    });

    it('signs the ledger terms on explicit confirmation, even outside the policy', async () => {
      h = await offered({}, (e) => (e.reward = '100'));
      const { outcome } = await run(h, true);
      assert.equal(outcome.signed, true);
      assert.equal(h.gateway.accepted.length, 1);
      assert.equal((h.gateway.accepted[0] as { reward: string }).reward, '100');
    });

    for (const { term, lie } of COMMITMENT_LIES) {
      it(`refuses a ${term} that differs from the config whatever the confirmation`, async () => {
        h = await offered({}, lie);
        const { outcome, asked, text } = await run(h, true);
        assert.equal(outcome.signed, false);
        assert.equal(!outcome.signed && outcome.reason, 'terms-mismatch');
        assert.ok(!outcome.signed && outcome.refusals?.some((r) => r.term === term));
        assert.equal(asked, 0, 'not even asked');
        assert.equal(h.gateway.accepted.length, 0);
        assert.match(text, /REFUSED/);
      });
    }

    it("refuses when the ledger's key is not the site's, whatever the confirmation", async () => {
      h = await offered();
      h.gateway.keyRecord = { ...h.gateway.keyRecord, status: 'retired' };
      const { outcome, asked } = await run(h, true);
      assert.equal(!outcome.signed && outcome.reason, 'key-mismatch');
      assert.equal(asked, 0);
      assert.equal(h.gateway.accepted.length, 0);
    });

    it('says so and signs nothing for an enrollment that is not offered', async () => {
      h = await offered({ status: 'active' });
      const { outcome, asked } = await run(h, true);
      assert.equal(!outcome.signed && outcome.reason, 'not-offered');
      assert.equal(asked, 0);
    });
  });

  it('flexproof-edge withdraw signs a withdrawal for the configured ledger, only on confirmation', async () => {
    h = await offered({ status: 'active' });
    const ctx = (answer: boolean) => ({
      config: h!.site.config,
      gateway: h!.gateway,
      privateKey: h!.site.siteKey.privateKey,
      confirm: async () => answer,
      out: () => undefined,
      now: () => 1_780_000_000_123,
    });
    assert.deepEqual(await withdrawByHand(ctx(false), '25'), { signed: false, reason: 'not-confirmed' });
    assert.equal(h.gateway.withdrawals.length, 0);
    assert.equal((await withdrawByHand(ctx(true), '25')).signed, true);
    assert.deepEqual(h.gateway.withdrawals[0], {
      type: 'flexproof.withdraw.v2',
      channel: 'flexchannel',
      chaincode: 'flexproof',
      meterId: 'meter-17',
      prosumerId: 'prosumer-17',
      amount: '25',
      nonce: '1780000000123',
    });
    await assert.rejects(withdrawByHand(ctx(true), '0'), /--amount/);
  });
});
