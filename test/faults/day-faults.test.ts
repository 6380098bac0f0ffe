/**
 * Faults survived in one demo day (issue 13), the case `npm test` runs
 * (`bash scripts/test-faults.sh --ci`): the demo's short day at 20 s per simulated hour
 * on the fault suites' network, and, one after the other, each restarted before the next:
 *
 *   the DSO's peer and the aggregator's chaincode server (SIGKILL, back by network:up),
 *   the aggregator's gateway, its off-chain store, the MQTT broker and an edge client
 *   (SIGKILL, back by the demo's supervisor),
 *   and the aggregator's gateway held down for three hours (killed, its restart held):
 *   the edge clients submit through the DSO's gateway meanwhile.
 *
 * The day is then checked once on the ledger (every period settled once or claimed after
 * its deadline, never rewritten; supply; audit), every verified period's readings are in
 * the edge's own log and its sealed document in a store, and each fault is given the
 * periods whose proof fell in its outage, with their outcomes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { DemoSummary } from '../../demo/src/day';
import { EdgeStateFile, STATE_FILE, loadConfig } from '@flexproof/edge-client';
import { CouchSealedStore, startEmbeddedCouch } from '@flexproof/gateway-api';
import { connectOrgs, type OrgClients } from '../support/ledger';
import { NETWORK_JSON, ROOT_DIR } from '../support/paths';
import { assertDayOnLedger, componentPid, runScript, sleep, type EnrollmentOnLedger } from './support';

/**
 * Real seconds per simulated hour. A peer's outage blocks every submission for about
 * S + 25 s (down one hour, then network:up); an edge client that falls further behind
 * than the grace window (max(60 s, 4 S)) misses that hour, and its next proofs are
 * chained to the new head, so it catches up only if a proof takes well under S. On the
 * loaded 2-core machine (proofs of 7 to 20 s) 10 s and 15 s per hour never caught up;
 * 20 s passed.
 */
const S = Number(process.env.FLEXPROOF_FAULTS_SECONDS_PER_HOUR ?? 20);
const OFFSET = Number(process.env.FLEXPROOF_DEMO_PORT_OFFSET ?? 0);
const OUTPUT_DIR = path.join(ROOT_DIR, '.flexproof', 'faults');
const AGGREGATOR_GATEWAY = `http://127.0.0.1:${7080 + OFFSET}`;
const AGGREGATOR_STORE = `http://127.0.0.1:${7984 + OFFSET}`;

type How = 'network' | 'supervised' | 'held';
interface Fault {
  /** The demo's process name (pid file in the run directory) or the network component's. */
  component: string;
  how: How;
  /** Killed once the demo has printed this hour (and the fault before is over). */
  afterHour: number;
  /** For `held`: how long its restart is held, in simulated hours. */
  holdHours?: number;
}

const FAULTS: Fault[] = [
  { component: 'peer-dso', how: 'network', afterHour: 1 },
  { component: 'chaincode-aggregator', how: 'network', afterHour: 4 },
  { component: 'gateway-aggregator', how: 'supervised', afterHour: 7 },
  { component: 'store-aggregator', how: 'supervised', afterHour: 10 },
  { component: 'broker', how: 'supervised', afterHour: 12 },
  { component: 'edge-ada', how: 'supervised', afterHour: 14 },
  { component: 'gateway-aggregator', how: 'held', afterHour: 16, holdHours: 3 },
];

interface Outage {
  fault: Fault;
  killedAt: number;
  /** When it answered again (network:up done, the restarted process listening). */
  backAt: number;
  killedAfterHour: number;
}

const readPid = (runDir: string, name: string): number | undefined => {
  try {
    return Number(readFileSync(path.join(runDir, `${name}.pid`), 'utf8').trim());
  } catch {
    return undefined;
  }
};

async function until(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

const answers = (url: string, ok: boolean) => async () => {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await r.arrayBuffer();
    return !ok || r.ok;
  } catch {
    return false;
  }
};

/** Kills one component and waits until it is back; returns when it answered again. */
async function inflict(fault: Fault, runDir: string): Promise<{ killedAt: number; backAt: number }> {
  if (fault.how === 'network') {
    const killedAt = Date.now();
    process.kill(componentPid(fault.component), 'SIGKILL');
    await sleep(S * 1000);
    assert.equal(await runScript('up.sh'), 0, `network:up restarts ${fault.component}`);
    return { killedAt, backAt: Date.now() };
  }
  const pid = readPid(runDir, fault.component);
  assert.ok(pid, `${fault.component} has a pid file in ${runDir}`);
  const holdFile = path.join(runDir, `${fault.component}.hold`);
  if (fault.how === 'held') writeFileSync(holdFile, 'held by the fault suite\n');
  const killedAt = Date.now();
  process.kill(pid, 'SIGKILL');
  if (fault.how === 'held') {
    await sleep((fault.holdHours ?? 1) * S * 1000);
    rmSync(holdFile);
  }
  await until(`${fault.component} restarted`, 60_000, () => {
    const now = readPid(runDir, fault.component);
    return now !== undefined && now !== pid;
  });
  if (fault.component.startsWith('gateway-aggregator')) await until('aggregator gateway ready', 60_000, answers(`${AGGREGATOR_GATEWAY}/readyz`, true));
  if (fault.component === 'store-aggregator') await until('aggregator store listening', 60_000, answers(`${AGGREGATOR_STORE}/`, false));
  return { killedAt, backAt: Date.now() };
}

interface DayRun {
  code: number | null;
  output: string;
  outages: Outage[];
  summary?: DemoSummary;
  gatewayDir: string;
  runDir: string;
}

/** The demo's day, with the faults inflicted in sequence as its hours go by. */
async function dayWithFaults(dir: string): Promise<DayRun> {
  const summaryFile = path.join(dir, 'summary.json');
  const runDir = path.join(dir, 'run');
  const gatewayDir = path.join(dir, 'gateway');
  let output = '';
  let lastHour = -1;
  const outages: Outage[] = [];
  let faultError: unknown;
  const child = spawn(process.execPath, [path.join(ROOT_DIR, 'demo', 'dist', 'day.js'), '--short', '--seconds-per-hour', String(S), '--summary', summaryFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FLEXPROOF_DEMO_PID_DIR: runDir, FLEXPROOF_DEMO_GATEWAY_DIR: gatewayDir },
  });
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
    for (const m of d.toString().matchAll(/^hour (\d\d) /gm)) lastHour = Math.max(lastHour, Number(m[1]));
  });
  child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let running = true;
  void exited.then(() => { running = false; });
  const faults = (async () => {
    for (const fault of FAULTS) {
      while (running && lastHour < fault.afterHour) await sleep(200);
      if (!running) return;
      const killedAfterHour = lastHour;
      output += `\n[fault] SIGKILL ${fault.component} (${fault.how}) after hour ${killedAfterHour}\n`;
      const { killedAt, backAt } = await inflict(fault, runDir);
      output += `[fault] ${fault.component} back after ${((backAt - killedAt) / 1000).toFixed(1)} s\n`;
      outages.push({ fault, killedAt, backAt, killedAfterHour });
    }
  })().catch((err: unknown) => {
    faultError = err;
  });
  const code = await exited;
  await faults;
  if (faultError) throw faultError;
  // The whole output, faults included, stays for a look after a failure (the assertion shows its tail).
  mkdirSync(OUTPUT_DIR, { recursive: true });
  writeFileSync(path.join(OUTPUT_DIR, 'day-faults-output.log'), output);
  const summary = existsSync(summaryFile) ? (JSON.parse(readFileSync(summaryFile, 'utf8')) as DemoSummary) : undefined;
  return { code, output, outages, summary, gatewayDir, runDir };
}

/** Periods whose proof was due while the component was down: those ending in the outage or within a period after it. */
function affectedPeriods(outage: Outage, view: EnrollmentOnLedger): number[] {
  return view.periods
    .filter((p) => {
      const end = Date.parse(p.endTime);
      return end >= outage.killedAt - S * 1000 && end <= outage.backAt + S * 1000;
    })
    .map((p) => p.periodIndex);
}

describe('faults survived in one day: peer, chaincode server, gateway, store, broker, edge client, and edge failover', function () {
  let orgs: OrgClients;
  let skew: number;
  let run: DayRun;
  let views: Map<string, EnrollmentOnLedger>;
  let dayOutcomes: Record<string, number> = {};
  const dir = mkdtempSync(path.join(tmpdir(), 'flexproof-day-faults-'));

  before(async () => {
    orgs = await connectOrgs();
    skew = (JSON.parse(readFileSync(NETWORK_JSON, 'utf8')) as { maxClockSkewSeconds: number }).maxClockSkewSeconds;
    run = await dayWithFaults(dir);
  });
  after(() => {
    orgs?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the demo completes its day with every fault inflicted and each component back', () => {
    assert.equal(run.code, 0, `the demo completed its day:\n${run.output.slice(-5000)}`);
    assert.ok(run.summary, 'the demo wrote its summary');
    assert.deepEqual(run.outages.map((o) => `${o.fault.component}/${o.fault.how}`), FAULTS.map((f) => `${f.component}/${f.how}`), `every fault was inflicted:\n${run.output.slice(-3000)}`);
    for (const o of run.outages.filter((x) => x.fault.how !== 'network')) {
      assert.match(run.output, new RegExp(`^\\[supervisor\\] restarted ${o.fault.component} \\(exit SIGKILL\\)`, 'm'), `the supervisor restarted ${o.fault.component}`);
    }
  });

  it('the ledger holds the day: one result per period, never rewritten; supply; audit', async () => {
    assert.ok(run.summary);
    ({ views, outcomes: dayOutcomes } = await assertDayOnLedger(orgs, run.summary, skew));
  });

  it('every verified period has its readings in the edge\'s log and its sealed document in a store', async () => {
    assert.ok(run.summary && views);
    const stores = await Promise.all(['aggregator', 'dso'].map((org) => startEmbeddedCouch({ dataDir: path.join(run.gatewayDir, org, 'store'), port: 0 })));
    try {
      for (const site of run.summary.sites) {
        const stored = new Set<number>();
        for (const s of stores) {
          for (const d of await new CouchSealedStore(s.url, { credentials: s.credentials }).listSealedPeriods(site.meterId, site.enrollmentId)) stored.add(d.periodIndex);
        }
        const state = await EdgeStateFile.open(path.join(loadConfig(site.configFile, {}).dataDir, STATE_FILE), site.meterId);
        const local = state.data.enrollments[site.enrollmentId]?.periods ?? {};
        const verified = views.get(site.enrollmentId)!.periods.filter((p) => p.result?.outcome === 'verified').map((p) => p.periodIndex);
        assert.ok(verified.length > 0, `${site.name} has verified periods`);
        for (const p of verified) {
          assert.ok((local[String(p)]?.readings ?? []).length > 0, `${site.name} hour ${p}: its readings are in the edge's own log`);
          assert.ok(stored.has(p), `${site.name} hour ${p}: its sealed document is in a store`);
        }
      }
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('with the aggregator\'s gateway down for three hours, the edge clients submit through the DSO\'s', () => {
    assert.ok(run.summary && views);
    const held = run.outages.find((o) => o.fault.how === 'held');
    assert.ok(held);
    for (const site of run.summary.sites) {
      const view = views.get(site.enrollmentId)!;
      if (view.enrollment.status === 'excluded') continue;
      const affected = affectedPeriods(held, view);
      assert.ok(affected.length >= 2, `${site.name}: several periods fell in the outage (${affected.join(', ')})`);
      for (const p of affected) assert.equal(view.periods[p]!.result?.outcome, 'verified', `${site.name} hour ${p} settled through the DSO's gateway`);
      const log = readFileSync(path.join(run.summary.runDir, 'logs', `edge-${site.name.toLowerCase()}.log`), 'utf8');
      assert.match(log, /"event":"gateway\.failover"/, `${site.name}'s edge client failed over`);
    }
  });

  it('each fault with the periods it affected and their outcomes (the table of docs/reliability.md)', () => {
    const summary = run.summary;
    assert.ok(summary && views);
    const rows = ['component | how | downtime | periods affected | outcome'];
    for (const o of run.outages) {
      const outcomes: Record<string, number> = {};
      const hours = new Set<number>();
      for (const site of summary.sites) {
        const view: EnrollmentOnLedger = views.get(site.enrollmentId)!;
        for (const p of affectedPeriods(o, view)) {
          hours.add(p);
          const outcome = view.periods[p]!.result?.outcome ?? 'after exclusion';
          outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        }
      }
      const span = hours.size === 0 ? 'none' : `hours ${Math.min(...hours)}-${Math.max(...hours)}`;
      rows.push(`${o.fault.component} | ${o.fault.how === 'network' ? 'network:up' : o.fault.how === 'held' ? `held ${o.fault.holdHours} h, then supervisor` : 'supervisor'} | ${((o.backAt - o.killedAt) / 1000).toFixed(1)} s | ${span} | ${Object.entries(outcomes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    }
    const total = Object.entries(dayOutcomes).map(([k, v]) => `${k} ${v}`).join(', ');
    console.log(['', ...rows, `the whole day (3 households x 24 hours, ${S} s per hour): ${total}`].join('\n'));
    // The supervisor's lines as the demo printed them, for the record.
    console.log(run.output.split('\n').filter((l) => l.startsWith('[supervisor]') || l.startsWith('[fault]')).join('\n'));
    assert.equal(rows.length, FAULTS.length + 1);
  });
});
