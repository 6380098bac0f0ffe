/**
 * Batched settlement on the real network (issue 17): one SubmitPeriods transaction of 32
 * submissions of different enrollments, endorsed by both organisations' chaincode
 * services, one of them carrying a tampered proof. Exactly that item is an invalid proof
 * (forfeit and exclusion); the other 31 settle as verified, each with its own penalty,
 * and the supply still balances with the penalties kept as delta records.
 */
import assert from 'node:assert/strict';
import { randomSalt } from '@flexproof/circuits';
import { evaluate, submitAfterLag as submit } from '../../support/ledger';
import { PROGRAMS, REWARD, TOKENS, World, type FreshEnrollment } from '../adversarial/world';

interface ItemOutcome {
  index: number;
  outcome: 'verified' | 'invalidProof' | 'refused';
  enrollmentId?: string;
  periodIndex?: number;
  code?: string;
  result?: { penalty?: string; forfeited?: string; deviationWh?: string };
}

describe('SubmitPeriods on the real network: 32 submissions, one tampered proof', function () {
  this.timeout(600_000);
  const world = new World();
  const BATCH = 32;
  const TAMPERED = 17;
  let fresh: FreshEnrollment[];
  let outcomes: ItemOutcome[];
  let txId: string;
  let aggregatorBefore: bigint;

  before(async () => {
    await world.start();
    // Period 0 (a minute long) ended a minute ago; its deadline is ten minutes on.
    const startMs = Math.floor((Date.now() - 120_000) / 1000) * 1000;
    const commitmentSalt = randomSalt();
    fresh = [];
    for (let i = 0; i < BATCH; i++) fresh.push(await world.freshEnrollment({ startMs, periodSeconds: 60, graceSeconds: 600, commitmentSalt }));
    // One proof serves all 32 (same profile, salt and readings; each item is still its own
    // enrollment, meter, signature, window and chain head on the ledger): 40 Wh over 1000
    // requested in each 15 minutes, so deviation 840 Wh and a penalty of min(escrow, 2 * 830).
    const first = fresh[0] as FreshEnrollment;
    const fingerprintSalt = randomSalt();
    const good = await world.prove(first, 0, [40n, 40n, 40n, 40n], 0n, fingerprintSalt);
    const other = await world.prove(first, 0, [41n, 40n, 40n, 40n], 0n, fingerprintSalt);
    const items = fresh.map((f, i) => {
      // Well-formed points (another valid proof's pi_a), the right signals, signed by the prosumer.
      const proof = i === TAMPERED ? { ...good.proof, pi_a: (other.proof as { pi_a: unknown }).pi_a } : good.proof;
      return world.signedSubmission(f, 0, proof, good.publicSignals);
    });
    const balances = await evaluate<{ balance: string }>(world.orgs.dso, `${TOKENS}:GetBalance`, { account: 'org:AggregatorMSP' });
    aggregatorBefore = BigInt(balances.balance);
    const submitted = await submit<{ outcomes: ItemOutcome[] }>(world.orgs.dso, `${PROGRAMS}:SubmitPeriods`, { items });
    outcomes = submitted.result.outcomes;
    txId = submitted.txId;
  });
  after(() => world.close());

  it('answers one outcome per item, in item order: exactly the tampered one an invalid proof', () => {
    assert.equal(outcomes.length, BATCH);
    outcomes.forEach((o, i) => {
      assert.equal(o.index, i);
      assert.equal(o.enrollmentId, fresh[i]?.enrollmentId);
      assert.equal(o.outcome, i === TAMPERED ? 'invalidProof' : 'verified', `item ${i}`);
    });
  });

  it('settles each enrollment on the ledger by that one transaction, and excludes only the tamperer', async () => {
    for (const [i, f] of fresh.entries()) {
      const view = await evaluate<{ enrollment: { status: string; results: ({ outcome: string; txId: string; penalty?: string } | null)[] }; escrow: string }>(
        world.orgs.aggregator, `${PROGRAMS}:GetEnrollment`, { enrollmentId: f.enrollmentId });
      const result = view.enrollment.results[0];
      assert.equal(result?.txId, txId);
      if (i === TAMPERED) {
        assert.equal(view.enrollment.status, 'excluded');
        assert.equal(view.escrow, '0', 'the whole escrow was forfeited');
      } else {
        assert.equal(view.enrollment.status, 'active');
        assert.equal(result?.penalty, '1660');
        assert.equal(BigInt(view.escrow), REWARD - 1660n);
      }
    }
  });

  it('credits the aggregator with every penalty and the forfeit, and the supply balances', async () => {
    const { balance } = await evaluate<{ balance: string }>(world.orgs.dso, `${TOKENS}:GetBalance`, { account: 'org:AggregatorMSP' });
    assert.equal(BigInt(balance) - aggregatorBefore, 31n * 1660n + REWARD);
    const audit = await evaluate<{ imbalance: string }>(world.orgs.dso, `${TOKENS}:AuditSupply`, {});
    assert.equal(audit.imbalance, '0');
  });

  it('refuses the same batch again item by item (each period settles once), changing nothing', async () => {
    const before = await evaluate<{ balance: string }>(world.orgs.dso, `${TOKENS}:GetBalance`, { account: 'org:AggregatorMSP' });
    const first = fresh[0] as FreshEnrollment;
    const again = await world.prove(first, 0, [40n, 40n, 40n, 40n]);
    const items = fresh.slice(0, 4).map((f) => world.signedSubmission(f, 0, again.proof, again.publicSignals));
    const { result } = await submit<{ outcomes: ItemOutcome[] }>(world.orgs.aggregator, `${PROGRAMS}:SubmitPeriods`, { items });
    assert.deepEqual(result.outcomes.map((o) => [o.outcome, o.code]), items.map(() => ['refused', 'CONFLICT']));
    const after = await evaluate<{ balance: string }>(world.orgs.dso, `${TOKENS}:GetBalance`, { account: 'org:AggregatorMSP' });
    assert.equal(after.balance, before.balance);
  });
});
