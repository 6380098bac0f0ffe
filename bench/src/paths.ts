import * as path from 'node:path';

/** Repository root (bench/dist or bench/src -> ../..). */
export const ROOT_DIR = path.resolve(__dirname, '..', '..');
export const NETWORK_SCRIPTS = path.join(ROOT_DIR, 'network', 'scripts');
/** The network the bench talks to: the same variable the network scripts honour. */
export const NETWORK_STATE_DIR = process.env.FLEXPROOF_NETWORK_DIR ?? path.join(ROOT_DIR, '.flexproof', 'network');
export const NETWORK_JSON = process.env.FLEXPROOF_NETWORK_JSON ?? path.join(NETWORK_STATE_DIR, 'network.json');
/** Reports, the proof pool and the gateways' scratch data. */
export const BENCH_DIR = path.join(ROOT_DIR, '.flexproof', 'bench');
export const GATEWAY_SERVER = path.join(ROOT_DIR, 'gateway-api', 'dist', 'server.js');
