/**
 * What the fault suites share: the network's components by pid file, network:up, and the
 * ledger's own account of a demo day (not the demo's word for it).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DemoSummary } from '../../demo/src/day';
import { evaluate, type OrgClients } from '../support/ledger';
import { NETWORK_SCRIPTS, NETWORK_STATE_DIR } from '../support/paths';

export const PROGRAMS = 'org.flexproof.programs';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The pid of a network component (orderer, peer, chaincode server) from network:up's pid file. */
export function componentPid(name: string): number {
  return Number(readFileSync(path.join(NETWORK_STATE_DIR, 'run', `${name}.pid`), 'utf8').trim());
}

/** Runs a network script (up.sh: starts only what is missing); its output is shown only when it fails. */
export function runScript(name: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn('bash', [path.join(NETWORK_SCRIPTS, name)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('exit', (code) => {
      if (code !== 0) console.log(out);
      resolve(code);
    });
  });
}

export interface PeriodView {
  periodIndex: number;
  endTime: string;
  deadline: string;
  result: { outcome: string; settledAt: string; txId: string } | null;
}

export interface EnrollmentOnLedger {
  enrollment: { status: string; startTime: string; periodSeconds: number };
  periods: PeriodView[];
}

/**
 * The ledger's own account of the day: one result per period, never rewritten; a missed
 * period claimed only after its deadline plus the skew; the supply invariant; the audit
 * flags exactly the altered hour. Returns the outcome counts and each enrollment's view.
 */
export async function assertDayOnLedger(
  orgs: OrgClients,
  summary: DemoSummary,
  maxSkewSeconds: number,
): Promise<{ outcomes: Record<string, number>; views: Map<string, EnrollmentOnLedger> }> {
  const outcomes: Record<string, number> = {};
  const views = new Map<string, EnrollmentOnLedger>();
  for (const site of summary.sites) {
    const view = await evaluate<EnrollmentOnLedger>(orgs.dso, `${PROGRAMS}:GetEnrollment`, { enrollmentId: site.enrollmentId });
    views.set(site.enrollmentId, view);
    assert.equal(view.periods.length, 24);
    // The tamperer's enrollment ends at its invalid proof: the hours after it have no result.
    const invalidAt = view.periods.find((p) => p.result?.outcome === 'invalidProof')?.periodIndex;
    if (invalidAt !== undefined) assert.equal(view.enrollment.status, 'excluded');
    for (const p of view.periods) {
      if (invalidAt !== undefined && p.periodIndex > invalidAt) {
        assert.equal(p.result, null, `${site.name} hour ${p.periodIndex}: nothing after the exclusion`);
        continue;
      }
      assert.ok(p.result, `${site.name} hour ${p.periodIndex} has a result`);
      outcomes[p.result.outcome] = (outcomes[p.result.outcome] ?? 0) + 1;
      if (p.result.outcome === 'missed') {
        assert.ok(Date.parse(p.result.settledAt) > Date.parse(p.deadline) + maxSkewSeconds * 1000, `${site.name} hour ${p.periodIndex} claimed only after deadline + skew`);
      }
    }
    const history = await evaluate<{ history: { value: { results?: (PeriodView['result'])[] } | null }[] }>(
      orgs.dso, `${PROGRAMS}:GetEnrollmentHistory`, { enrollmentId: site.enrollmentId });
    const first = new Map<number, string>();
    for (const version of history.history) {
      (version.value?.results ?? []).forEach((r, i) => {
        if (!r) return;
        const seen = first.get(i);
        if (seen === undefined) first.set(i, r.txId);
        else assert.equal(r.txId, seen, `${site.name} hour ${i} was settled once and never rewritten`);
      });
    }
  }
  const supply = summary.supply;
  assert.equal(supply.minted - supply.burned, supply.outstanding, 'minted - burned = outstanding');
  assert.equal(supply.outstanding, supply.sumOfAccounts, 'outstanding = every account and escrow');
  assert.deepEqual(summary.audit.flaggedHours, [summary.audit.alteredHour], 'the audit flags exactly the altered hour');
  return { outcomes, views };
}

/** Each period of an enrollment was given its result once and never rewritten, across every version of the record. */
export async function assertResultsNeverRewritten(orgs: OrgClients, enrollmentId: string, label: string): Promise<void> {
  const history = await evaluate<{ history: { value: { results?: (PeriodView['result'])[] } | null }[] }>(
    orgs.dso, `${PROGRAMS}:GetEnrollmentHistory`, { enrollmentId });
  const first = new Map<number, string>();
  for (const version of history.history) {
    (version.value?.results ?? []).forEach((r, i) => {
      if (!r) return;
      const seen = first.get(i);
      if (seen === undefined) first.set(i, r.txId);
      else assert.equal(r.txId, seen, `${label} period ${i} was settled once and never rewritten`);
    });
  }
}
