/**
 * `npm run demo` in its short mode (3 prosumers, 4 s per simulated hour) on the real
 * network: runs the real demo program end to end and checks its outcome. One of the three
 * households has solar and proves signed net energy on the v2 circuit (issue 14).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { DemoSummary } from '../../../demo/src/day';
import { verificationKeyHash } from '@flexproof/protocol';
import { SMALL_CIRCUIT_ID, SMALL_NET_CIRCUIT_ID, loadArtifacts, readVerificationKey } from '@flexproof/circuits';
import { EdgeStateFile, loadConfig, periodFingerprintSalt, STATE_FILE } from '@flexproof/edge-client';
import { NETWORK_STATE_DIR, ROOT_DIR } from '../../support/paths';

/** Every file under `dir` (recursively), skipping what `skip` says. */
function filesUnder(dir: string, skip: (file: string) => boolean = () => false): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const file = path.join(dir, name);
    if (skip(file)) continue;
    const st = statSync(file, { throwIfNoEntry: false });
    if (st?.isDirectory()) out.push(...filesUnder(file, skip));
    else if (st?.isFile()) out.push(file);
  }
  return out;
}

/**
 * Secrets of the day to look for, in every plain encoding a program would write them:
 * long numbers (salts) in decimal or hex, and sequences of numbers (a period's readings,
 * a request profile) however they are separated (JSON strings or numbers, CSV, spaces).
 */
class SecretScan {
  readonly #long = new Map<string, string>();
  readonly #sequences = new Map<number, Map<string, string>>();

  long(value: bigint, what: string): void {
    this.#long.set(value.toString(), what);
    this.#long.set(value.toString(16).padStart(64, '0'), what);
    this.#long.set(value.toString(16), what);
  }

  /**
   * Sequences short or uniform enough to occur by chance (0,0,0,0) are not evidence:
   * skipped. A signed sequence (a net energy request) is looked for by its digits, its
   * minus signs counted as separators.
   */
  sequence(values: readonly string[], what: string): void {
    const joined = values.map((v) => v.replace(/^-/, '')).join(',');
    if (new Set(values).size < 2 || joined.length < 12) return;
    const byLength = this.#sequences.get(values.length) ?? new Map<string, string>();
    byLength.set(joined, what);
    this.#sequences.set(values.length, byLength);
  }

  get size(): number {
    return this.#long.size + [...this.#sequences.values()].reduce((n, m) => n + m.size, 0);
  }

  /** What of the secrets occurs in `text`: one pass over its digit runs. */
  find(text: string): string[] {
    const hits: string[] = [];
    const run: { value: string; end: number }[] = [];
    for (const m of text.matchAll(/[0-9a-f]{64}|[0-9]+/g)) {
      const token = m[0];
      const hit = this.#long.get(token);
      if (hit) hits.push(hit);
      if (!/^[0-9]+$/.test(token)) continue;
      const start = m.index;
      // Numbers belong to one sequence when only separators stand between them.
      const gap = run.length > 0 ? text.slice(run[run.length - 1]!.end, start) : '';
      // (pretty-printed JSON puts a line break and its indentation between them).
      if (run.length > 0 && !/^[\s,;"'[\]:-]{1,40}$/.test(gap)) run.length = 0;
      run.push({ value: token, end: start + token.length });
      if (run.length > 64) run.shift();
      for (const [length, needles] of this.#sequences) {
        if (run.length < length) continue;
        const joined = run.slice(-length).map((r) => r.value).join(',');
        const what = needles.get(joined);
        if (what) hits.push(what);
      }
    }
    return hits;
  }
}

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
    assert.deepEqual(summary.audit.flaggedHours, [summary.audit.alteredHour]);
  });

  it('leaves no reading, salt or request profile in plain form in the store, the peers, the orderer, the ledger or any organisation\'s log', async () => {
    const scan = new SecretScan();
    for (const site of summary.sites) {
      const config = loadConfig(site.configFile, {});
      const enrollment = config.enrollments[0]!;
      scan.sequence(enrollment.requestProfile, `${site.name}'s request profile`);
      scan.long(BigInt(enrollment.commitmentSalt), `${site.name}'s commitment salt`);
      const state = await EdgeStateFile.open(path.join(config.dataDir, STATE_FILE), site.meterId);
      const periods = state.data.enrollments[site.enrollmentId]?.periods ?? {};
      for (const [p, period] of Object.entries(periods)) {
        if (period.readings) scan.sequence(period.readings, `${site.name}'s readings of hour ${p}`);
        if (period.exportReadings) scan.sequence(period.exportReadings, `${site.name}'s export readings of hour ${p}`);
        scan.long(periodFingerprintSalt(config.siteSecret, site.meterId, site.enrollmentId, Number(p)), `${site.name}'s fingerprint salt of hour ${p}`);
      }
    }
    assert.ok(scan.size > 100, `the scan has the day's secrets to look for (${scan.size})`);
    // The scan finds them where they are meant to be: the prosumer's own site files.
    const own = summary.sites.map((site) => loadConfig(site.configFile, {}));
    assert.ok(own.every((config) => scan.find(readFileSync(path.join(config.dataDir, STATE_FILE)).toString('latin1')).length > 0), 'the scan finds the readings in each edge\'s own state');
    // Everything the organisations run and write: both peers, the orderer, their ledgers
    // and logs, both gateways' stores and nonce logs, the gateways' and edge clients' logs.
    // Left out: each prosumer's own site directory (its keys, config and reading log are
    // its own) and the meter simulators' logs (the meter is the prosumer's), and the
    // report, which draws each prosumer's private view and is written 0600.
    const files = [
      ...filesUnder(NETWORK_STATE_DIR),
      ...filesUnder(path.join(ROOT_DIR, '.flexproof', 'gateway')),
      ...filesUnder(path.join(summary.runDir, 'logs'), (f) => path.basename(f).startsWith('meter-')),
    ];
    assert.ok(files.some((f) => f.includes(`${path.sep}store${path.sep}`)), 'the store\'s files are scanned');
    assert.ok(files.some((f) => /blocks|chains/.test(f)), 'the ledger\'s blocks are scanned');
    assert.ok(files.some((f) => path.basename(f).startsWith('edge-')), 'the edge clients\' logs are scanned');
    const hits: string[] = [];
    for (const file of files) {
      for (const what of scan.find(readFileSync(file).toString('latin1'))) hits.push(`${path.relative(ROOT_DIR, file)}: ${what}`);
    }
    assert.deepEqual([...new Set(hits)], [], 'no secret of the day in plain form');
    assert.equal(statSync(path.join(summary.runDir, 'report.html')).mode & 0o777, 0o600, 'the report with the private views is the owner\'s only');
  });

  it('the solar household: 24 hours of signed net energy verified on-ledger with flexnet-v2-r4, exporting hours, penalties by |measured - requested|, audit matched', async () => {
    const solar = summary.solar;
    assert.ok(solar, 'the run has a household with solar');
    assert.ok(summary.sites.some((s) => s.name === solar.name) && summary.sites.length === 3, 'one of the three households of the short mode');
    // The ledger names the v2 circuit, and the key under it is the v2 key (not the v1 one), active.
    assert.equal(solar.circuitId.split('.')[0], SMALL_NET_CIRCUIT_ID);
    assert.equal(solar.keyStatus, 'active');
    assert.equal(solar.keyHash, verificationKeyHash(readVerificationKey(loadArtifacts(SMALL_NET_CIRCUIT_ID))));
    assert.notEqual(solar.keyHash, verificationKeyHash(readVerificationKey(loadArtifacts(SMALL_CIRCUIT_ID))));
    assert.deepEqual(solar.hours.map((h) => h.outcome), new Array(24).fill('verified'), 'every hour verified on-ledger');
    assert.equal(solar.status, 'closed');

    // What the site measured, from its own state (import and export per interval), against its request.
    const site = summary.sites.find((s) => s.name === solar.name)!;
    const config = loadConfig(site.configFile, {});
    const enrollment = config.enrollments[0]!;
    assert.equal(enrollment.circuitId, solar.circuitId);
    const state = await EdgeStateFile.open(path.join(config.dataDir, STATE_FILE), site.meterId);
    const periods = state.data.enrollments[site.enrollmentId]?.periods ?? {};
    let escrow = BigInt(solar.reward);
    let penalties = 0n;
    let exportingHours = 0;
    for (const hour of solar.hours) {
      const period = periods[String(hour.periodIndex)];
      assert.ok(period?.exportReadings, `hour ${hour.periodIndex}: the export register's energies are kept and proven`);
      const sum = (values: readonly string[]) => values.reduce((total, v) => total + BigInt(v), 0n);
      const measured = sum(period.readings) - sum(period.exportReadings);
      const requested = BigInt(enrollment.requestProfile[hour.periodIndex]!);
      if (measured < 0n) exportingHours++;
      const deviation = measured > requested ? measured - requested : requested - measured;
      assert.equal(BigInt(hour.deviationWh!), deviation, `hour ${hour.periodIndex}: the ledger's deviation is |measured net - requested net|`);
      assert.equal(hour.direction, measured > requested ? '1' : '0', `hour ${hour.periodIndex}: direction`);
      // penaltyFor: min(escrow left, rate * max(0, deviation - tolerance)), as for every prosumer.
      const excess = deviation > BigInt(solar.toleranceWh) ? deviation - BigInt(solar.toleranceWh) : 0n;
      const due: bigint = BigInt(solar.ratePerWh) * excess;
      const penalty: bigint = due < escrow ? due : escrow;
      assert.equal(BigInt(hour.penalty!), penalty, `hour ${hour.periodIndex}: penalty`);
      escrow -= penalty;
      penalties += penalty;
    }
    assert.ok(exportingHours >= 1, `at least one hour with negative measured net energy (${exportingHours})`);
    assert.ok(enrollment.requestProfile.some((v) => BigInt(v) < 0n), 'the request asks for a (smaller) export at noon');
    const row = summary.settlement.find((r) => r.name === solar.name)!;
    assert.equal(BigInt(row.penalties), penalties);
    assert.equal(BigInt(row.released), BigInt(solar.reward) - penalties);

    // The auditor's audit of its hours: both registers, deviations recomputed from the request.
    assert.equal(solar.audit.circuitId, solar.circuitId);
    assert.equal(solar.audit.deviationsChecked, true);
    assert.deepEqual(solar.audit.verdicts, { match: 24 });
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
