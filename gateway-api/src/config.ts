/**
 * The gateway's settings, from environment variables and optionally a JSON file
 * (FLEXPROOF_GATEWAY_CONFIG, keys named like the variables; the environment wins).
 * Read and checked once at start-up; every problem is listed, not just the first.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ORG_ROLES, type OrgRole, type TokenEntry } from './auth/bearer-tokens';
import { MSP_ID_PATTERN } from './auth/edge-signature';
import { DEFAULT_MAX_NONCES, DEFAULT_MAX_NONCES_PER_METER } from './auth/nonce-store';
import type { FabricIdentityConfig } from './fabric/connect';
import type { NetworkDescriptor } from './fabric/network-descriptor';
import { DEFAULT_PERIOD_BATCHING, type PeriodBatchingOptions } from './services/period-submissions';
import { splitCredentials, type StoreCredentials } from './store/store-credentials';

export type OrgName = 'aggregator' | 'dso';

export interface GatewayConfig {
  org: OrgName;
  host: string;
  port: number;
  tokens: TokenEntry[];
  fabric: FabricIdentityConfig & { channel: string; chaincode: string };
  /**
   * The sealed-period store: a CouchDB by URL (without credentials) and its credentials,
   * or the embedded one (its admin credentials live in its data directory). The
   * credentials are a secret: never log this member.
   */
  store: { kind: 'couchdb'; url: string; credentials: StoreCredentials } | { kind: 'embedded'; dataDir: string; port: number };
  bodyLimit: number;
  edgeWindowSeconds: number;
  /** The edge nonce log (auth/nonce-store.ts): its directory and bounds. */
  edgeNonces: { dir: string; maxEntries: number; maxPerMeter: number };
  mvccRetries: number;
  /**
   * Coalescing of period submissions (services/period-submissions.ts). loadConfig always
   * sets it; a configuration built by hand (tests) may leave it out for the defaults.
   */
  periodBatching?: PeriodBatchingOptions;
  logLevel: string;
}

/** Upper bounds of the batching settings (N beyond the chaincode's own cap only makes every batch refused). */
export const MAX_BATCH_ITEMS = 256;
const MAX_BATCH_WINDOW_MS = 10_000;
const MAX_BATCH_IN_FLIGHT = 1024;

/** Repository root (gateway-api/dist or gateway-api/src -> ../..). */
const ROOT_DIR = path.resolve(__dirname, '..', '..');

/** Per-organisation defaults: one place for the ports of the two instances. */
export const ORG_DEFAULTS: Readonly<Record<OrgName, { port: number; storePort: number; role: OrgRole }>> = {
  aggregator: { port: 7080, storePort: 7984, role: 'aggregator' },
  dso: { port: 9080, storePort: 9984, role: 'dso' },
};

/** Every setting, its default and meaning: printed by `--help`, copied in the README. */
export const SETTINGS: readonly { name: string; default: string; meaning: string }[] = [
  { name: 'FLEXPROOF_GATEWAY_ORG', default: '(required)', meaning: 'aggregator or dso: the organisation this instance serves' },
  { name: 'FLEXPROOF_GATEWAY_TOKENS', default: '(required)', meaning: 'JSON array of {name, role, sha256}: bearer tokens, hashed (see `hash-token`)' },
  { name: 'FLEXPROOF_GATEWAY_HOST', default: '127.0.0.1', meaning: 'address to listen on' },
  { name: 'FLEXPROOF_GATEWAY_PORT', default: '7080 (aggregator), 9080 (dso)', meaning: 'port to listen on' },
  { name: 'FLEXPROOF_GATEWAY_CONFIG', default: '(none)', meaning: 'JSON file with any of these settings (environment wins)' },
  { name: 'FLEXPROOF_NETWORK_JSON', default: '.flexproof/network/network.json', meaning: 'network descriptor written by `npm run network:up`' },
  { name: 'FLEXPROOF_FABRIC_USER', default: 'client', meaning: 'client or admin: which identity of the descriptor to use' },
  { name: 'FLEXPROOF_MSP_ID', default: '(descriptor)', meaning: "the organisation's MSP ID" },
  { name: 'FLEXPROOF_PEER_ENDPOINT', default: '(descriptor)', meaning: "host:port of the organisation's own peer" },
  { name: 'FLEXPROOF_PEER_TLS_ROOT_CERT', default: '(descriptor)', meaning: "PEM file of the peer's TLS CA" },
  { name: 'FLEXPROOF_PEER_TLS_SERVER_NAME', default: '(descriptor)', meaning: "name in the peer's TLS certificate" },
  { name: 'FLEXPROOF_CLIENT_CERT', default: '(descriptor)', meaning: "PEM file of the gateway's Fabric certificate" },
  { name: 'FLEXPROOF_CLIENT_KEY', default: '(descriptor)', meaning: "PEM file of the gateway's Fabric private key" },
  { name: 'FLEXPROOF_CHANNEL', default: '(descriptor)', meaning: 'channel name' },
  { name: 'FLEXPROOF_CHAINCODE', default: '(descriptor)', meaning: 'chaincode name' },
  { name: 'COUCHDB_URL', default: '(none: embedded store)', meaning: 'CouchDB URL of the sealed-period store (user:password@ in it is accepted; never logged)' },
  { name: 'COUCHDB_USER', default: '(none)', meaning: 'CouchDB user of the store (required with COUCHDB_URL unless the URL carries it)' },
  { name: 'COUCHDB_PASSWORD_FILE', default: '(none)', meaning: "file holding that user's password (one line; keep it 0600)" },
  { name: 'COUCHDB_PASSWORD', default: '(none)', meaning: "that user's password itself (prefer COUCHDB_PASSWORD_FILE; never logged)" },
  {
    name: 'FLEXPROOF_STORE_DIR',
    default: '.flexproof/gateway/<org>/store',
    meaning: 'data directory of the embedded store (made 0700; its generated admin credentials are in admin-credentials.json there, 0600)',
  },
  { name: 'FLEXPROOF_STORE_PORT', default: '7984 (aggregator), 9984 (dso)', meaning: 'port of the embedded store on 127.0.0.1' },
  { name: 'FLEXPROOF_GATEWAY_BODY_LIMIT', default: '1048576', meaning: 'largest request body, bytes (larger: 413)' },
  { name: 'FLEXPROOF_EDGE_WINDOW_SECONDS', default: '300', meaning: 'accepted clock skew of signed edge requests' },
  {
    name: 'FLEXPROOF_EDGE_NONCE_DIR',
    default: 'edge-nonces beside the store directory (.flexproof/gateway/<org>/edge-nonces)',
    meaning: 'directory of the edge nonce log: replays are refused across restarts (one gateway process per directory)',
  },
  { name: 'FLEXPROOF_EDGE_NONCE_LIMIT', default: String(DEFAULT_MAX_NONCES), meaning: 'most live edge nonces (more: 503 NONCE_STORE_FULL)' },
  {
    name: 'FLEXPROOF_EDGE_NONCES_PER_METER',
    default: String(DEFAULT_MAX_NONCES_PER_METER),
    meaning: 'most live edge nonces of one meter, i.e. signed requests per twice the window (more: 429)',
  },
  { name: 'FLEXPROOF_MVCC_RETRIES', default: '3', meaning: 'resubmissions after an MVCC read conflict' },
  {
    name: 'FLEXPROOF_BATCH_MAX_ITEMS',
    default: String(DEFAULT_PERIOD_BATCHING.maxItems),
    meaning: `N: most periods settled in one SubmitPeriods, 1 to ${MAX_BATCH_ITEMS} (1: no batching, every period a plain SubmitPeriod; keep it at most the chaincode's FLEXPROOF_MAX_BATCH_ITEMS, 64 by default)`,
  },
  {
    name: 'FLEXPROOF_BATCH_WINDOW_MS',
    default: String(DEFAULT_PERIOD_BATCHING.windowMs),
    meaning: `at the in-flight limit, how long the first waiting period waits for others before its batch goes, ms (0 to ${MAX_BATCH_WINDOW_MS})`,
  },
  {
    name: 'FLEXPROOF_BATCH_MAX_IN_FLIGHT',
    default: String(DEFAULT_PERIOD_BATCHING.maxInFlight),
    meaning: `below this many settlement transactions in flight, waiting periods go at once (a lone one as a plain SubmitPeriod; 1: only when none is in flight, so under load periods wait for N or the window), 1 to ${MAX_BATCH_IN_FLIGHT}`,
  },
  { name: 'FLEXPROOF_LOG_LEVEL', default: 'info', meaning: 'fatal, error, warn, info, debug or trace' },
];

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Source = Record<string, unknown>;

/** Reads the settings; throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const problems: string[] = [];
  const source: Source = {};
  const file = env.FLEXPROOF_GATEWAY_CONFIG;
  if (file) {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      Object.assign(source, parsed);
    } catch (err) {
      problems.push(`FLEXPROOF_GATEWAY_CONFIG: cannot read ${file} (${(err as Error).message})`);
    }
  }
  for (const s of SETTINGS) {
    const v = env[s.name];
    if (v !== undefined && v !== '') source[s.name] = v;
  }
  const str = (name: string): string | undefined => {
    const v = source[name];
    if (v === undefined || v === null || v === '') return undefined;
    return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : JSON.stringify(v);
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}: must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };

  const orgRaw = str('FLEXPROOF_GATEWAY_ORG');
  let org: OrgName = 'aggregator';
  if (orgRaw === 'aggregator' || orgRaw === 'dso') org = orgRaw;
  else problems.push(orgRaw === undefined ? 'FLEXPROOF_GATEWAY_ORG: required (aggregator or dso)' : 'FLEXPROOF_GATEWAY_ORG: must be aggregator or dso');
  const defaults = ORG_DEFAULTS[org];

  const tokens = parseTokens(source.FLEXPROOF_GATEWAY_TOKENS, org, problems);

  // Fabric identity: the network descriptor, then explicit settings on top.
  const fabric = fabricSettings(str, org, problems, env);

  const storeDir = path.resolve(str('FLEXPROOF_STORE_DIR') ?? path.join(ROOT_DIR, '.flexproof', 'gateway', org, 'store'));
  const couchUrl = str('COUCHDB_URL');
  let store: GatewayConfig['store'];
  if (couchUrl !== undefined) {
    store = couchStore(couchUrl, str, problems);
  } else {
    for (const name of ['COUCHDB_USER', 'COUCHDB_PASSWORD_FILE', 'COUCHDB_PASSWORD']) {
      if (str(name) !== undefined) problems.push(`${name}: only with COUCHDB_URL (the embedded store makes its own credentials)`);
    }
    store = {
      kind: 'embedded',
      dataDir: storeDir,
      port: int('FLEXPROOF_STORE_PORT', defaults.storePort, 0, 65535),
    };
  }

  // The nonce log lives beside the embedded store's data (also when the store is CouchDB,
  // where that directory is simply not used).
  const edgeNonces = {
    dir: path.resolve(str('FLEXPROOF_EDGE_NONCE_DIR') ?? path.join(path.dirname(storeDir), 'edge-nonces')),
    maxEntries: int('FLEXPROOF_EDGE_NONCE_LIMIT', DEFAULT_MAX_NONCES, 1000, 10_000_000),
    maxPerMeter: int('FLEXPROOF_EDGE_NONCES_PER_METER', DEFAULT_MAX_NONCES_PER_METER, 10, 1_000_000),
  };
  if (fabric.mspId && !MSP_ID_PATTERN.test(fabric.mspId)) {
    problems.push('FLEXPROOF_MSP_ID: 1 to 128 printable ASCII characters without spaces');
  }

  const logLevel = str('FLEXPROOF_LOG_LEVEL') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    problems.push('FLEXPROOF_LOG_LEVEL: must be fatal, error, warn, info, debug, trace or silent');
  }

  const config: GatewayConfig = {
    org,
    host: str('FLEXPROOF_GATEWAY_HOST') ?? '127.0.0.1',
    port: int('FLEXPROOF_GATEWAY_PORT', defaults.port, 0, 65535),
    tokens,
    fabric,
    store,
    bodyLimit: int('FLEXPROOF_GATEWAY_BODY_LIMIT', 1024 * 1024, 1024, 64 * 1024 * 1024),
    edgeWindowSeconds: int('FLEXPROOF_EDGE_WINDOW_SECONDS', 300, 1, 3600),
    edgeNonces,
    mvccRetries: int('FLEXPROOF_MVCC_RETRIES', 3, 0, 10),
    periodBatching: {
      maxItems: int('FLEXPROOF_BATCH_MAX_ITEMS', DEFAULT_PERIOD_BATCHING.maxItems, 1, MAX_BATCH_ITEMS),
      windowMs: int('FLEXPROOF_BATCH_WINDOW_MS', DEFAULT_PERIOD_BATCHING.windowMs, 0, MAX_BATCH_WINDOW_MS),
      maxInFlight: int('FLEXPROOF_BATCH_MAX_IN_FLIGHT', DEFAULT_PERIOD_BATCHING.maxInFlight, 1, MAX_BATCH_IN_FLIGHT),
    },
    logLevel,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * A CouchDB store: its URL without credentials, and the credentials from the URL's user
 * information or COUCHDB_USER with COUCHDB_PASSWORD_FILE (or COUCHDB_PASSWORD). No
 * problem message ever holds the URL or a password.
 */
function couchStore(couchUrl: string, str: (name: string) => string | undefined, problems: string[]): GatewayConfig['store'] {
  let split: ReturnType<typeof splitCredentials> = { url: '' };
  try {
    const u = new URL(couchUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
    if (u.search !== '' || u.hash !== '') throw new Error('query');
    split = splitCredentials(couchUrl);
  } catch {
    problems.push('COUCHDB_URL: must be an http(s) URL without query or fragment');
  }
  const user = str('COUCHDB_USER');
  const passwordFile = str('COUCHDB_PASSWORD_FILE');
  const passwordValue = str('COUCHDB_PASSWORD');
  let credentials: StoreCredentials = { username: '', password: '' };
  if (split.credentials) {
    if (user !== undefined || passwordFile !== undefined || passwordValue !== undefined) {
      problems.push('COUCHDB_URL: carries credentials and COUCHDB_USER/COUCHDB_PASSWORD* are set too; give them once');
    }
    if (split.credentials.username === '' || split.credentials.password === '') {
      problems.push('COUCHDB_URL: its user information must hold both a user and a password');
    }
    credentials = split.credentials;
  } else if (user === undefined) {
    problems.push('COUCHDB_USER: required with COUCHDB_URL (the store must refuse anonymous access), or put user:password@ in the URL');
  } else {
    let password: string | undefined;
    if (passwordFile !== undefined && passwordValue !== undefined) {
      problems.push('COUCHDB_PASSWORD: give COUCHDB_PASSWORD_FILE or COUCHDB_PASSWORD, not both');
    } else if (passwordFile !== undefined) {
      try {
        password = readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '');
      } catch {
        problems.push(`COUCHDB_PASSWORD_FILE: cannot read ${passwordFile}`);
      }
    } else {
      password = passwordValue;
    }
    if (password === undefined) {
      if (passwordFile === undefined && passwordValue === undefined) {
        problems.push('COUCHDB_PASSWORD_FILE: required with COUCHDB_USER (or COUCHDB_PASSWORD)');
      }
    } else if (password === '' || /[\r\n]/.test(password)) {
      problems.push(`${passwordFile !== undefined ? 'COUCHDB_PASSWORD_FILE' : 'COUCHDB_PASSWORD'}: the password must be one non-empty line`);
    } else {
      credentials = { username: user, password };
    }
    if (user.includes(':') || /[\r\n]/.test(user)) problems.push('COUCHDB_USER: must not contain ":" or line breaks');
  }
  return { kind: 'couchdb', url: split.url, credentials };
}

function parseTokens(raw: unknown, org: OrgName, problems: string[]): TokenEntry[] {
  if (raw === undefined || raw === null || raw === '') {
    problems.push('FLEXPROOF_GATEWAY_TOKENS: required (JSON array of {name, role, sha256})');
    return [];
  }
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      problems.push('FLEXPROOF_GATEWAY_TOKENS: not valid JSON');
      return [];
    }
  }
  if (!Array.isArray(value) || value.length === 0) {
    problems.push('FLEXPROOF_GATEWAY_TOKENS: must be a non-empty JSON array');
    return [];
  }
  const allowed: OrgRole[] = [ORG_DEFAULTS[org].role, 'auditor'];
  const out: TokenEntry[] = [];
  const seen = new Set<string>();
  value.forEach((entry: unknown, i) => {
    const e = (entry ?? {}) as Record<string, unknown>;
    const where = `FLEXPROOF_GATEWAY_TOKENS[${i}]`;
    let ok = true;
    if (typeof e.name !== 'string' || !/^[A-Za-z0-9._@-]{1,64}$/.test(e.name)) {
      problems.push(`${where}.name: 1 to 64 letters, digits or . _ @ -`);
      ok = false;
    }
    if (typeof e.role !== 'string' || !(ORG_ROLES as readonly string[]).includes(e.role)) {
      problems.push(`${where}.role: must be one of ${ORG_ROLES.join(', ')}`);
      ok = false;
    } else if (!allowed.includes(e.role as OrgRole)) {
      problems.push(`${where}.role: the ${org} gateway serves only the roles ${allowed.join(' and ')}`);
      ok = false;
    }
    if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) {
      problems.push(`${where}.sha256: the token's sha256 as 64 lower-case hex digits (never the token itself)`);
      ok = false;
    } else if (seen.has(e.sha256)) {
      problems.push(`${where}.sha256: the same token is listed twice`);
      ok = false;
    }
    if (ok) {
      seen.add(e.sha256 as string);
      out.push({ name: e.name as string, role: e.role as OrgRole, sha256: e.sha256 as string });
    }
  });
  return out;
}

function fabricSettings(
  str: (name: string) => string | undefined,
  org: OrgName,
  problems: string[],
  env: NodeJS.ProcessEnv,
): GatewayConfig['fabric'] {
  const networkDir = env.FLEXPROOF_NETWORK_DIR ?? path.join(ROOT_DIR, '.flexproof', 'network');
  const descriptorPath = str('FLEXPROOF_NETWORK_JSON') ?? path.join(networkDir, 'network.json');
  const user = str('FLEXPROOF_FABRIC_USER') ?? 'client';
  if (user !== 'client' && user !== 'admin') problems.push('FLEXPROOF_FABRIC_USER: must be client or admin');
  let descriptor: NetworkDescriptor | undefined;
  if (existsSync(descriptorPath)) {
    try {
      descriptor = JSON.parse(readFileSync(descriptorPath, 'utf8')) as NetworkDescriptor;
    } catch {
      problems.push(`FLEXPROOF_NETWORK_JSON: ${descriptorPath} is not valid JSON`);
    }
  }
  const o = descriptor?.orgs?.[org];
  const identity = user === 'admin' ? o?.admin : o?.client;
  const fabric = {
    mspId: str('FLEXPROOF_MSP_ID') ?? o?.mspId ?? '',
    peerEndpoint: str('FLEXPROOF_PEER_ENDPOINT') ?? o?.peerEndpoint ?? '',
    tlsRootCertPath: str('FLEXPROOF_PEER_TLS_ROOT_CERT') ?? o?.tlsRootCertPath ?? '',
    tlsServerName: str('FLEXPROOF_PEER_TLS_SERVER_NAME') ?? o?.tlsServerName,
    certPath: str('FLEXPROOF_CLIENT_CERT') ?? identity?.certPath ?? '',
    keyPath: str('FLEXPROOF_CLIENT_KEY') ?? identity?.keyPath ?? '',
    channel: str('FLEXPROOF_CHANNEL') ?? descriptor?.channel ?? '',
    chaincode: str('FLEXPROOF_CHAINCODE') ?? descriptor?.chaincode ?? '',
  };
  const hint = descriptor ? '' : ` (no network descriptor at ${descriptorPath}: run \`npm run network:up\` or set it)`;
  const required: [keyof typeof fabric, string][] = [
    ['mspId', 'FLEXPROOF_MSP_ID'],
    ['peerEndpoint', 'FLEXPROOF_PEER_ENDPOINT'],
    ['tlsRootCertPath', 'FLEXPROOF_PEER_TLS_ROOT_CERT'],
    ['certPath', 'FLEXPROOF_CLIENT_CERT'],
    ['keyPath', 'FLEXPROOF_CLIENT_KEY'],
    ['channel', 'FLEXPROOF_CHANNEL'],
    ['chaincode', 'FLEXPROOF_CHAINCODE'],
  ];
  for (const [key, name] of required) {
    if (!fabric[key]) problems.push(`${name}: required${hint}`);
  }
  for (const [key, name] of [
    ['tlsRootCertPath', 'FLEXPROOF_PEER_TLS_ROOT_CERT'],
    ['certPath', 'FLEXPROOF_CLIENT_CERT'],
    ['keyPath', 'FLEXPROOF_CLIENT_KEY'],
  ] as const) {
    const file = fabric[key];
    if (file && !existsSync(file)) problems.push(`${name}: no file at ${file}`);
  }
  if (fabric.peerEndpoint && !/^[^:\s]+:[0-9]{1,5}$/.test(fabric.peerEndpoint)) {
    problems.push('FLEXPROOF_PEER_ENDPOINT: must be host:port');
  }
  return fabric;
}
