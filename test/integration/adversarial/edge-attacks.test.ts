/**
 * THREATS.md T3 and T4 played against the real edge client (the CLI process) by a
 * gateway that lies: an offer whose economics differ from the site's policy, a ledger
 * key that is not the site's, and an artefact cache wiped under the site. The edge must
 * refuse, say which term or key, and sign nothing: the lying gateway's ledger records no
 * acceptance and no submission. (T10, meter data only from the meter, is played on the
 * broker in test/integration/edge-client/mqtt-ingestion.test.ts.)
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ensureArtifacts, SMALL_CIRCUIT_ID } from '@flexproof/circuits';
import { FakeGateway } from '../../unit/edge-client/support/fake-gateway';
import { verificationKey } from '../../unit/edge-client/support/node-harness';
import { makeSite, MATCHING_POLICY, type TestSite } from '../../unit/edge-client/support/site';
import { buildEdgeClient, CLI, CliProcess, runCli } from '../edge-client/support/cli-process';
import { startFakeGatewayServer, type FakeGatewayServer } from '../edge-client/support/fake-gateway-server';

const GATEWAY_MSP_ID = 'AggregatorMSP';

/** Runs a CLI command with no terminal on its standard input, without blocking this process. */
function runCliAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('adversarial: a lying gateway against the real edge client (THREATS.md T3, T4)', function () {
  this.timeout(120_000);
  const cleanups: (() => Promise<void> | void)[] = [];

  before(async () => {
    buildEdgeClient();
    await ensureArtifacts(SMALL_CIRCUIT_ID);
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A site whose enrollment the lying gateway offers with `lie` applied to its terms; the CLI writes its config. */
  async function lyingSite(lie: (e: TestSite['enrollment']) => void): Promise<{ site: TestSite; gateway: FakeGateway; server: FakeGatewayServer; configFile: string }> {
    const site = makeSite({ startMs: Date.now() + 60_000, status: 'offered' });
    cleanups.push(() => site.cleanup());
    const gateway = new FakeGateway(site.siteKey.publicKeyPem, { ledgerKey: await verificationKey(), circuitId: site.enrollment.circuitId });
    lie(site.enrollment);
    gateway.addEnrollment(site.enrollment);
    const server = await startFakeGatewayServer(gateway, site.siteKey.publicKeyPem, GATEWAY_MSP_ID);
    cleanups.push(() => server.close());
    const configFile = path.join(site.dir, 'site.json');
    writeFileSync(configFile, JSON.stringify({ ...site.rawConfig, gatewayUrl: server.url, gatewayMspId: GATEWAY_MSP_ID }), { mode: 0o600 });
    return { site, gateway, server, configFile };
  }

  function run(configFile: string, env: NodeJS.ProcessEnv = {}): CliProcess {
    const cli = new CliProcess(['run', '--config', configFile], env);
    cleanups.push(async () => {
      await cli.stop();
    });
    return cli;
  }

  const lies: [string, string, (e: TestSite['enrollment']) => void][] = [
    ['a smaller reward', 'reward', (e) => { e.reward = '1000'; }],
    ['a higher penalty rate', 'ratePerWh', (e) => { e.ratePerWh = '5'; }],
    ['a smaller tolerance', 'toleranceWh', (e) => { e.toleranceWh = '0'; }],
    ['more flexibility in one period', 'flexWh[7]', (e) => { e.flexWh = e.flexWh.map((v, p) => (p === 7 ? '500' : v)); }],
    ['another order', 'orderId', (e) => { e.orderId = 'order-evil'; }],
  ];
  for (const [what, term, lie] of lies) {
    it(`T3: refuses an offer with ${what} than its policy, names ${term}, signs nothing`, async () => {
      assert.ok(MATCHING_POLICY, 'the site has a policy the honest offer is within');
      const { gateway, configFile } = await lyingSite(lie);
      const cli = run(configFile);
      await until(() => cli.saw('enrollment.offer-refused'), 30_000, 'the refusal');
      const refusal = cli.lines.find((l) => l.event === 'enrollment.offer-refused') as { refusals: { term: string }[] };
      assert.deepEqual(refusal.refusals.map((r) => r.term), [term]);
      await new Promise((r) => setTimeout(r, 1_000)); // it does not come back and sign a moment later
      assert.deepEqual(gateway.accepted, [], 'nothing was accepted');
      assert.equal(gateway.calls.filter((c) => c.op === 'accept').length, 0, 'no accept was even sent');
    });
  }

  it('T3: `flexproof-edge accept` without a terminal and without --yes signs nothing', async () => {
    const { gateway, configFile, site } = await lyingSite(() => undefined);
    // Asynchronously: the lying gateway answers from this process.
    const answer = await runCliAsync(['accept', '--config', configFile, '--enrollment', site.enrollment.enrollmentId]);
    assert.notEqual(answer.status, 0, JSON.stringify(answer));
    assert.match(`${answer.stdout}${answer.stderr}`, /reward/, JSON.stringify(answer));
    assert.deepEqual(gateway.accepted, []);
  });

  it('T4: refuses to accept under a ledger key that is not its own, says so, signs nothing; recovers when the key is fixed', async () => {
    const { gateway, configFile } = await lyingSite(() => undefined);
    const honest = gateway.keyRecord;
    const other = structuredClone(honest.verificationKey) as Record<string, unknown>;
    other.vk_alpha_1 = (honest.verificationKey as Record<string, unknown>).vk_beta_1 ?? other.vk_alpha_1;
    other.IC = [...(other.IC as unknown[])].reverse();
    const { verificationKeyHash } = await import('@flexproof/protocol');
    gateway.keyRecord = { ...honest, verificationKey: other, keyHash: verificationKeyHash(other) };
    const cli = run(configFile);
    await until(() => cli.saw('ledger-key.mismatch'), 30_000, 'the key mismatch');
    assert.deepEqual(gateway.accepted, []);
    gateway.keyRecord = honest;
    await until(() => gateway.accepted.length === 1, 60_000, 'the acceptance once the ledger key is the site\'s');
  });

  it('T4: with its artefact cache wiped, `run` refuses to build development artefacts unless told --dev-artifacts', async () => {
    const { gateway, configFile } = await lyingSite(() => undefined);
    const emptyCache = mkdtempSync(path.join(tmpdir(), 'flexproof-empty-cache-'));
    cleanups.push(() => rmSync(emptyCache, { recursive: true, force: true }));
    const answer = runCli(['run', '--config', configFile], { FLEXPROOF_CACHE: emptyCache });
    assert.equal(answer.status, 2, answer.stderr);
    assert.match(answer.stderr, /--dev-artifacts/);
    assert.deepEqual(gateway.accepted, []);
    assert.equal(gateway.calls.length, 0, 'nothing reached the gateway');
  });
});
