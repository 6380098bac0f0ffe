/**
 * The DR program life cycle on the real network with real Groth16 proofs: governance of
 * the verification key, the flexibility market, enrollments accepted with prosumer
 * signatures, periods settled by on-chain verification (no deviation, deviation with a
 * penalty, an invalid proof that excludes), a missed period claimed, close and order
 * settlement. Periods last 3 s so that a whole day runs in about a minute and a half.
 */
import assert from 'node:assert/strict';
import type { Contract } from '@hyperledger/fabric-gateway';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  ACTION_ACCEPT_ENROLLMENT,
  ACTION_SUBMIT_PERIOD,
  enrollmentTerms,
  signPayload,
  verificationKeyHash,
  type schemas,
  type EnrollmentTerms,
} from '@flexproof/protocol';
import {
  SMALL_CIRCUIT_ID,
  buildDeviationInput,
  ensureArtifacts,
  fingerprint,
  proveDeviation,
  randomSalt,
  readVerificationKey,
  requestCommitment,
  submissionHash,
  type CircuitArtifacts,
  type DeviationProof,
} from '@flexproof/circuits';
import { assertRefused, connectOrgs, evaluate, networkFacts, submit, type OrgClients } from '../../support/ledger';

const METERS = 'org.flexproof.meters';
const TOKENS = 'org.flexproof.tokens';
const MARKET = 'org.flexproof.market';
const PROGRAMS = 'org.flexproof.programs';
const VERIFIERS = 'org.flexproof.verifiers';

const PERIOD_SECONDS = 3;
const GRACE_SECONDS = 30; // wide enough for a proof made on a loaded machine (13 s seen) before period 0 closes
const REWARD = 2400n;
const RATE_PER_WH = 2n;
const TOLERANCE_WH = 10n;
const PRICE = 2400n;
const OFFERED_WH = 1000n;
const REQUEST_WH = 1000n; // every prosumer's private request: 1000 Wh in each hour

interface Site {
  name: string;
  meterId: string;
  prosumerId: string;
  privateKey: KeyObject;
  publicKeyPem: string;
  enrollmentId: string;
  flexWh: bigint;
  profile: bigint[];
  commitmentSalt: bigint;
}

const sleepUntil = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms - Date.now())));

describe('chaincode on the real network: DR programs settled by Groth16 verification', function () {
  this.timeout(240_000);
  const run = Date.now().toString(36);
  const circuitId = `${SMALL_CIRCUIT_ID}.t${run}`; // the ledger's name for this run's key
  const orderId = `order-${run}`;
  let orgs: OrgClients;
  let artifacts: CircuitArtifacts;
  let startMs: number;
  const sites: Site[] = ['a', 'b', 'c'].map((name, i) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return {
      name,
      meterId: `meter-${run}-${name}`,
      prosumerId: `prosumer-${run}-${name}`,
      privateKey,
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      enrollmentId: `enr-${run}-${name}`,
      flexWh: [600n, 400n, 0n][i]!,
      profile: Array.from({ length: 24 }, () => REQUEST_WH),
      commitmentSalt: randomSalt(),
    };
  });
  const [siteA, siteB, siteC] = sites as [Site, Site, Site];
  // Read once the network is up (the global fixture starts it after the files are loaded).
  let facts: ReturnType<typeof networkFacts>;
  let target: { channel: string; chaincode: string };
  const endOf = (p: number) => startMs + (p + 1) * PERIOD_SECONDS * 1000;
  const deadlineOf = (p: number) => endOf(p) + GRACE_SECONDS * 1000;
  /** A missed period is claimable once its deadline plus the clock skew has passed (THREATS.md T1). */
  const claimableOf = (p: number) => deadlineOf(p) + facts.maxClockSkewSeconds * 1000;
  const balance = async (account: string) =>
    BigInt((await evaluate<{ balance: string }>(orgs.dso, `${TOKENS}:GetBalance`, { account })).balance);
  const enrollment = (site: Site) =>
    evaluate<{ enrollment: schemas.Enrollment; escrow: string }>(orgs.aggregator, `${PROGRAMS}:GetEnrollment`, { enrollmentId: site.enrollmentId });

  async function prove(site: Site, periodIndex: number, prev: bigint, readings: bigint[], fpSalt: bigint): Promise<DeviationProof> {
    const input = buildDeviationInput({
      circuitId: SMALL_CIRCUIT_ID,
      prevFingerprint: prev,
      periodIndex,
      readings,
      requestProfile: site.profile,
      commitmentSalt: site.commitmentSalt,
      fingerprintSalt: fpSalt,
    });
    return proveDeviation(SMALL_CIRCUIT_ID, input, artifacts);
  }

  function signedSubmission(site: Site, periodIndex: number, proof: unknown, publicSignals: string[]) {
    const payload = {
      type: ACTION_SUBMIT_PERIOD,
      ...target,
      enrollmentId: site.enrollmentId,
      meterId: site.meterId,
      prosumerId: site.prosumerId,
      circuitId,
      periodIndex,
      submissionHash: submissionHash(proof as never, publicSignals),
    } as const;
    return { payload, signature: signPayload(payload, site.privateKey), proof, publicSignals };
  }

  /** Submits a period and prints how long endorsement (both chaincodes, verification included) and commit took. */
  async function timedSubmitPeriod(contract: Contract, submission: unknown, label: string): Promise<{ outcome: string }> {
    const t0 = Date.now();
    const transaction = await contract.newProposal(`${PROGRAMS}:SubmitPeriod`, { arguments: [JSON.stringify(submission)] }).endorse();
    const endorsedMs = Date.now() - t0;
    const status = await (await transaction.submit()).getStatus();
    assert.equal(status.successful, true, `SubmitPeriod committed with validation code ${status.code}`);
    console.log(`      ${label}: endorsed by both peers (chaincode incl. Groth16 verification) in ${endorsedMs} ms, committed ${Date.now() - t0} ms after submit`);
    return JSON.parse(new TextDecoder().decode(transaction.getResult())) as { outcome: string };
  }

  before(async () => {
    facts = networkFacts();
    target = { channel: facts.channel, chaincode: facts.chaincode };
    artifacts = await ensureArtifacts(SMALL_CIRCUIT_ID);
    orgs = await connectOrgs();
  });
  after(() => orgs?.close());

  it('activates a verification key only when the other organisation approves the proposal', async () => {
    const verificationKey = readVerificationKey(artifacts);
    const keyHash = verificationKeyHash(verificationKey);
    await submit(orgs.dso, `${VERIFIERS}:ProposeVerificationKey`, { circuitId, verificationKey });
    await assertRefused(orgs.dso.submitTransaction(`${VERIFIERS}:ApproveVerificationKey`, JSON.stringify({ circuitId, keyHash })), 'FORBIDDEN');
    await assertRefused(
      orgs.aggregator.submitTransaction(`${VERIFIERS}:ApproveVerificationKey`, JSON.stringify({ circuitId, keyHash: '0'.repeat(64) })),
      'RULE_VIOLATION',
    );
    await submit(orgs.aggregator, `${VERIFIERS}:ApproveVerificationKey`, { circuitId, keyHash });
    const record = await evaluate<{ status: string; keyHash: string }>(orgs.aggregator, `${VERIFIERS}:GetVerificationKey`, { circuitId });
    assert.equal(record.status, 'active');
    assert.equal(record.keyHash, keyHash);
  });

  it('registers meters, funds the organisations, orders flexibility, and enrolls three prosumers with escrowed rewards', async () => {
    for (const site of sites) {
      await submit(orgs.dso, `${METERS}:RegisterMeter`, {
        meterId: site.meterId, prosumerId: site.prosumerId, publicKeyPem: site.publicKeyPem, congestionPoint: `cp-${run}`,
      });
    }
    await submit(orgs.dso, `${TOKENS}:Mint`, { account: 'org:AggregatorMSP', amount: '100000' });
    await submit(orgs.dso, `${TOKENS}:Mint`, { account: 'org:DsoMSP', amount: '100000' });
    const day = new Date().toISOString().slice(0, 10);
    const perIsp = (v: bigint) => Array.from({ length: 24 }, () => v.toString());
    await submit(orgs.dso, `${MARKET}:CreateFlexRequest`, { requestId: `req-${run}`, congestionPoint: `cp-${run}`, day, requestedWh: perIsp(OFFERED_WH) });
    await submit(orgs.aggregator, `${MARKET}:SubmitFlexOffer`, { offerId: `offer-${run}`, requestId: `req-${run}`, offeredWh: perIsp(OFFERED_WH), price: PRICE.toString() });
    await submit(orgs.dso, `${MARKET}:AcceptFlexOffer`, { orderId, offerId: `offer-${run}` });

    startMs = Math.ceil((Date.now() + 12_000) / 1000) * 1000;
    for (const site of sites) {
      await submit(orgs.aggregator, `${PROGRAMS}:OfferEnrollment`, {
        enrollmentId: site.enrollmentId, orderId, meterId: site.meterId, circuitId,
        requestCommitment: requestCommitment(site.profile, site.commitmentSalt).toString(),
        reward: REWARD.toString(), ratePerWh: RATE_PER_WH.toString(), toleranceWh: TOLERANCE_WH.toString(),
        flexWh: perIsp(site.flexWh), startTime: new Date(startMs).toISOString().replace('.000Z', 'Z'),
        periodSeconds: PERIOD_SECONDS, graceSeconds: GRACE_SECONDS,
      });
      const offered = (await enrollment(site)).enrollment;
      const payload = { type: ACTION_ACCEPT_ENROLLMENT, ...target, nonce: '1', ...enrollmentTerms(offered as EnrollmentTerms) } as const;
      const accept = { payload, signature: signPayload(payload, site.privateKey) };
      await submit(orgs.dso, `${PROGRAMS}:AcceptEnrollment`, accept); // relayed by either organisation
      await assertRefused(orgs.aggregator.submitTransaction(`${PROGRAMS}:AcceptEnrollment`, JSON.stringify(accept)), 'REPLAY');
      await submit(orgs.aggregator, `${PROGRAMS}:DepositReward`, { enrollmentId: site.enrollmentId });
      const funded = await enrollment(site);
      assert.equal(funded.enrollment.status, 'active');
      assert.equal(funded.escrow, REWARD.toString());
    }
    assert.ok(Date.now() < endOf(0), 'set-up must finish before the first period ends');
  });

  let headA = 0n;
  it('settles a valid proof with no deviation: nothing leaves the escrow, the chain head moves', async () => {
    const salt = randomSalt();
    const readings = [250n, 250n, 250n, 250n];
    const { proof, publicSignals } = await prove(siteA, 0, 0n, readings, salt);
    const submission = signedSubmission(siteA, 0, proof, publicSignals);
    await sleepUntil(endOf(0) + 200);
    const aggregatorBefore = await balance('org:AggregatorMSP');
    const outcome = await timedSubmitPeriod(orgs.aggregator, submission, 'period 0');
    assert.equal(outcome.outcome, 'verified');
    const after = await enrollment(siteA);
    headA = fingerprint(0n, salt, 0, readings);
    assert.equal(after.enrollment.chainHead, headA.toString());
    assert.equal(after.escrow, REWARD.toString());
    assert.equal(await balance('org:AggregatorMSP'), aggregatorBefore);
    // The same period again is refused, however it is signed.
    await assertRefused(orgs.dso.submitTransaction(`${PROGRAMS}:SubmitPeriod`, JSON.stringify(submission)), 'CONFLICT');
  });

  it('settles a valid proof with a deviation: rate x (deviation - tolerance) goes to the aggregator', async () => {
    const readings = [250n, 250n, 250n, 295n]; // 1045 Wh against 1000 requested: 45 Wh over
    const { proof, publicSignals } = await prove(siteA, 1, headA, readings, randomSalt());
    const submission = signedSubmission(siteA, 1, proof, publicSignals);
    await sleepUntil(endOf(1) + 200);
    const aggregatorBefore = await balance('org:AggregatorMSP');
    const result = (await timedSubmitPeriod(orgs.dso, submission, 'period 1')) as {
      outcome: string; result: { deviationWh: string; penalty: string; direction: string } };
    const penalty = RATE_PER_WH * (45n - TOLERANCE_WH);
    assert.equal(result.outcome, 'verified');
    assert.equal(result.result.deviationWh, '45');
    assert.equal(result.result.direction, '1');
    assert.equal(result.result.penalty, penalty.toString());
    assert.equal((await enrollment(siteA)).escrow, (REWARD - penalty).toString());
    assert.equal(await balance('org:AggregatorMSP'), aggregatorBefore + penalty);
  });

  it('an invalid proof signed by the prosumer commits: the whole escrow is forfeited, enrollment and meter excluded', async () => {
    // 1200 Wh against 1000: the tampered proof claims no deviation.
    const { proof, publicSignals } = await prove(siteB, 0, 0n, [300n, 300n, 300n, 300n], randomSalt());
    const tampered = [...publicSignals];
    tampered[1] = '0';
    const aggregatorBefore = await balance('org:AggregatorMSP');
    const { result } = await submit<{ outcome: string }>(orgs.aggregator, `${PROGRAMS}:SubmitPeriod`, signedSubmission(siteB, 0, proof, tampered));
    assert.equal(result.outcome, 'invalidProof');
    const after = await enrollment(siteB);
    assert.equal(after.enrollment.status, 'excluded');
    assert.equal(after.escrow, '0');
    assert.equal(await balance('org:AggregatorMSP'), aggregatorBefore + REWARD);
    const meter = await evaluate<{ status: string }>(orgs.dso, `${METERS}:GetMeter`, { meterId: siteB.meterId });
    assert.equal(meter.status, 'excluded');
    // Nothing more is accepted for it, not even an honest proof of the next period.
    const honest = await prove(siteB, 1, 0n, [250n, 250n, 250n, 250n], randomSalt());
    await sleepUntil(endOf(1) + 200);
    await assertRefused(
      orgs.aggregator.submitTransaction(`${PROGRAMS}:SubmitPeriod`, JSON.stringify(signedSubmission(siteB, 1, honest.proof, honest.publicSignals))),
      'EXCLUDED',
    );
  });

  it('lets the aggregator claim a missed period only after its deadline plus the clock skew', async () => {
    const claim = { enrollmentId: siteC.enrollmentId, periodIndex: 0 };
    if (Date.now() < claimableOf(0) - 500) {
      await assertRefused(orgs.aggregator.submitTransaction(`${PROGRAMS}:ClaimMissedPeriod`, JSON.stringify(claim)), 'RULE_VIOLATION');
    }
    await assertRefused(orgs.dso.submitTransaction(`${PROGRAMS}:ClaimMissedPeriod`, JSON.stringify(claim)), 'FORBIDDEN');
    await sleepUntil(claimableOf(0) + 500);
    const { result } = await submit<{ result: { outcome: string; claimed: string } }>(orgs.aggregator, `${PROGRAMS}:ClaimMissedPeriod`, claim);
    assert.equal(result.result.outcome, 'missed');
    assert.equal(result.result.claimed, (REWARD / 24n).toString());
  });

  it('after the day, closing releases what is left of the escrow to the prosumer', async () => {
    await sleepUntil(claimableOf(23) + 500);
    for (const [site, from] of [[siteA, 2], [siteC, 1]] as const) {
      for (let p = from; p < 24; p++) {
        await submit(orgs.aggregator, `${PROGRAMS}:ClaimMissedPeriod`, { enrollmentId: site.enrollmentId, periodIndex: p });
      }
      await submit(orgs.aggregator, `${PROGRAMS}:CloseEnrollment`, { enrollmentId: site.enrollmentId });
    }
    const share = REWARD / 24n;
    const releasedA = REWARD - RATE_PER_WH * (45n - TOLERANCE_WH) - 21n * share - (REWARD - 23n * share);
    assert.equal((await enrollment(siteA)).enrollment.status, 'closed');
    assert.equal(await balance(`prosumer:${siteA.prosumerId}`), releasedA);
    assert.equal(await balance(`prosumer:${siteC.prosumerId}`), 0n);
  });

  it('settles the order from the verified deviations: price minus the penalty for deficiency', async () => {
    const aggregatorBefore = await balance('org:AggregatorMSP');
    const dsoBefore = await balance('org:DsoMSP');
    await submit(orgs.aggregator, `${MARKET}:SettleFlexOrder`, { orderId });
    // Delivered per ISP: A 600 Wh in ISP 0 (no deviation) and 600 - 45 in ISP 1, nothing
    // in missed periods; B nothing (excluded in ISP 0); C contributes 0.
    const delivered = Array.from({ length: 24 }, (_, p): bigint => (p === 0 ? 600n : p === 1 ? 555n : 0n));
    const deficiency = delivered.reduce((sum: bigint, d) => sum + (OFFERED_WH > d ? OFFERED_WH - d : 0n), 0n);
    const penalty = (PRICE * deficiency) / (OFFERED_WH * 24n);
    assert.equal(await balance('org:AggregatorMSP'), aggregatorBefore + PRICE - penalty);
    assert.equal(await balance('org:DsoMSP'), dsoBefore + penalty);
    await assertRefused(orgs.aggregator.submitTransaction(`${MARKET}:SettleFlexOrder`, JSON.stringify({ orderId })), 'CONFLICT');
  });

  it('keeps the token supply invariant: minted - burned = all balances and escrows', async () => {
    const supply = await evaluate<{ minted: string; burned: string; outstanding: string }>(orgs.dso, `${TOKENS}:GetSupply`, {});
    const { accounts } = await evaluate<{ accounts: { balance: string }[] }>(orgs.dso, `${TOKENS}:GetBalances`, {});
    const total = accounts.reduce((sum, b) => sum + BigInt(b.balance), 0n);
    assert.equal(BigInt(supply.minted) - BigInt(supply.burned), total);
    assert.equal(BigInt(supply.outstanding), total);
  });
});
