import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
// demo is a tsconfig project without an entry point yet (issue 15), as for test/unit/demo/.
import { DEFAULT_BOUNDS, endOfDay, judge, processParents, readProcessTree, renderSoakChart, type DayWindow, type ProcessReading, type Sample } from '../../../demo/src/soak-metrics';

const DAY_MS = 240_000;
const days = (n: number): DayWindow[] => Array.from({ length: n }, (_, d) => ({ day: d, startMs: d * DAY_MS, endMs: (d + 1) * DAY_MS }));

/** Samples every 10 s over `n` days; `value(role, ms)` gives each role's reading. */
function samplesOver(n: number, roles: string[], value: (role: string, ms: number) => Omit<ProcessReading, 'processes'>): Sample[] {
  const out: Sample[] = [];
  for (let ms = 0; ms < n * DAY_MS; ms += 10_000) {
    const values: Sample['values'] = {};
    for (const role of roles) values[role] = { ...value(role, ms), processes: 1 };
    out.push({ t: new Date(ms).toISOString(), ms, day: Math.floor(ms / DAY_MS), hour: null, values });
  }
  return out;
}

describe('soak metrics (demo/src/soak-metrics.ts)', () => {
  it('reads the RSS and open fds of a real process tree, its child included', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const parents = processParents();
      assert.equal(parents.get(child.pid!), process.pid);
      const self = readProcessTree(process.pid, parents)!;
      const alone = readProcessTree(child.pid!, parents)!;
      assert.ok(alone.rssKiB > 1024, `a node process holds more than 1 MiB (${alone.rssKiB} KiB)`);
      assert.ok(alone.fds >= 3);
      assert.ok(self.processes >= 2, 'the tree of this process holds its child');
      assert.ok(self.rssKiB >= alone.rssKiB + 1024);
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(readProcessTree(child.pid!, processParents()), undefined, 'a process that has gone reads as undefined');
  });

  it('parses a command name with spaces and parentheses in /proc/PID/stat', () => {
    const proc = mkdtempSync(path.join(tmpdir(), 'soak-proc-'));
    try {
      mkdirSync(path.join(proc, '42'));
      writeFileSync(path.join(proc, '42', 'stat'), '42 (a (b) c) S 7 42 42 0 -1\n');
      mkdirSync(path.join(proc, 'self'));
      assert.deepEqual([...processParents(proc)], [[42, 7]]);
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
  });

  it('takes the end of a day as the median of its last samples, not one spike', () => {
    const samples = samplesOver(1, ['gateway-dso'], (_r, ms) => ({ pid: 1, rssKiB: ms === 230_000 ? 900_000 : 100_000, fds: 20 }));
    assert.deepEqual(endOfDay(samples, 'gateway-dso', days(1)[0]!), { rssKiB: 100_000, fds: 20, samples: 3 });
  });

  it('passes flat components and fails the one that grows, naming it and the figure', () => {
    const samples = samplesOver(3, ['peer-dso', 'edge-ada', 'gateway-aggregator'], (role, ms) => {
      const day = Math.floor(ms / DAY_MS);
      if (role === 'edge-ada') return { pid: 5, rssKiB: 200_000 + day * 60 * 1024, fds: 30 };
      if (role === 'gateway-aggregator') return { pid: 6, rssKiB: 150_000, fds: 40 + day * 25 };
      return { pid: 4, rssKiB: 300_000 + (ms % 3 === 0 ? 4096 : 0), fds: 80 };
    });
    const verdicts = judge(samples, days(3));
    const by = Object.fromEntries(verdicts.map((v) => [v.role, v]));
    assert.equal(by['peer-dso']!.pass, true);
    assert.equal(by['edge-ada']!.pass, false);
    assert.match(by['edge-ada']!.problems.join(), /edge-ada: RSS grew 60\.0 MiB per day .*bound 32\.0 MiB per day/);
    assert.equal(by['gateway-aggregator']!.pass, false);
    assert.match(by['gateway-aggregator']!.problems.join(), /gateway-aggregator: open fds grew 25\.0 per day \(40 → 90\), bound 10 per day/);
    assert.equal(by['edge-ada']!.rssMiBPerDay, 60);
  });

  it('allows large processes their percentage, and counts a restart as a failure', () => {
    const bigGrowth = 50 * 1024; // 50 MiB a day on 1 GiB: under 10 %, over 32 MiB
    const samples = samplesOver(2, ['orderer'], (_r, ms) => ({ pid: ms < DAY_MS ? 10 : 11, rssKiB: 1024 * 1024 + (ms >= DAY_MS ? bigGrowth : 0), fds: 50 }));
    const [v] = judge(samples, days(2), DEFAULT_BOUNDS);
    assert.ok(Math.abs(v!.rssBoundMiB! - 102.4) < 1e-9);
    assert.equal(v!.restarts, 1);
    assert.equal(v!.pass, false);
    assert.match(v!.problems.join(), /orderer: 1 restart/);
    assert.ok(!v!.problems.some((p) => p.includes('RSS grew')));
  });

  it('draws one line per component in each chart and the verdict table', () => {
    const samples = samplesOver(2, ['broker', 'store-dso'], () => ({ pid: 1, rssKiB: 50_000, fds: 12 }));
    const html = renderSoakChart({ title: 'soak <test>', samples, days: days(2), verdicts: judge(samples, days(2)), notes: ['a note'] });
    assert.equal((html.match(/<polyline data-role="broker"/g) ?? []).length, 2);
    assert.equal((html.match(/<polyline data-role="store-dso"/g) ?? []).length, 2);
    assert.ok(html.includes('soak &lt;test&gt;'));
    assert.equal((html.match(/<tr class="pass">/g) ?? []).length, 2);
  });
});
