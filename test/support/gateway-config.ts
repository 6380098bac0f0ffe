/** The configuration of in-process gateway instances for the integration suites. */
import { DEFAULT_MAX_NONCES, DEFAULT_MAX_NONCES_PER_METER, hashToken, identityOf, type GatewayConfig, type NetworkDescriptor } from '@flexproof/gateway-api';

export interface TestTokens {
  dso: string;
  aggregator: string;
  auditor: string;
}

/** The configuration of an in-process gateway for an organisation: free ports, embedded store, its own token plus the auditor's. */
export function testGatewayConfig(network: NetworkDescriptor, org: 'aggregator' | 'dso', storeDir: string, tokens: TestTokens): GatewayConfig {
  return {
    org,
    host: '127.0.0.1',
    port: 0,
    tokens: [
      { name: `${org}-test`, role: org, sha256: hashToken(tokens[org]) },
      { name: 'auditor-test', role: 'auditor', sha256: hashToken(tokens.auditor) },
    ],
    fabric: { ...identityOf(network.orgs[org]), channel: network.channel, chaincode: network.chaincode },
    store: { kind: 'embedded', dataDir: storeDir, port: 0 },
    // Beside the store, not inside it: the nonce log outlives a gateway restart on the same directory.
    edgeNonces: { dir: `${storeDir}-edge-nonces`, maxEntries: DEFAULT_MAX_NONCES, maxPerMeter: DEFAULT_MAX_NONCES_PER_METER },
    bodyLimit: 256 * 1024,
    edgeWindowSeconds: 300,
    mvccRetries: 3,
    logLevel: 'warn',
  };
}
