/**
 * The gateway coalesces concurrent period submissions (issue 17) on the real network:
 * 32 prosumers post their period at the same moment, each one signed edge request, to
 * one gateway; the gateway settles them in SubmitPeriods batches and answers each
 * request with its own outcome, and every period is settled exactly once on the ledger.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { randomSalt } from '@flexproof/circuits';
import { readNetworkDescriptor, startGateway, type GatewayInstance } from '@flexproof/gateway-api';
import type { SubmitPeriodBody } from '@flexproof/protocol';
import { AnswerLog, edgeClient } from '../../support/gateway-clients';
import { testGatewayConfig } from '../../support/gateway-config';
import { evaluate } from '../../support/ledger';
import { NETWORK_JSON } from '../../support/paths';
import { PROGRAMS, World, type FreshEnrollment } from '../adversarial/world';

const TOKEN = { dso: 'co-dso-token-0123456789abcdef01234', aggregator: 'co-agg-token-0123456789abcdef01234', auditor: 'co-aud-token-0123456789abcdef01234' };

describe('gateway coalescing on the real network: 32 concurrent submissions, batched, each answered', function () {
  this.timeout(600_000);
  const world = new World();
  const PROSUMERS = 32;
  let gateway: GatewayInstance;
  let storeDir: string;
  let fresh: FreshEnrollment[];
  let bodies: SubmitPeriodBody[];
  /** One log per prosumer: their submissions run concurrently. */
  const logs = Array.from({ length: PROSUMERS }, () => new AnswerLog());
  const edgeOf = (i: number) => edgeClient(gateway.url, (fresh[i] as FreshEnrollment).site, 'DsoMSP', { log: logs[i] as AnswerLog });

  before(async () => {
    await world.start();
    const startMs = Math.floor((Date.now() - 120_000) / 1000) * 1000;
    const commitmentSalt = randomSalt();
    fresh = [];
    for (let i = 0; i < PROSUMERS; i++) fresh.push(await world.freshEnrollment({ startMs, periodSeconds: 60, graceSeconds: 600, commitmentSalt }));
    const proof = await world.prove(fresh[0] as FreshEnrollment, 0, [240n, 250n, 250n, 250n]);
    bodies = fresh.map((f) => world.signedSubmission(f, 0, proof.proof, proof.publicSignals) as SubmitPeriodBody);
    storeDir = mkdtempSync(path.join(tmpdir(), 'flexproof-coalescing-'));
    const network = await readNetworkDescriptor(NETWORK_JSON);
    // One settlement transaction in flight at a time: the others queue and go as batches.
    gateway = await startGateway({ ...testGatewayConfig(network, 'dso', storeDir, TOKEN), periodBatching: { maxItems: 32, windowMs: 200, maxInFlight: 1 } });
  });
  after(async () => {
    await gateway?.close();
    world.close();
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
  });

  it('answers every request with its own verified outcome, from fewer transactions than requests', async () => {
    const answers = await Promise.all(fresh.map((f, i) => edgeOf(i).submitPeriod(f.enrollmentId, 0, bodies[i] as SubmitPeriodBody)));
    answers.forEach((a, i) => {
      assert.equal(logs[i]?.last.status, 200, JSON.stringify(a));
      assert.equal(a.outcome, 'verified');
      assert.equal(a.enrollmentId, fresh[i]?.enrollmentId);
    });
    const txIds = new Set(answers.map((a) => a.txId));
    assert.ok(txIds.size < PROSUMERS, `coalesced into ${txIds.size} transactions`);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    const sum = /^flexproof_gateway_period_batch_size_sum(?:\{[^}]*\})? (\d+)/m.exec(metrics);
    assert.equal(Number(sum?.[1]), PROSUMERS, 'every period went through the batcher once');
    console.log(`      ${PROSUMERS} submissions settled in ${txIds.size} transactions`);
  });

  it('settled each period once: the ledger holds the answered transaction', async () => {
    for (const f of fresh) {
      const view = await evaluate<{ enrollment: { results: ({ outcome: string; txId: string } | null)[] } }>(
        world.orgs.aggregator, `${PROGRAMS}:GetEnrollment`, { enrollmentId: f.enrollmentId });
      assert.equal(view.enrollment.results[0]?.outcome, 'verified');
    }
  });

  it('answers the same submission again with the recorded outcome (replayed), not a second settlement', async () => {
    const f = fresh[3] as FreshEnrollment;
    const again = await edgeOf(3).submitPeriod(f.enrollmentId, 0, bodies[3] as SubmitPeriodBody);
    assert.equal(logs[3]?.last.status, 200, JSON.stringify(again));
    assert.equal(again.replayed, true);
  });
});
