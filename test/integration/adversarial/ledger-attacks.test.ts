/**
 * THREATS.md played on the real network by consortium members: each attack uses the
 * organisation's own Fabric identity (and, where the attack needs it, a proposal it
 * built itself), runs against its own fresh enrollment, and asserts the exact refusal
 * code and that nothing on the ledger changed: every balance and escrow, the supply,
 * the enrollments, meters, orders and the verification key.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { ACTION_WITHDRAW, signPayload } from '@flexproof/protocol';
import { assertRefused, evaluate, submitAfterLag as submit, submitStampedAt } from '../../support/ledger';
import {
  FLEX_WH,
  MARKET,
  METERS,
  ORDER_ROOM,
  PROGRAMS,
  REWARD,
  TOKENS,
  VERIFIERS,
  World,
  assertLedgerUnchanged,
  newSite,
  uncheckedSubmissionHash,
  type FreshEnrollment,
} from './world';

const HOUR_MS = 3_600_000;
/** The BN254 scalar field order: a signal plus r is the same field element, written non-canonically. */
const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const perIsp = (v: bigint | string) => Array.from({ length: 24 }, () => v.toString());

describe('adversarial: consortium members attack the ledger (THREATS.md T1-T8)', function () {
  this.timeout(240_000);
  const world = new World();
  const skewMs = () => world.facts.maxClockSkewSeconds * 1000;

  before(async () => world.start());
  after(() => world.close());

  /** An enrollment whose period 0 ended a moment ago and can be submitted for now. */
  const dueNow = () => world.freshEnrollment({ startMs: Date.now() - HOUR_MS - 3_000, periodSeconds: 3600, graceSeconds: 600 });

  describe('T1: time on the ledger is real time', () => {
    it('refuses a claim stamped in the year 2100 by the aggregator: CLOCK_SKEW, nothing moves', async () => {
      const fresh = await world.freshEnrollment();
      await assertLedgerUnchanged(world, async () => {
        const in2100 = Date.UTC(2100, 0, 1);
        for (const periodIndex of [0, 23]) {
          await assertRefused(
            submitStampedAt(world.orgs.aggregator, `${PROGRAMS}:ClaimMissedPeriod`, { enrollmentId: fresh.enrollmentId, periodIndex }, in2100),
            'CLOCK_SKEW',
          );
        }
        await assertRefused(
          submitStampedAt(world.orgs.aggregator, `${PROGRAMS}:ClaimMissedPeriod`, { enrollmentId: fresh.enrollmentId, periodIndex: 0 }, Date.now() + skewMs() + 5_000),
          'CLOCK_SKEW',
        );
      });
    });

    it('refuses the DSO settling an order of today with a stamp after the day: CLOCK_SKEW', async () => {
      const tag = world.nextTag();
      const orderId = `aorder-${tag}`;
      await world.newOrder(orderId, `areq-${tag}`, 100n);
      await assertLedgerUnchanged(world, async () => {
        const tomorrow = Date.now() + 26 * HOUR_MS;
        await assertRefused(submitStampedAt(world.orgs.dso, `${MARKET}:SettleFlexOrder`, { orderId }, tomorrow), 'CLOCK_SKEW');
      });
    });

    it('refuses a proof stamped in the past to reopen a closed window: CLOCK_SKEW', async () => {
      // Period 0 ended two hours ago and its deadline passed an hour and 59 minutes ago.
      const fresh = await world.freshEnrollment({ startMs: Date.now() - 3 * HOUR_MS, periodSeconds: 3600, graceSeconds: 60 });
      const { proof, publicSignals } = await world.prove(fresh, 0, [250n, 250n, 250n, 250n]);
      const submission = world.signedSubmission(fresh, 0, proof, publicSignals);
      await assertLedgerUnchanged(world, async () => {
        await assertRefused(world.orgs.dso.submitTransaction(`${PROGRAMS}:SubmitPeriod`, JSON.stringify(submission)), 'DEADLINE_PASSED');
        const insideTheWindow = fresh.startMs + HOUR_MS + 10_000;
        await assertRefused(submitStampedAt(world.orgs.dso, `${PROGRAMS}:SubmitPeriod`, submission, insideTheWindow), 'CLOCK_SKEW');
        await assertRefused(submitStampedAt(world.orgs.aggregator, `${TOKENS}:Transfer`, { to: 'org:DsoMSP', amount: '1' }, Date.now() - HOUR_MS), 'CLOCK_SKEW');
      });
    });

    it('opens a claim only after deadline plus skew, so a stamp inside the skew cannot cut the window', async () => {
      // Period 0's deadline passes 20 s after the offer: time enough for the set-up on a loaded machine.
      const offeredAt = Date.now();
      const fresh = await world.freshEnrollment({ startMs: offeredAt - HOUR_MS + 20_000 - 60_000, periodSeconds: 3600, graceSeconds: 60 });
      const deadlineMs = fresh.startMs + HOUR_MS + 60_000;
      const claimOpensMs = deadlineMs + skewMs();
      const claim = { enrollmentId: fresh.enrollmentId, periodIndex: 0 };
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, deadlineMs + 500 - Date.now())));
      await assertLedgerUnchanged(world, async () => {
        assert.ok(Date.now() < claimOpensMs - 2_000, 'the attack runs between the deadline and deadline + skew');
        // The deadline has passed, but a client could be stamping up to the skew ahead.
        await assertRefused(world.orgs.aggregator.submitTransaction(`${PROGRAMS}:ClaimMissedPeriod`, JSON.stringify(claim)), 'RULE_VIOLATION');
        // Stamped as late as the skew lets it, still before the claim opens.
        await assertRefused(submitStampedAt(world.orgs.aggregator, `${PROGRAMS}:ClaimMissedPeriod`, claim, claimOpensMs - 1_000), 'RULE_VIOLATION');
      });
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, claimOpensMs + 500 - Date.now())));
      const { result } = await submit<{ outcome: string }>(world.orgs.aggregator, `${PROGRAMS}:ClaimMissedPeriod`, claim);
      assert.equal(result.outcome, 'missed');
    });
  });

  describe('T2: an order pays only for flexibility delivered', () => {
    it('refuses an enrollment with an absurd flexWh, and one that overfills the order', async () => {
      const site = newSite(world.nextTag());
      await world.registerSite(site);
      const offer = (enrollmentId: string, flexWh: string[]) => ({
        enrollmentId, orderId: world.orderId, meterId: site.meterId, circuitId: world.circuitId,
        requestCommitment: '1', reward: '24', ratePerWh: '1', toleranceWh: '0', flexWh,
        startTime: new Date(Date.now() + 60_000).toISOString(), periodSeconds: 3600, graceSeconds: 600,
      });
      const absurd = `aenr-${world.nextTag()}`;
      const overfill = `aenr-${world.nextTag()}`;
      world.track('enrollment', absurd);
      world.track('enrollment', overfill);
      await world.freshEnrollment(); // the order now holds some flexibility
      const held = (await evaluate<{ order: { enrolledWh: string[] } }>(world.orgs.dso, `${MARKET}:GetFlexOrder`, { orderId: world.orderId })).order.enrolledWh.map(BigInt);
      await assertLedgerUnchanged(world, async () => {
        await assertRefused(world.orgs.aggregator.submitTransaction(`${PROGRAMS}:OfferEnrollment`, JSON.stringify(offer(absurd, perIsp(10n ** 30n)))), 'RULE_VIOLATION');
        // One Wh more in period 5 than the order has left after the enrollments it holds.
        const beyond = Array.from({ length: 24 }, (_, p) => (p === 5 ? (FLEX_WH * ORDER_ROOM - held[5]! + 1n).toString() : '0'));
        await assertRefused(world.orgs.aggregator.submitTransaction(`${PROGRAMS}:OfferEnrollment`, JSON.stringify(offer(overfill, beyond))), 'RULE_VIOLATION');
      });
    });

    it('gives a cancelled enrollment\'s flexWh back to the order', async () => {
      const { order } = await evaluate<{ order: { offeredWh: string[]; enrolledWh?: string[] } }>(world.orgs.dso, `${MARKET}:GetFlexOrder`, { orderId: world.orderId });
      assert.ok(order.enrolledWh, 'the order records how much its enrollments hold');
      const before = order.enrolledWh.map(BigInt);
      const fresh = await world.freshEnrollment({ accept: false });
      await submit(world.orgs.aggregator, `${PROGRAMS}:CancelEnrollment`, { enrollmentId: fresh.enrollmentId });
      const after = (await evaluate<{ order: { enrolledWh: string[] } }>(world.orgs.dso, `${MARKET}:GetFlexOrder`, { orderId: world.orderId })).order.enrolledWh.map(BigInt);
      assert.deepEqual(after, before);
    });
  });

  describe('T4: keys the prosumers rely on', () => {
    it('refuses a verification key that is not a Groth16 key of this circuit: BAD_INPUT', async () => {
      const real = (await evaluate<{ verificationKey: Record<string, unknown> }>(world.orgs.dso, `${VERIFIERS}:GetVerificationKey`, { circuitId: world.circuitId })).verificationKey;
      const ic = real.IC as unknown[];
      const g1 = real.vk_alpha_1 as string[];
      const offCurve = { ...real, vk_alpha_1: [g1[0], (BigInt(g1[1] as string) + 1n).toString(), '1'] };
      await assertLedgerUnchanged(world, async () => {
        for (const [name, verificationKey] of [
          ['junk', { junk: 1 }],
          ['IC too short', { ...real, IC: ic.slice(0, -1) }],
          ['alpha off the curve', offCurve],
        ] as const) {
          const circuitId = `${world.circuitId}-bad${world.nextTag()}`;
          await assertRefused(
            world.orgs.dso.submitTransaction(`${VERIFIERS}:ProposeVerificationKey`, JSON.stringify({ circuitId, verificationKey })),
            'BAD_INPUT',
          ).catch((err: unknown) => {
            throw new Error(`${name}: ${(err as Error).message}`);
          });
        }
      });
    });

    it('refuses to retire a key that live enrollments use: RULE_VIOLATION', async () => {
      await world.freshEnrollment();
      await assertLedgerUnchanged(world, async () => {
        await assertRefused(
          world.orgs.dso.submitTransaction(`${VERIFIERS}:ProposeVerificationKeyRetirement`, JSON.stringify({ circuitId: world.circuitId })),
          'RULE_VIOLATION',
        );
      });
    });
  });

  describe('T5: a prosumer\'s tokens move only with its signature', () => {
    it('refuses the DSO burning a prosumer balance: FORBIDDEN', async () => {
      const site = newSite(world.nextTag());
      await world.registerSite(site);
      await submit(world.orgs.dso, `${TOKENS}:Mint`, { account: `prosumer:${site.prosumerId}`, amount: '500' });
      await assertLedgerUnchanged(world, async () => {
        await assertRefused(world.orgs.dso.submitTransaction(`${TOKENS}:Burn`, JSON.stringify({ account: `prosumer:${site.prosumerId}`, amount: '500' })), 'FORBIDDEN');
      });
    });

    it('refuses a second meter with the DSO\'s own key under an existing prosumer, so the DSO cannot withdraw: FORBIDDEN', async () => {
      const site = newSite(world.nextTag());
      await world.registerSite(site);
      await submit(world.orgs.dso, `${TOKENS}:Mint`, { account: `prosumer:${site.prosumerId}`, amount: '500' });
      const dsoKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const rogueMeterId = `${site.meterId}-rogue`;
      world.track('meter', rogueMeterId);
      await assertLedgerUnchanged(world, async () => {
        await assertRefused(
          world.orgs.dso.submitTransaction(`${METERS}:RegisterMeter`, JSON.stringify({
            meterId: rogueMeterId, prosumerId: site.prosumerId, congestionPoint: world.congestionPoint,
            publicKeyPem: dsoKey.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          })),
          'FORBIDDEN',
        );
        const payload = { type: ACTION_WITHDRAW, ...world.target(), meterId: rogueMeterId, prosumerId: site.prosumerId, amount: '500', nonce: '1' };
        await assertRefused(
          world.orgs.dso.submitTransaction(`${TOKENS}:Withdraw`, JSON.stringify({ payload, signature: signPayload(payload as never, dsoKey.privateKey) })),
          'NOT_FOUND',
        );
      });
    });
  });

  describe('T6: a signature means one thing, once', () => {
    it('refuses an accept replayed at the other organisation, or signed for another channel or chaincode', async () => {
      const fresh = await world.freshEnrollment({ accept: false });
      const accept = await world.signedAccept(fresh, '1');
      await submit(world.orgs.dso, `${PROGRAMS}:AcceptEnrollment`, accept);
      await assertLedgerUnchanged(world, async () => {
        await assertRefused(world.orgs.aggregator.submitTransaction(`${PROGRAMS}:AcceptEnrollment`, JSON.stringify(accept)), 'REPLAY');
      });
      const other = await world.freshEnrollment({ accept: false });
      const signedFor = async (field: 'channel' | 'chaincode', value: string) => {
        const { payload } = await world.signedAccept(other, '1');
        const moved = { ...payload, [field]: value };
        return { payload: moved, signature: signPayload(moved as never, other.site.privateKey) };
      };
      await assertLedgerUnchanged(world, async () => {
        await assertRefused(world.orgs.aggregator.submitTransaction(`${PROGRAMS}:AcceptEnrollment`, JSON.stringify(await signedFor('channel', 'otherchannel'))), 'BAD_SIGNATURE');
        await assertRefused(world.orgs.aggregator.submitTransaction(`${PROGRAMS}:AcceptEnrollment`, JSON.stringify(await signedFor('chaincode', 'othercode'))), 'BAD_SIGNATURE');
      });
    });

    it('refuses a withdrawal replayed at the other organisation: REPLAY', async () => {
      const site = newSite(world.nextTag());
      await world.registerSite(site);
      await submit(world.orgs.dso, `${TOKENS}:Mint`, { account: `prosumer:${site.prosumerId}`, amount: '500' });
      const payload = { type: ACTION_WITHDRAW, ...world.target(), meterId: site.meterId, prosumerId: site.prosumerId, amount: '200', nonce: '5' };
      const withdrawal = { payload, signature: signPayload(payload as never, site.privateKey) };
      await submit(world.orgs.aggregator, `${TOKENS}:Withdraw`, withdrawal);
      await assertLedgerUnchanged(world, async () => {
        await assertRefused(world.orgs.dso.submitTransaction(`${TOKENS}:Withdraw`, JSON.stringify(withdrawal)), 'REPLAY');
      });
    });
  });

  describe('T7: a proof settles only the period it was made for', () => {
    let fresh: FreshEnrollment;
    let other: FreshEnrollment;
    let proven: { proof: Record<string, unknown>; publicSignals: string[] };
    before(async () => {
      fresh = await dueNow();
      other = await dueNow();
      const p = await world.prove(fresh, 0, [250n, 250n, 250n, 300n]);
      proven = { proof: p.proof as unknown as Record<string, unknown>, publicSignals: p.publicSignals };
    });

    it('refuses a proof altered by the relaying organisation after the prosumer signed: BAD_SIGNATURE', async () => {
      const signed = world.signedSubmission(fresh, 0, proven.proof, proven.publicSignals);
      // Another point of the curve in pi_a: well formed, but not what the prosumer signed.
      const altered = { ...signed, proof: { ...proven.proof, pi_a: proven.proof.pi_c } };
      // The deviation signal (index 1) lowered to 0 by the relay: the proof was made for a deviation of 50 Wh.
      assert.equal(proven.publicSignals[1], '50');
      const signalAltered = { ...signed, publicSignals: proven.publicSignals.map((s, i) => (i === 1 ? '0' : s)) };
      await assertLedgerUnchanged(world, async () => {
        await assertRefused(world.orgs.aggregator.submitTransaction(`${PROGRAMS}:SubmitPeriod`, JSON.stringify(altered)), 'BAD_SIGNATURE');
        await assertRefused(world.orgs.dso.submitTransaction(`${PROGRAMS}:SubmitPeriod`, JSON.stringify(signalAltered)), 'BAD_SIGNATURE');
      });
    });

    it('refuses a proof moved to another enrollment (re-signed by its prosumer) or another period', async () => {
      const moved = world.signedSubmission(other, 0, proven.proof, proven.publicSignals);
      const toPeriod1 = world.signedSubmission(fresh, 1, proven.proof, proven.publicSignals);
      await assertLedgerUnchanged(world, async () => {
        await assertRefused(world.orgs.aggregator.submitTransaction(`${PROGRAMS}:SubmitPeriod`, JSON.stringify(moved)), 'RULE_VIOLATION');
        // Period 1 has not ended: the window refuses before the signals are read.
        await assertRefused(world.orgs.aggregator.submitTransaction(`${PROGRAMS}:SubmitPeriod`, JSON.stringify(toPeriod1)), 'RULE_VIOLATION');
      });
    });

    it('refuses non-canonical signals and points off the curve, even when the prosumer signed them: BAD_INPUT', async () => {
      const nonCanonical = proven.publicSignals.map((s, i) => (i === 1 ? (BigInt(s) + R).toString() : s));
      const pi = proven.proof.pi_a as string[];
      const offCurve = { ...proven.proof, pi_a: [pi[0], (BigInt(pi[1] as string) + 1n).toString(), pi[2]] };
      await assertLedgerUnchanged(world, async () => {
        await assertRefused(
          world.orgs.aggregator.submitTransaction(`${PROGRAMS}:SubmitPeriod`, JSON.stringify(world.signedSubmission(fresh, 0, proven.proof, nonCanonical, fresh.site, uncheckedSubmissionHash(proven.proof, nonCanonical)))),
          'BAD_INPUT',
        );
        await assertRefused(
          world.orgs.aggregator.submitTransaction(`${PROGRAMS}:SubmitPeriod`, JSON.stringify(world.signedSubmission(fresh, 0, offCurve, proven.publicSignals, fresh.site, uncheckedSubmissionHash(offCurve, proven.publicSignals)))),
          'BAD_INPUT',
        );
      });
    });
  });

  describe('T8: each period settles exactly once', () => {
    it('settles one of the same submission sent to both organisations at once, and refuses the retry: CONFLICT', async () => {
      const fresh = await dueNow();
      const { proof, publicSignals } = await world.prove(fresh, 0, [250n, 250n, 250n, 400n]); // 150 Wh over: a penalty
      const submission = JSON.stringify(world.signedSubmission(fresh, 0, proof, publicSignals));
      const aggregatorBefore = BigInt((await evaluate<{ balance: string }>(world.orgs.dso, `${TOKENS}:GetBalance`, { account: 'org:AggregatorMSP' })).balance);
      const outcomes = await Promise.allSettled([
        world.orgs.aggregator.submitTransaction(`${PROGRAMS}:SubmitPeriod`, submission),
        world.orgs.dso.submitTransaction(`${PROGRAMS}:SubmitPeriod`, submission),
        world.orgs.aggregator.submitTransaction(`${PROGRAMS}:SubmitPeriod`, submission),
      ]);
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, 'exactly one submission commits');
      const penalty = 2n * (150n - 10n);
      const view = await world.enrollment(fresh.enrollmentId);
      assert.equal(view.escrow, (REWARD - penalty).toString());
      const aggregatorAfter = BigInt((await evaluate<{ balance: string }>(world.orgs.dso, `${TOKENS}:GetBalance`, { account: 'org:AggregatorMSP' })).balance);
      assert.equal(aggregatorAfter - aggregatorBefore, penalty);
      await assertLedgerUnchanged(world, async () => {
        await assertRefused(world.orgs.dso.submitTransaction(`${PROGRAMS}:SubmitPeriod`, submission), 'CONFLICT');
      });
    });
  });

  // A describe of its own: mocha runs a suite's own tests before its nested suites.
  describe('after every attack', () => it('keeps the supply invariant: minted - burned = all balances and escrows', async () => {
    const supply = await evaluate<{ minted: string; burned: string }>(world.orgs.dso, `${TOKENS}:GetSupply`, {});
    const { accounts } = await evaluate<{ accounts: { balance: string }[] }>(world.orgs.dso, `${TOKENS}:GetBalances`, {});
    assert.equal(BigInt(supply.minted) - BigInt(supply.burned), accounts.reduce((sum, a) => sum + BigInt(a.balance), 0n));
  }));
});
