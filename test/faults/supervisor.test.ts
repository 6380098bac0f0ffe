/**
 * The demo's supervisor (demo/src/processes.ts) on real child processes: a child killed
 * without having been told to stop comes back, one that exits cleanly or is stopped does
 * not, and a hold file delays the restart until it is removed. No network needed:
 * `mocha -r test/register.js --extension ts test/faults/supervisor.test.ts` runs it alone.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ProcessGroup } from '../../demo/src/processes';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const LONG = ['-e', 'setInterval(() => {}, 1000)'];

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}

describe('demo supervisor: children that die are restarted, children told to stop are not', function () {
  this.timeout(30_000);
  let dir: string;
  let group: ProcessGroup;
  let lines: string[];

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'flexproof-supervisor-'));
    lines = [];
    group = new ProcessGroup(path.join(dir, 'logs'), path.join(dir, 'run'), (line) => lines.push(line));
  });
  afterEach(async () => {
    await group.stopAll(2_000);
    rmSync(dir, { recursive: true, force: true });
  });

  const pidFile = (name: string) => path.join(dir, 'run', `${name}.pid`);
  const pidOf = (name: string) => (existsSync(pidFile(name)) ? Number(readFileSync(pidFile(name), 'utf8')) : undefined);

  it('restarts a child killed by SIGKILL, logs it, and keeps its pid file current', async () => {
    const m = group.start('sleeper', process.execPath, LONG);
    const first = m.child.pid;
    assert.equal(pidOf('sleeper'), first);
    process.kill(first!, 'SIGKILL');
    await until('restarted', () => m.restarts === 1 && m.alive());
    assert.notEqual(m.child.pid, first);
    assert.equal(pidOf('sleeper'), m.child.pid);
    assert.match(lines.join('\n'), /^\[supervisor\] restarted sleeper \(exit SIGKILL\)/m);
  });

  it('restarts a child that exits non-zero, with a growing backoff, and not one that exits 0', async () => {
    const failing = group.start('failing', process.execPath, ['-e', 'process.exit(3)']);
    const clean = group.start('clean', process.execPath, ['-e', 'process.exit(0)']);
    await until('two restarts', () => failing.restarts >= 2);
    assert.match(lines.join('\n'), /restarted failing \(exit code 3\)/);
    await sleep(1_000);
    assert.equal(clean.restarts, 0, 'a clean exit is the child finishing, not dying');
    assert.ok(!lines.some((l) => l.includes('clean')));
  });

  it('holds the restart while the hold file exists', async () => {
    const m = group.start('held', process.execPath, LONG);
    writeFileSync(path.join(dir, 'run', 'held.hold'), '');
    process.kill(m.child.pid!, 'SIGKILL');
    await sleep(2_000);
    assert.equal(m.restarts, 0, 'not restarted while held');
    assert.equal(pidOf('held'), undefined, 'no pid file while it is down');
    rmSync(path.join(dir, 'run', 'held.hold'));
    await until('restarted after the hold', () => m.restarts === 1 && m.alive());
  });

  it('stopAll stops every child for good, also one waiting for its restart', async () => {
    const a = group.start('a', process.execPath, LONG);
    const b = group.start('b', process.execPath, LONG);
    process.kill(b.child.pid!, 'SIGKILL');
    await sleep(100);
    await group.stopAll(2_000);
    await sleep(1_500);
    assert.equal(a.alive(), false);
    assert.equal(b.alive(), false);
    assert.equal(b.restarts, 0, 'no restart after stopAll');
  });
});
