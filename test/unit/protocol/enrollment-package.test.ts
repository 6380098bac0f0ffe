// Enrollment packages (issue 16): terms, request profile and salt sealed to the site's
// sealing key. The site opens it; a stranger's key, any changed byte, a sealed period
// document passed as a package and a plaintext out of shape are refused with a code and
// the field, never with the profile or the salt in the message or in the package.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { GeneralEncrypt } from 'jose';
import {
  canonicalJson,
  ENROLLMENT_PACKAGE_CTY,
  enrollmentPackagePlace,
  generateSealingKeyPair,
  openEnrollmentPackage,
  SEALED_PERIOD_ALG,
  SealedDataError,
  sealEnrollmentPackage,
  sealingKeyHash,
  sealPeriod,
  type EnrollmentPackage,
  type EnrollmentPackageJwe,
  type SealedDataErrorCode,
} from '@flexproof/protocol';

// Findable values: neither may appear in a package in any plain encoding.
const SALT = '271828182845904523536028747135266249775724709369995957496696762';
const PROFILE = Array.from({ length: 24 }, (_, p) => String(731_000 + p * 17));

const PACKAGE: EnrollmentPackage = {
  terms: {
    enrollmentId: 'enr-m17-2025-06-01',
    orderId: 'order-9',
    meterId: 'meter-17',
    circuitId: 'flexdev-v1-r4',
    requestCommitment: '1234567890123456789012345678901234567890',
    reward: '5000',
    ratePerWh: '2',
    toleranceWh: '50',
    flexWh: Array.from({ length: 24 }, (_, p) => String(p * 10)),
    startTime: '2025-06-01T00:00:00.000Z',
    periodSeconds: 3600,
    graceSeconds: 900,
  },
  requestProfile: PROFILE,
  commitmentSalt: SALT,
};

const site = generateSealingKeyPair();
const aggregator = generateSealingKeyPair();
const stranger = generateSealingKeyPair();

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function flipByte(b64url: string): string {
  const bytes = Buffer.from(b64url, 'base64url');
  const at = Math.floor(bytes.length / 2);
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  return bytes.toString('base64url');
}

async function refusal(promise: Promise<unknown>): Promise<SealedDataError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SealedDataError, `expected a SealedDataError, got ${String(error)}`);
    assertNoSecret(error.message);
    return error;
  }
  assert.fail('expected a refusal');
}

function assertNoSecret(text: string): void {
  assert.doesNotMatch(text, new RegExp(SALT.slice(10, 40)));
  for (const v of PROFILE) assert.equal(text.includes(v), false, 'a profile value leaked');
}

function expectCode(error: SealedDataError, code: SealedDataErrorCode, field?: string): void {
  assert.equal(error.code, code, error.message);
  if (field !== undefined) assert.equal(error.field, field, error.message);
}

/** A package made with jose directly around any plaintext: what a careless or hostile sealer could send. */
async function sealRaw(plaintext: unknown, header: Record<string, unknown> = {}): Promise<EnrollmentPackageJwe> {
  const enc = new GeneralEncrypt(new TextEncoder().encode(JSON.stringify(plaintext))).setProtectedHeader({
    enc: 'A256GCM',
    cty: ENROLLMENT_PACKAGE_CTY,
    fpm: PACKAGE.terms.meterId,
    fpe: PACKAGE.terms.enrollmentId,
    ...header,
  });
  const keys = [site.publicKeyPem, aggregator.publicKeyPem];
  // Two recipients, so jose writes each epk into its entry (the shape the opener requires).
  for (const pem of keys) enc.addRecipient(createPublicKey(pem)).setUnprotectedHeader({ alg: SEALED_PERIOD_ALG, kid: sealingKeyHash(pem) });
  return (await enc.encrypt()) as unknown as EnrollmentPackageJwe;
}

describe('protocol: enrollment packages', () => {
  it('seals to the site (and a copy for the aggregator); each opens the same terms, profile and salt', async () => {
    const jwe = await sealEnrollmentPackage(PACKAGE, [{ publicKeyPem: site.publicKeyPem }, { publicKeyPem: aggregator.publicKeyPem }]);
    assert.deepEqual(await openEnrollmentPackage(jwe, site.privateKeyPem), PACKAGE);
    assert.deepEqual(await openEnrollmentPackage(jwe, aggregator.privateKeyPem, { meterId: 'meter-17' }), PACKAGE);
    assert.deepEqual(Object.keys(jwe).sort(), ['ciphertext', 'iv', 'protected', 'recipients', 'tag']);
    const header = JSON.parse(Buffer.from(jwe.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(header, { enc: 'A256GCM', cty: 'flexproof.enrollment.v1', fpm: 'meter-17', fpe: 'enr-m17-2025-06-01' });
    assert.deepEqual(enrollmentPackagePlace(jwe), { meterId: 'meter-17', enrollmentId: 'enr-m17-2025-06-01' });
    assert.deepEqual(jwe.recipients.map((r) => r.header.kid), [sealingKeyHash(site.publicKeyPem), sealingKeyHash(aggregator.publicKeyPem)]);
  });

  it('a single-recipient package has the same shape (epk in the entry, not the protected header)', async () => {
    const jwe = await sealEnrollmentPackage(PACKAGE, [{ publicKeyPem: site.publicKeyPem }]);
    assert.equal(jwe.recipients.length, 1);
    assert.equal(jwe.recipients[0]?.header.epk.crv, 'P-256');
    assert.deepEqual(await openEnrollmentPackage(jwe, site.privateKeyPem), PACKAGE);
  });

  it('holds no salt or profile value in any plain encoding', async () => {
    const jwe = await sealEnrollmentPackage(PACKAGE, [{ publicKeyPem: site.publicKeyPem }]);
    const text = canonicalJson(jwe);
    const decodedMembers = [jwe.protected, jwe.ciphertext, jwe.iv, jwe.tag].map((m) => Buffer.from(m, 'base64url').toString('latin1')).join('');
    for (const where of [text, decodedMembers]) {
      assert.equal(where.includes(SALT.slice(0, 20)), false);
      for (const v of PROFILE) assert.equal(where.includes(v), false);
    }
  });

  it('refuses a stranger\'s key (NOT_A_RECIPIENT) and a meter other than the site\'s (MISPLACED)', async () => {
    const jwe = await sealEnrollmentPackage(PACKAGE, [{ publicKeyPem: site.publicKeyPem }]);
    expectCode(await refusal(openEnrollmentPackage(jwe, stranger.privateKeyPem)), 'NOT_A_RECIPIENT', 'jwe.recipients');
    expectCode(await refusal(openEnrollmentPackage(jwe, site.privateKeyPem, { meterId: 'meter-18' })), 'MISPLACED', 'jwe.protected.fpm');
  });

  it('refuses one changed byte of iv, ciphertext, tag, encrypted_key or the protected header (UNREADABLE)', async () => {
    const jwe = await sealEnrollmentPackage(PACKAGE, [{ publicKeyPem: site.publicKeyPem }]);
    for (const member of ['iv', 'ciphertext', 'tag'] as const) {
      const bad = clone(jwe);
      bad[member] = flipByte(bad[member]);
      expectCode(await refusal(openEnrollmentPackage(bad, site.privateKeyPem)), 'UNREADABLE', 'jwe');
    }
    const wrapped = clone(jwe);
    (wrapped.recipients[0] as { encrypted_key: string }).encrypted_key = flipByte(wrapped.recipients[0]?.encrypted_key ?? '');
    expectCode(await refusal(openEnrollmentPackage(wrapped, site.privateKeyPem)), 'UNREADABLE', 'jwe');
    // The protected header is the associated data: naming another enrollment breaks the tag.
    const moved = clone(jwe);
    const header = JSON.parse(Buffer.from(moved.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
    moved.protected = Buffer.from(JSON.stringify({ ...header, fpe: 'enr-other' }), 'utf8').toString('base64url');
    expectCode(await refusal(openEnrollmentPackage(moved, site.privateKeyPem)), 'UNREADABLE', 'jwe');
  });

  it('refuses a sealed period document passed as a package, by its cty', async () => {
    const period = await sealPeriod({ meterId: 'meter-17', enrollmentId: 'enr-m17-2025-06-01', periodIndex: 3, readings: ['1', '2', '3', '4'], fingerprintSalt: '7' }, [{ publicKeyPem: site.publicKeyPem }]);
    const error = await refusal(openEnrollmentPackage(period, site.privateKeyPem));
    expectCode(error, 'UNREADABLE', 'jwe.protected.cty');
    assert.match(error.message, /not an enrollment package/);
  });

  it('refuses a plaintext out of shape, naming the field (never its value)', async () => {
    const base = { v: 1, ...clone(PACKAGE) };
    const cases: [string, (p: Record<string, unknown> & typeof base) => void][] = [
      ['plaintext.requestProfile[5]', (p) => void (p.requestProfile[5] = '007')],
      ['plaintext.requestProfile', (p) => void p.requestProfile.pop()],
      ['plaintext.commitmentSalt', (p) => void (p.commitmentSalt = `-${SALT}`)],
      ['plaintext.terms.flexWh[3]', (p) => void ((p.terms.flexWh as unknown[])[3] = 30)],
      ['plaintext.terms.reward', (p) => void (p.terms.reward = '0')],
      ['plaintext.terms.startTime', (p) => void (p.terms.startTime = '2025-06-01 00:00')],
      ['plaintext.terms.periodSeconds', (p) => void (p.terms.periodSeconds = 0)],
      ['plaintext.terms.prosumerId', (p) => void ((p.terms as Record<string, unknown>).prosumerId = 'p1')],
      ['plaintext.v', (p) => void (p.v = 2)],
      ['plaintext.extra', (p) => void (p.extra = SALT)],
    ];
    for (const [field, change] of cases) {
      const plaintext = clone(base);
      change(plaintext);
      const error = await refusal(openEnrollmentPackage(await sealRaw(plaintext), site.privateKeyPem));
      expectCode(error, 'UNREADABLE', field);
    }
    // The plaintext names another place than the header the package was sealed under.
    const elsewhere = clone(base);
    elsewhere.terms.meterId = 'meter-99';
    expectCode(await refusal(openEnrollmentPackage(await sealRaw(elsewhere), site.privateKeyPem)), 'MISPLACED', 'plaintext.terms.meterId');
  });

  it('sealing refuses bad input by field (MALFORMED) and a key given twice', async () => {
    const bad = clone(PACKAGE);
    bad.requestProfile[2] = '1.5';
    const error = await refusal(sealEnrollmentPackage(bad, [{ publicKeyPem: site.publicKeyPem }]));
    expectCode(error, 'MALFORMED', 'package.requestProfile[2]');
    expectCode(await refusal(sealEnrollmentPackage(PACKAGE, [])), 'MALFORMED', 'recipients');
    expectCode(await refusal(sealEnrollmentPackage(PACKAGE, [{ publicKeyPem: site.privateKeyPem }])), 'MALFORMED', 'recipients[0].publicKeyPem');
    expectCode(
      await refusal(sealEnrollmentPackage(PACKAGE, [{ publicKeyPem: site.publicKeyPem }, { publicKeyPem: site.publicKeyPem }])),
      'MALFORMED',
      'recipients[1].publicKeyPem',
    );
  });

  it('a net (v2) profile may hold negative values (export)', async () => {
    const net = clone(PACKAGE);
    net.terms.circuitId = 'flexnet-v2-r4';
    net.requestProfile[10] = '-4200';
    const jwe = await sealEnrollmentPackage(net, [{ publicKeyPem: site.publicKeyPem }]);
    assert.equal((await openEnrollmentPackage(jwe, site.privateKeyPem)).requestProfile[10], '-4200');
  });
});
