import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CircuitArtifacts,
  artifactsDir,
  cacheRoot,
  checkArtifactIntegrity,
  circuitSourceHash,
  ensureArtifacts,
  loadArtifacts,
  loadArtifactsFrom,
} from '@flexproof/circuits';
import { expectCircuitError } from './helpers';

const ID = 'flexdev-v1-r4' as const;
const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('circuits: artifact cache and manifest', function () {
  let artifacts: CircuitArtifacts;
  let scratch: string;

  before(async function () {
    this.timeout(15 * 60_000);
    artifacts = await ensureArtifacts(ID);
    scratch = mkdtempSync(path.join(os.tmpdir(), 'flexproof-artifacts-'));
  });

  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('keys the cache directory by shape and source hash', () => {
    const hash = circuitSourceHash(ID);
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.equal(circuitSourceHash(ID), hash);
    assert.notEqual(circuitSourceHash('flexdev-v1-r60'), hash);
    assert.equal(artifactsDir(ID, { cacheRoot: '/x' }), path.join('/x', 'circuits', `${ID}-${hash.slice(0, 12)}`));
    assert.equal(artifacts.dir, artifactsDir(ID));
    assert.ok(artifacts.dir.startsWith(path.join(cacheRoot(), 'circuits')));
  });

  it('writes a manifest with the sha256 of wasm, zkey and verification key, and the set-up facts', () => {
    const { manifest } = artifacts;
    assert.equal(manifest.circuitId, ID);
    assert.equal(manifest.readingsPerPeriod, 4);
    assert.equal(manifest.publicSignals, 6);
    assert.equal(manifest.sourceHash, circuitSourceHash(ID));
    assert.ok(manifest.contributions.length >= 2);
    assert.equal(manifest.files.wasm.sha256, sha256(artifacts.wasmPath));
    assert.equal(manifest.files.zkey.sha256, sha256(artifacts.zkeyPath));
    assert.equal(manifest.files.verificationKey.sha256, sha256(artifacts.verificationKeyPath));
    assert.ok(manifest.constraints > 1000 && 2 ** manifest.ptau.power >= manifest.constraints);
  });

  it('reports missing artifacts without building them', async () => {
    await expectCircuitError(() => loadArtifacts(ID, { cacheRoot: path.join(scratch, 'empty') }), 'ARTIFACTS_MISSING');
    await expectCircuitError(() => loadArtifactsFrom(scratch), 'ARTIFACTS_MISSING');
  });

  it('detects a corrupted file, and a manifest for other sources', async () => {
    const root = path.join(scratch, 'copy');
    const dir = artifactsDir(ID, { cacheRoot: root });
    cpSync(artifacts.dir, dir, { recursive: true });
    const copy = loadArtifacts(ID, { cacheRoot: root });
    await checkArtifactIntegrity(copy);
    const zkey = readFileSync(copy.zkeyPath);
    zkey.writeUInt8((zkey.readUInt8(zkey.length - 1) ^ 1) & 0xff, zkey.length - 1);
    writeFileSync(copy.zkeyPath, zkey);
    await expectCircuitError(() => checkArtifactIntegrity(copy), 'ARTIFACTS_CORRUPT');
    writeFileSync(copy.manifestPath, JSON.stringify({ ...copy.manifest, sourceHash: '0'.repeat(64) }));
    await expectCircuitError(() => loadArtifacts(ID, { cacheRoot: root }), 'ARTIFACTS_CORRUPT');
  });

  it('returns cached artifacts at once, without progress', async () => {
    const events: unknown[] = [];
    const started = Date.now();
    const again = await ensureArtifacts(ID, { onProgress: (e) => events.push(e) });
    assert.equal(again.dir, artifacts.dir);
    assert.deepEqual(events, []);
    assert.ok(Date.now() - started < 5_000);
  });

  it('turns a failed build into ARTIFACT_BUILD_FAILED with the set-up output', async function () {
    this.timeout(60_000);
    const notADirectory = path.join(scratch, 'file');
    writeFileSync(notADirectory, '');
    const error = await expectCircuitError(() => ensureArtifacts(ID, { cacheRoot: notADirectory }), 'ARTIFACT_BUILD_FAILED');
    assert.equal(error.details.exitCode, 1);
    assert.equal(typeof error.details.output, 'string');
  });
});
