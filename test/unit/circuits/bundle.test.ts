// `ceremony publish` and the bundle format (circuits/src/bundle.ts). A finished ceremony
// of the small shape is made once for the file, quickly (snarkjs directly, in a child
// process: two named contributions and a beacon, finalised as `finalize` writes it;
// the commands themselves are tested in ceremony.test.ts); `publish` then runs as a user
// runs it. The bundle's integrity check refuses a changed byte in any file, a key that is
// not the zkey's, a missing file, an unknown format or shape, naming the file and rule.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUNDLE_FORMAT, cacheRoot, ensureArtifacts, readBundle, writeBundle, type BundleManifest, type CeremonyBundle } from '@flexproof/circuits';
import { canonicalVerificationKeyHash } from '@flexproof/protocol';

const ID = 'flexdev-v1-r4' as const;
const DIST = path.dirname(require.resolve('@flexproof/circuits'));
const CLI = path.join(DIST, 'cli', 'ceremony.js');

/** A finished ceremony in `dir` (ceremony.json, circuit.zkey, verification_key.json, manifest.json, ...), as finalize leaves it. */
const FIXTURE = `
const fs = require('node:fs');
const path = require('node:path');
const snarkjs = require('snarkjs');
const dist = ${JSON.stringify(DIST)};
const { compileCircuit } = require(path.join(dist, 'setup', 'compile'));
const { finishArtifactDir, requiredPower } = require(path.join(dist, 'setup', 'steps'));
const { circuitSourceHash, toolVersions } = require(path.join(dist, 'circuit-source'));
const { sha256File } = require(path.join(dist, 'artifacts'));
const [dir, ptau] = process.argv.slice(1);
const hex = (h) => Buffer.from(h).toString('hex');
(async () => {
  const z = (n) => path.join(dir, 'circuit_000' + n + '.zkey');
  const compiled = await compileCircuit('${ID}', dir);
  const info = await snarkjs.r1cs.info(compiled.r1csPath);
  await snarkjs.zKey.newZKey(compiled.r1csPath, ptau, z(0));
  const a = await snarkjs.zKey.contribute(z(0), z(1), 'AggregatorMSP', 'entropy one');
  const d = await snarkjs.zKey.contribute(z(1), z(2), 'DsoMSP', 'entropy two');
  const b = await snarkjs.zKey.beacon(z(2), path.join(dir, 'circuit_beacon.zkey'), 'final beacon', '0a0b0c0d', 10);
  fs.copyFileSync(path.join(dir, 'circuit_beacon.zkey'), path.join(dir, 'circuit.zkey'));
  const power = requiredPower(info);
  fs.writeFileSync(path.join(dir, 'ceremony.json'), JSON.stringify({
    circuitId: '${ID}', sourceHash: circuitSourceHash('${ID}'), tools: toolVersions(), constraints: info.nConstraints,
    r1csSha256: await sha256File(compiled.r1csPath), ptau: { file: path.basename(ptau), sha256: await sha256File(ptau), power },
    createdAt: new Date().toISOString(),
  }));
  const contributions = [{ name: 'AggregatorMSP', hash: hex(a) }, { name: 'DsoMSP', hash: hex(d) }, { name: 'final beacon', hash: hex(b) }];
  await finishArtifactDir(dir, { kind: 'ceremony', circuitId: '${ID}', constraints: info.nConstraints, ptau: { file: ptau, power, origin: 'test' }, contributions });
  fs.writeFileSync(path.join(dir, 'hashes.json'), JSON.stringify(contributions));
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
`;

function ceremony(cwd: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  delete env.npm_lifecycle_event;
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, env, encoding: 'utf8', timeout: 10 * 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function refusedBundle(dir: string, pattern: RegExp): Promise<void> {
  await assert.rejects(readBundle(dir), (error: Error & { code?: string }) => {
    assert.match(error.message, pattern);
    assert.ok(error.code === 'ARTIFACTS_CORRUPT' || error.code === 'ARTIFACTS_MISSING', error.code);
    return true;
  });
}

describe('circuits: ceremony publish and the bundle format', function () {
  this.timeout(10 * 60_000);
  let root: string;
  let dir: string;
  let out: string;
  let contributions: { name: string; hash: string }[];
  let published: CeremonyBundle;

  before(async function () {
    this.timeout(20 * 60_000);
    const dev = await ensureArtifacts(ID);
    const cachedPtau = path.join(cacheRoot(), 'circuits', 'ptau', `dev-bn128-p${dev.manifest.ptau.power}.ptau`);
    if (!existsSync(cachedPtau)) this.skip();
    root = mkdtempSync(path.join(os.tmpdir(), 'flexproof-bundle-'));
    // Beside the ceremony directory, where publish looks for it without --ptau.
    copyFileSync(cachedPtau, path.join(root, path.basename(cachedPtau)));
    dir = path.join(root, 'r4');
    mkdirSync(dir);
    const made = spawnSync(process.execPath, ['-e', FIXTURE, dir, path.join(root, path.basename(cachedPtau))], { cwd: path.dirname(DIST), encoding: 'utf8', timeout: 15 * 60_000 });
    assert.equal(made.status, 0, `${made.stdout}${made.stderr}`);
    contributions = JSON.parse(readFileSync(path.join(dir, 'hashes.json'), 'utf8'));
    out = path.join(root, 'bundle');
  });
  after(() => root && rmSync(root, { recursive: true, force: true }));

  const ptau = () => path.join(root, readdirSync(root).find((n) => n.endsWith('.ptau')) as string);

  it('publish refuses, before verifying anything: an existing output, an output over its inputs, no finalized ceremony, another ptau', () => {
    const cases: [string[], RegExp][] = [
      [['publish', '--dir', 'r4', '--out', 'r4'], /the output .*r4 is \(or holds\) an input/],
      [['publish', '--dir', 'r4', '--out', '.'], /the output .* is \(or holds\) an input/],
      [['publish', '--dir', 'r4', '--out', 'bundle', '--ptau', path.join(dir, 'circuit.r1cs')], /is not the powers of tau of the ceremony/],
      [['publish', '--dir', 'r4'], /missing --out/],
    ];
    for (const [args, pattern] of cases) {
      const r = ceremony(root, ...args);
      assert.equal(r.status, 1, `${args.join(' ')}:\n${r.stdout}${r.stderr}`);
      assert.match(r.stderr, pattern, args.join(' '));
    }
    mkdirSync(path.join(root, 'taken'));
    const taken = ceremony(root, 'publish', '--dir', 'r4', '--out', 'taken');
    assert.match(taken.stderr, /taken exists: give another output directory, or --force/);
    const forced = ceremony(root, 'publish', '--dir', 'r4', '--out', 'taken', '--force');
    assert.equal(forced.status, 1);
    assert.match(forced.stderr, /taken exists and is not a bundle \(no bundle\.json\): --force replaces only an earlier bundle/);
    assert.deepEqual(readdirSync(path.join(root, 'taken')), [], 'an unrelated directory is left alone');
    // A ceremony directory whose ptau is nowhere publish looks, and one never finalized.
    const elsewhere = path.join(root, 'elsewhere', 'r4');
    mkdirSync(elsewhere, { recursive: true });
    copyFileSync(path.join(dir, 'ceremony.json'), path.join(elsewhere, 'ceremony.json'));
    const noPtau = ceremony(path.join(root, 'elsewhere'), 'publish', '--dir', 'r4', '--out', 'b');
    assert.match(noPtau.stderr, /the ceremony's powers of tau .* is not in .*: give --ptau FILE/);
    const unfinished = ceremony(path.join(root, 'elsewhere'), 'publish', '--dir', 'r4', '--out', 'b', '--ptau', ptau());
    assert.match(unfinished.stderr, /holds no finalized ceremony .*run finalize first/);
    assert.equal(existsSync(out), false);
    assert.equal(existsSync(path.join(root, 'elsewhere', 'b')), false);
  });

  it('publish verifies the chain again and writes the bundle: every file hashed, the contributions, the beacon, the canonical key hash', async () => {
    const r = ceremony(root, 'publish', '--dir', 'r4', '--out', 'bundle');
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /ZKey Ok!/, 'the chain was verified by snarkjs');
    assert.match(r.stdout, new RegExp(`flexproof keys propose --circuit ${ID} --bundle ${out}`));
    assert.match(r.stdout, new RegExp(`flexproof-edge artifacts install ${out} --config site\\.json`));
    assert.deepEqual(readdirSync(out).sort(), ['bundle.json', 'circuit.r1cs', 'circuit.wasm', 'circuit.zkey', 'verification_key.json']);
    assert.deepEqual(readdirSync(root).filter((n) => n.startsWith('.')), [], 'no temporary directory left beside the bundle');

    published = await readBundle(out);
    const m: BundleManifest = published.manifest;
    assert.equal(m.format, BUNDLE_FORMAT);
    assert.equal(m.circuitShape, ID);
    assert.deepEqual(m.contributions, contributions.slice(0, 2), 'the organisations\' contributions, oldest first, as contribute returned their hashes');
    assert.deepEqual(m.beacon, { hash: (contributions[2] as { hash: string }).hash, generator: '0a0b0c0d', iterations: 10 });
    const vkText = readFileSync(path.join(out, 'verification_key.json'), 'utf8');
    assert.equal(vkText, readFileSync(path.join(dir, 'verification_key.json'), 'utf8'), 'the ceremony\'s key, as snarkjs exported it');
    assert.equal(m.verificationKeyHash, canonicalVerificationKeyHash(JSON.parse(vkText)));
    const state = JSON.parse(readFileSync(path.join(dir, 'ceremony.json'), 'utf8'));
    assert.equal(m.r1csSha256, state.r1csSha256);
    assert.equal(m.files['circuit.r1cs'], state.r1csSha256);
    assert.equal(m.ptau.sha256, state.ptau.sha256);
    for (const name of Object.keys(m.files) as (keyof BundleManifest['files'])[]) {
      const { createHash } = await import('node:crypto');
      assert.equal(m.files[name], createHash('sha256').update(readFileSync(path.join(out, name))).digest('hex'), name);
    }
    const again = ceremony(root, 'publish', '--dir', 'r4', '--out', 'bundle');
    assert.equal(again.status, 1);
    assert.match(again.stderr, /bundle exists: give another output directory, or --force/);
  });

  describe('the integrity check (readBundle)', () => {
    let n = 0;
    const copy = (): string => {
      assert.ok(published, 'needs the published bundle');
      const to = path.join(root, `copy-${++n}`);
      cpSync(out, to, { recursive: true });
      return to;
    };
    const flip = (file: string, at: number) => {
      const bytes = readFileSync(file);
      const i = at < 0 ? bytes.length + at : at;
      bytes[i] = (bytes[i] as number) ^ 1;
      writeFileSync(file, bytes);
    };
    const editManifest = (d: string, edit: (m: Record<string, unknown>) => void) => {
      const m = JSON.parse(readFileSync(path.join(d, 'bundle.json'), 'utf8')) as Record<string, unknown>;
      edit(m);
      writeFileSync(path.join(d, 'bundle.json'), JSON.stringify(m));
    };

    it('a changed byte in the zkey, the wasm or the key file', async () => {
      for (const [file, at] of [['circuit.zkey', -100], ['circuit.wasm', 200], ['verification_key.json', 30]] as const) {
        const d = copy();
        flip(path.join(d, file), at);
        await refusedBundle(d, new RegExp(`bundle .*copy-\\d+: ${file.replace('.', '\\.')}: sha256 [0-9a-f]{64} is not the [0-9a-f]{64} of bundle\\.json`));
      }
    });

    it('a key file that is not the zkey\'s: its canonical hash is not verificationKeyHash, or (with both hashes updated) it is not derived from the zkey', async () => {
      const dev = await ensureArtifacts(ID);
      const { createHash } = await import('node:crypto');
      const d = copy();
      copyFileSync(dev.verificationKeyPath, path.join(d, 'verification_key.json'));
      const sha = createHash('sha256').update(readFileSync(dev.verificationKeyPath)).digest('hex');
      editManifest(d, (m) => ((m.files as Record<string, string>)['verification_key.json'] = sha));
      await refusedBundle(d, /verification_key\.json: canonical hash [0-9a-f]{64} is not bundle\.json verificationKeyHash/);
      editManifest(d, (m) => (m.verificationKeyHash = canonicalVerificationKeyHash(JSON.parse(readFileSync(dev.verificationKeyPath, 'utf8')))));
      await refusedBundle(d, /verification_key\.json: is not the verification key of circuit\.zkey/);
    });

    it('a missing file, an unknown format, an unknown shape, one contributor, an unknown field', async () => {
      const missing = copy();
      rmSync(path.join(missing, 'circuit.r1cs'));
      await refusedBundle(missing, /circuit\.r1cs: missing/);
      const noManifest = copy();
      rmSync(path.join(noManifest, 'bundle.json'));
      await refusedBundle(noManifest, /bundle\.json: missing: not a ceremony bundle/);
      const cases: [(m: Record<string, unknown>) => void, RegExp][] = [
        [(m) => (m.format = 'flexproof.bundle.v2'), /bundle\.json format: unknown format "flexproof\.bundle\.v2" \(this tool reads flexproof\.bundle\.v1\)/],
        [(m) => (m.circuitShape = 'flexdev-v1-r5'), /bundle\.json circuitShape: unknown circuit shape "flexdev-v1-r5"/],
        [(m) => (m.contributions = (m.contributions as unknown[]).slice(0, 1)), /contributions under at least two different names are required \(found 1\)/],
        [(m) => (m.extra = 1), /bundle\.json extra: unknown field/],
        [(m) => (m.r1csSha256 = '00'.repeat(32)), /bundle\.json r1csSha256: must equal files\.circuit\.r1cs/],
      ];
      for (const [edit, pattern] of cases) {
        const d = copy();
        editManifest(d, edit);
        await refusedBundle(d, pattern);
      }
    });

    it('writeBundle never half-writes: --force replaces an earlier bundle only, and the copy is checked', async () => {
      const target = path.join(root, 'rewritten');
      const source = {
        circuitId: ID,
        files: { wasm: published.paths.wasm, zkey: published.paths.zkey, verificationKey: published.paths.verificationKey, r1cs: published.paths.r1cs },
        contributions: published.manifest.contributions,
        beacon: published.manifest.beacon,
        constraints: published.manifest.constraints,
        ptau: published.manifest.ptau,
      };
      const first = await writeBundle(target, source);
      assert.equal(first.manifest.verificationKeyHash, published.manifest.verificationKeyHash);
      await assert.rejects(writeBundle(target, source), /rewritten exists: give another output directory, or --force/);
      await writeBundle(target, source, { force: true });
      await assert.rejects(writeBundle(target, { ...source, contributions: source.contributions.slice(0, 1) }, { force: true }), /at least two different names/);
      assert.equal((await readBundle(target)).manifest.contributions.length, 2, 'a refused rewrite leaves the earlier bundle in place');
      await assert.rejects(writeBundle(path.dirname(published.paths.zkey), source, { force: true }), /holds an input/);
      assert.deepEqual(readdirSync(root).filter((x) => x.startsWith('.')), []);
    });
  });
});
