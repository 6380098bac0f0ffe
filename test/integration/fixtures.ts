/**
 * Mocha global fixtures of the integration suites: a real Fabric network. If one is
 * already running (e.g. `npm run network:up` by hand) it is used and left running;
 * otherwise it is started here and stopped after the suites.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { NETWORK_SCRIPTS } from '../support/paths';

let startedHere = false;

function script(name: string, args: string[] = [], quiet = false): number {
  const result = spawnSync('bash', [path.join(NETWORK_SCRIPTS, name), ...args], {
    stdio: quiet ? 'ignore' : 'inherit',
  });
  return result.status ?? 1;
}

export function mochaGlobalSetup(): void {
  if (script('status.sh', [], true) === 0) {
    console.log('integration: using the network that is already running');
    return;
  }
  console.log('integration: starting the native Fabric network');
  if (script('up.sh') !== 0) throw new Error('network:up failed (see the output above)');
  startedHere = true;
}

export function mochaGlobalTeardown(): void {
  if (!startedHere || process.env.FLEXPROOF_KEEP_NETWORK === '1') return;
  console.log('integration: stopping the network started for the tests');
  if (script('down.sh') !== 0) throw new Error('network:down failed');
}
