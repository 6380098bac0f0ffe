// The production ceremony commands, end to end on the small shape with the cached dev
// powers of tau: two organisations contribute, anyone verifies, the result proves; and
// what the commands refuse (a broken input, one organisation plus a beacon, an output
// over an input or over an existing file), with paths relative to the caller.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  buildDeviationInput,
  contributionsFromReport,
  contributorProblem,
  cacheRoot,
  ensureArtifacts,
  loadArtifactsFrom,
  proveDeviation,
  readVerificationKey,
  verifyDeviationProof,
} from '@flexproof/circuits';

const ID = 'flexdev-v1-r4' as const;
const CLI = path.join(path.dirname(require.resolve('@flexproof/circuits')), 'cli', 'ceremony.js');

function ceremonyIn(options: { cwd?: string; env?: NodeJS.ProcessEnv }, ...args: string[]): { status: number | null; out: string; stdout: string; stderr: string } {
  const env = { ...process.env, ...options.env };
  // As a shell runs it, unless the test says it runs under `npm run ceremony`.
  if (options.env?.npm_lifecycle_event === undefined) delete env.npm_lifecycle_event;
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 5 * 60_000, cwd: options.cwd, env });
  return { status: result.status, out: `${result.stdout}${result.stderr}`, stdout: result.stdout, stderr: result.stderr };
}

function ceremony(...args: string[]): { status: number | null; out: string; stdout: string; stderr: string } {
  return ceremonyIn({}, ...args);
}

function refused(pattern: RegExp, ...args: string[]): string {
  const { status, stderr, out } = ceremony(...args);
  assert.equal(status, 1, `ceremony ${args[0]} should fail:\n${out}`);
  assert.match(stderr, pattern);
  return stderr;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Flips a bit of the first contribution's transcript in a zkey (section 10, the MPC parameters). */
function breakFirstTranscript(from: string, to: string): void {
  const buf = readFileSync(from);
  // binfile: magic (4), version (u32), section count (u32); then sections: type (u32), size (u64), data.
  for (let pos = 12; pos < buf.length; ) {
    const type = buf.readUInt32LE(pos);
    const size = Number(buf.readBigUInt64LE(pos + 4));
    const start = pos + 12;
    if (type === 10) {
      // csHash (64), count (u32), then deltaAfter, g1_s, g1_sx (G1, 64 each), g2_spx (G2, 128), transcript (64).
      const offset = start + 64 + 4 + 3 * 64 + 128;
      buf[offset] = (buf[offset] as number) ^ 1;
      writeFileSync(to, buf);
      return;
    }
    pos = start + size;
  }
  throw new Error(`${from} has no MPC section`);
}

function ok(...args: string[]): string {
  const { status, out } = ceremony(...args);
  assert.equal(status, 0, `ceremony ${args[0]} failed:\n${out}`);
  return out;
}

describe('circuits: production ceremony commands', function () {
  this.timeout(5 * 60_000);
  let dir: string;
  let ptau: string;

  before(async function () {
    this.timeout(15 * 60_000);
    const dev = await ensureArtifacts(ID);
    ptau = path.join(cacheRoot(), 'circuits', 'ptau', `dev-bn128-p${dev.manifest.ptau.power}.ptau`);
    if (!existsSync(ptau)) this.skip();
    dir = mkdtempSync(path.join(os.tmpdir(), 'flexproof-ceremony-'));
  });

  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('explains itself and refuses bad invocations', () => {
    const help = ok('--help');
    assert.match(help, /contribute\s+--circuit ID --ptau FILE --in ZKEY --out ZKEY --name NAME/);
    assert.match(help, /--force\s+overwrite output files that exist/);
    assert.equal(ceremony('no-such-command').status, 1);
    assert.equal(ceremony('contribute', '--in', 'x.zkey').status, 1);
  });

  const z = (n: number): string => path.join(dir, `circuit_000${n}.zkey`);

  it('init, two contributions (each checking its input), verification by a third party', () => {
    ok('init', '--circuit', ID, '--ptau', ptau, '--dir', dir);
    const first = ok('contribute', '--circuit', ID, '--ptau', ptau, '--in', z(0), '--out', z(1), '--name', 'AggregatorMSP');
    assert.match(first, /input OK: 0 earlier contribution\(s\)/);
    assert.match(first, /publish this hash/);
    const second = ok('contribute', '--circuit', ID, '--ptau', ptau, '--in', z(1), '--out', z(2), '--name', 'DsoMSP', '--entropy', 'some dice rolls');
    assert.match(second, /input OK: 1 earlier contribution\(s\): "AggregatorMSP"/);
    assert.match(ok('verify', '--circuit', ID, '--ptau', ptau, '--zkey', z(2), '--dir', dir), /OK: .* with 2 contribution\(s\): "AggregatorMSP", "DsoMSP"/);
  });

  it('contribute refuses an input whose chain does not verify, with snarkjs\'s reason, and writes nothing', () => {
    const broken = path.join(dir, 'broken.zkey');
    breakFirstTranscript(z(1), broken);
    const out = path.join(dir, 'after-broken.zkey');
    const message = refused(/ceremony failed \[CEREMONY_FAILED\]: zkey .*broken\.zkey does NOT match the r1cs and the powers of tau: snarkjs says: INVALID\(0\): Inconsistent transcript/, 'contribute', '--circuit', ID, '--ptau', ptau, '--in', broken, '--out', out, '--name', 'X');
    assert.ok(!existsSync(out), message);
    rmSync(broken);
  });

  it('refuses an output that is an input, or that exists (unless --force); the files are unchanged', () => {
    const before = sha256(z(1));
    refused(/the output .*circuit_0001\.zkey is an input of this command/, 'contribute', '--circuit', ID, '--ptau', ptau, '--in', z(1), '--out', z(1), '--name', 'DsoMSP');
    refused(/the output .*circuit_0001\.zkey is an input of this command/, 'contribute', '--circuit', ID, '--ptau', ptau, '--in', z(1), '--out', path.join(dir, '.', 'x', '..', 'circuit_0001.zkey'), '--name', 'DsoMSP');
    assert.equal(sha256(z(1)), before);
    const z2 = sha256(z(2));
    refused(/circuit_0002\.zkey exists: give another output file, or --force to overwrite it/, 'contribute', '--circuit', ID, '--ptau', ptau, '--in', z(1), '--out', z(2), '--name', 'DsoMSP');
    assert.equal(sha256(z(2)), z2);
  });

  it('finalize refuses one organisation plus the beacon (the beacon found by its type in the file)', () => {
    const beacon = ['--beacon', '0102030405060708090a0b0c0d0e0f10', '--iterations', '10'];
    refused(/only 1 contributor name\(s\) \("AggregatorMSP", beacon "final beacon"\): .*the beacon does not count/, 'finalize', '--dir', dir, '--zkey', z(1), '--ptau', ptau, ...beacon);
    assert.ok(!existsSync(path.join(dir, 'circuit_beacon.zkey')), 'the refused beacon zkey is removed');
    assert.ok(!existsSync(path.join(dir, 'manifest.json')));
  });

  it('finalize with two organisations and a beacon; the result proves and verifies; a second finalize needs --force', async () => {
    ok('finalize', '--dir', dir, '--zkey', z(2), '--ptau', ptau, '--beacon', 'aa'.repeat(16), '--iterations', '10');

    const artifacts = loadArtifactsFrom(dir);
    assert.equal(artifacts.manifest.kind, 'ceremony');
    assert.deepEqual(artifacts.manifest.contributions.map((c) => c.name), ['AggregatorMSP', 'DsoMSP', 'final beacon']);
    const input = buildDeviationInput({
      circuitId: ID,
      prevFingerprint: 1n,
      periodIndex: 0,
      readings: [5n, 5n, 5n, 5n],
      requestProfile: Array.from({ length: 24 }, () => 25n),
      commitmentSalt: 2n ** 200n,
      fingerprintSalt: 2n ** 201n,
    });
    const { proof, publicSignals } = await proveDeviation(ID, input, artifacts);
    assert.equal(await verifyDeviationProof(readVerificationKey(artifacts), proof, publicSignals), true);
    // Another set-up, another key: the dev key does not accept a ceremony proof.
    assert.equal(await verifyDeviationProof(readVerificationKey(await ensureArtifacts(ID)), proof, publicSignals), false);

    const manifest = sha256(path.join(dir, 'manifest.json'));
    refused(/manifest\.json exists|circuit\.zkey exists/, 'finalize', '--dir', dir, '--zkey', z(2), '--ptau', ptau);
    assert.equal(sha256(path.join(dir, 'manifest.json')), manifest);
  });

  it('takes relative paths from the caller\'s directory, also under `npm run ceremony -w` (INIT_CWD)', () => {
    const work = path.join(dir, 'caller');
    mkdirSync(work);
    const r = ceremonyIn({ cwd: work }, 'ptau-new', '--power', '8', '--out', 'pot_0000.ptau');
    assert.equal(r.status, 0, r.out);
    assert.ok(existsSync(path.join(work, 'pot_0000.ptau')));
    // npm runs the script in circuits/, with the caller's directory in INIT_CWD.
    const circuitsDir = path.dirname(path.dirname(CLI));
    const underNpm = { cwd: circuitsDir, env: { npm_lifecycle_event: 'ceremony', INIT_CWD: work } };
    // A fresh file has no contribution: finalize refuses it (tau = 1), the first contribution takes it.
    const fresh = ceremonyIn(underNpm, 'ptau-finalize', '--in', 'pot_0000.ptau', '--out', 'pot_final.ptau');
    assert.equal(fresh.status, 1, fresh.out);
    assert.match(fresh.stderr, /pot_0000\.ptau does NOT verify: .*no contribution/);
    assert.ok(!existsSync(path.join(work, 'pot_final.ptau')));
    const first = ceremonyIn(underNpm, 'ptau-contribute', '--in', 'pot_0000.ptau', '--out', 'pot_0001.ptau', '--name', 'AggregatorMSP');
    assert.equal(first.status, 0, first.out);
    assert.match(first.stdout, /has no contribution yet \(as ptau-new wrote it\): this is the first/);
    const fin = ceremonyIn(underNpm, 'ptau-finalize', '--in', 'pot_0001.ptau', '--out', 'pot_final.ptau');
    assert.equal(fin.status, 0, fin.out);
    const final = path.join(work, 'pot_final.ptau');
    assert.match(fin.stdout, new RegExp(`phase 1 final: ${final.replace(/[.]/g, '\\.')} \\(sha256 ${sha256(final)}\\)`));
    assert.ok(!existsSync(path.join(circuitsDir, 'pot_final.ptau')));
    // An INIT_CWD left by some other npm script is not where the paths were typed.
    const other = ceremonyIn({ cwd: work, env: { npm_lifecycle_event: 'test', INIT_CWD: circuitsDir } }, 'ptau-new', '--power', '8', '--out', 'pot_other.ptau');
    assert.equal(other.status, 0, other.out);
    assert.ok(existsSync(path.join(work, 'pot_other.ptau')));
    const same = ceremonyIn({ cwd: work }, 'ptau-finalize', '--in', 'pot_final.ptau', '--out', './pot_final.ptau');
    assert.equal(same.status, 1);
    assert.match(same.stderr, /is an input of this command/);
    copyFileSync(final, path.join(work, 'copy.ptau'));
    assert.equal(ceremonyIn({ cwd: work }, 'ptau-new', '--power', '8', '--out', 'copy.ptau').status, 1, 'an existing output is refused');
  });
});

describe('circuits: the ceremony\'s contributor rule', () => {
  // Lines as snarkjs 0.7.6's verifier logs them: newest first, a beacon followed by its generator.
  const report = (entries: { name: string; beacon?: boolean }[]): string[] =>
    entries
      .map((e, i) => ({ ...e, i: i + 1 }))
      .reverse()
      .flatMap((e) => [
        '-------------------------',
        `contribution #${e.i} ${e.name}:\n\t\t${'ab12cd34 '.repeat(4).trim()}\n\t\t${'00ff00ff '.repeat(4).trim()}`,
        ...(e.beacon ? ['Beacon generator: 0102', 'Beacon iterations Exp: 10'] : []),
      ]);

  it('reads the contributions oldest first, the beacon by its generator line (not by its name)', () => {
    const parsed = contributionsFromReport(report([{ name: 'AggregatorMSP' }, { name: 'final beacon' }, { name: 'DsoMSP' }, { name: 'final beacon', beacon: true }]));
    assert.deepEqual(parsed.map((c) => [c.name, c.beacon]), [['AggregatorMSP', false], ['final beacon', false], ['DsoMSP', false], ['final beacon', true]]);
    assert.equal(parsed[0]?.hash, `${'ab12cd34'.repeat(4)}${'00ff00ff'.repeat(4)}`);
  });

  it('needs two differently named contributors; a beacon or the same name twice does not make two', () => {
    const rule = (entries: { name: string; beacon?: boolean }[]) => contributorProblem(contributionsFromReport(report(entries)));
    assert.equal(rule([{ name: 'AggregatorMSP' }, { name: 'DsoMSP' }]), undefined);
    assert.equal(rule([{ name: 'AggregatorMSP' }, { name: 'DsoMSP' }, { name: 'final beacon', beacon: true }]), undefined);
    assert.match(rule([{ name: 'AggregatorMSP' }, { name: 'final beacon', beacon: true }]) ?? '', /^only 1 contributor name\(s\) \("AggregatorMSP", beacon "final beacon"\).*the beacon does not count/);
    assert.match(rule([{ name: 'AggregatorMSP' }, { name: 'AggregatorMSP' }]) ?? '', /^only 1 contributor name\(s\)/);
    assert.match(rule([]) ?? '', /^only 0 contributor name\(s\) \(none\)/);
  });
});
