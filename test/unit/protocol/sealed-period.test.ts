// Sealed period documents (issue 12, T9): sealed at the edge to the prosumer and the
// auditors, each recipient opens with its own key; anyone else, any changed byte and any
// document moved to another place is refused, with a code and a field, and never with a
// reading, a salt or a key in the message.
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import {
  canonicalJson,
  checkSealedShape,
  generateSealingKeyPair,
  openPeriod,
  SEALED_LIMITS,
  SEALED_PERIOD_CTY,
  sealedContentHash,
  SealedDataError,
  sealingKeyHash,
  sealPeriod,
  type PeriodPlace,
  type SealedDataErrorCode,
  type SealedPeriodJwe,
} from '@flexproof/protocol';

const PLACE: PeriodPlace = { meterId: 'meter-17', enrollmentId: 'enr-2025-06-01', periodIndex: 13 };
// Values chosen to be findable: no reading or salt may appear in the document in any plain form.
const READINGS = ['914352', '887311', '903377', '921009'];
const SALT = '301923847561029384756102938475610293847561029384756102938475610';

const prosumer = generateSealingKeyPair();
const auditorA = generateSealingKeyPair();
const auditorB = generateSealingKeyPair();
const stranger = generateSealingKeyPair();

function seal(place: PeriodPlace = PLACE, readings = READINGS, keys = [prosumer, auditorA, auditorB]): Promise<SealedPeriodJwe> {
  return sealPeriod({ ...place, readings, fingerprintSalt: SALT }, keys.map((k) => ({ publicKeyPem: k.publicKeyPem })));
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The same base64url member with one bit of one byte flipped (still canonical base64url). */
function flipByte(b64url: string, index?: number): string {
  const bytes = Buffer.from(b64url, 'base64url');
  const at = index ?? Math.floor(bytes.length / 2);
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  return bytes.toString('base64url');
}

function protectedWith(jwe: SealedPeriodJwe, change: Record<string, unknown>): string {
  const header = JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
  return Buffer.from(JSON.stringify({ ...header, ...change }), 'utf8').toString('base64url');
}

async function refusal(promise: Promise<unknown>): Promise<SealedDataError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SealedDataError, `expected a SealedDataError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

function shapeRefusal(jwe: unknown, place: PeriodPlace = PLACE): SealedDataError {
  try {
    checkSealedShape(jwe, place);
  } catch (error) {
    assert.ok(error instanceof SealedDataError, `expected a SealedDataError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected checkSealedShape to refuse');
}

function assertNoSecrets(error: SealedDataError): void {
  const text = `${error.message} ${error.field ?? ''} ${error.rule}`;
  for (const secret of [...READINGS, SALT]) assert.ok(!text.includes(secret), `error text holds a secret: ${text}`);
  for (const key of [prosumer, auditorA, auditorB]) {
    assert.ok(!text.includes(key.privateKeyPem.split('\n')[1] ?? '-'), 'error text holds a private key');
  }
}

describe('protocol: sealed period documents', () => {
  let jwe: SealedPeriodJwe;
  before(async () => {
    jwe = await seal();
  });

  describe('sealing and opening', () => {
    it('seals to the prosumer and two auditors; each opens the same plaintext', async () => {
      assert.equal(jwe.recipients.length, 3);
      for (const key of [prosumer, auditorA, auditorB]) {
        const opened = await openPeriod(jwe, key.privateKeyPem, PLACE);
        assert.deepEqual(opened, { v: 1, ...PLACE, readings: READINGS, fingerprintSalt: SALT });
      }
      // A KeyObject works as well as a PEM.
      const opened = await openPeriod(jwe, createPrivateKey(auditorB.privateKeyPem), PLACE);
      assert.deepEqual(opened.readings, READINGS);
    });

    it('names every recipient entry by its key hash, and binds the place in the protected header', () => {
      assert.deepEqual(
        jwe.recipients.map((r) => r.header.kid),
        [prosumer, auditorA, auditorB].map((k) => sealingKeyHash(k.publicKeyPem)),
      );
      for (const r of jwe.recipients) {
        assert.equal(r.header.alg, 'ECDH-ES+A256KW');
        assert.deepEqual(Object.keys(r.header.epk).sort(), ['crv', 'kty', 'x', 'y']);
        assert.equal(r.header.epk.crv, 'P-256');
      }
      const header = JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8')) as unknown;
      assert.deepEqual(header, { enc: 'A256GCM', cty: SEALED_PERIOD_CTY, fpm: PLACE.meterId, fpe: PLACE.enrollmentId, fpp: PLACE.periodIndex });
      assert.deepEqual(Object.keys(jwe).sort(), ['ciphertext', 'iv', 'protected', 'recipients', 'tag']);
    });

    it('a single recipient gets the same document shape (epk in its own entry, not in the protected header)', async () => {
      const single = await seal(PLACE, READINGS, [prosumer]);
      assert.equal(single.recipients.length, 1);
      assert.ok(single.recipients[0]?.header.epk);
      const header = JSON.parse(Buffer.from(single.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
      assert.equal(header.epk, undefined);
      assert.deepEqual((await openPeriod(single, prosumer.privateKeyPem, PLACE)).readings, READINGS);
      // checkSealedShape accepts exactly what sealPeriod makes.
      assert.deepEqual(checkSealedShape(single, PLACE), single);
    });

    it('sealingKeyHash is sha256 of the DER SPKI (known value) and refuses what is not a P-256 public key', () => {
      const pem = prosumer.publicKeyPem;
      const der = Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
      assert.equal(sealingKeyHash(pem), createHash('sha256').update(der).digest('hex'));
      assert.match(sealingKeyHash(pem), /^[0-9a-f]{64}$/);
      const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
      for (const bad of [ed, p384, prosumer.privateKeyPem, 'not a key', '']) {
        assert.throws(() => sealingKeyHash(bad), (e: unknown) => e instanceof SealedDataError && e.code === 'MALFORMED' && e.field === 'publicKeyPem');
      }
    });

    it('content hash: sha256 of the sorted-key JSON, the same for any member order', () => {
      const reordered = { tag: jwe.tag, recipients: jwe.recipients, protected: jwe.protected, ciphertext: jwe.ciphertext, iv: jwe.iv };
      assert.equal(sealedContentHash(reordered), sealedContentHash(jwe));
      assert.match(sealedContentHash(jwe), /^[0-9a-f]{64}$/);
      assert.equal(sealedContentHash(jwe), createHash('sha256').update(canonicalJson(jwe)).digest('hex'));
      assert.notEqual(sealedContentHash({ ...jwe, tag: flipByte(jwe.tag) }), sealedContentHash(jwe));
    });

    it('two sealings of the same data differ (fresh content key, iv and ephemeral keys)', async () => {
      const again = await seal();
      assert.notEqual(again.ciphertext, jwe.ciphertext);
      assert.notEqual(again.iv, jwe.iv);
      assert.notEqual(again.recipients[0]?.header.epk.x, jwe.recipients[0]?.header.epk.x);
    });

    it('the document holds no reading or salt in any plain encoding', async () => {
      const docs = [jwe, await seal(PLACE, ['0', '1', '2', '3']), await seal(PLACE, READINGS, [auditorA])];
      for (const doc of docs) {
        const text = JSON.stringify(doc);
        const decodedMembers = [doc.protected, doc.iv, doc.ciphertext, doc.tag, ...doc.recipients.map((r) => r.encrypted_key)].map((m) =>
          Buffer.from(m, 'base64url'),
        );
        for (const secret of [...READINGS, SALT, READINGS.join(','), `"${READINGS[0]}"`]) {
          assert.ok(!text.includes(secret), 'a secret in the JSON text');
          for (const bytes of decodedMembers) {
            assert.ok(!bytes.includes(Buffer.from(secret, 'utf8')), 'a secret in a decoded member');
            assert.ok(!bytes.toString('latin1').includes(secret), 'a secret in a decoded member (latin1)');
          }
          for (const encoding of ['base64', 'base64url', 'hex'] as const) {
            assert.ok(!text.includes(Buffer.from(secret).toString(encoding)), `a secret in ${encoding}`);
          }
        }
        // Nor as one binary run of 32-bit or 64-bit integers, either byte order.
        const runs = [4, 8].flatMap((width) =>
          (['LE', 'BE'] as const).map((order) =>
            Buffer.concat(
              READINGS.map((r) => {
                const b = Buffer.alloc(width);
                if (width === 4) b[`writeUInt32${order}`](Number(r));
                else b[`writeBigUInt64${order}`](BigInt(r));
                return b;
              }),
            ),
          ),
        );
        for (const bytes of decodedMembers) for (const run of runs) assert.ok(!bytes.includes(run), 'readings as a binary run');
      }
      // The plaintext really was the readings: opened, they come back.
      assert.deepEqual((await openPeriod(docs[1], prosumer.privateKeyPem, PLACE)).readings, ['0', '1', '2', '3']);
    });
  });

  describe('refusals when opening', () => {
    it('a key that is not a recipient: NOT_A_RECIPIENT', async () => {
      const e = await refusal(openPeriod(jwe, stranger.privateKeyPem, PLACE));
      assert.equal(e.code, 'NOT_A_RECIPIENT');
      assertNoSecrets(e);
    });

    it('a recipient entry whose kid was changed is no longer found: NOT_A_RECIPIENT', async () => {
      const doc = clone(jwe);
      const entry = doc.recipients[1];
      assert.ok(entry);
      entry.header.kid = `${entry.header.kid.slice(0, 10)}${entry.header.kid[10] === '0' ? '1' : '0'}${entry.header.kid.slice(11)}`;
      assert.equal((await refusal(openPeriod(doc, auditorA.privateKeyPem, PLACE))).code, 'NOT_A_RECIPIENT');
      // The other recipients still open their own entries.
      assert.deepEqual((await openPeriod(doc, auditorB.privateKeyPem, PLACE)).readings, READINGS);
    });

    const flips: { member: string; change: (doc: SealedPeriodJwe) => void }[] = [
      { member: 'ciphertext (first byte)', change: (d) => (d.ciphertext = flipByte(d.ciphertext, 0)) },
      { member: 'ciphertext (middle byte)', change: (d) => (d.ciphertext = flipByte(d.ciphertext)) },
      { member: 'tag', change: (d) => (d.tag = flipByte(d.tag)) },
      { member: 'tag (last byte)', change: (d) => (d.tag = flipByte(d.tag, 15)) },
      { member: 'iv', change: (d) => (d.iv = flipByte(d.iv)) },
      { member: 'protected', change: (d) => (d.protected = flipByte(d.protected, 2)) },
      {
        member: 'protected (the same header, spelled with a leading space)',
        change: (d) => (d.protected = Buffer.from(` ${Buffer.from(d.protected, 'base64url').toString('utf8')}`).toString('base64url')),
      },
      { member: 'recipients[1].encrypted_key', change: (d) => d.recipients[1] && (d.recipients[1].encrypted_key = flipByte(d.recipients[1].encrypted_key)) },
      { member: 'recipients[1].header.epk.x', change: (d) => d.recipients[1] && (d.recipients[1].header.epk.x = flipByte(d.recipients[1].header.epk.x)) },
      { member: 'recipients[1].header.epk swapped with entry 0', change: (d) => d.recipients[0] && d.recipients[1] && (d.recipients[1].header.epk = d.recipients[0].header.epk) },
      { member: 'ciphertext truncated by 2 bytes', change: (d) => (d.ciphertext = Buffer.from(d.ciphertext, 'base64url').subarray(2).toString('base64url')) },
    ];
    for (const { member, change } of flips) {
      it(`a changed ${member}: UNREADABLE`, async () => {
        const doc = clone(jwe);
        change(doc);
        assert.notDeepEqual(doc, jwe);
        const e = await refusal(openPeriod(doc, auditorA.privateKeyPem, PLACE));
        assert.equal(e.code, 'UNREADABLE');
        assertNoSecrets(e);
      });
    }

    it('a non-canonical base64url spelling (unused bits set) is refused before any crypto', async () => {
      const doc = clone(jwe);
      // 16 bytes in 22 characters: the last character carries 2 bits and 4 unused ones.
      const last = doc.tag.at(-1) ?? 'A';
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      doc.tag = doc.tag.slice(0, -1) + (alphabet[alphabet.indexOf(last) ^ 0x01] ?? 'A');
      assert.deepEqual(Buffer.from(doc.tag, 'base64url'), Buffer.from(jwe.tag, 'base64url'));
      const e = await refusal(openPeriod(doc, auditorA.privateKeyPem, PLACE));
      assert.equal(e.code, 'UNREADABLE');
      assert.equal(e.field, 'jwe.tag');
      assert.equal(shapeRefusal(doc).field, 'jwe.tag');
    });

    const moves: { to: string; place: PeriodPlace; field: string }[] = [
      { to: 'another period', place: { ...PLACE, periodIndex: 14 }, field: 'jwe.protected.fpp' },
      { to: 'another meter', place: { ...PLACE, meterId: 'meter-18' }, field: 'jwe.protected.fpm' },
      { to: 'another enrollment', place: { ...PLACE, enrollmentId: 'enr-2025-06-02' }, field: 'jwe.protected.fpe' },
    ];
    for (const { to, place, field } of moves) {
      it(`a document moved to ${to}: MISPLACED (openPeriod and checkSealedShape)`, async () => {
        const e = await refusal(openPeriod(jwe, auditorA.privateKeyPem, place));
        assert.equal(e.code, 'MISPLACED');
        assert.equal(e.field, field);
        assertNoSecrets(e);
        const s = shapeRefusal(jwe, place);
        assert.equal(s.code, 'MISPLACED');
        assert.equal(s.field, field);
      });
    }

    it('a moved document whose protected header was rewritten to the new place fails to decrypt: UNREADABLE', async () => {
      const doc = clone(jwe);
      doc.protected = protectedWith(jwe, { fpp: 14 });
      const to = { ...PLACE, periodIndex: 14 };
      assert.deepEqual(checkSealedShape(doc, to).protected, doc.protected); // the shape alone cannot tell
      assert.equal((await refusal(openPeriod(doc, auditorA.privateKeyPem, to))).code, 'UNREADABLE');
    });

    it('a document sealed (by anyone holding the public keys) for one place with a plaintext naming another: MISPLACED', async () => {
      // Built with jose directly: sealPeriod never makes such a document.
      const { GeneralEncrypt } = await import('jose');
      const { createPublicKey } = await import('node:crypto');
      const plaintext = canonicalJson({ v: 1, ...PLACE, periodIndex: 12, readings: READINGS, fingerprintSalt: SALT });
      const made = await new GeneralEncrypt(new TextEncoder().encode(plaintext))
        .setProtectedHeader({ enc: 'A256GCM', cty: SEALED_PERIOD_CTY, fpm: PLACE.meterId, fpe: PLACE.enrollmentId, fpp: PLACE.periodIndex })
        .addRecipient(createPublicKey(auditorA.publicKeyPem))
        .setUnprotectedHeader({ alg: 'ECDH-ES+A256KW', kid: sealingKeyHash(auditorA.publicKeyPem) })
        .addRecipient(createPublicKey(auditorB.publicKeyPem))
        .setUnprotectedHeader({ alg: 'ECDH-ES+A256KW', kid: sealingKeyHash(auditorB.publicKeyPem) })
        .encrypt();
      const e = await refusal(openPeriod(made, auditorA.privateKeyPem, PLACE));
      assert.equal(e.code, 'MISPLACED');
      assert.equal(e.field, 'plaintext.periodIndex');
    });

    it('a plaintext that is not a v1 period document: UNREADABLE naming the field, without its value', async () => {
      const { GeneralEncrypt } = await import('jose');
      const { createPublicKey } = await import('node:crypto');
      const cases: { plaintext: string; field: string }[] = [
        { plaintext: canonicalJson({ v: 2, ...PLACE, readings: READINGS, fingerprintSalt: SALT }), field: 'plaintext.v' },
        { plaintext: canonicalJson({ v: 1, ...PLACE, readings: [READINGS[0], '-5'], fingerprintSalt: SALT }), field: 'plaintext.readings[1]' },
        { plaintext: canonicalJson({ v: 1, ...PLACE, readings: [914352], fingerprintSalt: SALT }), field: 'plaintext.readings[0]' },
        { plaintext: canonicalJson({ v: 1, ...PLACE, readings: READINGS, fingerprintSalt: `0${SALT}` }), field: 'plaintext.fingerprintSalt' },
        { plaintext: canonicalJson({ v: 1, ...PLACE, readings: READINGS, fingerprintSalt: SALT, extra: 1 }), field: 'plaintext.extra' },
        { plaintext: canonicalJson({ v: 1, ...PLACE, readings: READINGS }), field: 'plaintext.fingerprintSalt' },
        { plaintext: `{"v":1,${READINGS[0]}`, field: 'plaintext' },
      ];
      for (const { plaintext, field } of cases) {
        const made = await new GeneralEncrypt(new TextEncoder().encode(plaintext))
          .setProtectedHeader({ enc: 'A256GCM', cty: SEALED_PERIOD_CTY, fpm: PLACE.meterId, fpe: PLACE.enrollmentId, fpp: PLACE.periodIndex })
          .addRecipient(createPublicKey(auditorA.publicKeyPem))
          .setUnprotectedHeader({ alg: 'ECDH-ES+A256KW', kid: sealingKeyHash(auditorA.publicKeyPem) })
          .addRecipient(createPublicKey(auditorB.publicKeyPem))
          .setUnprotectedHeader({ alg: 'ECDH-ES+A256KW', kid: sealingKeyHash(auditorB.publicKeyPem) })
          .encrypt();
        const e = await refusal(openPeriod(made, auditorA.privateKeyPem, PLACE));
        assert.equal(e.code, 'UNREADABLE', field);
        assert.equal(e.field, field);
        assertNoSecrets(e);
      }
    });

    it('a private key that is not P-256 is the caller’s error: MALFORMED privateKey', async () => {
      const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      for (const bad of [ed, 'nope', prosumer.publicKeyPem]) {
        const e = await refusal(openPeriod(jwe, bad, PLACE));
        assert.equal(e.code, 'MALFORMED');
        assert.equal(e.field, 'privateKey');
      }
    });
  });

  describe('checkSealedShape (no crypto)', () => {
    it('accepts what sealPeriod makes and returns a copy of exactly its members', () => {
      const out = checkSealedShape(clone(jwe), PLACE);
      assert.deepEqual(out, jwe);
      assert.notEqual(out, jwe);
    });

    const cases: { name: string; change: (d: Record<string, unknown> & SealedPeriodJwe) => unknown; field: string; code?: SealedDataErrorCode }[] = [
      { name: 'not an object', change: () => 'jwe', field: 'jwe' },
      { name: 'an array', change: () => [], field: 'jwe' },
      { name: 'a missing iv', change: (d) => ({ ...d, iv: undefined }), field: 'jwe.iv' },
      { name: 'an extra member', change: (d) => ({ ...d, aad: 'AAAA' }), field: 'jwe.aad' },
      { name: 'a __proto__ member', change: (d) => JSON.parse(JSON.stringify(d).replace('{', '{"__proto__":{"x":1},')) as unknown, field: 'jwe.__proto__' },
      { name: 'a padded iv', change: (d) => ({ ...d, iv: `${d.iv}==` }), field: 'jwe.iv' },
      { name: 'a standard-base64 tag', change: (d) => ({ ...d, tag: `${d.tag.slice(0, -2)}+/` }), field: 'jwe.tag' },
      { name: 'a short iv', change: (d) => ({ ...d, iv: d.iv.slice(0, 12) }), field: 'jwe.iv' },
      { name: 'an empty ciphertext', change: (d) => ({ ...d, ciphertext: '' }), field: 'jwe.ciphertext' },
      { name: 'a ciphertext over 64 KiB', change: (d) => ({ ...d, ciphertext: 'A'.repeat(SEALED_LIMITS.maxCiphertextChars + 4) }), field: 'jwe.ciphertext' },
      { name: 'a numeric tag', change: (d) => ({ ...d, tag: 12 }), field: 'jwe.tag' },
      { name: 'no recipients', change: (d) => ({ ...d, recipients: [] }), field: 'jwe.recipients' },
      {
        name: '17 recipients',
        change: (d) => ({ ...d, recipients: Array.from({ length: 17 }, () => d.recipients[0]) }),
        field: 'jwe.recipients',
      },
      { name: 'a recipient that is a string', change: (d) => ({ ...d, recipients: [d.recipients[0], 'x'] }), field: 'jwe.recipients[1]' },
      {
        name: 'a short encrypted_key',
        change: (d) => ({ ...d, recipients: [d.recipients[0], { ...d.recipients[1], encrypted_key: 'AAAA' }] }),
        field: 'jwe.recipients[1].encrypted_key',
      },
      {
        name: 'a missing encrypted_key',
        change: (d) => ({ ...d, recipients: [{ header: d.recipients[0]?.header }] }),
        field: 'jwe.recipients[0].encrypted_key',
      },
      {
        name: 'another alg',
        change: (d) => ({ ...d, recipients: [{ ...d.recipients[0], header: { ...d.recipients[0]?.header, alg: 'ECDH-ES' } }] }),
        field: 'jwe.recipients[0].header.alg',
      },
      {
        name: 'an uppercase kid',
        change: (d) => ({ ...d, recipients: [{ ...d.recipients[0], header: { ...d.recipients[0]?.header, kid: d.recipients[0]?.header.kid.toUpperCase() } }] }),
        field: 'jwe.recipients[0].header.kid',
      },
      {
        name: 'two entries with one kid',
        change: (d) => ({ ...d, recipients: [d.recipients[0], { ...d.recipients[1], header: { ...d.recipients[1]?.header, kid: d.recipients[0]?.header.kid } }] }),
        field: 'jwe.recipients[1].header.kid',
      },
      {
        name: 'an extra header member (a shared jku, say)',
        change: (d) => ({ ...d, recipients: [{ ...d.recipients[0], header: { ...d.recipients[0]?.header, jku: 'http://x' } }] }),
        field: 'jwe.recipients[0].header.jku',
      },
      {
        name: 'an epk on another curve',
        change: (d) => ({ ...d, recipients: [{ ...d.recipients[0], header: { ...d.recipients[0]?.header, epk: { ...d.recipients[0]?.header.epk, crv: 'P-384' } } }] }),
        field: 'jwe.recipients[0].header.epk.crv',
      },
      {
        name: 'an epk with a private part',
        change: (d) => ({ ...d, recipients: [{ ...d.recipients[0], header: { ...d.recipients[0]?.header, epk: { ...d.recipients[0]?.header.epk, d: 'AAAA' } } }] }),
        field: 'jwe.recipients[0].header.epk.d',
      },
      { name: 'a protected header that is not JSON', change: (d) => ({ ...d, protected: Buffer.from('{"enc":').toString('base64url') }), field: 'jwe.protected' },
      { name: 'a protected header with another cty', change: (d) => ({ ...d, protected: protectedWith(d, { cty: 'text/plain' }) }), field: 'jwe.protected.cty' },
      { name: 'a protected header with another enc', change: (d) => ({ ...d, protected: protectedWith(d, { enc: 'A128GCM' }) }), field: 'jwe.protected.enc' },
      { name: 'a protected header with an alg', change: (d) => ({ ...d, protected: protectedWith(d, { alg: 'dir' }) }), field: 'jwe.protected.alg' },
      { name: 'a protected header with zip', change: (d) => ({ ...d, protected: protectedWith(d, { zip: 'DEF' }) }), field: 'jwe.protected.zip' },
      { name: 'a period out of range', change: (d) => ({ ...d, protected: protectedWith(d, { fpp: 24 }) }), field: 'jwe.protected.fpp' },
      { name: 'a period as a string', change: (d) => ({ ...d, protected: protectedWith(d, { fpp: '13' }) }), field: 'jwe.protected.fpp' },
      { name: 'a meter id with a slash', change: (d) => ({ ...d, protected: protectedWith(d, { fpm: 'meter/17' }) }), field: 'jwe.protected.fpm' },
      { name: 'a missing enrollment', change: (d) => ({ ...d, protected: protectedWith(d, { fpe: undefined }) }), field: 'jwe.protected.fpe' },
      {
        name: 'an oversized protected header',
        change: (d) => ({ ...d, protected: protectedWith(d, { pad: 'x'.repeat(SEALED_LIMITS.maxProtectedChars) }) }),
        field: 'jwe.protected',
      },
    ];
    for (const { name, change, field, code } of cases) {
      it(`refuses ${name}: ${code ?? 'MALFORMED'} ${field}`, () => {
        const e = shapeRefusal(change(clone(jwe) as Record<string, unknown> & SealedPeriodJwe));
        assert.equal(e.code, code ?? 'MALFORMED');
        assert.equal(e.field, field);
        assert.ok(e.rule.length > 0);
        assert.ok(e.message.startsWith(field));
      });
    }

    it('refuses an expected place that is not one (the caller’s input)', () => {
      const e = shapeRefusal(jwe, { ...PLACE, periodIndex: 1.5 });
      assert.equal(e.code, 'MALFORMED');
      assert.equal(e.field, 'expected.periodIndex');
    });
  });

  describe('refusals when sealing', () => {
    const bad: { name: string; doc: Record<string, unknown>; field: string }[] = [
      { name: 'a negative reading', doc: { readings: ['5', '-1'] }, field: 'doc.readings[1]' },
      { name: 'a numeric reading', doc: { readings: [5] }, field: 'doc.readings[0]' },
      { name: 'a reading with a leading zero', doc: { readings: ['05'] }, field: 'doc.readings[0]' },
      { name: 'no readings', doc: { readings: [] }, field: 'doc.readings' },
      { name: 'too many readings', doc: { readings: Array.from({ length: SEALED_LIMITS.maxReadings + 1 }, () => '1') }, field: 'doc.readings' },
      { name: 'a hex salt', doc: { fingerprintSalt: '0x1f' }, field: 'doc.fingerprintSalt' },
      { name: 'a period of 24', doc: { periodIndex: 24 }, field: 'doc.periodIndex' },
      { name: 'an empty meter id', doc: { meterId: '' }, field: 'doc.meterId' },
    ];
    for (const { name, doc, field } of bad) {
      it(`refuses ${name}, naming ${field} and not the value`, async () => {
        const e = await refusal(
          sealPeriod({ ...PLACE, readings: READINGS, fingerprintSalt: SALT, ...doc } as never, [{ publicKeyPem: auditorA.publicKeyPem }]),
        );
        assert.equal(e.code, 'MALFORMED');
        assert.equal(e.field, field);
        assertNoSecrets(e);
      });
    }

    it('refuses bad recipient lists, naming the entry', async () => {
      const doc = { ...PLACE, readings: READINGS, fingerprintSalt: SALT };
      const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const cases: { recipients: unknown; field: string }[] = [
        { recipients: [], field: 'recipients' },
        { recipients: Array.from({ length: 17 }, () => generateSealingKeyPair()).map((k) => ({ publicKeyPem: k.publicKeyPem })), field: 'recipients' },
        { recipients: [{ publicKeyPem: auditorA.publicKeyPem }, { publicKeyPem: p384 }], field: 'recipients[1].publicKeyPem' },
        { recipients: [{ publicKeyPem: auditorA.privateKeyPem }], field: 'recipients[0].publicKeyPem' },
        { recipients: [{ publicKeyPem: auditorA.publicKeyPem }, { publicKeyPem: auditorA.publicKeyPem }], field: 'recipients[1].publicKeyPem' },
      ];
      for (const { recipients, field } of cases) {
        const e = await refusal(sealPeriod(doc, recipients as never));
        assert.equal(e.code, 'MALFORMED');
        assert.equal(e.field, field);
      }
    });

    it('the largest document the checker accepts fits in maxDocumentJsonChars (a body limit for the gateway)', async () => {
      const keys = Array.from({ length: 16 }, () => generateSealingKeyPair());
      const doc = await seal({ meterId: 'm'.repeat(128), enrollmentId: 'e'.repeat(128), periodIndex: 23 }, READINGS, keys);
      const largest = { ...doc, ciphertext: 'A'.repeat(SEALED_LIMITS.maxCiphertextChars), protected: 'A'.repeat(SEALED_LIMITS.maxProtectedChars) };
      assert.ok(doc.protected.length <= SEALED_LIMITS.maxProtectedChars);
      assert.ok(JSON.stringify({ jwe: largest }).length <= SEALED_LIMITS.maxDocumentJsonChars);
      // And the most sealPeriod can put in a document stays under the ciphertext bound.
      const most = await sealPeriod(
        { ...PLACE, readings: Array.from({ length: SEALED_LIMITS.maxReadings }, () => '9'.repeat(SEALED_LIMITS.maxReadingDigits)), fingerprintSalt: '9'.repeat(SEALED_LIMITS.maxSaltDigits) },
        [{ publicKeyPem: auditorA.publicKeyPem }],
      );
      assert.ok(most.ciphertext.length <= SEALED_LIMITS.maxCiphertextChars);
    });

    it('sixteen recipients fit', async () => {
      const keys = Array.from({ length: 16 }, () => generateSealingKeyPair());
      const doc = await seal(PLACE, READINGS, keys);
      assert.equal(doc.recipients.length, 16);
      assert.deepEqual((await openPeriod(doc, keys[15]?.privateKeyPem ?? '', PLACE)).readings, READINGS);
    });
  });
});
