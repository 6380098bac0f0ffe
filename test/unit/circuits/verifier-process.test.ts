// The chaincode verifies in a long-running server: verification must start no worker
// thread and leave nothing that keeps a process alive.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDeviationInput, ensureArtifacts, proveDeviation, readVerificationKey, randomSalt } from '@flexproof/circuits';

const ID = 'flexdev-v1-r4' as const;

describe('circuits: verification in a process of its own', function () {
  let dir: string;

  before(async function () {
    this.timeout(15 * 60_000);
    const artifacts = await ensureArtifacts(ID);
    const input = buildDeviationInput({
      circuitId: ID,
      prevFingerprint: randomSalt(),
      periodIndex: 7,
      readings: [1n, 2n, 3n, 4n],
      requestProfile: Array.from({ length: 24 }, () => 10n),
      commitmentSalt: randomSalt(),
      fingerprintSalt: randomSalt(),
    });
    const { proof, publicSignals } = await proveDeviation(ID, input, artifacts);
    dir = mkdtempSync(path.join(os.tmpdir(), 'flexproof-verify-'));
    writeFileSync(path.join(dir, 'case.json'), JSON.stringify({ vk: readVerificationKey(artifacts), proof, publicSignals }));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies many times and exits on its own, with no worker thread started', async function () {
    this.timeout(60_000);
    // No process.exit: the child must end because nothing is left to run.
    const script = `
      const c = require(${JSON.stringify(require.resolve('@flexproof/circuits'))});
      const { vk, proof, publicSignals } = require(${JSON.stringify(path.join(dir, 'case.json'))});
      (async () => {
        const results = [];
        for (let i = 0; i < 5; i++) results.push(await c.verifyDeviationProof(vk, proof, publicSignals));
        const tampered = [...publicSignals]; tampered[1] = '999';
        results.push(await c.verifyDeviationProof(vk, proof, tampered));
        console.log(JSON.stringify({ results, resources: process.getActiveResourcesInfo() }));
      })();`;
    const started = Date.now();
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    assert.equal(code, 0, `child did not exit cleanly by itself (code ${code}): ${err}`);
    const report = JSON.parse(out) as { results: boolean[]; resources: string[] };
    assert.deepEqual(report.results, [true, true, true, true, true, false]);
    assert.ok(!report.resources.includes('MessagePort'), `resources left: ${report.resources.join(', ')}`);
    assert.ok(Date.now() - started < 30_000);
  });
});
