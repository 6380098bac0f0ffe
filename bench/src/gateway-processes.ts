/**
 * The two REST gateways (aggregator and DSO) as child processes, each with its own
 * session so its CPU time is measured apart from the driver's, on free ports unless
 * given, with scratch store data under .flexproof/bench/gateways/. Stopped with SIGTERM
 * (the gateway shuts down cleanly), SIGKILL after 10 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { hashToken } from '@flexproof/gateway-api';
import { BENCH_DIR, GATEWAY_SERVER, NETWORK_JSON } from './paths';

export type OrgName = 'aggregator' | 'dso';

export interface GatewayProcess {
  org: OrgName;
  url: string;
  pid: number;
  logFile: string;
}

export interface GatewayOptions {
  /** Bearer token of the organisation's user. */
  token: string;
  port?: number;
  storePort?: number;
  /** Extra settings for the gateway's environment (e.g. settlement batching). */
  env?: Record<string, string>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, logFile: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the gateway at ${url} exited with ${child.exitCode} (log: ${logFile})`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the gateway at ${url} was not ready within ${timeoutMs / 1000} s (log: ${logFile})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export class GatewayFleet {
  readonly #children = new Map<OrgName, ChildProcess>();
  readonly gateways: GatewayProcess[] = [];

  async start(org: OrgName, options: GatewayOptions): Promise<GatewayProcess> {
    const port = options.port ?? (await freePort());
    const storePort = options.storePort ?? (await freePort());
    const dir = path.join(BENCH_DIR, 'gateways', org);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const logFile = path.join(dir, 'gateway.log');
    const out = openSync(logFile, 'a');
    const child = spawn(process.execPath, [GATEWAY_SERVER], {
      detached: true, // its own session: CPU time per component, and no signal from the driver's terminal
      stdio: ['ignore', out, out],
      env: {
        ...process.env,
        FLEXPROOF_GATEWAY_ORG: org,
        FLEXPROOF_GATEWAY_TOKENS: JSON.stringify([{ name: `bench-${org}`, role: org, sha256: hashToken(options.token) }]),
        FLEXPROOF_GATEWAY_PORT: String(port),
        FLEXPROOF_STORE_PORT: String(storePort),
        FLEXPROOF_STORE_DIR: path.join(dir, 'store'),
        FLEXPROOF_NETWORK_JSON: NETWORK_JSON,
        // Per-request logs at info would be measured as gateway CPU: keep warnings only.
        FLEXPROOF_LOG_LEVEL: 'warn',
        ...options.env,
      },
    });
    if (child.pid === undefined) throw new Error(`could not start the ${org} gateway`);
    this.#children.set(org, child);
    const url = `http://127.0.0.1:${port}`;
    await waitReady(url, child, logFile);
    const gateway = { org, url, pid: child.pid, logFile };
    this.gateways.push(gateway);
    return gateway;
  }

  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.#children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
    this.#children.clear();
  }
}
