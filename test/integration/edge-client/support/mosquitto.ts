/**
 * A real Mosquitto broker for the tests, installed from Debian packages when missing
 * (scripts/lib.sh ensure_debian_package), on a free loopback port with persistence in
 * its own folder, so a restart keeps sessions and queued QoS 1 messages. Always stopped
 * by the test that started it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ROOT_DIR } from '../../../support/paths';

function mosquittoBinary(): string {
  for (const candidate of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto']) if (existsSync(candidate)) return candidate;
  const which = spawnSync('bash', ['-c', 'command -v mosquitto'], { encoding: 'utf8' });
  return which.stdout.trim();
}

/** Installs the Debian package when mosquitto is missing (root), like the root set-up does for its tools. */
export function ensureMosquitto(): string {
  let binary = mosquittoBinary();
  if (binary !== '') return binary;
  const lib = path.join(ROOT_DIR, 'scripts', 'lib.sh');
  const result = spawnSync('bash', ['-c', `source "${lib}" && PATH="$PATH:/usr/sbin" ensure_debian_package mosquitto mosquitto`], { stdio: 'inherit' });
  binary = mosquittoBinary();
  if (result.status !== 0 || binary === '') throw new Error('mosquitto is missing and could not be installed (apt-get install mosquitto)');
  return binary;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export class Mosquitto {
  #child: ChildProcess | undefined;
  readonly dir: string;
  readonly url: string;

  private constructor(
    readonly binary: string,
    readonly port: number,
  ) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'flexproof-mosquitto-'));
    this.url = `mqtt://127.0.0.1:${port}`;
    writeFileSync(
      path.join(this.dir, 'mosquitto.conf'),
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        'persistence true',
        `persistence_location ${this.dir}/`,
        'max_queued_messages 100000',
        'log_dest stdout',
        '',
      ].join('\n'),
    );
  }

  static async start(): Promise<Mosquitto> {
    const broker = new Mosquitto(ensureMosquitto(), await freePort());
    await broker.restart();
    return broker;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts the broker (again) and waits until it accepts connections. */
  async restart(): Promise<void> {
    if (this.#child) return;
    const child = spawn(this.binary, ['-c', path.join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    child.once('exit', () => {
      if (this.#child === child) this.#child = undefined;
    });
    for (let i = 0; i < 100; i++) {
      if (await portOpen(this.port)) return;
      if (!this.#child) throw new Error('mosquitto exited at start');
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`mosquitto did not listen on ${this.port}`);
  }

  /** Stops the broker (SIGTERM: it saves its persistence) and waits for the exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
    this.#child = undefined;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
