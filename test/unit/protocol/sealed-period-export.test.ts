// Sealed period documents of net energy (v2) enrollments (issue 14): the exported energy
// of each interval travels sealed beside the imported one, as `exportReadings`, one per
// interval. Documents without it (every v1 document, every document made before it
// existed) are unchanged and open as before; a malformed one is refused naming the field,
// never a value.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { GeneralEncrypt } from 'jose';
import {
  canonicalJson,
  generateSealingKeyPair,
  openPeriod,
  SEALED_LIMITS,
  SEALED_PERIOD_CTY,
  SealedDataError,
  sealingKeyHash,
  sealPeriod,
  type PeriodPlace,
} from '@flexproof/protocol';

const PLACE: PeriodPlace = { meterId: 'meter-solar-1', enrollmentId: 'enr-net-1', periodIndex: 12 };
const IMPORTS = ['41352', '40311', '43377', '42009'];
const EXPORTS = ['712345', '733456', '744567', '755678'];
const SALT = '401923847561029384756102938475610293847561029384756102938475611';
const prosumer = generateSealingKeyPair();
const auditor = generateSealingKeyPair();
const recipients = [prosumer, auditor].map((k) => ({ publicKeyPem: k.publicKeyPem }));

async function refusal(promise: Promise<unknown>): Promise<SealedDataError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SealedDataError, `expected a SealedDataError, got ${String(error)}`);
    const text = `${error.message} ${error.field ?? ''} ${error.rule}`;
    for (const secret of [...IMPORTS, ...EXPORTS, SALT]) assert.ok(!text.includes(secret), `error text holds a secret: ${text}`);
    return error;
  }
  assert.fail('expected a refusal');
}

/** A document sealed with jose directly around a plaintext sealPeriod would never make. */
async function sealedAround(plaintext: unknown): Promise<unknown> {
  return new GeneralEncrypt(new TextEncoder().encode(canonicalJson(plaintext)))
    .setProtectedHeader({ enc: 'A256GCM', cty: SEALED_PERIOD_CTY, fpm: PLACE.meterId, fpe: PLACE.enrollmentId, fpp: PLACE.periodIndex })
    .addRecipient(createPublicKey(auditor.publicKeyPem))
    .setUnprotectedHeader({ alg: 'ECDH-ES+A256KW', kid: sealingKeyHash(auditor.publicKeyPem) })
    .addRecipient(createPublicKey(prosumer.publicKeyPem))
    .setUnprotectedHeader({ alg: 'ECDH-ES+A256KW', kid: sealingKeyHash(prosumer.publicKeyPem) })
    .encrypt();
}

describe('protocol: sealed period documents with export readings (v2 net energy)', () => {
  it('seals the export readings beside the import readings; each recipient opens both', async () => {
    const jwe = await sealPeriod({ ...PLACE, readings: IMPORTS, exportReadings: EXPORTS, fingerprintSalt: SALT }, recipients);
    for (const key of [prosumer, auditor]) {
      const opened = await openPeriod(jwe, key.privateKeyPem, PLACE);
      assert.deepEqual(opened.readings, IMPORTS);
      assert.deepEqual(opened.exportReadings, EXPORTS);
      assert.equal(opened.fingerprintSalt, SALT);
    }
    const text = JSON.stringify(jwe);
    for (const secret of [...EXPORTS, ...IMPORTS]) assert.ok(!text.includes(secret), 'no reading in the document in plain form');
  });

  it('a document without export readings opens without the member (absent = no export), as every v1 document does', async () => {
    const jwe = await sealPeriod({ ...PLACE, readings: IMPORTS, fingerprintSalt: SALT }, recipients);
    const opened = await openPeriod(jwe, auditor.privateKeyPem, PLACE);
    assert.equal('exportReadings' in opened, false);
    assert.deepEqual(opened.readings, IMPORTS);
  });

  it('a document made before export readings existed (the v1 plaintext, exactly) still opens', async () => {
    const jwe = await sealedAround({ v: 1, ...PLACE, readings: IMPORTS, fingerprintSalt: SALT });
    assert.deepEqual((await openPeriod(jwe, auditor.privateKeyPem, PLACE)).readings, IMPORTS);
  });

  const badSeal: { name: string; exportReadings: unknown; field: string }[] = [
    { name: 'one export reading fewer than readings', exportReadings: EXPORTS.slice(0, 3), field: 'doc.exportReadings' },
    { name: 'one more', exportReadings: [...EXPORTS, '1'], field: 'doc.exportReadings' },
    { name: 'a negative export reading', exportReadings: [EXPORTS[0], '-712345', EXPORTS[2], EXPORTS[3]], field: 'doc.exportReadings[1]' },
    { name: 'a numeric export reading', exportReadings: [712345, ...EXPORTS.slice(1)], field: 'doc.exportReadings[0]' },
    { name: 'an empty list', exportReadings: [], field: 'doc.exportReadings' },
    { name: 'a string', exportReadings: '712345', field: 'doc.exportReadings' },
  ];
  for (const { name, exportReadings, field } of badSeal) {
    it(`sealing refuses ${name}: MALFORMED ${field}, without the value`, async () => {
      const e = await refusal(sealPeriod({ ...PLACE, readings: IMPORTS, exportReadings, fingerprintSalt: SALT } as never, recipients));
      assert.equal(e.code, 'MALFORMED');
      assert.equal(e.field, field);
    });
  }

  const badOpen: { name: string; exportReadings: unknown; field: string }[] = [
    { name: 'export readings of another length', exportReadings: EXPORTS.slice(0, 2), field: 'plaintext.exportReadings' },
    { name: 'an export reading with a sign', exportReadings: ['+1', ...EXPORTS.slice(1)], field: 'plaintext.exportReadings[0]' },
    { name: 'export readings as an object', exportReadings: { 0: '1' }, field: 'plaintext.exportReadings' },
  ];
  for (const { name, exportReadings, field } of badOpen) {
    it(`opening refuses a plaintext with ${name}: UNREADABLE ${field}`, async () => {
      const jwe = await sealedAround({ v: 1, ...PLACE, readings: IMPORTS, exportReadings, fingerprintSalt: SALT });
      const e = await refusal(openPeriod(jwe, auditor.privateKeyPem, PLACE));
      assert.equal(e.code, 'UNREADABLE');
      assert.equal(e.field, field);
    });
  }

  it('the most a v2 document can hold (import and export, every value at its longest) stays under the ciphertext bound', async () => {
    const longest = Array.from({ length: SEALED_LIMITS.maxReadings }, () => '9'.repeat(SEALED_LIMITS.maxReadingDigits));
    const most = await sealPeriod({ ...PLACE, readings: longest, exportReadings: longest, fingerprintSalt: '9'.repeat(SEALED_LIMITS.maxSaltDigits) }, [
      { publicKeyPem: auditor.publicKeyPem },
    ]);
    assert.ok(most.ciphertext.length <= SEALED_LIMITS.maxCiphertextChars, `${most.ciphertext.length} characters`);
  });
});
