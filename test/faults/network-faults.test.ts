/**
 * Faults survived (issue 13): the demo's short day runs on a network of three Raft
 * orderers while one component is killed with SIGKILL mid-day. Each case then checks
 * the day on the ledger itself, not the demo's word for it:
 * - every period of every enrollment has exactly one result, verified (or an invalid
 *   proof, the tamperer's) or missed and claimed after its deadline plus the skew, and
 *   no result ever changed once written (Fabric's history of each enrollment);
 * - the supply invariant holds (minted - burned = every account and escrow);
 * - the audit flags exactly the hour the insider altered, nothing else.
 *
 * The Raft leader is killed and left down (two of three orderers carry the day, a new
 * leader is elected); every other component comes back with `npm run network:up`, which
 * starts only what is missing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { DemoSummary } from '../../demo/src/day';
import { connectOrgs, type OrgClients } from '../support/ledger';
import { NETWORK_JSON, ROOT_DIR } from '../support/paths';
import { assertDayOnLedger, componentPid, runScript, sleep } from './support';
/** The hour of the demo's day at which the component is killed. */
const KILL_AT_HOUR = 3;
/**
 * Real seconds per simulated hour: the short mode's 4 s leaves no slack for a restart
 * on a 2-core machine that also runs the network, so the fault runs go at half speed.
 */
const SECONDS_PER_HOUR = Number(process.env.FLEXPROOF_FAULTS_SECONDS_PER_HOUR ?? 8);
/** How long a restarted component stays down: two simulated hours. */
const DOWNTIME_MS = 2 * SECONDS_PER_HOUR * 1000;

interface OrdererFacts {
  name: string;
  operationsUrl: string;
}

function orderers(): OrdererFacts[] {
  return (JSON.parse(readFileSync(NETWORK_JSON, 'utf8')) as { orderers: OrdererFacts[] }).orderers;
}

/** The orderer that leads the channel now, if any (from each orderer's Prometheus metrics). */
async function raftLeader(exclude?: string): Promise<string | undefined> {
  for (const o of orderers()) {
    if (o.name === exclude) continue;
    const text = await fetch(`${o.operationsUrl}/metrics`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.text())
      .catch(() => '');
    if (/^consensus_etcdraft_is_leader\{channel="[^"]+"\} 1$/m.test(text)) return o.name;
  }
  return undefined;
}

interface FaultRun {
  summary: DemoSummary;
  output: string;
  killed: string;
  downtimeMs: number;
  newLeader?: string;
}

/**
 * Runs the short demo; when it prints hour KILL_AT_HOUR, SIGKILLs the component `pick`
 * names, and (unless `restart` is false) starts it again after DOWNTIME_MS.
 */
async function dayWithFault(pick: () => Promise<string>, restart: boolean): Promise<FaultRun> {
  const dir = mkdtempSync(path.join(tmpdir(), 'flexproof-faults-'));
  const summaryFile = path.join(dir, 'summary.json');
  let output = '';
  let fault: Promise<{ killed: string; downtimeMs: number; newLeader?: string }> | undefined;
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT_DIR, 'demo', 'dist', 'day.js'), '--short', '--seconds-per-hour', String(SECONDS_PER_HOUR), '--summary', summaryFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const hourLine = new RegExp(`^hour ${String(KILL_AT_HOUR).padStart(2, '0')} `, 'm');
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (!fault && hourLine.test(output)) {
        fault = (async () => {
          const killed = await pick();
          const killedAt = Date.now();
          process.kill(componentPid(killed), 'SIGKILL');
          output += `\n[fault] SIGKILL ${killed}\n`;
          if (!restart) {
            let newLeader: string | undefined;
            for (let i = 0; i < 60 && !newLeader; i++) {
              newLeader = await raftLeader(killed);
              if (!newLeader) await sleep(500);
            }
            output += `[fault] new Raft leader: ${newLeader ?? 'none'} after ${Date.now() - killedAt} ms\n`;
            return { killed, downtimeMs: Number.POSITIVE_INFINITY, newLeader };
          }
          await sleep(DOWNTIME_MS);
          const up = await runScript('up.sh');
          output += `[fault] network:up exited ${up} after ${Date.now() - killedAt} ms down\n`;
          assert.equal(up, 0, 'network:up restarts what is missing');
          return { killed, downtimeMs: Date.now() - killedAt };
        })();
      }
    });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    child.on('exit', resolve);
  });
  try {
    assert.ok(fault, `the demo reached hour ${KILL_AT_HOUR}:\n${output.slice(-3000)}`);
    const facts = await fault;
    assert.equal(code, 0, `the demo completed its day despite ${facts.killed} being killed:\n${output.slice(-4000)}`);
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as DemoSummary;
    return { summary, output, ...facts };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('faults survived: SIGKILL of a component mid-day on a three-orderer Raft network', function () {
  let orgs: OrgClients;
  let skew: number;
  const table: string[] = [];

  before(async () => {
    orgs = await connectOrgs();
    skew = (JSON.parse(readFileSync(NETWORK_JSON, 'utf8')) as { maxClockSkewSeconds: number }).maxClockSkewSeconds;
    assert.equal(orderers().length, 3, 'the fault suites run three Raft orderers');
  });
  after(() => {
    orgs?.close();
    if (table.length > 0) console.log(['', 'component | downtime | outcomes of the 72 periods', ...table].join('\n'));
  });

  async function record(run: FaultRun): Promise<void> {
    const { outcomes } = await assertDayOnLedger(orgs, run.summary, skew);
    const down = Number.isFinite(run.downtimeMs) ? `${(run.downtimeMs / 1000).toFixed(1)} s` : 'rest of the day';
    table.push(`${run.killed} | ${down} | ${Object.entries(outcomes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }

  it('the Raft leader: a new leader is elected and the day completes on two orderers', async () => {
    const leader = await raftLeader();
    assert.ok(leader, 'a leader before the fault');
    const run = await dayWithFault(async () => (await raftLeader()) ?? leader, false);
    assert.ok(run.newLeader, 'another orderer took the lead');
    assert.notEqual(run.newLeader, run.killed);
    await record(run);
    // Bring the old leader back for the next cases: it rejoins as a follower.
    assert.equal(await runScript('up.sh'), 0);
  });

  for (const component of ['peer-dso', 'peer-aggregator', 'chaincode-aggregator', 'chaincode-dso']) {
    it(`${component}: killed for two hours, restarted by network:up, the day completes`, async () => {
      const run = await dayWithFault(async () => component, true);
      await record(run);
    });
  }
});
