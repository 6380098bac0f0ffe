// The production ceremony commands, end to end on the small shape with the cached dev
// powers of tau: two organisations contribute, anyone verifies, the result proves.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  buildDeviationInput,
  cacheRoot,
  ensureArtifacts,
  loadArtifactsFrom,
  proveDeviation,
  readVerificationKey,
  verifyDeviationProof,
} from '@flexproof/circuits';

const ID = 'flexdev-v1-r4' as const;
const CLI = path.join(path.dirname(require.resolve('@flexproof/circuits')), 'cli', 'ceremony.js');

function ceremony(...args: string[]): { status: number | null; out: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 5 * 60_000 });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
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
    assert.match(ok('--help'), /contribute\s+--in ZKEY --out ZKEY --name NAME/);
    assert.equal(ceremony('no-such-command').status, 1);
    assert.equal(ceremony('contribute', '--in', 'x.zkey').status, 1);
  });

  it('init, two contributions, verification by a third party, finalize; the result proves and verifies', async () => {
    const z = (n: number): string => path.join(dir, `circuit_000${n}.zkey`);
    ok('init', '--circuit', ID, '--ptau', ptau, '--dir', dir);
    assert.match(ok('contribute', '--in', z(0), '--out', z(1), '--name', 'AggregatorMSP'), /publish this hash/);
    ok('contribute', '--in', z(1), '--out', z(2), '--name', 'DsoMSP', '--entropy', 'some dice rolls');
    assert.match(ok('verify', '--circuit', ID, '--ptau', ptau, '--zkey', z(2), '--dir', dir), /OK: .* with 2 contribution\(s\): "AggregatorMSP", "DsoMSP"/);
    ok('finalize', '--dir', dir, '--zkey', z(2), '--ptau', ptau);

    const artifacts = loadArtifactsFrom(dir);
    assert.equal(artifacts.manifest.kind, 'ceremony');
    assert.deepEqual(artifacts.manifest.contributions.map((c) => c.name), ['AggregatorMSP', 'DsoMSP']);
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
  });
});
