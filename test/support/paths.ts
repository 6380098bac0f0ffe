import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

export const ROOT_DIR = path.resolve(__dirname, '..', '..');
export const NETWORK_SCRIPTS = path.join(ROOT_DIR, 'network', 'scripts');
export const NETWORK_STATE_DIR = process.env.FLEXPROOF_NETWORK_DIR ?? path.join(ROOT_DIR, '.flexproof', 'network');
export const NETWORK_JSON = path.join(NETWORK_STATE_DIR, 'network.json');

/** The folder of the cached Fabric binaries, as network/scripts/lib.sh defines it. */
export function fabricBinDir(): string {
  const lib = path.join(NETWORK_SCRIPTS, 'lib.sh');
  return execFileSync('bash', ['-c', `source "${lib}" && echo "$FABRIC_BIN"`]).toString().trim();
}
