/**
 * A real Mosquitto broker for the tests, installed from Debian packages when missing
 * (scripts/lib.sh ensure_debian_package), on a free loopback port with persistence in
 * its own folder, so a restart keeps sessions and queued QoS 1 messages. Always stopped
 * by the test that started it.
 *
 * With `users` it is configured as the edge README tells a site to configure its broker
 * (threat T10): no anonymous clients, a password file (mosquitto_passwd) and an ACL
 * letting each meter write its own topic and the edge read its meter's topic only.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ROOT_DIR } from '../../../support/paths';

/** A broker account: what it may publish (write) and subscribe to (read), exact topics. */
export interface MosquittoUser {
  username: string;
  password: string;
  write?: string[];
  read?: string[];
}

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

/** mosquitto_passwd, from the same package (next to the broker or on the PATH). */
function passwdBinary(broker: string): string {
  for (const candidate of [path.join(path.dirname(broker), 'mosquitto_passwd'), '/usr/bin/mosquitto_passwd']) if (existsSync(candidate)) return candidate;
  return 'mosquitto_passwd';
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
    users: readonly MosquittoUser[] | undefined,
  ) {
    this.dir = mkdtempSync(path.join(tmpdir(), 'flexproof-mosquitto-'));
    this.url = `mqtt://127.0.0.1:${port}`;
    const auth: string[] = ['allow_anonymous true'];
    if (users !== undefined) {
      const passwordFile = path.join(this.dir, 'passwords');
      const aclFile = path.join(this.dir, 'acl');
      writeFileSync(passwordFile, users.map((u) => `${u.username}:${u.password}\n`).join(''), { mode: 0o600 });
      // -U hashes a file of plain `user:password` lines in place.
      const hashed = spawnSync(passwdBinary(binary), ['-U', passwordFile], { encoding: 'utf8' });
      if (hashed.status !== 0) throw new Error(`mosquitto_passwd -U failed: ${hashed.stderr}`);
      const acl = users.flatMap((u) => [`user ${u.username}`, ...(u.write ?? []).map((t) => `topic write ${t}`), ...(u.read ?? []).map((t) => `topic read ${t}`), '']);
      writeFileSync(aclFile, acl.join('\n'), { mode: 0o600 });
      auth.splice(0, 1, 'allow_anonymous false', `password_file ${passwordFile}`, `acl_file ${aclFile}`);
    }
    writeFileSync(
      path.join(this.dir, 'mosquitto.conf'),
      [
        `listener ${port} 127.0.0.1`,
        ...auth,
        'persistence true',
        `persistence_location ${this.dir}/`,
        'max_queued_messages 100000',
        // Started as root, Mosquitto drops to its own user, which can read neither the
        // password file nor write the persistence in this owner-only folder: stay root.
        ...(process.getuid?.() === 0 ? ['user root'] : []),
        'log_dest stdout',
        '',
      ].join('\n'),
    );
  }

  static async start(options: { users?: readonly MosquittoUser[] } = {}): Promise<Mosquitto> {
    const broker = new Mosquitto(ensureMosquitto(), await freePort(), options.users);
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
