import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  CouchReadingsStore,
  loadFingerprint,
  meterDatabaseName,
  startEmbeddedCouch,
  StoreConflict,
  tamperWithStoredReadings,
  type EmbeddedCouch,
  type FingerprintFn,
} from '@flexproof/gateway-api';
import { FakeLedgerForTests } from './support/fake-ledger';
import { bearer, buildTestGateway, registerTestMeter, signed } from './support/gateway';

describe('gateway raw-data store (embedded CouchDB-protocol server, nano) and tamper audit', () => {
  let dir: string;
  let couch: EmbeddedCouch;
  let fingerprint: FingerprintFn;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'flexproof-store-'));
    couch = await startEmbeddedCouch({ dataDir: dir, port: 0 });
    fingerprint = await loadFingerprint();
  });
  after(async () => {
    await couch.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on loopback only and keeps one database per meter, with injective names', async () => {
    assert.match(couch.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const names = ['Meter.A', 'meter$a', 'meter-a', 'M'.repeat(128)].map(meterDatabaseName);
    assert.equal(new Set(names).size, 4);
    for (const n of names) assert.match(n, /^[a-z][a-z0-9_$()+/-]*$/);
    assert.ok(names.every((n) => n.length <= 238));
  });

  it('stores a period once and lists it back; survives a restart (data on disk)', async () => {
    const store = new CouchReadingsStore(couch.url);
    const input = { meterId: 'Meter.7', enrollmentId: 'e-7', periodIndex: 3, readings: ['1', '2', '3', '4'], fingerprintSalt: '77' };
    assert.equal(await store.putPeriod(input), 'created');
    assert.equal(await store.putPeriod(input), 'unchanged');
    await assert.rejects(store.putPeriod({ ...input, readings: ['1', '2', '3', '5'] }), StoreConflict);
    await store.putPeriod({ ...input, enrollmentId: 'e-70', periodIndex: 0 });
    const listed = await store.listPeriods('Meter.7', 'e-7');
    assert.deepEqual(listed.map((p) => [p.enrollmentId, p.periodIndex]), [['e-7', 3]]);
    assert.equal((await store.listPeriods('Meter.7')).length, 2);
    assert.deepEqual(await store.listPeriods('never-seen'), []);

    await couch.close();
    couch = await startEmbeddedCouch({ dataDir: dir, port: 0 });
    assert.equal((await new CouchReadingsStore(couch.url).listPeriods('Meter.7')).length, 2);
  });

  it('reports an unreachable store as unavailable (503 with Retry-After at the API)', async () => {
    const ledger = new FakeLedgerForTests();
    const meter = registerTestMeter(ledger, 'meter-1');
    ledger.addEnrollment({ enrollmentId: 'enr-1', meterId: 'meter-1' });
    const gw = await buildTestGateway({ ledger, store: new CouchReadingsStore('http://127.0.0.1:9') });
    try {
      const res = await gw.app.inject(signed(meter, 'GET', '/v1/edge/meters/meter-1/readings'));
      assert.equal(res.statusCode, 503);
      assert.equal(res.headers['retry-after'], '5');
      assert.deepEqual(res.json(), { code: 'STORE_UNAVAILABLE', message: 'the raw-data store is not reachable; retry later' });
    } finally {
      await gw.app.close();
    }
  });

  it('audits an enrollment: every period matches, then exactly the altered period mismatches', async () => {
    const ledger = new FakeLedgerForTests();
    const meter = registerTestMeter(ledger, 'meter-a');
    const enrollment = ledger.addEnrollment({ enrollmentId: 'enr-a', meterId: 'meter-a' });
    const gw = await buildTestGateway({ ledger, store: new CouchReadingsStore(couch.url), fingerprint: async () => fingerprint });
    try {
      // Four settled periods whose ledger fingerprints chain from the stored readings; period 4 has no data.
      let prev = '0';
      for (let p = 0; p < 5; p++) {
        const readings = [100 + p, 110 + p, 120 + p, 130 + p].map(String);
        const salt = String(1000 + p);
        const next = fingerprint(prev, salt, p, readings).toString();
        enrollment.results[p] = { outcome: 'verified', periodIndex: p, prevFingerprint: prev, newFingerprint: next, txId: `tx${p}` };
        if (p < 4) {
          const url = `/v1/edge/meters/meter-a/periods/${p}/readings?enrollmentId=enr-a`;
          const res = await gw.app.inject(signed(meter, 'PUT', url, { readings, fingerprintSalt: salt }));
          assert.equal(res.statusCode, 201, res.body);
        }
        prev = next;
      }
      enrollment.results[5] = { outcome: 'missed', periodIndex: 5, txId: 'tx5' };

      const clean = await gw.app.inject({ method: 'GET', url: '/v1/enrollments/enr-a/audit', headers: bearer('auditor') });
      assert.equal(clean.statusCode, 200, clean.body);
      assert.deepEqual(clean.json().summary, { match: 4, mismatch: 0, missingData: 1, notVerified: 19 });
      assert.equal(clean.json().periods[4].verdict, 'missingData');
      assert.equal(clean.json().periods[5].verdict, 'notVerified');

      await tamperWithStoredReadings(couch.url, { meterId: 'meter-a', enrollmentId: 'enr-a', periodIndex: 2 }, (r) => {
        r[1] = String(Number(r[1]) - 50);
        return r;
      });
      const audit = await gw.app.inject({ method: 'GET', url: '/v1/enrollments/enr-a/audit', headers: bearer('dso') });
      const verdicts = (audit.json().periods as { verdict: string }[]).map((p) => p.verdict);
      assert.deepEqual(verdicts.slice(0, 5), ['match', 'match', 'mismatch', 'match', 'missingData']);
      assert.equal(audit.json().summary.mismatch, 1);
      assert.doesNotMatch(audit.body, /"readings"/, 'the audit answer holds no reading');
    } finally {
      await gw.app.close();
    }
  });
});
