// A cross-process lock on a cache entry (an atomic mkdir), so two builds of the same
// artifacts (npm test and bench:circuits in two terminals) do the work once.

import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function holderAlive(lockDir: string): { pid?: number; alive: boolean } {
  let pid: number | undefined;
  try {
    pid = Number(readFileSync(`${lockDir}/pid`, 'utf8'));
  } catch {
    // Between mkdir and writing the pid: young locks are alive, old ones are debris.
    try {
      return { alive: Date.now() - statSync(lockDir).mtimeMs < 30_000 };
    } catch {
      return { alive: false };
    }
  }
  if (!Number.isInteger(pid) || pid <= 0) return { alive: false };
  try {
    process.kill(pid, 0);
    return { pid, alive: true };
  } catch (error) {
    return { pid, alive: (error as NodeJS.ErrnoException).code === 'EPERM' };
  }
}

export async function withLock<T>(lockDir: string, onWait: (holderPid: number | undefined) => void, work: () => Promise<T>): Promise<T> {
  let lastNotice = 0;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = holderAlive(lockDir);
    if (!holder.alive) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() - lastNotice > 15_000) {
      onWait(holder.pid);
      lastNotice = Date.now();
    }
    await sleep(1000);
  }
  try {
    writeFileSync(`${lockDir}/pid`, String(process.pid));
    return await work();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}
