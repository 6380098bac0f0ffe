// The edge node with import and export registers (issue 14): a v2 (flexnet-v2-r4)
// enrollment proves signed net energy (import minus export) against a signed request,
// real Groth16 proofs checked by the fake gateway; the sealed document carries both
// registers' interval energies; the export register chains from period to period. A v1
// enrollment at an exporting meter keeps proving import only and says so once. The
// node decodes what config.meterFormat names and counts what it refuses.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SMALL_CIRCUIT_ID, SMALL_NET_CIRCUIT_ID, decodePublicSignals, fingerprint, fingerprintFor, periodDeviationFor } from '@flexproof/circuits';
import { openPeriod } from '@flexproof/protocol';
import { formatStatus, periodFingerprintSalt, READINGS_FILE, readRejectCounts, statusReport } from '@flexproof/edge-client';
import { Harness, HOUR, T0 } from './support/node-harness';

/** A solar household's request: import at night, at hours 0 and 1 an export of 600 and 300 Wh asked for (less than it would). */
const NET_REQUEST = Array.from({ length: 24 }, (_, h) => String(h === 0 ? -600 : h === 1 ? -300 : 900));
const PLACE = (p: number) => ({ meterId: 'meter-17', enrollmentId: 'enr-1', periodIndex: p });

describe('edge-client: import and export registers in the node (v2 net energy)', function () {
  this.timeout(180_000);
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close().catch(() => undefined);
    h?.cleanup();
    h = undefined;
  });

  it('a v2 enrollment proves import minus export against a negative request; verified, sealed with both registers', async () => {
    h = await Harness.create({ verify: true, circuitId: SMALL_NET_CIRCUIT_ID, requestProfile: NET_REQUEST });
    // 100 Wh imported and 400 Wh exported per quarter: net -1200 Wh in the hour, 600 more export than asked.
    await h.feedNet(T0, T0 + HOUR, 100, 400);
    await h.advance(T0 + HOUR);
    const p0 = h.period(0);
    assert.equal(p0?.status, 'settled');
    assert.equal(p0?.outcome, 'verified', 'the v2 proof verifies against the v2 key');
    assert.deepEqual(p0?.readings, ['100', '100', '100', '100']);
    assert.deepEqual(p0?.exportReadings, ['400', '400', '400', '400']);
    assert.equal(p0?.openingExportRegisterWh, '500000');
    assert.equal(p0?.closingExportRegisterWh, '501600');
    // |(-1200) - (-600)| = 600, measured below requested: direction 0.
    assert.equal(p0?.deviationWh, '600');
    const body = JSON.parse(h.gateway.bodies.get('enr-1/0')?.[0] ?? '{}') as { publicSignals: string[]; payload: { circuitId: string } };
    const signals = decodePublicSignals(body.publicSignals);
    assert.equal(signals.direction, '0');
    assert.equal(body.payload.circuitId, SMALL_NET_CIRCUIT_ID);
    const salt = periodFingerprintSalt(h.site.config.siteSecret, 'meter-17', 'enr-1', 0);
    const expected = fingerprintFor(SMALL_NET_CIRCUIT_ID, { prevFingerprint: '0', fingerprintSalt: salt, periodIndex: 0, importWh: p0.readings, exportWh: p0.exportReadings });
    assert.equal(p0.newFingerprint, expected.toString(), 'the fingerprint covers both registers');
    assert.notEqual(p0.newFingerprint, fingerprint('0', salt, 0, p0.readings).toString());

    await h.stepUntil(() => h!.gateway.uploads.has('meter-17/enr-1/0'));
    const stored = h.gateway.uploads.get('meter-17/enr-1/0');
    assert.ok(stored, 'the sealed document is in the store');
    const opened = await openPeriod(stored.jwe, h.site.sealingKey.privateKey, PLACE(0));
    assert.deepEqual(opened.readings, p0.readings);
    assert.deepEqual(opened.exportReadings, p0.exportReadings);

    // The next hour opens at the closing registers; after its first quarter (still 100 in,
    // 400 out) the sun is gone: 300 Wh imported and none exported per quarter.
    await h.feedNet(T0 + HOUR + HOUR / 4, T0 + 2 * HOUR, 300, 0);
    await h.advance(T0 + 2 * HOUR);
    const p1 = h.period(1);
    assert.equal(p1?.outcome, 'verified');
    assert.equal(p1?.openingExportRegisterWh, p0.closingExportRegisterWh);
    assert.equal(p1?.openingRegisterWh, p0.closingRegisterWh);
    assert.deepEqual(p1?.readings, ['100', '300', '300', '300']);
    assert.deepEqual(p1?.exportReadings, ['400', '0', '0', '0']);
    const d1 = periodDeviationFor(SMALL_NET_CIRCUIT_ID, NET_REQUEST, 1, p1.readings, p1.exportReadings);
    assert.equal(d1.measured, 600n);
    assert.equal(p1.deviationWh, '900', 'a net import of 600 against an export of 300 asked');
    const s1 = JSON.parse(h.gateway.bodies.get('enr-1/1')?.[0] ?? '{}') as { publicSignals: string[] };
    assert.equal(decodePublicSignals(s1.publicSignals).direction, '1');
  });

  it('a v2 enrollment at a meter without an export register proves with export 0', async () => {
    h = await Harness.create({ verify: true, circuitId: SMALL_NET_CIRCUIT_ID, requestProfile: NET_REQUEST });
    await h.feed(T0, T0 + HOUR, 250);
    await h.advance(T0 + HOUR);
    const p0 = h.period(0);
    assert.equal(p0?.outcome, 'verified');
    assert.deepEqual(p0?.exportReadings, ['0', '0', '0', '0']);
    assert.equal(p0?.closingExportRegisterWh, undefined, 'no export register known');
    assert.equal(p0?.deviationWh, String(1000 + 600));
  });

  it('a v1 enrollment at an exporting meter proves the import register only and warns once', async () => {
    h = await Harness.create({ verify: true, graceSeconds: 86_400, circuitId: SMALL_CIRCUIT_ID });
    await h.feedNet(T0, T0 + 2 * HOUR, 250, 400);
    await h.advance(T0 + 2 * HOUR);
    for (const p of [0, 1]) {
      assert.equal(h.period(p)?.outcome, 'verified', `period ${p}`);
      assert.deepEqual(h.period(p)?.readings, ['250', '250', '250', '250']);
      assert.equal(h.period(p)?.exportReadings, undefined, 'the export is neither proven nor kept for v1');
      assert.equal(h.period(p)?.closingExportRegisterWh, undefined);
    }
    assert.equal(h.period(0)?.deviationWh, String(1000 - 800));
    assert.equal(h.logger.lines.filter((l) => l.event === 'period.export-not-proven').length, 1, 'said once, not every period');
    await h.stepUntil(() => h!.gateway.uploads.has('meter-17/enr-1/0'));
    const opened = await openPeriod(h.gateway.uploads.get('meter-17/enr-1/0')!.jwe, h.site.sealingKey.privateKey, PLACE(0));
    assert.equal(opened.exportReadings, undefined, 'a v1 document, as before');
  });

  it('decodes what meterFormat names (a DSMR P1 telegram over MQTT) and counts every refusal for status', async () => {
    const telegram = readFileSync(path.join(__dirname, '../../fixtures/meters/dsmr-5.0.2-iskra-am550.txt'), 'latin1');
    h = await Harness.create({ extra: { meterFormat: 'dsmr-p1' } });
    // The telegram says 2026-09-09 23:07:49 summer time (UTC+2).
    h.now = Date.parse('2026-09-09T21:07:50Z');
    const accepted = await h.node.ingest(Buffer.from(telegram, 'latin1'));
    assert.ok(accepted.ok, 'the genuine telegram is a reading');
    assert.deepEqual(h.node.readings.last, { ts: Date.parse('2026-09-09T21:07:49Z'), importWh: 14_594_213n + 15_966_058n, exportWh: 117_923n + 352_530n });
    // One digit changed: the CRC no longer matches.
    const corrupted = telegram.replace('1-0:2.8.1(000117.923', '1-0:2.8.1(000118.923');
    const refused = await h.node.ingest(Buffer.from(corrupted, 'latin1'));
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.reason, 'BAD_CRC');
    const garbage = await h.node.ingest('{"ts":1,"registerWh":5}');
    assert.equal(!garbage.ok && garbage.reason, 'BAD_FRAME', 'our JSON is not a telegram');
    const dropped = h.logger.lines.filter((l) => l.event === 'reading.dropped');
    assert.deepEqual(dropped.map((l) => [l.fields.reason, l.fields.meterFormat]), [['BAD_CRC', 'dsmr-p1'], ['BAD_FRAME', 'dsmr-p1']]);
    assert.ok(!JSON.stringify(dropped).includes('118.923') && !JSON.stringify(dropped).includes('14594'), 'no reading value in the log');
    await h.close();
    const counts = await readRejectCounts(path.join(h.site.config.dataDir, READINGS_FILE));
    assert.deepEqual(counts.counts, { BAD_CRC: 1, BAD_FRAME: 1 });
    const report = await statusReport(h.site.config, h.now);
    assert.equal(report.rejected.total, 2);
    assert.equal(report.readings.lastExportRegisterWh, String(117_923 + 352_530));
    const text = formatStatus(report);
    assert.match(text, /messages refused: 2 \((BAD_CRC 1, BAD_FRAME 1|BAD_FRAME 1, BAD_CRC 1)\) since /);
    assert.match(text, /export register 470453 Wh/);
    await h.open();
  });

  it('status of a site that never refused anything says 0', async () => {
    h = await Harness.create();
    const text = formatStatus(await statusReport(h.site.config, h.now));
    assert.match(text, /messages refused: 0\n/);
  });
});
