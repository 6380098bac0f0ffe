// `flexproof-edge enroll PACKAGE` (issue 16): a site adds an enrollment from a package
// sealed to its sealing key, only when the ledger's enrollment has the package's terms
// field by field, the profile and salt open the commitment, and the terms are within the
// site's acceptPolicy. The config file is replaced atomically (mode 0600), once per
// enrollment id; every refusal names the term and leaves the file as it was, and no
// message holds the profile or the salt.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomSalt, requestCommitmentFor } from '@flexproof/circuits';
import { generateSealingKeyPair, sealEnrollmentPackage, type EnrollmentPackage, type EnrollmentPackageTerms } from '@flexproof/protocol';
import {
  createSealingKey,
  EdgeError,
  enrollFromPackage,
  formatEnrollResult,
  loadConfig,
  writeSealingPublicKey,
  type EnrollmentView,
  type SealingKey,
} from '@flexproof/edge-client';

// Findable values: none may appear in a message or in the printed result.
const PROFILE = Array.from({ length: 24 }, (_, h) => String(61_234 + h * 41));

const FULL_POLICY = { minReward: '4000', maxRatePerWh: '3', minToleranceWh: '40', maxFlexWh: '500', orderId: 'order-9' };

describe('edge-client: enroll from an enrollment package', () => {
  let dir: string;
  let configFile: string;
  let sealing: SealingKey;
  let salt: string;
  let terms: EnrollmentPackageTerms;
  let ledgerCalls: string[];
  /** What the fake ledger answers for the enrollment: the package's terms unless a test changes them. */
  let ledgerRecord: Record<string, unknown>;

  const ledger = {
    getEnrollment: async (enrollmentId: string): Promise<EnrollmentView> => {
      ledgerCalls.push(enrollmentId);
      return { enrollment: { ...ledgerRecord } as EnrollmentView['enrollment'] };
    },
  };

  function writeConfig(extra: Record<string, unknown> = {}): void {
    const existing = { enrollmentId: 'e0', circuitId: 'flexdev-v1-r4', startTime: '2025-05-31T00:00:00Z', requestProfile: PROFILE, commitmentSalt: randomSalt().toString() };
    const config = {
      meterId: 'meter-17',
      prosumerId: 'prosumer-17',
      keyFile: 'site-key.pem',
      dataDir: 'data',
      mqtt: { url: 'mqtt://127.0.0.1:1883' },
      gatewayUrl: 'http://127.0.0.1:8080',
      siteSecret: 'ab'.repeat(16),
      acceptPolicy: FULL_POLICY,
      enrollments: [existing],
      ...extra,
    };
    writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
    chmodSync(configFile, 0o600);
  }

  async function writePackage(name: string, pkg: EnrollmentPackage, publicKeyPem = sealing.publicKeyPem): Promise<string> {
    const file = path.join(dir, name);
    writeFileSync(file, JSON.stringify(await sealEnrollmentPackage(pkg, [{ publicKeyPem }])), { mode: 0o600 });
    return file;
  }

  const packageOf = (changes: Partial<EnrollmentPackageTerms> = {}): EnrollmentPackage => ({ terms: { ...terms, ...changes }, requestProfile: [...PROFILE], commitmentSalt: salt });

  const enroll = (packageFile: string) => enrollFromPackage({ configFile, packageFile, sealingKey: sealing, ledger, env: {} });

  function assertNoSecret(text: string): void {
    assert.equal(text.includes(salt.slice(0, 20)), false, 'the salt is in the text');
    for (const v of PROFILE) assert.equal(text.includes(v), false, `profile value ${v} is in the text`);
    assert.equal(text.includes(terms.requestCommitment.slice(0, 20)), false, 'the commitment is printed');
  }

  /** The refusal, after checking the config file is byte for byte what it was. */
  async function refusal(packageFile: string): Promise<EdgeError> {
    const before = readFileSync(configFile, 'utf8');
    try {
      await enroll(packageFile);
    } catch (error) {
      assert.ok(error instanceof EdgeError, `expected an EdgeError, got ${String(error)}`);
      assertNoSecret(error.message);
      assertNoSecret(JSON.stringify(error.details));
      assert.equal(readFileSync(configFile, 'utf8'), before, 'a refusal changed the config');
      return error;
    }
    assert.fail('expected a refusal');
  }

  const refusedTerms = (error: EdgeError) => (error.details.refusals as { term: string }[]).map((r) => r.term);

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'flexproof-enroll-edge-'));
    configFile = path.join(dir, 'flexproof-edge.json');
    sealing = createSealingKey(path.join(dir, 'sealing-key.pem'));
    salt = randomSalt().toString();
    terms = {
      enrollmentId: 'enr-17-0601',
      orderId: 'order-9',
      meterId: 'meter-17',
      circuitId: 'flexdev-v1-r4',
      requestCommitment: requestCommitmentFor('flexdev-v1-r4', salt, PROFILE).toString(),
      reward: '5000',
      ratePerWh: '2',
      toleranceWh: '50',
      flexWh: Array.from({ length: 24 }, (_, h) => String(h * 10)),
      startTime: '2025-06-01T00:00:00.000Z',
      periodSeconds: 3600,
      graceSeconds: 900,
    };
    ledgerRecord = { ...terms, flexWh: [...terms.flexWh], prosumerId: 'prosumer-17', status: 'offered', chainHead: '0' };
    ledgerCalls = [];
    writeConfig();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('adds the enrollment with its profile, salt and commitment; the config still loads, mode 0600, replaced by rename', async () => {
    const before = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    const inode = statSync(configFile).ino;
    const result = await enroll(await writePackage('enr.package.json', packageOf()));
    assert.deepEqual(ledgerCalls, ['enr-17-0601']);
    assert.equal(result.autoAccept, true);
    assert.deepEqual(result.missingPolicyTerms, []);

    const config = loadConfig(configFile, {});
    const added = config.enrollments.find((e) => e.enrollmentId === 'enr-17-0601');
    assert.ok(added);
    assert.deepEqual(added.requestProfile, PROFILE);
    assert.equal(added.commitmentSalt, salt);
    assert.equal(added.requestCommitment, terms.requestCommitment);
    assert.equal(added.startTime, '2025-06-01T00:00:00.000Z');
    assert.equal(config.enrollments.length, 2);
    // Every other field stays as written; the economics are not copied into the config.
    const after = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown> & { enrollments: Record<string, unknown>[] };
    assert.deepEqual({ ...after, enrollments: after.enrollments.slice(0, 1) }, before);
    assert.deepEqual(Object.keys(after.enrollments[1] ?? {}).sort(), ['circuitId', 'commitmentSalt', 'enrollmentId', 'graceSeconds', 'periodSeconds', 'requestCommitment', 'requestProfile', 'startTime']);
    assert.equal(statSync(configFile).mode & 0o777, 0o600);
    assert.notEqual(statSync(configFile).ino, inode, 'the file was rewritten in place instead of replaced');
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), [], 'a temporary file was left behind');

    const printed = formatEnrollResult(result);
    assert.match(printed, /added enrollment enr-17-0601 \(meter meter-17, order order-9/);
    assert.match(printed, /flexproof-edge run` accepts it/);
    assertNoSecret(printed);
  });

  it('refuses a second add of the same enrollment id, and leaves the config as it was', async () => {
    const file = await writePackage('enr.package.json', packageOf());
    await enroll(file);
    const error = await refusal(file);
    assert.equal(error.code, 'USAGE');
    assert.equal(error.details.reason, 'already-enrolled');
    assert.match(error.message, /enrollment enr-17-0601 is already in .*nothing changed/);
    assert.equal(loadConfig(configFile, {}).enrollments.filter((e) => e.enrollmentId === 'enr-17-0601').length, 1);
  });

  it('refuses terms that differ from the ledger, naming each term (the commitment named, not printed)', async () => {
    const file = await writePackage('enr.package.json', packageOf());
    const flexWh = [...terms.flexWh];
    flexWh[5] = '999';
    Object.assign(ledgerRecord, {
      reward: '4500',
      flexWh,
      startTime: '2025-06-02T00:00:00.000Z',
      graceSeconds: 60,
      prosumerId: 'prosumer-18',
      requestCommitment: requestCommitmentFor('flexdev-v1-r4', randomSalt(), PROFILE).toString(),
    });
    const error = await refusal(file);
    assert.equal(error.code, 'TERMS_MISMATCH');
    assert.equal(error.details.reason, 'ledger');
    assert.deepEqual(refusedTerms(error).sort(), ['flexWh[5]', 'graceSeconds', 'prosumerId', 'requestCommitment', 'reward', 'startTime']);
    assert.match(error.message, /reward: the ledger has "4500", the package "5000"/);
    assert.match(error.message, /requestCommitment: the ledger's commitment is not the package's/);
  });

  it('a start time the ledger writes in another ISO form is the same term', async () => {
    ledgerRecord.startTime = '2025-06-01T00:00:00Z';
    const result = await enroll(await writePackage('enr.package.json', packageOf()));
    assert.equal(result.enrollmentId, 'enr-17-0601');
  });

  it('refuses a package whose profile and salt do not open its commitment, before asking the ledger', async () => {
    const other = requestCommitmentFor('flexdev-v1-r4', randomSalt(), PROFILE).toString();
    ledgerRecord.requestCommitment = other;
    const error = await refusal(await writePackage('enr.package.json', packageOf({ requestCommitment: other })));
    assert.equal(error.code, 'TERMS_MISMATCH');
    assert.equal(error.details.reason, 'commitment');
    assert.deepEqual(refusedTerms(error), ['requestCommitment']);
    assert.deepEqual(ledgerCalls, []);
    // A v1 circuit takes no negative value: refused by position, not value.
    const negative = packageOf();
    negative.requestProfile[4] = '-70';
    const range = await refusal(await writePackage('negative.package.json', negative));
    assert.equal(range.details.reason, 'commitment');
    assert.match(range.message, /requestProfile\[4\]/);
  });

  it('refuses terms outside the acceptPolicy, by term', async () => {
    writeConfig({ acceptPolicy: { ...FULL_POLICY, minReward: '6000', maxFlexWh: '200' } });
    const error = await refusal(await writePackage('enr.package.json', packageOf()));
    assert.equal(error.code, 'TERMS_MISMATCH');
    assert.equal(error.details.reason, 'policy');
    assert.deepEqual(refusedTerms(error), ['reward', 'flexWh[21]', 'flexWh[22]', 'flexWh[23]']);
    assert.match(error.message, /reward: 5000 is below the policy's minReward 6000/);
  });

  it('adds an enrollment the policy does not fully cover, and says it waits for accept', async () => {
    writeConfig({ acceptPolicy: { minReward: '1000' } });
    const result = await enroll(await writePackage('enr.package.json', packageOf()));
    assert.equal(result.autoAccept, false);
    assert.deepEqual(result.missingPolicyTerms, ['maxRatePerWh', 'minToleranceWh', 'maxFlexWh', 'orderId']);
    assert.match(formatEnrollResult(result), /flexproof-edge accept --enrollment enr-17-0601/);
  });

  it('refuses an enrollment the ledger has as cancelled', async () => {
    ledgerRecord.status = 'cancelled';
    const error = await refusal(await writePackage('enr.package.json', packageOf()));
    assert.equal(error.details.reason, 'status');
  });

  it('refuses a package sealed to another key, for another meter, changed, or missing', async () => {
    const stranger = generateSealingKeyPair();
    const notMine = await refusal(await writePackage('stranger.package.json', packageOf(), stranger.publicKeyPem));
    assert.equal(notMine.code, 'SEALED_DOCUMENT_UNREADABLE');
    assert.equal(notMine.details.code, 'NOT_A_RECIPIENT');
    assert.match(notMine.message, /sealing-key\.pub\.pem/);

    const elsewhere = await refusal(await writePackage('meter-18.package.json', packageOf({ meterId: 'meter-18' })));
    assert.equal(elsewhere.details.code, 'MISPLACED');

    const file = await writePackage('tampered.package.json', packageOf());
    const jwe = JSON.parse(readFileSync(file, 'utf8')) as { ciphertext: string };
    const bytes = Buffer.from(jwe.ciphertext, 'base64url');
    bytes[3] = (bytes[3] ?? 0) ^ 1;
    jwe.ciphertext = bytes.toString('base64url');
    writeFileSync(file, JSON.stringify(jwe));
    const tampered = await refusal(file);
    assert.equal(tampered.code, 'SEALED_DOCUMENT_UNREADABLE');
    assert.equal(tampered.details.code, 'UNREADABLE');

    const missing = await refusal(path.join(dir, 'nothing.json'));
    assert.equal(missing.code, 'SEALED_DOCUMENT_MISSING');
    assert.deepEqual(ledgerCalls, []);
  });

  it('writes the sealing public key for the aggregator (0644, the key the package is sealed to)', async () => {
    const file = path.join(dir, 'sealing-key.pub.pem');
    writeSealingPublicKey(sealing, file);
    assert.equal(statSync(file).mode & 0o777, 0o644);
    assert.equal(readFileSync(file, 'utf8'), sealing.publicKeyPem);
    assert.doesNotMatch(readFileSync(file, 'utf8'), /PRIVATE/);
    const result = await enroll(await writePackage('enr.package.json', packageOf(), readFileSync(file, 'utf8')));
    assert.equal(result.enrollmentId, 'enr-17-0601');
  });
});
