// `flexproof enrollments offer --profile-file ...` (issue 16) against the real gateway app
// on the gateway tests' fake ledger: the offer carries the commitment of the file's profile
// under a fresh salt, the package is written 0600 and opens with the site's sealing key to
// the very terms the ledger was sent, and neither the profile nor the salt is ever printed.
// Refusals: bad flags and profile values by name, an existing --out kept, a refused offer
// leaves no package, an offer of unknown outcome keeps it and says so.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { requestCommitmentFor } from '@flexproof/circuits';
import { ChaincodeRefusal, TX } from '@flexproof/gateway-api';
import { EXIT, runCli } from '@flexproof/operator';
import { generateSealingKeyPair, openEnrollmentPackage, sealingKeyHash } from '@flexproof/protocol';
import { TOKENS, buildTestGateway, type TestGateway } from '../gateway-api/support/gateway';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// Findable values: none of them may be printed.
const PROFILE = Array.from({ length: 24 }, (_, h) => 48_100 + h * 37);
const FLEX = Array.from({ length: 24 }, (_, h) => String(h * 10)).join(',');

describe('operator: enrollments offer with an enrollment package', function () {
  this.timeout(120_000);
  let gw: TestGateway;
  let dir: string;
  const site = generateSealingKeyPair();

  const file = (name: string, text: string, mode = 0o600): string => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    chmodSync(p, mode);
    return p;
  };

  async function run(args: string[]): Promise<Run> {
    const out = { stdout: '', stderr: '' };
    const code = await runCli(args, {
      stdout: (t) => void (out.stdout += t),
      stderr: (t) => void (out.stderr += t),
      env: { FLEXPROOF_PROFILE: path.join(dir, 'aggregator.json') },
      cwd: dir,
      sleep: async () => undefined,
    });
    return { code, ...out };
  }

  const offerArgs = (overrides: Record<string, string> = {}): string[] => {
    const flags: Record<string, string> = {
      'profile-file': 'profile.json',
      enrollment: 'enr-1',
      meter: 'm1',
      order: 'or1',
      circuit: 'flexdev-v1-r4',
      reward: '5000',
      rate: '2',
      tolerance: '50',
      'flex-wh': FLEX,
      start: '2025-06-01T00:00:00Z',
      'recipient-key': 'sealing-key.pub.pem',
      out: 'enr-1.package.json',
      ...overrides,
    };
    return ['enrollments', 'offer', ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v])];
  };

  function assertNothingSecret(r: Run, salt?: string): void {
    const printed = r.stdout + r.stderr;
    for (const v of PROFILE) assert.equal(printed.includes(String(v)), false, `profile value ${v} printed`);
    if (salt !== undefined) assert.equal(printed.includes(salt.slice(0, 24)), false, 'the salt was printed');
  }

  const offered = () => gw.ledger.submitted.filter((s) => s.transaction === TX.offerEnrollment).map((s) => s.argument as Record<string, unknown>);

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'flexproof-enroll-'));
    gw = await buildTestGateway({ org: 'aggregator' });
    await gw.app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}`;
    file('aggregator.token', `${TOKENS.aggregator}\n`);
    file('aggregator.json', JSON.stringify({ gatewayUrl: url, tokenFile: 'aggregator.token', org: 'AggregatorMSP' }));
    file('profile.json', JSON.stringify(PROFILE));
    file('sealing-key.pub.pem', site.publicKeyPem, 0o644);
    gw.ledger.on(TX.offerEnrollment, (a) => ({ ...a, prosumerId: 'p1', status: 'offered', chainHead: '0' }));
  });
  afterEach(async () => {
    await gw.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('offers with the commitment of the profile and a fresh salt; the package (0600) opens to the same terms', async () => {
    const r = await run(offerArgs());
    assert.equal(r.code, EXIT.ok, r.stderr);
    const out = path.join(dir, 'enr-1.package.json');
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const pkg = await openEnrollmentPackage(JSON.parse(readFileSync(out, 'utf8')), site.privateKeyPem, { meterId: 'm1' });
    assert.deepEqual(pkg.requestProfile, PROFILE.map(String));
    assert.match(pkg.commitmentSalt, /^[1-9][0-9]{30,}$/);
    // What the ledger was sent is the package's terms, field for field (timing explicit).
    assert.deepEqual(offered(), [pkg.terms]);
    assert.deepEqual(pkg.terms, {
      enrollmentId: 'enr-1', orderId: 'or1', meterId: 'm1', circuitId: 'flexdev-v1-r4',
      requestCommitment: requestCommitmentFor('flexdev-v1-r4', pkg.commitmentSalt, pkg.requestProfile).toString(),
      reward: '5000', ratePerWh: '2', toleranceWh: '50', flexWh: FLEX.split(','),
      startTime: '2025-06-01T00:00:00.000Z', periodSeconds: 3600, graceSeconds: 900,
    });
    assert.match(r.stdout, /^txId\s+faketx1\n/);
    assert.match(r.stderr, new RegExp(`to key ${sealingKeyHash(site.publicKeyPem)} in `));
    assertNothingSecret(r, pkg.commitmentSalt);
    assert.equal(readFileSync(out, 'utf8').includes(pkg.commitmentSalt), false, 'the package file holds the salt in plain');

    // A second offer draws another salt: two packages of one profile do not share a commitment.
    const again = await run(offerArgs({ enrollment: 'enr-2', out: 'enr-2.package.json' }));
    assert.equal(again.code, EXIT.ok, again.stderr);
    const second = await openEnrollmentPackage(JSON.parse(readFileSync(path.join(dir, 'enr-2.package.json'), 'utf8')), site.privateKeyPem);
    assert.notEqual(second.commitmentSalt, pkg.commitmentSalt);
    assert.notEqual(second.terms.requestCommitment, pkg.terms.requestCommitment);
  });

  it('--json prints the answer with the package file and recipient key hash, and a v2 profile with exports', async () => {
    file('net.json', JSON.stringify(PROFILE.map((v, h) => (h % 2 === 0 ? -v : v))));
    const r = await run([...offerArgs({ 'profile-file': 'net.json', circuit: 'flexnet-v2-r4', 'period-seconds': '900', 'grace-seconds': '60' }), '--json']);
    assert.equal(r.code, EXIT.ok, r.stderr);
    const answer = JSON.parse(r.stdout) as { txId: string; package: { file: string; recipientKeyHash: string } };
    assert.equal(answer.package.recipientKeyHash, sealingKeyHash(site.publicKeyPem));
    const pkg = await openEnrollmentPackage(JSON.parse(readFileSync(answer.package.file, 'utf8')), site.privateKeyPem);
    assert.equal(pkg.requestProfile[0], String(-PROFILE[0]!));
    assert.equal(pkg.terms.periodSeconds, 900);
    assert.equal(pkg.terms.requestCommitment, requestCommitmentFor('flexnet-v2-r4', pkg.commitmentSalt, pkg.requestProfile).toString());
    assertNothingSecret(r, pkg.commitmentSalt);
  });

  it('refuses bad flags and profile values by name, before anything is sent or written', async () => {
    file('negative.json', JSON.stringify(PROFILE.map((v, h) => (h === 6 ? -v : v))));
    file('short.json', JSON.stringify(PROFILE.slice(1)));
    file('huge.json', JSON.stringify(PROFILE.map((v, h) => (h === 2 ? String(2n ** 41n) : v))));
    file('not-a-key.pem', site.privateKeyPem);
    const cases: [string[], RegExp][] = [
      [offerArgs({ 'profile-file': 'negative.json' }), /--profile-file negative\.json: value 7 \(hour 6\) must be one of non-negative integers/],
      [offerArgs({ 'profile-file': 'short.json' }), /--profile-file short\.json: must be a JSON array of 24/],
      [offerArgs({ 'profile-file': 'huge.json' }), /--profile-file: requestProfile\[2\] must be in \[0, /],
      [offerArgs({ 'recipient-key': 'not-a-key.pem' }), /--recipient-key not-a-key\.pem: must be a P-256 public key/],
      [offerArgs({ circuit: 'flexdev-v9' }), /--circuit: must be a known circuit shape/],
      [offerArgs({ 'flex-wh': '1,2,3' }), /--flex-wh: must be an array of 24/],
      [offerArgs({ 'flex-wh': FLEX.replace(/^0,10,/, '0,-10,') }), /--flex-wh: value 2 must be a non-negative integer/],
      [offerArgs({ reward: '0' }), /--reward: must be a positive integer/],
      [offerArgs({ meter: 'm:1' }), /--meter: must be an id/],
      [offerArgs({ start: '2025-06-01T00:00:00' }), /--start: must be an ISO 8601 UTC time ending in Z/],
      [offerArgs({ 'period-seconds': '1.5' }), /--period-seconds: must be a whole number/],
      [offerArgs({ enrollment: '' }), /--enrollment: is required with --profile-file/],
      [[...offerArgs(), '--terms', 'terms.json'], /--profile-file FILE .* or --terms FILE .*not both/],
      [['enrollments', 'offer', '--terms', 'terms.json', '--reward', '5'], /--reward: is a flag of the --profile-file form/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      assert.equal(r.code, EXIT.usage, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assertNothingSecret(r);
    }
    assert.deepEqual(offered(), []);
    assert.equal(existsSync(path.join(dir, 'enr-1.package.json')), false);
  });

  it('never replaces an existing --out file, and sends nothing then', async () => {
    const existing = file('enr-1.package.json', 'an earlier package\n');
    const r = await run(offerArgs());
    assert.equal(r.code, EXIT.usage);
    assert.match(r.stderr, /--out .*enr-1\.package\.json: already exists/);
    assert.equal(readFileSync(existing, 'utf8'), 'an earlier package\n');
    assert.deepEqual(offered(), []);
  });

  it('a refused offer leaves no package; an offer of unknown outcome keeps it and says how to tell', async () => {
    gw.ledger.on(TX.offerEnrollment, () => {
      throw new ChaincodeRefusal('CONFLICT', 'enrollment enr-1 already exists');
    });
    const refused = await run(offerArgs());
    assert.equal(refused.code, EXIT.refused, refused.stderr);
    assert.match(refused.stderr, /CONFLICT/);
    assert.equal(existsSync(path.join(dir, 'enr-1.package.json')), false);

    gw.ledger.down = true;
    const unknown = await run([...offerArgs(), '--deadline', '0']);
    assert.equal(unknown.code, EXIT.unavailable, unknown.stderr);
    assert.match(unknown.stderr, /outcome is unknown; the package is kept in .*enr-1\.package\.json: if `flexproof enrollments show enr-1` finds the enrollment/);
    assert.equal(existsSync(path.join(dir, 'enr-1.package.json')), true);
    assertNothingSecret(unknown);
  });

  it('--help shows both forms and every flag', async () => {
    const r = await run(['enrollments', 'offer', '--help']);
    assert.equal(r.code, EXIT.ok);
    for (const f of ['--profile-file FILE', '--recipient-key FILE', '--out FILE', '--flex-wh LIST', '--start ISO', '--period-seconds S', '--terms FILE']) assert.match(r.stdout, new RegExp(f));
    assert.match(r.stdout, /flexproof-edge enroll PACKAGE/);
  });
});
