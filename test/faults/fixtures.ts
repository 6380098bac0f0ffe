/**
 * Mocha global fixtures of the fault suites (`npm run test:faults`): a real Fabric
 * network of its own, with three Raft orderers, in its own state directory and on
 * network.env's ports plus 10000 (so it can run beside the default network). It is
 * created fresh for the suites and removed after them.
 *
 * The environment is set here, at load time, before any suite imports
 * test/support/paths.ts: every script and program the suites start inherits it.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
process.env.FLEXPROOF_NETWORK_DIR ??= path.join(ROOT, '.flexproof', 'network-faults');
process.env.ORDERERS ??= '3';
// The demo's own processes (gateways, stores, broker) on their ports + 10000 too, and the
// stores' data apart from the default demo's: a demo on the default network can run beside.
process.env.FLEXPROOF_DEMO_PORT_OFFSET ??= '10000';
process.env.FLEXPROOF_DEMO_GATEWAY_DIR ??= path.join(ROOT, '.flexproof', 'network-faults-gateway');
/** Every port variable of network.env (the one place for them) with its default. */
function networkPorts(): Record<string, number> {
  const script = `source ${JSON.stringify(path.join(ROOT, 'network', 'config', 'network.env'))}; compgen -v | grep '_PORT$' | while read -r v; do echo "$v=\${!v}"; done`;
  const out = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH } }).stdout;
  return Object.fromEntries(out.trim().split('\n').map((line) => line.split('=')).map(([k, v]) => [k as string, Number(v)]));
}
const PORTS = networkPorts();
for (const [name, port] of Object.entries(PORTS)) process.env[name] ??= String(port + 10_000);
if (!PORTS.ORDERER_PORT) throw new Error('network.env names no ORDERER_PORT');

function script(name: string, args: string[] = []): number {
  return spawnSync('bash', [path.join(ROOT, 'network', 'scripts', name), ...args], { stdio: 'inherit' }).status ?? 1;
}

export function mochaGlobalSetup(): void {
  console.log(`faults: a fresh network of ${process.env.ORDERERS} Raft orderers in ${process.env.FLEXPROOF_NETWORK_DIR}`);
  script('down.sh', ['--clean']);
  if (script('up.sh') !== 0) throw new Error('network:up failed (see the output above)');
}

export function mochaGlobalTeardown(): void {
  if (process.env.FLEXPROOF_KEEP_NETWORK === '1') return;
  console.log('faults: stopping and removing the network of the fault suites');
  if (script('down.sh', ['--clean']) !== 0) throw new Error('network:down failed');
}
