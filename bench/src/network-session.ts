/**
 * The Fabric network under the bench: the one already running (left running), or one
 * started here with network/scripts/up.sh and stopped again with down.sh, the way the
 * integration fixtures do it. Which network is the scripts' business: the same
 * environment variables (FLEXPROOF_NETWORK_DIR, ports) reach them.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { NETWORK_SCRIPTS, NETWORK_STATE_DIR } from './paths';

function script(name: string, quiet: boolean): number {
  const result = spawnSync('bash', [path.join(NETWORK_SCRIPTS, name)], { stdio: quiet ? 'ignore' : 'inherit' });
  return result.status ?? 1;
}

export interface NetworkSession {
  startedHere: boolean;
  /** Components (orderer, peer-aggregator, …) and the pid `up` recorded for each. */
  components(): Map<string, number>;
  stop(): void;
}

export function openNetwork(log: (line: string) => void): NetworkSession {
  let startedHere = false;
  if (script('status.sh', true) === 0) {
    log(`using the network already running (${NETWORK_STATE_DIR}); it is left running`);
  } else {
    log(`starting the native Fabric network (${NETWORK_STATE_DIR})`);
    if (script('up.sh', false) !== 0) throw new Error('network/scripts/up.sh failed (see above)');
    startedHere = true;
  }
  return {
    startedHere,
    components() {
      const out = new Map<string, number>();
      const runDir = path.join(NETWORK_STATE_DIR, 'run');
      for (const file of readdirSync(runDir)) {
        if (!file.endsWith('.pid')) continue;
        const pid = Number(readFileSync(path.join(runDir, file), 'utf8').trim());
        if (Number.isInteger(pid) && pid > 0) out.set(file.slice(0, -4), pid);
      }
      return out;
    },
    stop() {
      if (!startedHere) return;
      if (process.env.FLEXPROOF_KEEP_NETWORK === '1') {
        log('FLEXPROOF_KEEP_NETWORK=1: leaving the network running');
        return;
      }
      log('stopping the network started for the bench');
      if (script('down.sh', false) !== 0) throw new Error('network/scripts/down.sh failed');
    },
  };
}
