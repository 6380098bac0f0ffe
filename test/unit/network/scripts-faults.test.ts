import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { NETWORK_SCRIPTS } from '../../support/paths';

interface Run { status: number | null; stdout: string; stderr: string }

function runScript(name: string, env: Record<string, string>, args: string[] = []): Run {
  const r = spawnSync('bash', [path.join(NETWORK_SCRIPTS, name), ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function listen(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

describe('network scripts: bad input and faults (no network started)', () => {
  let stateDir: string;
  let cacheDir: string;

  beforeEach(() => {
    stateDir = mkdtempSync(path.join(tmpdir(), 'flexproof-state-'));
    cacheDir = mkdtempSync(path.join(tmpdir(), 'flexproof-cache-'));
  });
  afterEach(() => {
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('up refuses a port that is already taken, naming the port and its holder', async () => {
    const server = await listen();
    const port = (server.address() as AddressInfo).port;
    try {
      const r = runScript('up.sh', { FLEXPROOF_NETWORK_DIR: stateDir, ORDERER_OPS_PORT: String(port) });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, new RegExp(`${port} \\(orderer-operations\\) is already in use by "node" pid ${process.pid}`));
    } finally {
      server.close();
    }
  });

  it('up reports and removes stale pid files left by a crashed run', async () => {
    mkdirSync(path.join(stateDir, 'run'), { recursive: true });
    // A pid that is not alive: the highest pid the kernel hands out is below 2^22.
    writeFileSync(path.join(stateDir, 'run', 'orderer.pid'), '4194303\n');
    const server = await listen(); // stops `up` right after its checks
    try {
      const r = runScript('up.sh', { FLEXPROOF_NETWORK_DIR: stateDir, ORDERER_PORT: String((server.address() as AddressInfo).port) });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /stale pid files from a run that did not stop cleanly: orderer/);
      const status = runScript('status.sh', { FLEXPROOF_NETWORK_DIR: stateDir });
      assert.equal(status.status, 1);
      assert.match(status.stdout, /orderer\s+stopped/);
    } finally {
      server.close();
    }
  });

  it('the binary build says what to install when Go is missing', () => {
    const r = runScript('fabric-binaries.sh', { FLEXPROOF_CACHE: cacheDir, PATH: '/usr/bin:/bin' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Go is not installed\. Install Go 1\.\d+ or newer/);
  });

  it('the binary build refuses a Go older than the pinned Fabric needs', () => {
    const r = runScript('fabric-binaries.sh', { FLEXPROOF_CACHE: cacheDir, GO_MIN_VERSION: '99.0' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /is too old: Fabric 2\.5\.\d+ needs Go 99\.0 or newer/);
  });

  it('status of a network that was never started exits 1 and says so', () => {
    const r = runScript('status.sh', { FLEXPROOF_NETWORK_DIR: path.join(stateDir, 'none') });
    assert.equal(r.status, 1);
    assert.match(r.stdout, /state: none/);
  });

  it('the Docker path prints every command in --dry-run, with the two-organisation policy', () => {
    const r = spawnSync('bash', [path.join(NETWORK_SCRIPTS, '..', 'test-network', 'deploy.sh'), '--dry-run'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\+ .*network\.sh up createChannel -c 'flexchannel'/);
    assert.match(r.stdout, /\+ .*deployCCAAS .*-ccn 'flexproof' .*AND\('Org1MSP\.peer','Org2MSP\.peer'\)/);
    assert.equal((r.stdout.match(/\+ docker run /g) ?? []).length, 2);
  });
});
