/**
 * The README's operator walkthrough, run as written (issue 16): scripts/walkthrough.sh is
 * the text README.md shows (test/unit/docs/walkthrough-readme.test.ts keeps the two equal),
 * and here it runs on the real network. Then the ledger itself is asked what came of it,
 * not the script's word:
 * - the circuit's key is active, proposed by one organisation and approved by the other,
 *   and its hash is the canonical hash of the ceremony bundle's key;
 * - the bundle's manifest names both organisations' contributions and the beacon;
 * - the enrollment is closed with all 24 periods settled, most of them verified proofs made
 *   with the ceremony's artifacts (a dev set-up's proofs would be invalid on this key);
 * - the supply invariant holds (the script's last `tokens audit` exits 0, and the audit of
 *   the sealed readings matches, or the script fails).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { canonicalVerificationKeyHash } from '@flexproof/protocol';
import { connectOrgs, evaluate } from '../../support/ledger';
import { ROOT_DIR } from '../../support/paths';

const SCRIPT = path.join(ROOT_DIR, 'scripts', 'walkthrough.sh');

interface RunResult {
  code: number | null;
  output: string;
}

function runWalkthrough(work: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn('bash', [SCRIPT, work], {
      // Ports of their own, beside the demo's and the other suites' gateways.
      env: { ...process.env, PERIOD_SECONDS: process.env.FLEXPROOF_WALKTHROUGH_PERIOD_SECONDS ?? '10', AGG_PORT: '7280', DSO_PORT: '9280', MQTT_PORT: '1894' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (d: Buffer) => {
      output += d.toString();
      // Progress for whoever watches the suite: the walkthrough's own step headings.
      for (const line of d.toString().split('\n')) if (line.startsWith('== ')) console.log(`      walkthrough ${line.slice(3)}`);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe("README walkthrough: ceremony to a settled day with the CLIs only, on the real network", function () {
  this.timeout(45 * 60_000);
  let work: string;
  let run: RunResult;

  before(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'flexproof-walkthrough-'));
    run = await runWalkthrough(work);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('runs every command of the walkthrough to the end', () => {
    assert.equal(run.code, 0, `scripts/walkthrough.sh failed:\n${run.output.slice(-6000)}`);
    assert.match(run.output, /walkthrough done: enrollment enr-w\d+, circuit flexdev-v1-r4\.w\d+/);
  });

  it("leaves on the ledger the ceremony's key, reviewed by both organisations, and a closed day of proofs made with it", async () => {
    assert.equal(run.code, 0, 'the walkthrough ran');
    const [, enrollmentId, circuitId] = /walkthrough done: enrollment (\S+), circuit (\S+) /.exec(run.output) ?? [];
    assert.ok(enrollmentId && circuitId);
    const bundleDir = path.join(work, 'ceremony', 'bundle');
    const bundle = JSON.parse(readFileSync(path.join(bundleDir, 'bundle.json'), 'utf8')) as {
      contributions: { name: string }[];
      beacon: unknown;
      verificationKeyHash: string;
    };
    assert.deepEqual(bundle.contributions.map((c) => c.name).sort(), ['AggregatorMSP', 'DsoMSP']);
    assert.ok(bundle.beacon, 'the beacon is in the manifest');
    const bundledKey = JSON.parse(readFileSync(path.join(bundleDir, 'verification_key.json'), 'utf8')) as unknown;
    assert.equal(bundle.verificationKeyHash, canonicalVerificationKeyHash(bundledKey));

    const orgs = await connectOrgs();
    try {
      const key = await evaluate<{ status: string; keyHash: string; proposedBy: string; approvedBy: string }>(
        orgs.aggregator, 'org.flexproof.verifiers:GetVerificationKey', { circuitId });
      assert.equal(key.status, 'active');
      assert.equal(key.keyHash, bundle.verificationKeyHash, "the ledger's key is the ceremony's");
      assert.equal(key.proposedBy, 'DsoMSP');
      assert.equal(key.approvedBy, 'AggregatorMSP');

      const view = await evaluate<{ enrollment: { status: string; circuitId: string; results: ({ outcome: string } | null)[] } }>(
        orgs.dso, 'org.flexproof.programs:GetEnrollment', { enrollmentId });
      assert.equal(view.enrollment.status, 'closed');
      assert.equal(view.enrollment.circuitId, circuitId);
      assert.equal(view.enrollment.results.length, 24);
      const outcomes = view.enrollment.results.map((r) => r?.outcome ?? 'none');
      assert.ok(!outcomes.includes('none'), `every period has a result: ${outcomes.join(',')}`);
      assert.ok(!outcomes.includes('invalidProof'), `no proof was invalid on the ceremony's key: ${outcomes.join(',')}`);
      const verified = outcomes.filter((o) => o === 'verified').length;
      assert.ok(verified >= 20, `at least 20 of 24 hours proven (got ${verified}: ${outcomes.join(',')})`);
    } finally {
      orgs.close();
    }
  });
});
