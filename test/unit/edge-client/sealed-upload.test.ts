// Sealed uploads (issue 12, T9): after a period settles, the edge seals its readings and
// fingerprint salt to its own sealing key and the checked, allowed auditor keys, and the
// store (FakeGateway) gets ciphertext only. `readings` opens the site's own documents.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { generateSealingKeyPair, isSealedDataError, openPeriod, sealPeriod, type SealedPeriodJwe } from '@flexproof/protocol';
import { GatewayError, HttpGateway, isEdgeError, periodFingerprintSalt, readOwnPeriod, runEdgeCli as main } from '@flexproof/edge-client';
import { Harness, HOUR, T0 } from './support/node-harness';

/** A reading value that cannot turn up by chance in short base64url text. */
const WH = 12371;
const place = (periodIndex: number) => ({ meterId: 'meter-17', enrollmentId: 'enr-1', periodIndex });

async function settleAndUpload(h: Harness, periods = 1): Promise<void> {
  await h.feed(T0, T0 + periods * HOUR, WH);
  await h.advance(T0 + periods * HOUR);
  await h.stepUntil(() => h.gateway.uploads.size >= periods, 20);
}

function stored(h: Harness, p: number): SealedPeriodJwe {
  const doc = h.gateway.uploads.get(`meter-17/enr-1/${p}`);
  assert.ok(doc, `period ${p} is in the store`);
  return doc.jwe;
}

function kids(jwe: SealedPeriodJwe): string[] {
  return jwe.recipients.map((r) => r.header.kid);
}

async function refusesWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (e: unknown) => isSealedDataError(e) && e.code === code);
}

describe('edge-client: sealed uploads', function () {
  this.timeout(120_000);
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close().catch(() => undefined);
    h?.cleanup();
    h = undefined;
  });

  it('uploads ciphertext only: no reading or salt in any encoding in the body or its decoded fields, nor in the logs', async () => {
    h = await Harness.create({ graceSeconds: 86_400 });
    h.gateway.addAuditor('aud-1');
    await settleAndUpload(h, 2);
    assert.equal(h.gateway.uploadBodies.length, 2);
    for (const p of [0, 1]) {
      const salt = periodFingerprintSalt(h.site.config.siteSecret, 'meter-17', 'enr-1', p).toString();
      const readings: string[] = h.period(p)?.readings ?? [];
      assert.deepEqual(readings, [String(WH), String(WH), String(WH), String(WH)], 'the site still has them');
      const body: string = h.gateway.uploadBodies[p] ?? '';
      const jwe = (JSON.parse(body) as { jwe: SealedPeriodJwe }).jwe;
      // The body's text and every base64url field decoded to bytes (as text).
      const decoded = [jwe.protected, jwe.iv, jwe.ciphertext, jwe.tag, ...jwe.recipients.flatMap((r) => [r.encrypted_key, r.header.epk.x, r.header.epk.y])].map((f) =>
        Buffer.from(f, 'base64url').toString('latin1'),
      );
      for (const text of [body, ...decoded]) {
        assert.ok(!text.includes(salt), 'the salt is not there');
        assert.ok(!text.includes(String(WH)), 'no reading value, quoted or bare');
        assert.ok(!text.includes('readings') && !text.includes('fingerprintSalt'), 'no plaintext member names');
      }
      assert.deepEqual(Object.keys(JSON.parse(body) as object), ['jwe']);
    }
    const logs = JSON.stringify(h.logger.lines);
    assert.ok(!logs.includes(String(WH)), 'no reading in the logs');
    for (const p of [0, 1]) assert.ok(!logs.includes(periodFingerprintSalt(h.site.config.siteSecret, 'meter-17', 'enr-1', p).toString()), 'no salt in the logs');
    const uploaded = h.logger.lines.filter((l) => l.event === 'readings.uploaded');
    assert.deepEqual(uploaded.map((l) => l.fields.recipients), [['site', 'aud-1'], ['site', 'aud-1']]);
  });

  it('the own key and an active auditor’s key both open the document; a lying auditor key is not a recipient', async () => {
    h = await Harness.create();
    const honest = h.gateway.addAuditor('aud-1');
    const liar = h.gateway.addAuditor('aud-liar', { lie: true });
    await settleAndUpload(h);
    const jwe = stored(h, 0);
    const salt = periodFingerprintSalt(h.site.config.siteSecret, 'meter-17', 'enr-1', 0).toString();
    for (const key of [h.site.sealingKey.privateKey, honest.privateKeyPem]) {
      const opened = await openPeriod(jwe, key, place(0));
      assert.deepEqual(opened.readings, h.period(0)?.readings);
      assert.equal(opened.fingerprintSalt, salt);
    }
    assert.deepEqual(kids(jwe), [h.site.sealingKey.keyHash, honest.keyHash]);
    await refusesWith(openPeriod(jwe, liar.privateKeyPem, place(0)), 'NOT_A_RECIPIENT');
    const refused = h.logger.lines.find((l) => l.event === 'auditor-key.refused');
    assert.equal(refused?.level, 'error');
    assert.equal(refused?.fields.auditorId, 'aud-liar');
    assert.equal(refused?.fields.reason, 'KEY_HASH_MISMATCH');
    assert.deepEqual(
      h.period(0)?.sealed?.recipients.map((r) => r.auditorId ?? r.role),
      ['site', 'aud-1'],
      'the state file records who can open it',
    );
  });

  it('seals only to the auditors the config allows', async () => {
    h = await Harness.create({ extra: { auditors: ['aud-2'] } });
    const one = h.gateway.addAuditor('aud-1');
    const two = h.gateway.addAuditor('aud-2');
    await settleAndUpload(h);
    const jwe = stored(h, 0);
    assert.deepEqual(kids(jwe), [h.site.sealingKey.keyHash, two.keyHash]);
    await openPeriod(jwe, two.privateKeyPem, place(0));
    await refusesWith(openPeriod(jwe, one.privateKeyPem, place(0)), 'NOT_A_RECIPIENT');
    assert.deepEqual(h.logger.lines.find((l) => l.event === 'readings.sealed')?.fields.notAllowed, ['aud-1']);
  });

  it('a document of period p read as period q, or moved to q in the store, fails as MISPLACED', async () => {
    h = await Harness.create();
    await settleAndUpload(h);
    const jwe = stored(h, 0);
    await refusesWith(openPeriod(jwe, h.site.sealingKey.privateKey, place(1)), 'MISPLACED');
    // An insider copies period 0's document into period 1's place.
    const doc = h.gateway.uploads.get('meter-17/enr-1/0');
    assert.ok(doc);
    h.gateway.uploads.set('meter-17/enr-1/1', { ...doc, periodIndex: 1 });
    await assert.rejects(
      readOwnPeriod(h.gateway, h.site.sealingKey, place(1)),
      (e: unknown) => isEdgeError(e, 'SEALED_DOCUMENT_UNREADABLE') && e.details.sealedCode === 'MISPLACED',
    );
    // An altered ciphertext does not decrypt.
    const altered = structuredClone(doc);
    const c = altered.jwe.ciphertext;
    altered.jwe.ciphertext = `${c[0] === 'A' ? 'B' : 'A'}${c.slice(1)}`;
    h.gateway.uploads.set('meter-17/enr-1/0', altered);
    await assert.rejects(
      readOwnPeriod(h.gateway, h.site.sealingKey, place(0)),
      (e: unknown) => isEdgeError(e, 'SEALED_DOCUMENT_UNREADABLE') && e.details.sealedCode === 'UNREADABLE',
    );
    await assert.rejects(readOwnPeriod(h.gateway, h.site.sealingKey, place(5)), (e: unknown) => isEdgeError(e, 'SEALED_DOCUMENT_MISSING'));
  });

  it('waits while the auditor keys cannot be read, then seals and uploads; a lost answer is resent as the same document', async () => {
    h = await Harness.create();
    const aud = h.gateway.addAuditor('aud-1');
    h.gateway.downOps.add('auditor-keys');
    await h.feed(T0, T0 + HOUR, WH);
    await h.advance(T0 + HOUR);
    assert.equal(h.period(0)?.status, 'settled');
    assert.equal(h.period(0)?.sealed, undefined, 'not sealed without the auditor keys');
    assert.equal(h.gateway.uploads.size, 0);
    assert.ok(h.logger.lines.some((l) => l.event === 'auditor-keys.lookup-failed'));
    h.gateway.downOps.delete('auditor-keys');
    // The store keeps the document but the answer is lost once.
    const original = h.gateway.uploadSealedPeriod.bind(h.gateway);
    let lose = true;
    h.gateway.uploadSealedPeriod = async (...args) => {
      const answer = await original(...args);
      if (lose) {
        lose = false;
        throw new GatewayError({ status: 503, code: 'LEDGER_UNAVAILABLE', message: 'answer lost', retryable: true, retryAfterMs: 0 });
      }
      return answer;
    };
    await h.stepUntil(() => h!.period(0)?.readingsUploaded === true);
    assert.equal(h.period(0)?.readingsUploaded, true);
    assert.equal(h.gateway.uploadBodies.length, 2);
    assert.equal(h.gateway.uploadBodies[0], h.gateway.uploadBodies[1], 'the identical document, not a fresh seal');
    assert.equal(h.logger.lines.find((l) => l.event === 'readings.uploaded')?.fields.stored, 'unchanged');
    await openPeriod(stored(h, 0), aud.privateKeyPem, place(0));
    // Sealed state survives a restart unchanged.
    const sealed = h.period(0)?.sealed;
    await h.close();
    await h.open();
    assert.deepEqual(h.period(0)?.sealed, sealed);
  });

  it('an auditor added after a period was sealed does not get that period; the next period is sealed to it', async () => {
    h = await Harness.create();
    await settleAndUpload(h);
    const late = h.gateway.addAuditor('aud-late');
    await h.feed(T0 + HOUR + HOUR / 4, T0 + 2 * HOUR, WH);
    await h.advance(T0 + 2 * HOUR);
    await h.stepUntil(() => h!.gateway.uploads.size >= 2, 20);
    await refusesWith(openPeriod(stored(h, 0), late.privateKeyPem, place(0)), 'NOT_A_RECIPIENT');
    await openPeriod(stored(h, 1), late.privateKeyPem, place(1));
  });

  it('after a state restore it finds its own earlier document in the store (409) and counts it stored; a foreign one is reported', async () => {
    h = await Harness.create({ graceSeconds: 86_400 });
    await settleAndUpload(h, 2);
    // The state file comes back from a backup taken before the uploads.
    await h.node.state.update((d) => {
      for (const p of ['0', '1']) {
        const r = d.enrollments['enr-1']?.periods[p];
        if (r) {
          delete r.sealed;
          delete r.readingsUploaded;
        }
      }
    });
    // Meanwhile someone put a document sealed to this site's public key, with other readings, in period 1's place.
    const foreign = await sealPeriod({ ...place(1), readings: ['1', '2', '3', '4'], fingerprintSalt: '5' }, [{ publicKeyPem: h.site.sealingKey.publicKeyPem }]);
    const doc1 = h.gateway.uploads.get('meter-17/enr-1/1');
    assert.ok(doc1);
    h.gateway.uploads.set('meter-17/enr-1/1', { ...doc1, jwe: foreign, contentHash: 'f'.repeat(64) });
    await h.advance(h.now + 1000);
    await h.stepUntil(() => h!.period(0)?.readingsUploaded === true, 10);
    assert.equal(h.period(0)?.readingsUploaded, true);
    assert.ok(h.logger.lines.some((l) => l.event === 'readings.already-stored' && l.fields.periodIndex === 0));
    assert.equal(h.period(1)?.readingsUploaded, undefined, 'not counted as stored');
    const conflict = h.logger.lines.find((l) => l.event === 'readings.store-conflict');
    assert.equal(conflict?.fields.periodIndex, 1);
    assert.equal(h.gateway.uploads.get('meter-17/enr-1/1')?.jwe, foreign, 'nothing overwritten');
    assert.ok(!JSON.stringify(h.logger.lines).includes('"1","2","3","4"'));
  });
});

describe('edge-client: flexproof-edge readings', function () {
  this.timeout(120_000);
  let h: Harness | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await h?.close().catch(() => undefined);
    h?.cleanup();
    h = undefined;
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  /** The gateway's GET sealed-periods route over HTTP, in front of the fake's store (the signature is checked by the integration suite). */
  async function serve(harness: Harness): Promise<string> {
    const requests: string[] = [];
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const url = new URL(req.url ?? '/', 'http://x');
      const m = /^\/v1\/edge\/meters\/([^/]+)\/sealed-periods$/.exec(url.pathname);
      if (req.method !== 'GET' || !m || !req.headers['x-flexproof-signature']) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'NOT_FOUND', message: 'no such route' }));
        return;
      }
      void harness.gateway.getSealedPeriods(decodeURIComponent(m[1] as string), url.searchParams.get('enrollmentId') ?? '').then((answer) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const writeErr = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      return { code: await main(args), out: out.join(''), err: err.join('') };
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
    }
  }

  it('opens the site’s own documents through the gateway: readings in text, the salt only with --json', async () => {
    h = await Harness.create();
    await settleAndUpload(h);
    const url = await serve(h);
    const file = path.join(h.site.dir, 'site.json');
    writeFileSync(file, JSON.stringify({ ...h.site.rawConfig, gatewayUrl: url }));
    const salt = periodFingerprintSalt(h.site.config.siteSecret, 'meter-17', 'enr-1', 0).toString();

    const text = await cli(['readings', '--config', file, '--period', '0']);
    assert.equal(text.code, 0, text.err);
    assert.ok(text.out.includes(`readings (Wh): ${WH} ${WH} ${WH} ${WH}`), text.out);
    assert.ok(text.out.includes(`total ${4 * WH} Wh`));
    assert.ok(!text.out.includes(salt) && !text.err.includes(salt), 'no salt without --json');

    const json = await cli(['readings', '--config', file, '--period', '0', '--enrollment', 'enr-1', '--json']);
    assert.equal(json.code, 0, json.err);
    const parsed = JSON.parse(json.out) as { documents: { readings: string[]; fingerprintSalt: string; contentHash: string; storeHashMatches: boolean }[]; problems: unknown[] };
    assert.deepEqual(parsed.documents[0]?.readings, h.period(0)?.readings);
    assert.equal(parsed.documents[0]?.fingerprintSalt, salt);
    assert.equal(parsed.documents[0]?.contentHash, h.period(0)?.sealed?.contentHash);
    assert.equal(parsed.documents[0]?.storeHashMatches, true);

    const missing = await cli(['readings', '--config', file, '--period', '3']);
    assert.equal(missing.code, 1);
    assert.ok(missing.err.includes('no sealed document for period 3'));
    const usage = await cli(['readings', '--config', file, '--period', '24']);
    assert.equal(usage.code, 2);
    const help = await cli(['readings', '--help']);
    assert.equal(help.code, 0);
    assert.ok(help.out.includes('readings   fetch'));
  });

  it('a sealing key that is not a recipient cannot open the documents (a replaced sealing-key.pem)', async () => {
    h = await Harness.create();
    await settleAndUpload(h);
    const other = generateSealingKeyPair();
    const { createPublicKey, createPrivateKey } = await import('node:crypto');
    const key = { privateKey: createPrivateKey(other.privateKeyPem), publicKeyPem: createPublicKey(other.publicKeyPem).export({ type: 'spki', format: 'pem' }).toString(), keyHash: '' };
    await assert.rejects(readOwnPeriod(h.gateway, key, place(0)), (e: unknown) => isEdgeError(e, 'SEALED_DOCUMENT_UNREADABLE') && e.details.sealedCode === 'NOT_A_RECIPIENT');
  });

  it('HttpGateway PUTs { jwe } to the sealed route and reads the auditor keys and sealed periods routes', async () => {
    const seen: { method: string; url: string; body: string }[] = [];
    const fakeFetch = (async (url: string | URL, init?: RequestInit) => {
      seen.push({ method: init?.method ?? 'GET', url: String(url), body: typeof init?.body === 'string' ? init.body : '' });
      const answer = String(url).includes('/sealed?') ? { stored: 'unchanged' } : String(url).endsWith('/auditor-keys') ? { keys: [] } : { meterId: 'meter-17', periods: [] };
      return new Response(JSON.stringify(answer), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    const { generateKeyPairSync } = await import('node:crypto');
    const gateway = new HttpGateway({ baseUrl: 'http://gw', meterId: 'meter-17', privateKey: generateKeyPairSync('ed25519').privateKey, gatewayMspId: 'AggregatorMSP', fetch: fakeFetch });
    const jwe = await sealPeriod({ ...place(2), readings: [String(WH)], fingerprintSalt: '99' }, [{ publicKeyPem: generateSealingKeyPair().publicKeyPem }]);
    assert.deepEqual(await gateway.uploadSealedPeriod('meter-17', 'enr-1', 2, jwe), { stored: 'unchanged' });
    assert.deepEqual(await gateway.getAuditorKeys(), { keys: [] });
    await gateway.getSealedPeriods('meter-17', 'enr-1');
    assert.deepEqual(
      seen.map((s) => `${s.method} ${s.url}`),
      ['PUT http://gw/v1/edge/meters/meter-17/periods/2/sealed?enrollmentId=enr-1', 'GET http://gw/v1/edge/auditor-keys', 'GET http://gw/v1/edge/meters/meter-17/sealed-periods?enrollmentId=enr-1'],
    );
    assert.deepEqual(JSON.parse(seen[0]?.body ?? '{}'), { jwe });
  });
});
