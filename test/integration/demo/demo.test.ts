/**
 * `npm run demo` in its short mode (3 prosumers, 4 s per simulated hour) on the real
 * network: runs the real demo program end to end and checks its outcome.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { DemoSummary } from '../../../demo/src/day';
import { ROOT_DIR } from '../../support/paths';

describe('npm run demo (short mode) on the real network', function () {
  this.timeout(600_000);
  let dir: string;
  let summary: DemoSummary;
  let output = '';

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'flexproof-demo-'));
    const summaryFile = path.join(dir, 'summary.json');
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [path.join(ROOT_DIR, 'demo', 'dist', 'day.js'), '--short', '--summary', summaryFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
      child.on('exit', resolve);
    });
    assert.equal(code, 0, `the demo failed:\n${output.slice(-4000)}`);
    summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as DemoSummary;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('excludes the prosumer who tampered with its proof and forfeits its escrow', () => {
    assert.equal(summary.tamperer.status, 'excluded');
    assert.equal(summary.tamperer.meterExcluded, true);
    const row = summary.settlement.find((r) => r.name === summary.tamperer.name)!;
    assert.ok(summary.tamperer.forfeited > 0, 'something was left in escrow to forfeit');
    assert.equal(row.penalties + row.forfeited + row.claimed, row.reward, 'the whole escrow left the tamperer');
    assert.equal(row.finalBalance, 0);
  });

  it('the audit flags exactly the altered hour', () => {
    assert.deepEqual(summary.audit.mismatchedHours, [summary.audit.alteredHour]);
  });

  it('keeps the token supply invariant', () => {
    assert.equal(summary.supply.minted - summary.supply.burned, summary.supply.outstanding);
    assert.equal(summary.supply.outstanding, summary.supply.sumOfAccounts);
  });

  it('pays each prosumer what the settlement table says, and the table adds up', () => {
    for (const row of summary.settlement) {
      if (row.status === 'closed') {
        assert.equal(row.released, row.reward - row.penalties - row.forfeited - row.claimed, row.name);
        assert.equal(row.finalBalance, row.released, row.name);
      }
    }
    assert.match(output, /report: .*report\.html {2}\(checked in headless Chromium/);
  });
});
