// The edge node end to end without a network: readings in, proofs and signed periods out
// to a FakeGateway that behaves like the gateway in front of the chaincode (signature,
// order, chain head, settle once, real Groth16 verification where asked). The clock is
// controlled; proofs are real (small circuit, under a second each).
import assert from 'node:assert/strict';
import { decodePublicSignals, fingerprint } from '@flexproof/circuits';
import { openPeriod } from '@flexproof/protocol';
import { GatewayError, GENESIS_FINGERPRINT, periodFingerprintSalt, STATE_FILE, statusReport } from '@flexproof/edge-client';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { Harness, HOUR, T0 } from './support/node-harness';

describe('edge-client: edge node with a fake gateway', function () {
  this.timeout(120_000);
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close().catch(() => undefined);
    h?.cleanup();
    h = undefined;
  });

  it('proves, signs, submits and uploads a period after it ends; the fingerprint chains on the ledger head', async () => {
    h = await Harness.create({ verify: true });
    await h.feed(T0, T0 + HOUR - HOUR / 4);
    await h.advance(T0 + HOUR - 1);
    assert.equal(h.period(0), undefined, 'nothing before the period ends');
    await h.feed(T0 + HOUR, T0 + HOUR);
    await h.advance(T0 + HOUR);
    const p0 = h.period(0);
    assert.equal(p0?.status, 'settled');
    assert.equal(p0?.outcome, 'verified');
    assert.deepEqual(p0?.readings, ['250', '250', '250', '250']);
    assert.equal(p0?.deviationWh, String(1000 - 800));
    const salt = periodFingerprintSalt(h.site.config.siteSecret, 'meter-17', 'enr-1', 0);
    assert.equal(p0?.newFingerprint, fingerprint('0', salt, 0, [250, 250, 250, 250]).toString());
    const stored = h.gateway.uploads.get('meter-17/enr-1/0');
    assert.ok(stored, 'the sealed document of period 0 is in the store');
    const opened = await openPeriod(stored.jwe, h.site.sealingKey.privateKey, { meterId: 'meter-17', enrollmentId: 'enr-1', periodIndex: 0 });
    assert.deepEqual({ readings: opened.readings, fingerprintSalt: opened.fingerprintSalt }, { readings: ['250', '250', '250', '250'], fingerprintSalt: salt.toString() });
    await h.feed(T0 + HOUR + HOUR / 4, T0 + 2 * HOUR);
    await h.advance(T0 + 2 * HOUR);
    const body = JSON.parse(h.gateway.bodies.get('enr-1/1')?.[0] ?? '{}') as { publicSignals: string[] };
    assert.equal(decodePublicSignals(body.publicSignals).prevFingerprint, p0?.newFingerprint);
    assert.equal(h.period(1)?.outcome, 'verified');
  });

  it('gateway down for several periods, then back: every period submitted once, in order, with the same bytes', async () => {
    h = await Harness.create({ graceSeconds: 86_400 });
    h.gateway.down = true;
    for (let p = 0; p < 4; p++) {
      await h.feed(T0 + p * HOUR + (p === 0 ? 0 : HOUR / 4), T0 + (p + 1) * HOUR);
      await h.advance(T0 + (p + 1) * HOUR, 2);
    }
    assert.deepEqual([0, 1, 2, 3].map((p) => h!.period(p)?.status), ['proven', 'proven', 'proven', 'proven'], 'proven locally, kept as the outbox');
    const report = await statusReport(h.site.config, h.now);
    assert.equal(report.enrollments[0]?.counts.proven, 4);
    h.gateway.down = false;
    await h.stepUntil(() => h!.period(3)?.status === 'settled');
    const accepted = h.gateway.submitted().filter((s) => s.ok).map((s) => s.periodIndex);
    assert.deepEqual(accepted, [0, 1, 2, 3], 'each period accepted once, in order');
    for (let p = 0; p < 4; p++) {
      const bodies: string[] = h.gateway.bodies.get(`enr-1/${p}`) ?? [];
      assert.equal(new Set(bodies).size, 1, `period ${p}: one body, however many attempts`);
      assert.equal(h.period(p)?.outcome, 'verified');
    }
    await h.stepUntil(() => h!.gateway.uploads.size === 4);
    assert.equal(h.gateway.uploads.size, 4);
  });

  it('resumes after a restart where it stopped and resends the identical body of a period already sent', async () => {
    h = await Harness.create({ graceSeconds: 86_400 });
    await h.feed(T0, T0 + 2 * HOUR);
    // The key lookup answers, the submission does not: the body went out, no answer came back.
    h.gateway.downOps.add('submit');
    await h.advance(T0 + 2 * HOUR, 2);
    assert.equal(h.period(0)?.status, 'submitted', 'sent while the gateway was down');
    const before = h.period(0)?.body;
    await h.close();
    await h.open();
    h.gateway.downOps.clear();
    await h.stepUntil(() => h!.period(1)?.status === 'settled');
    assert.equal(h.period(0)?.body, before);
    assert.deepEqual(h.gateway.submitted().filter((s) => s.ok).map((s) => s.periodIndex), [0, 1]);
    assert.equal(new Set(h.gateway.bodies.get('enr-1/0')).size, 1);
  });

  it('re-proves on the real chain head when an earlier period was missed, before sending anything for it', async () => {
    h = await Harness.create({ verify: true, graceSeconds: 86_400 });
    h.gateway.down = true;
    await h.feed(T0, T0 + 3 * HOUR);
    await h.advance(T0 + 3 * HOUR, 1);
    const optimistic = h.period(2)?.prevFingerprint;
    assert.equal(optimistic, h.period(1)?.newFingerprint, 'proven while cut off, assuming period 1 verifies');
    // While the site was cut off, the aggregator claimed period 1 (as after its deadline).
    h.gateway.missPeriod('enr-1', 1);
    h.gateway.down = false;
    await h.stepUntil(() => h!.period(2)?.status === 'settled');
    assert.equal(h.period(1)?.outcome, 'missed');
    assert.equal(h.period(2)?.outcome, 'verified');
    assert.notEqual(h.period(2)?.prevFingerprint, optimistic);
    assert.equal(h.period(2)?.prevFingerprint, h.period(0)?.newFingerprint);
    assert.ok(h.logger.lines.some((l) => l.event === 'period.reproving'));
  });

  it('a period proven again keeps the readings and registers it was closed with, so the next period still opens at its close', async () => {
    h = await Harness.create({ verify: true, graceSeconds: 86_400 });
    h.gateway.down = true;
    // Readings 7 minutes off every boundary: a register at a boundary is interpolated, and
    // a reading arriving after a period closed would interpolate its closing register anew.
    await h.feed(T0 + 7 * 60_000, T0 + 3 * HOUR - 8 * 60_000);
    await h.advance(T0 + 3 * HOUR, 1);
    const before = h.period(2);
    assert.equal(before?.status, 'proven');
    await h.feed(T0 + 3 * HOUR + 7 * 60_000, T0 + 4 * HOUR - 8 * 60_000);
    await h.advance(T0 + 4 * HOUR, 1);
    assert.equal(h.period(3)?.openingRegisterWh, before?.closingRegisterWh);
    // The aggregator claimed period 1 meanwhile: periods 2 and 3 are proven again on the real head.
    h.gateway.missPeriod('enr-1', 1);
    h.gateway.down = false;
    await h.stepUntil(() => h!.period(3)?.status === 'settled');
    const after = h.period(2);
    assert.notEqual(after?.prevFingerprint, before?.prevFingerprint, 'proven again on another head');
    assert.deepEqual([after?.readings, after?.openingRegisterWh, after?.closingRegisterWh, after?.messageCount], [before?.readings, before?.openingRegisterWh, before?.closingRegisterWh, before?.messageCount]);
    assert.equal(h.period(3)?.openingRegisterWh, after?.closingRegisterWh, 'no energy between periods 2 and 3');
    assert.deepEqual([2, 3].map((p) => h!.period(p)?.outcome), ['verified', 'verified']);
  });

  it('catches up after falling behind: periods past their last chance are skipped before proving, the current one is proven and sent', async () => {
    h = await Harness.create({ verify: true, graceSeconds: 900 });
    // The node was stalled (a submission hanging while an orderer died): it sees three
    // hours of readings only at T0 + 3 h, when the deadlines of periods 0 and 1 (end + 15 min) are gone.
    await h.feed(T0, T0 + 3 * HOUR);
    // On the ledger those two periods are past their deadline (the fake ledger needs them claimed to let period 2 in).
    h.gateway.missPeriod('enr-1', 0);
    h.gateway.missPeriod('enr-1', 1);
    await h.advance(T0 + 3 * HOUR, 1);
    await h.stepUntil(() => h!.period(2)?.status === 'settled');
    assert.deepEqual([0, 1].map((p) => [h!.period(p)?.status, h!.period(p)?.lastError?.code, h!.period(p)?.body]), [['rejected', 'LEFT_FOR_CLAIM', ''], ['rejected', 'LEFT_FOR_CLAIM', '']]);
    assert.deepEqual(h.logger.lines.filter((l) => l.event === 'period.proven').map((l) => l.fields.periodIndex), [2], 'nothing proven for the periods past their deadline');
    assert.deepEqual(h.logger.lines.filter((l) => l.event === 'period.skipped').map((l) => l.fields.periodIndex), [0, 1]);
    assert.equal(h.logger.lines.filter((l) => l.event === 'period.expired').length, 0, 'nothing proven and then found late');
    assert.deepEqual(h.gateway.submitted().map((s) => s.periodIndex), [2], 'nothing was sent for the skipped periods');
    assert.equal(h.period(2)?.outcome, 'verified');
    assert.equal(h.period(2)?.prevFingerprint, GENESIS_FINGERPRINT, 'proven on the ledger head, which the skipped periods never moved');
    // The skipped periods' readings are kept like any other's (period 2 opens at period 1's close) and uploaded sealed.
    assert.deepEqual(h.period(1)?.readings, ['250', '250', '250', '250']);
    assert.equal(h.period(2)?.openingRegisterWh, h.period(1)?.closingRegisterWh);
    await h.stepUntil(() => h!.gateway.uploads.size === 3);
    for (const p of [0, 1]) {
      const stored = h.gateway.uploads.get(`meter-17/enr-1/${p}`);
      assert.ok(stored, `period ${p}'s sealed readings are in the store`);
      const opened = await openPeriod(stored.jwe, h.site.sealingKey.privateKey, { meterId: 'meter-17', enrollmentId: 'enr-1', periodIndex: p });
      assert.deepEqual(opened.readings, ['250', '250', '250', '250']);
    }
    // status shows them left for the claim; no log line carries a reading or the salt.
    const report = await statusReport(h.site.config, h.now);
    assert.deepEqual(report.enrollments[0]?.periods.slice(0, 3).map((l) => l.status), ['claimable', 'claimable', 'settled']);
    assert.equal(report.enrollments[0]?.counts.claimable, 2);
    assert.match(report.enrollments[0]?.periods[0]?.lastError ?? '', /LEFT_FOR_CLAIM .*ClaimMissedPeriod/);
    const skipped = JSON.stringify(h.logger.lines.filter((l) => l.event === 'period.skipped'));
    assert.ok(!skipped.includes('"250"') && !skipped.includes(h.site.config.siteSecret), 'no reading or secret in the skip lines');
  });

  it('gateways out of reach past the deadlines: the late outbox periods are left for the claim, the rest re-proven on the real head and sent in order', async () => {
    h = await Harness.create({ verify: true, graceSeconds: 3 * 3600 });
    h.gateway.down = true;
    // Proven on time, hour by hour, while no gateway answers (on optimistic chain heads).
    for (let p = 0; p < 6; p++) {
      await h.feed(T0 + p * HOUR + (p === 0 ? 0 : HOUR / 4), T0 + (p + 1) * HOUR);
      await h.advance(T0 + (p + 1) * HOUR, 2);
    }
    // By T0 + 6 h periods 0 and 1 (deadline end + 3 h) are past it: left for the claim with no gateway to tell; 2 (deadline now) and 3-5 wait in the outbox.
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((p) => h!.period(p)?.status), ['rejected', 'rejected', 'proven', 'proven', 'proven', 'proven']);
    assert.equal(h.gateway.submitted().length, 0);
    // Back at T0 + 6 h + 30 min.
    for (const p of [0, 1, 2]) h.gateway.missPeriod('enr-1', p);
    h.gateway.down = false;
    await h.advance(T0 + 6 * HOUR + 30 * 60_000, 1);
    await h.stepUntil(() => h!.period(5)?.status === 'settled');
    assert.deepEqual([0, 1, 2].map((p) => [h!.period(p)?.status, h!.period(p)?.lastError?.code]), Array.from({ length: 3 }, () => ['rejected', 'LEFT_FOR_CLAIM']));
    assert.deepEqual(h.gateway.submitted().map((s) => [s.periodIndex, s.ok]), [[3, true], [4, true], [5, true]], 'only the periods inside their deadline, in order, each once');
    assert.deepEqual([3, 4, 5].map((p) => h!.period(p)?.outcome), ['verified', 'verified', 'verified']);
    assert.equal(h.period(3)?.prevFingerprint, GENESIS_FINGERPRINT, 're-proven on the head the expired periods never moved');
    assert.equal(h.period(4)?.prevFingerprint, h.period(3)?.newFingerprint);
    assert.deepEqual(h.logger.lines.filter((l) => l.event === 'period.expired').map((l) => [l.fields.periodIndex, l.fields.reason]), [[0, 'send'], [1, 'send'], [2, 'send']]);
    await h.stepUntil(() => h!.gateway.uploads.size === 6);
    assert.equal(h.gateway.uploads.size, 6, 'every period\'s readings are in the store, the expired ones too');
  });

  it('keeps a period refused for good as rejected, logs it loudly and goes on with the next', async () => {
    h = await Harness.create({ graceSeconds: 86_400 });
    await h.feed(T0, T0 + 2 * HOUR);
    const original = h.gateway.submitPeriod.bind(h.gateway);
    h.gateway.submitPeriod = async (e, p, body) => {
      if (p === 0) {
        // As the chaincode after the deadline: period 0 can no longer settle, period 1 can.
        h!.gateway.missPeriod('enr-1', 0);
        throw new GatewayError({ status: 422, code: 'DEADLINE_PASSED', message: 'the deadline of period 0 has passed', retryable: false });
      }
      return original(e, p, body);
    };
    await h.advance(T0 + 2 * HOUR);
    assert.equal(h.period(0)?.status, 'rejected');
    assert.equal(h.period(0)?.lastError?.code, 'DEADLINE_PASSED');
    assert.equal(h.period(1)?.status, 'settled');
    assert.ok(h.logger.lines.some((l) => l.level === 'error' && l.event === 'period.rejected'));
  });

  it('adopts the ledger result when the period was already settled by another submission (state lost)', async () => {
    h = await Harness.create();
    await h.feed(T0, T0 + HOUR);
    await h.advance(T0 + HOUR);
    assert.equal(h.period(0)?.status, 'settled');
    const first = h.period(0)?.submissionHash;
    // The state file is lost (the readings are not): period 0 is proven again, with another proof.
    await h.close();
    rmSync(path.join(h.site.config.dataDir, STATE_FILE));
    await h.open();
    await h.advance(T0 + HOUR);
    assert.equal(h.period(0)?.status, 'settled');
    assert.equal(h.period(0)?.outcome, 'verified');
    assert.notEqual(h.period(0)?.submissionHash, first);
    assert.ok(h.logger.lines.some((l) => l.event === 'period.settled-by-another-submission'));
    assert.equal(h.gateway.submitted().filter((s) => s.ok).length, 1, 'the ledger settled the period once');
  });

  it('tamper switch: signs a corrupted proof at the given period, loudly; the ledger excludes the site', async () => {
    h = await Harness.create({ verify: true, graceSeconds: 86_400, extra: { tamper: { periodIndex: 1 } } });
    assert.ok(h.logger.lines.some((l) => l.level === 'error' && l.event === 'TAMPER.switch-on'));
    await h.feed(T0, T0 + 3 * HOUR);
    await h.advance(T0 + 3 * HOUR);
    assert.equal(h.period(0)?.outcome, 'verified');
    assert.equal(h.period(1)?.outcome, 'invalidProof');
    assert.equal(h.period(1)?.tampered, true);
    assert.ok(h.node.state.data.enrollments['enr-1']?.excludedAt);
    assert.ok(h.logger.lines.some((l) => l.level === 'error' && l.event === 'TAMPER.corrupting-proof'));
    assert.deepEqual(h.gateway.submitted().map((s) => s.periodIndex), [0, 1], 'nothing is submitted after the exclusion');
  });

  it('accepts an offered enrollment with a signature the ledger checks, and waits for it to be active', async () => {
    h = await Harness.create({ status: 'offered' });
    await h.advance(T0);
    assert.ok(h.gateway.calls.some((c) => c.op === 'accept' && c.ok));
    assert.ok(h.node.state.data.enrollments['enr-1']?.acceptedAt);
  });

  it('does nothing for an enrollment whose ledger terms differ from the config', async () => {
    h = await Harness.create();
    const e = h.gateway.enrollments.get('enr-1');
    if (e) e.e.periodSeconds = 1800;
    await h.feed(T0, T0 + HOUR);
    await h.advance(T0 + HOUR);
    assert.equal(h.gateway.submitted().length, 0);
    assert.ok(h.logger.lines.some((l) => l.level === 'error' && l.event === 'enrollment.terms-mismatch'));
  });

  it('an absurd register value is dropped, counted and never stored, so later genuine readings still count (T10)', async () => {
    h = await Harness.create({ extra: { ratedPowerW: 10_000 } });
    h.now = T0 + HOUR;
    const ingest = (ts: number, registerWh: number | string) => h!.node.ingest(JSON.stringify({ ts, registerWh }));
    assert.equal((await ingest(T0, 1_000_000)).ok, true);
    const outcomes = [
      await ingest(T0 + 60_000, 1_000_000 + 1_000_000_000), // a gigawatt-hour in a minute
      await ingest(T0 + 120_000, 2 ** 60),
      await ingest(T0 + 180_000, '123456789012345678901234567890'),
      await ingest(T0 + 240_000, -5),
      await ingest(T0 + 300_000, 1_000_000 + 833), // 10 kW for 5 minutes: 833 Wh, within the bound
      await ingest(T0 + 360_000, 1_000_000 + 833 + 2000), // 2 kWh in one minute at 10 kW rated
      await ingest(T0 + 420_000, 999_000), // decreasing
      await ingest(T0 + 900_000, 1_000_000 + 2000),
    ];
    assert.deepEqual(
      outcomes.map((o) => (o.ok ? 'ok' : o.reason)),
      ['REGISTER_JUMP', 'REGISTER_OUT_OF_RANGE', 'REGISTER_OUT_OF_RANGE', 'NEGATIVE_REGISTER', 'ok', 'REGISTER_JUMP', 'REGISTER_DECREASED', 'ok'],
    );
    assert.deepEqual(h.node.readings.readings.map((r) => r.importWh), [1_000_000n, 1_000_833n, 1_002_000n], 'only genuine readings are stored');
    assert.deepEqual(h.node.droppedByReason, { REGISTER_JUMP: 2, REGISTER_OUT_OF_RANGE: 2, NEGATIVE_REGISTER: 1, REGISTER_DECREASED: 1 });
    const jump = h.logger.lines.find((l) => l.event === 'reading.dropped' && l.fields.reason === 'REGISTER_JUMP');
    assert.equal(jump?.level, 'warn');
    assert.match(String(jump?.fields.detail), /rated 10000 W/);
    // Reopened from disk: the absurd values are not there either.
    await h.close();
    await h.open();
    assert.equal(h.node.readings.readings.length, 3);
  });

  it('signs submissions for the configured channel and chaincode; the ledger refuses another', async () => {
    h = await Harness.create({ extra: { ledger: { channel: 'otherchannel', chaincode: 'flexproof' } } });
    await h.feed(T0, T0 + HOUR);
    await h.advance(T0 + HOUR);
    const body = JSON.parse(h.period(0)?.body ?? '{}') as { payload: Record<string, unknown> };
    assert.equal(body.payload.type, 'flexproof.submitPeriod.v2');
    assert.equal(body.payload.channel, 'otherchannel');
    assert.equal(body.payload.chaincode, 'flexproof');
    assert.equal(h.period(0)?.status, 'rejected', 'the fake ledger is flexchannel/flexproof');
    assert.equal(h.period(0)?.lastError?.code, 'BAD_SIGNATURE');
  });

  it('drops every kind of bad message with a log line and never crashes; keeps no secret in its logs', async () => {
    h = await Harness.create();
    h.now = T0 + 1000;
    const messages = ['garbage', '{"ts":"x"}', `{"ts":${T0},"registerWh":-3}`, `{"ts":${T0},"registerWh":"NaN"}`, `{"ts":${T0},"registerWh":100}`, `{"ts":${T0},"registerWh":100}`, `{"ts":${T0 - 1},"registerWh":100}`, `{"ts":${T0 + 1},"registerWh":99}`, `{"ts":${T0 + 2},"registerWh":101}`];
    const outcomes = [];
    for (const m of messages) outcomes.push(await h.node.ingest(m));
    assert.deepEqual(outcomes.map((o) => (o.ok ? 'ok' : o.reason)), ['NOT_JSON', 'BAD_TIMESTAMP', 'NEGATIVE_REGISTER', 'NOT_NUMERIC', 'ok', 'DUPLICATE_TIMESTAMP', 'OUT_OF_ORDER', 'REGISTER_DECREASED', 'ok']);
    assert.deepEqual(h.node.counters, { accepted: 2, dropped: 7 });
    assert.equal(h.logger.lines.filter((l) => l.event === 'reading.dropped').length, 7);
    await h.feed(T0 + HOUR / 4, T0 + HOUR);
    await h.advance(T0 + HOUR);
    const text = JSON.stringify(h.logger.lines);
    assert.ok(!text.includes(h.site.config.siteSecret));
    assert.ok(!text.includes(h.site.config.enrollments[0]!.commitmentSalt));
  });
});
