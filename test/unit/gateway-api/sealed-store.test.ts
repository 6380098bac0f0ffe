/**
 * The sealed-period store on the real embedded server (S6, S8, T9): locked (0700 data
 * directory, generated admin password in a 0600 file, anonymous reads and writes
 * refused), create-once documents, ciphertext only on disk, failures that name no
 * credential, and the insider tool whose edits only a recipient's key can find.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { openPeriod, SealedDataError } from '@flexproof/protocol';
import {
  CouchSealedStore,
  meterDatabaseName,
  readEmbeddedStoreCredentials,
  startEmbeddedCouch,
  STORE_CREDENTIALS_FILE,
  StoreConflict,
  tamperWithSealedDocument,
  type EmbeddedCouch,
} from '@flexproof/gateway-api';
import { FakeLedgerForTests } from './support/fake-ledger';
import { bearer, buildTestGateway, periodPlaintext, registerTestMeter, SEALING_KEYS, sealedFor, signed } from './support/gateway';

describe('gateway sealed-period store (embedded CouchDB-protocol server, locked) and the insider tool', () => {
  let dir: string;
  let dataDir: string;
  let couch: EmbeddedCouch;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'flexproof-store-'));
    dataDir = path.join(dir, 'store');
    couch = await startEmbeddedCouch({ dataDir, port: 0 });
  });
  after(async () => {
    await couch.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const mode = (p: string) => statSync(p).mode & 0o777;

  it('keeps its data in a 0700 directory and a generated admin password in a 0600 file there, reused on restart', async () => {
    assert.match(couch.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(mode(dataDir), 0o700);
    const file = path.join(dataDir, STORE_CREDENTIALS_FILE);
    assert.equal(mode(file), 0o600);
    assert.deepEqual(readEmbeddedStoreCredentials(dataDir), couch.credentials);
    assert.match(couch.credentials.password, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(!couch.url.includes(couch.credentials.password));

    const before = couch.credentials;
    await couch.close();
    couch = await startEmbeddedCouch({ dataDir, port: 0 });
    assert.deepEqual(couch.credentials, before, 'the same credentials after a restart');

    // A data directory that already exists with wider permissions is tightened; another one gets its own password.
    const wide = path.join(dir, 'wide');
    mkdirSync(wide, { mode: 0o755 });
    chmodSync(wide, 0o755);
    const other = await startEmbeddedCouch({ dataDir: wide, port: 0 });
    try {
      assert.equal(mode(wide), 0o700);
      assert.notEqual(other.credentials.password, couch.credentials.password);
    } finally {
      await other.close();
    }
  });

  it('refuses to start on a credentials file others can read, without printing it', async () => {
    const leaky = path.join(dir, 'leaky');
    mkdirSync(leaky, { mode: 0o700 });
    const secret = 'S'.repeat(43);
    writeFileSync(path.join(leaky, STORE_CREDENTIALS_FILE), JSON.stringify({ username: 'flexproof-admin', password: secret }), { mode: 0o644 });
    chmodSync(path.join(leaky, STORE_CREDENTIALS_FILE), 0o644);
    await assert.rejects(startEmbeddedCouch({ dataDir: leaky, port: 0 }), (err: Error) => {
      assert.match(err.message, /readable or writable by others \(mode 644\)/);
      assert.ok(!err.message.includes(secret));
      return true;
    });
  });

  it('refuses anonymous and wrong-password reads and writes with 401, and serves its admin', async () => {
    const admin = { authorization: `Basic ${Buffer.from(`${couch.credentials.username}:${couch.credentials.password}`).toString('base64')}` };
    const wrong = { authorization: `Basic ${Buffer.from(`${couch.credentials.username}:${couch.credentials.password.slice(1)}x`).toString('base64')}` };
    // A database with a document in it, made by the admin.
    const db = meterDatabaseName('meter-locked');
    assert.equal((await fetch(`${couch.url}/${db}`, { method: 'PUT', headers: admin })).status, 201);
    const doc = await fetch(`${couch.url}/${db}/d1`, { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body: '{"x":1}' });
    assert.equal(doc.status, 201);

    const attempts: [string, string, string?][] = [
      ['GET', '/'],
      ['GET', '/_all_dbs'],
      ['GET', `/${db}`],
      ['GET', `/${db}/_all_docs?include_docs=true`],
      ['GET', `/${db}/d1`],
      ['GET', `/${db}/_changes`],
      ['PUT', '/anonymous-db'],
      ['PUT', `/${db}/d2`, '{"y":2}'],
      ['POST', `/${db}`, '{"y":3}'],
      ['POST', `/${db}/_bulk_docs`, '{"docs":[{"y":4}]}'],
      ['DELETE', `/${db}`],
    ];
    for (const headers of [{}, wrong, { authorization: 'Bearer x' }]) {
      for (const [method, url, body] of attempts) {
        const res = await fetch(`${couch.url}${url}`, {
          method,
          headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body } : {}),
        });
        assert.equal(res.status, 401, `${method} ${url} with ${JSON.stringify(Object.keys(headers))}`);
        assert.equal(res.headers.get('www-authenticate'), 'Basic realm="flexproof-store"');
        assert.deepEqual(await res.json(), { error: 'unauthorized', reason: 'this store requires its admin credentials (HTTP Basic)' });
      }
    }
    // Nothing the refused requests sent was applied.
    const all = (await (await fetch(`${couch.url}/_all_dbs`, { headers: admin })).json()) as string[];
    assert.ok(all.includes(db) && !all.includes('anonymous-db'));
    const docs = (await (await fetch(`${couch.url}/${db}/_all_docs`, { headers: admin })).json()) as { total_rows: number };
    assert.equal(docs.total_rows, 1);
    // The URL with credentials works for clients that read them from there (nano, the insider tool).
    assert.equal((await fetch(`${couch.url}/`, { headers: admin })).status, 200);
    assert.ok(couch.urlWithCredentials.startsWith('http://flexproof-admin:'));
  });

  it('stores a sealed document once (created, unchanged, conflict), by its place, and keeps it across a restart', async () => {
    const store = new CouchSealedStore(couch.url, { credentials: couch.credentials });
    const place = { meterId: 'Meter.7', enrollmentId: 'e-7', periodIndex: 3 };
    const jwe = await sealedFor(place);
    assert.equal(await store.putSealedPeriod({ ...place, jwe }), 'created');
    assert.equal(await store.putSealedPeriod({ ...place, jwe: structuredClone(jwe) }), 'unchanged');
    // The same plaintext sealed again is another document (fresh key and IV): a conflict, never a replacement.
    await assert.rejects(store.putSealedPeriod({ ...place, jwe: await sealedFor(place) }), StoreConflict);
    const other = { ...place, enrollmentId: 'e-70', periodIndex: 0 };
    await store.putSealedPeriod({ ...other, jwe: await sealedFor(other) });

    const listed = await store.listSealedPeriods('Meter.7', 'e-7');
    assert.deepEqual(listed.map((p) => [p.enrollmentId, p.periodIndex]), [['e-7', 3]]);
    assert.deepEqual(listed[0]?.jwe, jwe);
    assert.match(listed[0]?.contentHash ?? '', /^[0-9a-f]{64}$/);
    assert.deepEqual(await store.listSealedPeriods('Meter.7', 'e-unknown'), []);
    assert.deepEqual(await store.listSealedPeriods('never-seen', 'e-7'), []);

    await couch.close();
    couch = await startEmbeddedCouch({ dataDir, port: 0 });
    const again = new CouchSealedStore(couch.urlWithCredentials);
    assert.equal((await again.listSealedPeriods('Meter.7', 'e-7')).length, 1);
    assert.equal((await again.listSealedPeriods('Meter.7', 'e-70')).length, 1);
  });

  it('reports an unreachable store, and one that refuses the credentials, as 503 without details; no log line holds the password', async () => {
    const ledger = new FakeLedgerForTests();
    const meter = registerTestMeter(ledger, 'meter-1');
    ledger.addEnrollment({ enrollmentId: 'enr-1', meterId: 'meter-1' });
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const badPassword = `${couch.credentials.password.slice(0, -1)}Z`;
    for (const store of [
      new CouchSealedStore('http://127.0.0.1:9', { credentials: couch.credentials }),
      new CouchSealedStore(couch.url, { credentials: { username: couch.credentials.username, password: badPassword } }),
      new CouchSealedStore(couch.url),
    ]) {
      const gw = await buildTestGateway({ ledger, store, logger: { level: 'trace', stream } });
      try {
        const res = await gw.app.inject(signed(meter, 'GET', '/v1/edge/meters/meter-1/sealed-periods?enrollmentId=enr-1'));
        assert.equal(res.statusCode, 503, res.body);
        assert.equal(res.headers['retry-after'], '5');
        assert.deepEqual(res.json(), { code: 'STORE_UNAVAILABLE', message: 'the raw-data store is not reachable; retry later' });
      } finally {
        await gw.app.close();
      }
    }
    const log = lines.join('');
    assert.match(log, /refused the gateway’s credentials/, 'the log says why');
    for (const secret of [couch.credentials.password, badPassword, Buffer.from(`${couch.credentials.username}:${couch.credentials.password}`).toString('base64')]) {
      assert.ok(!log.includes(secret), 'no credential in the log');
    }
  });

  it('through the gateway: the auditor opens what the edge sealed, stored-periods gives hashes only, the files hold no plaintext, and the insider’s edits show only when opened', async () => {
    const ledger = new FakeLedgerForTests();
    const meter = registerTestMeter(ledger, 'meter-a');
    ledger.addEnrollment({ enrollmentId: 'enr-a', meterId: 'meter-a' });
    const gw = await buildTestGateway({ ledger, store: new CouchSealedStore(couch.url, { credentials: couch.credentials }) });
    try {
      const places = [0, 1, 2, 3].map((periodIndex) => ({ meterId: 'meter-a', enrollmentId: 'enr-a', periodIndex }));
      for (const place of places) {
        const url = `/v1/edge/meters/meter-a/periods/${place.periodIndex}/sealed?enrollmentId=enr-a`;
        const res = await gw.app.inject(signed(meter, 'PUT', url, { jwe: await sealedFor(place) }));
        assert.equal(res.statusCode, 201, res.body);
      }

      const listing = await gw.app.inject({ method: 'GET', url: '/v1/meters/meter-a/sealed-periods?enrollmentId=enr-a', headers: bearer('auditor') });
      assert.equal(listing.statusCode, 200, listing.body);
      const docs = listing.json().periods as { periodIndex: number; jwe: unknown }[];
      assert.deepEqual(docs.map((d) => d.periodIndex), [0, 1, 2, 3]);
      for (const d of docs) {
        const place = { meterId: 'meter-a', enrollmentId: 'enr-a', periodIndex: d.periodIndex };
        const opened = await openPeriod(d.jwe, SEALING_KEYS.auditor.privateKeyPem, place);
        assert.deepEqual(opened.readings, periodPlaintext(place).readings);
        assert.equal(opened.fingerprintSalt, periodPlaintext(place).fingerprintSalt);
      }

      const stored = await gw.app.inject({ method: 'GET', url: '/v1/enrollments/enr-a/stored-periods', headers: bearer('dso') });
      assert.equal(stored.statusCode, 200, stored.body);
      assert.deepEqual(Object.keys(stored.json()).sort(), ['enrollmentId', 'meterId', 'periods']);
      for (const p of stored.json().periods) assert.deepEqual(Object.keys(p).sort(), ['contentHash', 'periodIndex', 'uploadedAt']);

      // Every file the store wrote holds ciphertext only: no reading, no salt. The control
      // (a stretch of one document's ciphertext) shows the scan can find what is there.
      const needles = places.flatMap((p) => [...periodPlaintext(p).readings, periodPlaintext(p).fingerprintSalt]);
      const control = (docs[1]?.jwe as { ciphertext: string }).ciphertext.slice(0, 40);
      let controlFound = false;
      for (const file of filesUnder(dataDir)) {
        const text = readFileSync(file).toString('latin1');
        for (const needle of needles) assert.ok(!text.includes(needle), `${path.relative(dataDir, file)} holds a plaintext value`);
        if (text.includes(control)) controlFound = true;
      }
      assert.ok(controlFound, 'the scan reads the files the documents are in');

      // The insider, with the store's admin credentials: breaks one document, moves another.
      await tamperWithSealedDocument(couch.urlWithCredentials, places[1]!, 'flip-ciphertext');
      await tamperWithSealedDocument({ url: couch.url, credentials: couch.credentials }, places[2]!, { replaceWithPeriod: 0 });
      const after = (await gw.app.inject({ method: 'GET', url: '/v1/meters/meter-a/sealed-periods?enrollmentId=enr-a', headers: bearer('auditor') })).json()
        .periods as { periodIndex: number; jwe: unknown }[];
      const verdicts: string[] = [];
      for (const d of after) {
        try {
          await openPeriod(d.jwe, SEALING_KEYS.auditor.privateKeyPem, { meterId: 'meter-a', enrollmentId: 'enr-a', periodIndex: d.periodIndex });
          verdicts.push('opens');
        } catch (err) {
          assert.ok(err instanceof SealedDataError);
          verdicts.push(err.code);
        }
      }
      assert.deepEqual(verdicts, ['opens', 'UNREADABLE', 'MISPLACED', 'opens']);
      // The prosumer's own key finds the same.
      await assert.rejects(
        openPeriod(after[1]?.jwe, SEALING_KEYS.prosumer.privateKeyPem, places[1]!),
        (err: unknown) => err instanceof SealedDataError && err.code === 'UNREADABLE',
      );
    } finally {
      await gw.app.close();
    }
  });
});

function filesUnder(root: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const p = path.join(root, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(p));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}
