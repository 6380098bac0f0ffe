/**
 * P2 / T6: an edge request signature names the organisation whose gateway receives it
 * (signing string v2), and a nonce is used once, also across a gateway restart or a
 * crash (the nonce log under the gateway's data directory).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  EDGE_SIGNING_VERSION,
  FileNonceStore,
  MemoryNonceStore,
  NONCE_LOG_FILE,
  NonceLimitReached,
  edgeSigningString,
  sha256Hex,
  verifyEdgeSignature,
} from '@flexproof/gateway-api';
// The edge client's own copy of the signing string (owned by the edge client), read from source.
import { edgeRequestHeaders, edgeSigningString as edgeClientSigningString } from '@flexproof/edge-client';
import { FakeLedgerForTests } from './support/fake-ledger';
import { MSP_IDS, buildTestGateway, registerTestMeter, signed, type TestMeter } from './support/gateway';

/**
 * The fixed vector of signing string v2. The edge client's copy of the string
 * (edge-client/src/edge-request-signing.ts) must produce these exact bytes and, with the
 * Ed25519 key of seed 0x07 * 32, this exact signature: a drift on either side fails here
 * or in the edge client's own test of the same vector.
 */
export const SIGNING_VECTOR = {
  parts: {
    gatewayMspId: 'AggregatorMSP',
    method: 'put',
    pathWithQuery: '/v1/edge/meters/meter-1/periods/3/readings?enrollmentId=enr-1',
    timestamp: '1700000000000',
    nonce: '00112233445566778899aabbccddeeff',
    body: '{"readings":["1"],"fingerprintSalt":"5"}',
  },
  signingString:
    'flexproof.edge.v2\n' +
    'AggregatorMSP\n' +
    'PUT\n' +
    '/v1/edge/meters/meter-1/periods/3/readings?enrollmentId=enr-1\n' +
    '1700000000000\n' +
    '00112233445566778899aabbccddeeff\n' +
    // sha256 of the body, computed apart (Python hashlib)
    '19eab1a2f29a2f1cb13124c74b0b8fa478f462e1b77144f8f8bd25a9bda2424e',
  ed25519Seed: Buffer.alloc(32, 7),
  publicKeyPem: '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw=\n-----END PUBLIC KEY-----\n',
  signature: 'I8e5yD2b8cy6RE17xs3r7ix9VPsr27ASrfLNCTez0CcMkklj9fx8qJOxPnlF/csWHcu3Hz9iGxvQMbwtHONhAg==',
} as const;

function ed25519FromSeed(seed: Buffer) {
  return createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
}

describe('edge request signatures v2 and the persistent nonce store', () => {
  describe('the signing string', () => {
    it('is exactly version, gateway MSP id, METHOD, path?query, timestamp, nonce, sha256(body)', () => {
      assert.equal(EDGE_SIGNING_VERSION, 'flexproof.edge.v2');
      assert.equal(edgeSigningString(SIGNING_VECTOR.parts), SIGNING_VECTOR.signingString);
      // No body: the hash of the empty string.
      const get = edgeSigningString({ ...SIGNING_VECTOR.parts, method: 'GET', body: '' });
      assert.equal(get.split('\n')[6], 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
      assert.equal(get.split('\n').length, 7);
    });

    it('gives the fixed Ed25519 signature of the vector, which verifies with the vector key', () => {
      const key = ed25519FromSeed(SIGNING_VECTOR.ed25519Seed);
      assert.equal(createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString(), SIGNING_VECTOR.publicKeyPem);
      const signature = sign(null, Buffer.from(SIGNING_VECTOR.signingString, 'utf8'), key).toString('base64');
      assert.equal(signature, SIGNING_VECTOR.signature);
      assert.ok(verifyEdgeSignature(SIGNING_VECTOR.parts, SIGNING_VECTOR.signature, SIGNING_VECTOR.publicKeyPem));
      assert.ok(!verifyEdgeSignature({ ...SIGNING_VECTOR.parts, gatewayMspId: 'DsoMSP' }, SIGNING_VECTOR.signature, SIGNING_VECTOR.publicKeyPem));
    });

    it("is the edge client's string too: its requests pass at the gateway they name and fail at the other", async () => {
      const { parts } = SIGNING_VECTOR;
      const request = { method: parts.method, pathWithQuery: parts.pathWithQuery, body: parts.body };
      assert.equal(edgeClientSigningString(request, parts.gatewayMspId, parts.timestamp, parts.nonce), SIGNING_VECTOR.signingString);
      const ledger = new FakeLedgerForTests();
      const m = registerTestMeter(ledger, 'meter-1', 'ed25519');
      const gw = await buildTestGateway({ ledger });
      try {
        const url = '/v1/edge/meters/meter-1';
        const forDso = edgeRequestHeaders({ method: 'GET', pathWithQuery: url, body: '' }, 'meter-1', m.privateKey, { gatewayMspId: MSP_IDS.dso });
        assert.equal((await gw.app.inject({ method: 'GET', url, headers: forDso })).statusCode, 200);
        const forAggregator = edgeRequestHeaders({ method: 'GET', pathWithQuery: url, body: '' }, 'meter-1', m.privateKey, { gatewayMspId: MSP_IDS.aggregator });
        assert.equal((await gw.app.inject({ method: 'GET', url, headers: forAggregator })).statusCode, 401);
      } finally {
        await gw.app.close();
      }
    });

    it('refuses an MSP id that could smuggle a line into the signed string', () => {
      for (const bad of ['', 'Dso MSP', 'DsoMSP\nPOST', 'x'.repeat(129)]) {
        assert.throws(() => edgeSigningString({ ...SIGNING_VECTOR.parts, gatewayMspId: bad }), /gatewayMspId/);
      }
    });
  });

  describe('at the gateway', () => {
    let m1: TestMeter;
    let ledger: FakeLedgerForTests;
    beforeEach(() => {
      ledger = new FakeLedgerForTests();
      m1 = registerTestMeter(ledger, 'meter-1');
      ledger.addEnrollment({ enrollmentId: 'enr-1', meterId: 'meter-1' });
    });

    it("accepts a request signed for its own organisation and refuses one signed for the other's gateway (401)", async () => {
      const dso = await buildTestGateway({ ledger });
      const aggregator = await buildTestGateway({ ledger, org: 'aggregator' });
      try {
        const forDso = signed(m1, 'GET', '/v1/edge/enrollments/enr-1', undefined, { gatewayMspId: MSP_IDS.dso });
        const forAggregator = signed(m1, 'GET', '/v1/edge/enrollments/enr-1', undefined, { gatewayMspId: MSP_IDS.aggregator });
        assert.equal((await dso.app.inject(forDso)).statusCode, 200);
        assert.equal((await aggregator.app.inject(forAggregator)).statusCode, 200);
        // Captured at one gateway and replayed at the other: refused before its nonce counts.
        const replayedAtAggregator = await aggregator.app.inject(forDso);
        assert.equal(replayedAtAggregator.statusCode, 401);
        assert.equal(replayedAtAggregator.json().code, 'UNAUTHORIZED');
        assert.match(replayedAtAggregator.json().message, /flexproof\.edge\.v2 for AggregatorMSP/);
        const replayedAtDso = await dso.app.inject(forAggregator);
        assert.equal(replayedAtDso.statusCode, 401);
      } finally {
        await dso.app.close();
        await aggregator.app.close();
      }
    });

    it('refuses a request signed with the v1 string (no version, no MSP id)', async () => {
      const gw = await buildTestGateway({ ledger });
      try {
        const url = '/v1/edge/meters/meter-1';
        const timestamp = String(Date.now());
        const nonce = 'ab'.repeat(16);
        const v1 = ['GET', url, timestamp, nonce, sha256Hex('')].join('\n');
        const signature = sign('sha256', Buffer.from(v1, 'utf8'), m1.privateKey).toString('base64');
        const res = await gw.app.inject({
          method: 'GET',
          url,
          headers: { 'x-flexproof-meter': 'meter-1', 'x-flexproof-timestamp': timestamp, 'x-flexproof-nonce': nonce, 'x-flexproof-signature': signature },
        });
        assert.equal(res.statusCode, 401);
        // The signature itself is genuine (over the v1 string): only the string's format fails it.
        assert.ok(verify('sha256', Buffer.from(v1), m1.meter.publicKeyPem, Buffer.from(signature, 'base64')));
      } finally {
        await gw.app.close();
      }
    });

    it('answers 409 REPLAY to a request replayed after the gateway restarted on the same directory', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'flexproof-nonces-'));
      try {
        const request = signed(m1, 'GET', '/v1/edge/enrollments/enr-1');
        const first = await buildTestGateway({ ledger, nonceDir: dir });
        assert.equal((await first.app.inject(request)).statusCode, 200);
        await first.app.close();

        const second = await buildTestGateway({ ledger, nonceDir: dir });
        try {
          const replay = await second.app.inject(request);
          assert.equal(replay.statusCode, 409);
          assert.equal(replay.json().code, 'REPLAY');
          // A fresh request still passes.
          assert.equal((await second.app.inject(signed(m1, 'GET', '/v1/edge/enrollments/enr-1'))).statusCode, 200);
        } finally {
          await second.app.close();
        }
        // Without the directory (memory only) the same replay would pass: the file is what refuses it.
        const amnesiac = await buildTestGateway({ ledger });
        try {
          assert.equal((await amnesiac.app.inject(request)).statusCode, 200);
        } finally {
          await amnesiac.app.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('answers 429 with Retry-After when a meter exceeds its nonce budget, and keeps serving other meters', async () => {
      const m2 = registerTestMeter(ledger, 'meter-2');
      const gw = await buildTestGateway({ ledger, maxNoncesPerMeter: 2 });
      try {
        for (let i = 0; i < 2; i++) assert.equal((await gw.app.inject(signed(m1, 'GET', '/v1/edge/meters/meter-1'))).statusCode, 200);
        const over = await gw.app.inject(signed(m1, 'GET', '/v1/edge/meters/meter-1'));
        assert.equal(over.statusCode, 429);
        assert.equal(over.json().code, 'TOO_MANY_REQUESTS');
        assert.equal(over.headers['retry-after'], '5');
        assert.equal((await gw.app.inject(signed(m2, 'GET', '/v1/edge/meters/meter-2'))).statusCode, 200);
      } finally {
        await gw.app.close();
      }
    });
  });

  describe('the nonce log', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'flexproof-nonce-log-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const nonce = (i: number) => i.toString(16).padStart(32, '0');
    const lines = () => readFileSync(path.join(dir, NONCE_LOG_FILE), 'utf8').split('\n').filter((l) => l !== '');

    it('remembers nonces across reopening, per meter, and forgets them after their lifetime', async () => {
      const t0 = 1_700_000_000_000;
      const store = await FileNonceStore.open({ dir, ttlMs: 600_000, nowMs: t0 });
      assert.equal(await store.remember('meter-1', nonce(1), t0), 'new');
      assert.equal(await store.remember('meter-1', nonce(1), t0 + 1), 'replay');
      assert.equal(await store.remember('meter-2', nonce(1), t0 + 2), 'new', 'nonces are per meter');
      await store.close();

      const reopened = await FileNonceStore.open({ dir, ttlMs: 600_000, nowMs: t0 + 10 });
      assert.equal(reopened.size, 2);
      assert.equal(await reopened.remember('meter-1', nonce(1), t0 + 10), 'replay');
      await reopened.close();

      // Opened when the first has expired and the second not yet: only the second is kept.
      const later = await FileNonceStore.open({ dir, ttlMs: 600_000, nowMs: t0 + 600_001 });
      try {
        assert.equal(later.size, 1);
        assert.deepEqual(lines(), ['flexproof-edge-nonces v1', `${t0 + 600_002} meter-2 ${nonce(1)}`]);
        assert.equal(await later.remember('meter-1', nonce(1), t0 + 600_001), 'new');
        assert.equal(await later.remember('meter-2', nonce(1), t0 + 600_001), 'replay');
      } finally {
        await later.close();
      }
    });

    it('gives one of two concurrent uses of a nonce "new" and the other "replay"', async () => {
      const store = await FileNonceStore.open({ dir, ttlMs: 600_000 });
      const now = Date.now();
      const verdicts = await Promise.all([store.remember('meter-1', nonce(9), now), store.remember('meter-1', nonce(9), now)]);
      assert.deepEqual(verdicts.sort(), ['new', 'replay']);
      await store.close();
    });

    it('survives kill -9 right after a request was let through', async function () {
      this.timeout(30_000);
      const modulePath = require.resolve('@flexproof/gateway-api');
      const script = `
        const { FileNonceStore } = require(${JSON.stringify(modulePath)});
        (async () => {
          const store = await FileNonceStore.open({ dir: ${JSON.stringify(dir)}, ttlMs: 600000 });
          for (let i = 0; i < 50; i++) {
            await store.remember('meter-1', i.toString(16).padStart(32, '0'), Date.now());
            process.stdout.write('ok ' + i + '\\n');
          }
          setInterval(() => {}, 1000); // stay up until killed
        })();`;
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const acknowledged = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const n = (out.match(/^ok \d+$/gm) ?? []).length;
          if (n >= 50) {
            // Killed without close(): only what remember() made durable can survive.
            child.kill('SIGKILL');
            resolve(n);
          }
        });
        child.on('error', reject);
        child.on('exit', (code, signal) => {
          if (signal !== 'SIGKILL') reject(new Error(`child exited early (${code})`));
        });
      });
      await new Promise((r) => child.once('exit', r));
      const store = await FileNonceStore.open({ dir, ttlMs: 600_000 });
      try {
        for (let i = 0; i < acknowledged; i++) assert.equal(await store.remember('meter-1', nonce(i), Date.now()), 'replay', `nonce ${i}`);
      } finally {
        await store.close();
      }
    });

    it('drops a line cut short by a crash and keeps the rest; refuses a file that is not a nonce log', async () => {
      const now = Date.now();
      const store = await FileNonceStore.open({ dir, ttlMs: 600_000 });
      await store.remember('meter-1', nonce(1), now);
      await store.close();
      appendFileSync(path.join(dir, NONCE_LOG_FILE), `${now + 600_000} meter-1 0000`); // torn, no newline
      const reopened = await FileNonceStore.open({ dir, ttlMs: 600_000 });
      assert.equal(reopened.droppedLines, 1);
      assert.equal(await reopened.remember('meter-1', nonce(1), now), 'replay');
      assert.equal(await reopened.remember('meter-1', nonce(2), now), 'new');
      await reopened.close();
      // The torn line did not glue onto the next append: both nonces are lines of their own.
      assert.equal(lines().length, 3);

      writeFileSync(path.join(dir, NONCE_LOG_FILE), '{"not":"a nonce log"}\n');
      await assert.rejects(FileNonceStore.open({ dir, ttlMs: 600_000 }), /is not an edge nonce log/);
    });

    it('stays bounded: the log is compacted as nonces expire, and the store refuses past its limits', async () => {
      const store = await FileNonceStore.open({ dir, ttlMs: 200, maxEntries: 100_000, maxPerMeter: 100_000, nowMs: 0 });
      // 12,000 nonces, 10 per simulated millisecond, 50 at a time (one write and one sync each
      // batch): about 2,000 live at any time, far fewer than were ever written.
      let maxLines = 0;
      for (let i = 0; i < 12_000; i += 50) {
        const now = Math.floor(i / 10);
        await Promise.all(Array.from({ length: 50 }, (_, j) => store.remember(`meter-${(i + j) % 7}`, nonce(i + j), now)));
        if (i % 1000 === 0) maxLines = Math.max(maxLines, lines().length);
      }
      assert.ok(store.size <= 2_000, `${store.size} live nonces`);
      await store.close();
      // Compacted whenever it holds more than max(4096, 2 x live) lines.
      assert.ok(maxLines <= 4096 + 50 + 1, `the log held up to ${maxLines} lines`);
      assert.ok(lines().length <= 4096 + 50 + 1);

      const small = new MemoryNonceStore({ ttlMs: 600_000, maxEntries: 3, maxPerMeter: 2 });
      await small.remember('meter-1', nonce(1), 0);
      await small.remember('meter-1', nonce(2), 0);
      await assert.rejects(small.remember('meter-1', nonce(3), 0), (err: unknown) => err instanceof NonceLimitReached && err.scope === 'meter');
      await small.remember('meter-2', nonce(1), 0);
      await assert.rejects(small.remember('meter-3', nonce(1), 0), (err: unknown) => err instanceof NonceLimitReached && err.scope === 'gateway');
      // Expired nonces free their room.
      assert.equal(await small.remember('meter-3', nonce(1), 600_000), 'new');
    });

    it('refuses a second store on a directory this process already holds', async () => {
      const store = await FileNonceStore.open({ dir, ttlMs: 1000 });
      try {
        await assert.rejects(FileNonceStore.open({ dir, ttlMs: 1000 }), /already in use/);
      } finally {
        await store.close();
      }
      const again = await FileNonceStore.open({ dir, ttlMs: 1000 });
      await again.close();
    });
  });
});
