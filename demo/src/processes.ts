/** Child processes of the demo: each logs to its own file and is stopped when the demo ends. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import * as path from 'node:path';

export interface Managed {
  name: string;
  child: ChildProcess;
  logFile: string;
}

export class ProcessGroup {
  private readonly managed: Managed[] = [];

  constructor(private readonly logDir: string) {
    mkdirSync(logDir, { recursive: true });
  }

  start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Managed {
    const logFile = path.join(this.logDir, `${name}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    const child = spawn(command, args, { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    const m = { name, child, logFile };
    this.managed.push(m);
    return m;
  }

  /** SIGTERM to everything still running, then SIGKILL after `graceMs`. */
  async stopAll(graceMs = 10_000): Promise<void> {
    const running = this.managed.filter((m) => m.child.exitCode === null && m.child.signalCode === null);
    await Promise.all(
      running.map(
        (m) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              m.child.kill('SIGKILL');
            }, graceMs);
            m.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            m.child.kill('SIGTERM');
          }),
      ),
    );
  }

  pids(): { name: string; pid: number | undefined }[] {
    return this.managed.map((m) => ({ name: m.name, pid: m.child.pid }));
  }
}

export async function waitForHttp(url: string, timeoutMs: number, what: string, alive?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (alive && !alive()) throw new Error(`${what} exited before it was ready`);
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs / 1000}s (${url})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
