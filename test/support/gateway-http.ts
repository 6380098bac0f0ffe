/**
 * Helpers for integration suites that start gateway instances in-process and call them
 * over HTTP.
 */
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

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { code?: string; txId?: string; result?: Record<string, unknown> };
}

/** One HTTP call; the body is parsed as JSON (empty object when there is none). */
export async function call(
  base: string,
  method: string,
  url: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
): Promise<Answer> {
  const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const res = await fetch(`${base}${url}`, {
    method,
    headers: {
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: payload,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Answer['body']) : {} };
}
