// The site's sealing key (file, mode, curve), whom a document is sealed to (the auditor
// keys the gateway relays, checked against their hashes, filtered by the allowlist), the
// config fields, and `init` making the sealing key.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { generateSealingKeyPair, sealingKeyHash, SEALED_LIMITS } from '@flexproof/protocol';
import {
  chooseRecipients,
  createSealingKey,
  ensureSealingKey,
  isEdgeError,
  loadSealingKey,
  memoryLogger,
  parseConfig,
  runEdgeCli as main,
} from '@flexproof/edge-client';
import { REQUEST_PROFILE } from './support/site';

function auditor(auditorId: string, status = 'active') {
  const pair = generateSealingKeyPair();
  return { record: { auditorId, publicKeyPem: pair.publicKeyPem, keyHash: sealingKeyHash(pair.publicKeyPem), status }, pair };
}

describe('edge-client: sealing key', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'flexproof-sealing-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a P-256 key readable only by its owner, refuses to overwrite it, loads it back', () => {
    const file = path.join(dir, 'keys', 'sealing-key.pem');
    const created = createSealingKey(file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(created.keyHash, sealingKeyHash(created.publicKeyPem));
    assert.equal(created.privateKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(!readFileSync(file, 'utf8').includes('PUBLIC KEY') && readFileSync(file, 'utf8').includes('PRIVATE KEY'));
    assert.throws(() => createSealingKey(file), (e: unknown) => isEdgeError(e, 'KEY_EXISTS'));
    assert.equal(loadSealingKey(file).keyHash, created.keyHash);
  });

  it('refuses a key file others can read, a missing one and a key that is not P-256', () => {
    const file = path.join(dir, 'sealing-key.pem');
    assert.throws(() => loadSealingKey(file), (e: unknown) => isEdgeError(e, 'KEY_MISSING'));
    createSealingKey(file);
    chmodSync(file, 0o644);
    assert.throws(() => loadSealingKey(file), (e: unknown) => isEdgeError(e, 'KEY_PERMISSIONS'));
    const ed = path.join(dir, 'ed.pem');
    writeFileSync(ed, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    assert.throws(() => loadSealingKey(ed), (e: unknown) => isEdgeError(e, 'KEY_INVALID') && !(e as Error).message.includes('PRIVATE'));
  });

  it('ensureSealingKey creates a missing key and says so in the log, and keeps an existing one', () => {
    const file = path.join(dir, 'sealing-key.pem');
    const logger = memoryLogger();
    const first = ensureSealingKey(file, logger);
    assert.equal(first.created, true);
    const line = logger.lines.find((l) => l.event === 'sealing-key.created');
    assert.equal(line?.fields.keyHash, first.keyHash);
    assert.equal(line?.fields.file, file);
    const again = ensureSealingKey(file, logger);
    assert.equal(again.created, false);
    assert.equal(again.keyHash, first.keyHash);
    assert.equal(logger.lines.filter((l) => l.event === 'sealing-key.created').length, 1);
  });
});

describe('edge-client: sealing recipients', () => {
  const own = (() => {
    const pair = generateSealingKeyPair();
    return { publicKeyPem: pair.publicKeyPem, keyHash: sealingKeyHash(pair.publicKeyPem) };
  })();

  it('seals to the own key first, then every active auditor whose keyHash is its key’s, sorted by id', () => {
    const b = auditor('aud-b');
    const a = auditor('aud-a');
    const retired = auditor('aud-old', 'retired');
    const choice = chooseRecipients({ keys: [b.record, a.record, retired.record] }, own);
    assert.deepEqual(choice.recipients.map((r) => r.publicKeyPem), [own.publicKeyPem, a.pair.publicKeyPem, b.pair.publicKeyPem]);
    assert.deepEqual(choice.auditors, [
      { auditorId: 'aud-a', keyHash: a.record.keyHash },
      { auditorId: 'aud-b', keyHash: b.record.keyHash },
    ]);
    assert.deepEqual(choice.refused, []);
  });

  it('refuses a key whose hash does not match, a non-P-256 key, a bad record, a second key for an id and a key listed twice', () => {
    const good = auditor('aud-1');
    const lying = auditor('aud-liar');
    const claimed = sealingKeyHash(generateSealingKeyPair().publicKeyPem);
    lying.record.keyHash = claimed;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const second = auditor('aud-1');
    const copy = { ...good.record, auditorId: 'aud-copy' };
    const ownAsAuditor = { auditorId: 'aud-own', publicKeyPem: own.publicKeyPem, keyHash: own.keyHash, status: 'active' };
    const choice = chooseRecipients(
      {
        keys: [
          good.record,
          lying.record,
          { auditorId: 'aud-rsa', publicKeyPem: rsa, keyHash: 'ab'.repeat(32), status: 'active' },
          { auditorId: '__proto__!', publicKeyPem: good.record.publicKeyPem, keyHash: good.record.keyHash, status: 'active' },
          'not a record',
          second.record,
          copy,
          ownAsAuditor,
        ],
      },
      own,
    );
    assert.deepEqual(choice.auditors.map((a) => a.auditorId), ['aud-1']);
    assert.equal(choice.recipients.length, 2);
    assert.deepEqual(
      choice.refused.map((r) => [r.index, r.auditorId, r.reason]),
      [
        [1, 'aud-liar', 'KEY_HASH_MISMATCH'],
        [2, 'aud-rsa', 'BAD_PUBLIC_KEY'],
        [3, undefined, 'BAD_RECORD'],
        [4, undefined, 'BAD_RECORD'],
        [5, 'aud-1', 'DUPLICATE_AUDITOR'],
        [6, 'aud-copy', 'DUPLICATE_KEY'],
        [7, 'aud-own', 'DUPLICATE_KEY'],
      ],
    );
    const liar = choice.refused[0];
    assert.equal(liar?.claimedKeyHash, claimed);
    assert.equal(liar?.computedKeyHash, sealingKeyHash(lying.pair.publicKeyPem));
    assert.ok(!choice.recipients.some((r) => r.publicKeyPem === lying.pair.publicKeyPem), 'the lying key is not a recipient');
  });

  it('keeps only the allowlisted auditors, and names the ones left out and the ones without a key', () => {
    const a = auditor('aud-a');
    const b = auditor('aud-b');
    const choice = chooseRecipients({ keys: [a.record, b.record] }, own, ['aud-b', 'aud-gone']);
    assert.deepEqual(choice.auditors.map((x) => x.auditorId), ['aud-b']);
    assert.deepEqual(choice.recipients.map((r) => r.publicKeyPem), [own.publicKeyPem, b.pair.publicKeyPem]);
    assert.deepEqual(choice.notAllowed, ['aud-a']);
    assert.deepEqual(choice.allowedWithoutKey, ['aud-gone']);
    const none = chooseRecipients({ keys: [a.record, b.record] }, own, []);
    assert.deepEqual(none.recipients.map((r) => r.publicKeyPem), [own.publicKeyPem], 'an empty allowlist: the own key only');
  });

  it('throws AUDITOR_KEYS_INVALID for an answer without a keys list, and for more auditors than a document holds', () => {
    for (const answer of [undefined, null, {}, { keys: 'x' }, []]) {
      assert.throws(() => chooseRecipients(answer, own), (e: unknown) => isEdgeError(e, 'AUDITOR_KEYS_INVALID'));
    }
    const many = Array.from({ length: SEALED_LIMITS.maxRecipients }, (_, i) => auditor(`aud-${String(i).padStart(2, '0')}`).record);
    assert.throws(() => chooseRecipients({ keys: many }, own), (e: unknown) => isEdgeError(e, 'AUDITOR_KEYS_INVALID'));
    assert.equal(chooseRecipients({ keys: many.slice(0, SEALED_LIMITS.maxRecipients - 1) }, own).recipients.length, SEALED_LIMITS.maxRecipients);
    assert.equal(chooseRecipients({ keys: many }, own, ['aud-03']).auditors.length, 1, 'the allowlist brings it under the limit');
  });
});

describe('edge-client: sealing config and init', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'flexproof-sealing-cfg-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const base = {
    meterId: 'meter-1',
    prosumerId: 'prosumer-1',
    keyFile: 'keys/site.pem',
    dataDir: 'data',
    mqtt: { url: 'mqtt://127.0.0.1:1883' },
    gatewayUrl: 'http://127.0.0.1:8080',
    siteSecret: 'ab'.repeat(16),
    enrollments: [{ enrollmentId: 'e1', circuitId: 'flexdev-v1-r4', startTime: '2026-06-01T00:00:00Z', requestProfile: REQUEST_PROFILE, commitmentSalt: '7' }],
  };

  it('puts the sealing key beside the site key unless told, and reads the auditors allowlist (file and environment)', () => {
    const c = parseConfig(base, { baseDir: '/srv/site', env: {} });
    assert.equal(c.sealingKeyFile, '/srv/site/keys/sealing-key.pem');
    assert.equal(c.auditors, undefined, 'default: every active auditor');
    const told = parseConfig({ ...base, sealingKeyFile: 'secret/seal.pem', auditors: ['aud-1', 'aud-2'] }, { baseDir: '/srv/site', env: {} });
    assert.equal(told.sealingKeyFile, '/srv/site/secret/seal.pem');
    assert.deepEqual(told.auditors, ['aud-1', 'aud-2']);
    assert.deepEqual(parseConfig({ ...base, auditors: [] }, { baseDir: '/', env: {} }).auditors, []);
    const env = parseConfig(base, { baseDir: '/srv/site', env: { FLEXPROOF_EDGE_AUDITORS: 'aud-3, aud-4', FLEXPROOF_EDGE_SEALING_KEY_FILE: '/etc/seal.pem' } });
    assert.deepEqual(env.auditors, ['aud-3', 'aud-4']);
    assert.equal(env.sealingKeyFile, '/etc/seal.pem');
  });

  it('names each bad auditors entry, and a sealing key file that is the site key', () => {
    assert.throws(
      () => parseConfig({ ...base, auditors: ['ok', 'ok', 'bad id', 7] }, { baseDir: '/', env: {} }),
      (e: unknown) => {
        const problems = (isEdgeError(e, 'CONFIG_INVALID') ? e.details.problems : []) as string[];
        return problems.some((p) => p.startsWith('auditors[1]')) && problems.some((p) => p.startsWith('auditors[2]')) && problems.some((p) => p.startsWith('auditors[3]'));
      },
    );
    assert.throws(() => parseConfig({ ...base, auditors: 'aud-1' }, { baseDir: '/', env: {} }), /auditors: a list/);
    assert.throws(() => parseConfig({ ...base, sealingKeyFile: 'keys/site.pem' }, { baseDir: '/', env: {} }), /sealingKeyFile: must not be the keyFile/);
  });

  it('init creates the site key and the sealing key beside it; on a site that has a site key only, it adds the sealing key', async () => {
    const file = path.join(dir, 'site.json');
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const writeErr = process.stderr.write.bind(process.stderr);
    const err: string[] = [];
    process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
    let code: number;
    let again: number;
    try {
      code = await main(['init', '--config', file, '--meter-id', 'meter-9']);
      rmSync(path.join(dir, 'sealing-key.pem'));
      again = await main(['init', '--config', file]);
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
    }
    assert.equal(code, 0, err.join(''));
    assert.equal(again, 0, err.join(''));
    assert.ok(out.join('').includes('BEGIN PUBLIC KEY'), 'the site public key for the DSO on stdout');
    assert.equal(statSync(path.join(dir, 'site-key.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(path.join(dir, 'sealing-key.pem')).mode & 0o777, 0o600);
    const config = parseConfig(JSON.parse(readFileSync(file, 'utf8')), { baseDir: dir, env: {} });
    assert.equal(loadSealingKey(config.sealingKeyFile).keyHash.length, 64);
    assert.ok(err.join('').includes('kept the site key'), 'the second init kept the site key and made a new sealing key');
    assert.ok(existsSync(path.join(dir, 'site-key.pem')));
  });
});
