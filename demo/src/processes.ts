/**
 * Child processes of the demo: each logs to its own file, is restarted by the supervisor
 * when it dies without having been told to stop, and is stopped when the demo ends.
 *
 * Each child's current pid is kept in `<runDir>/<name>.pid`, so an operator (or the
 * fault suite) can find the process to kill. A file `<runDir>/<name>.hold` makes the
 * supervisor wait before restarting that child until the file is removed: a component
 * can be taken down for a chosen time (the fault suite's edge-failover case) without
 * turning the supervisor off.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import * as path from 'node:path';

/** First wait before a restart; doubled for each exit that comes soon after a start. */
const RESTART_BACKOFF_MS = 500;
const MAX_RESTART_BACKOFF_MS = 10_000;
/** A child that ran this long before it died is treated as healthy: its backoff starts over. */
const HEALTHY_RUN_MS = 30_000;

export interface Managed {
  name: string;
  /** The current process (a new one after each restart). */
  child: ChildProcess;
  logFile: string;
  restarts: number;
  /** True while a process of this name runs (false between a death and its restart). */
  alive(): boolean;
}

interface Spec {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  log: WriteStream;
}

export class ProcessGroup {
  private readonly managed: Managed[] = [];
  private stopping = false;
  private readonly pending = new Set<() => void>();

  /**
   * @param log where the supervisor reports restarts (the demo prints them)
   */
  constructor(
    private readonly logDir: string,
    readonly runDir: string = path.join(logDir, '..', 'run'),
    private readonly log: (line: string) => void = (line) => console.log(line),
  ) {
    mkdirSync(logDir, { recursive: true });
    mkdirSync(runDir, { recursive: true });
  }

  start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Managed {
    const logFile = path.join(this.logDir, `${name}.log`);
    const spec: Spec = { command, args, env, cwd, log: createWriteStream(logFile, { flags: 'a' }) };
    const m: Managed = {
      name,
      child: this.spawn(name, spec),
      logFile,
      restarts: 0,
      alive: () => m.child.exitCode === null && m.child.signalCode === null,
    };
    this.managed.push(m);
    this.supervise(m, spec, Date.now(), RESTART_BACKOFF_MS);
    return m;
  }

  private spawn(name: string, spec: Spec): ChildProcess {
    const child = spawn(spec.command, spec.args, { env: { ...process.env, ...spec.env }, cwd: spec.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    // Every run of the child appends to the one log: the stream must outlive each process.
    child.stdout?.pipe(spec.log, { end: false });
    child.stderr?.pipe(spec.log, { end: false });
    if (child.pid !== undefined) writeFileSync(path.join(this.runDir, `${name}.pid`), `${child.pid}\n`);
    return child;
  }

  private supervise(m: Managed, spec: Spec, startedAt: number, backoffMs: number): void {
    m.child.once('exit', (code, signal) => {
      rmSync(path.join(this.runDir, `${m.name}.pid`), { force: true });
      // A clean exit is the child's own decision (it finished): only deaths are restarted.
      if (this.stopping || (code === 0 && signal === null)) return;
      const ranMs = Date.now() - startedAt;
      const wait = ranMs >= HEALTHY_RUN_MS ? RESTART_BACKOFF_MS : backoffMs;
      const exit = signal ?? `code ${code}`;
      void this.restartAfter(m, wait).then((go) => {
        if (!go) return;
        m.child = this.spawn(m.name, spec);
        m.restarts += 1;
        this.log(`[supervisor] restarted ${m.name} (exit ${exit}) after ${((Date.now() - startedAt - ranMs) / 1000).toFixed(1)} s`);
        this.supervise(m, spec, Date.now(), Math.min(MAX_RESTART_BACKOFF_MS, wait * 2));
      });
    });
  }

  /** Waits `ms`, then for as long as the child's hold file exists; false if stopAll came first. */
  private restartAfter(m: Managed, ms: number): Promise<boolean> {
    const holdFile = path.join(this.runDir, `${m.name}.hold`);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout;
      const cancel = () => {
        clearTimeout(timer);
        resolve(false);
      };
      this.pending.add(cancel);
      const check = () => {
        if (this.stopping) return;
        if (existsSync(holdFile)) {
          timer = setTimeout(check, 250);
          return;
        }
        this.pending.delete(cancel);
        resolve(true);
      };
      timer = setTimeout(check, ms);
    });
  }

  /** No more restarts; SIGTERM to everything still running, then SIGKILL after `graceMs`. */
  async stopAll(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    for (const cancel of this.pending) cancel();
    this.pending.clear();
    const running = this.managed.filter((m) => m.alive());
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

/** Waits until something answers HTTP at `url` at all (a locked store answers 401 to anyone without its credentials). */
export async function waitForListener(url: string, timeoutMs: number, what: string, alive?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await (await fetch(url)).arrayBuffer();
      return;
    } catch {
      // not listening yet
    }
    if (alive && !alive()) throw new Error(`${what} exited before it was ready`);
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs / 1000}s (${url})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
