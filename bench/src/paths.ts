import { readFileSync } from 'node:fs';
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

/** The channel and chaincode a prosumer signature is bound to, from the running network's network.json. */
export function ledgerTarget(): { channel: string; chaincode: string } {
  const { channel, chaincode } = JSON.parse(readFileSync(NETWORK_JSON, 'utf8')) as { channel: string; chaincode: string };
  return { channel, chaincode };
}

/** The MSP id of an organisation of the running network (edge request signatures name the gateway's). */
const mspIds = new Map<string, string>();
export function mspIdOf(org: 'aggregator' | 'dso'): string {
  const known = mspIds.get(org);
  if (known) return known;
  const { orgs } = JSON.parse(readFileSync(NETWORK_JSON, 'utf8')) as { orgs: Record<string, { mspId: string }> };
  const mspId = orgs[org]?.mspId;
  if (!mspId) throw new Error(`${NETWORK_JSON} has no organisation ${org}`);
  mspIds.set(org, mspId);
  return mspId;
}
