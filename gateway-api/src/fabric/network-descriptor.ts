import { readFile } from 'node:fs/promises';
import type { FabricIdentityConfig } from './connect';

/** The connection facts that `npm run network:up` writes to .flexproof/network/network.json. */
export interface NetworkDescriptor {
  channel: string;
  chaincode: string;
  orgs: Record<'aggregator' | 'dso', OrgDescriptor>;
}

export interface OrgDescriptor {
  mspId: string;
  peerEndpoint: string;
  /** Name in the peer's TLS certificate to verify against (the endpoint is an IP address). */
  tlsServerName: string;
  tlsRootCertPath: string;
  client: { certPath: string; keyPath: string };
  admin: { certPath: string; keyPath: string };
}

export async function readNetworkDescriptor(path: string): Promise<NetworkDescriptor> {
  return JSON.parse(await readFile(path, 'utf8')) as NetworkDescriptor;
}

/** The identity config of an organisation's client user (or admin) from the descriptor. */
export function identityOf(org: OrgDescriptor, user: 'client' | 'admin' = 'client'): FabricIdentityConfig {
  return {
    mspId: org.mspId,
    peerEndpoint: org.peerEndpoint,
    tlsRootCertPath: org.tlsRootCertPath,
    tlsServerName: org.tlsServerName,
    certPath: org[user].certPath,
    keyPath: org[user].keyPath,
  };
}
