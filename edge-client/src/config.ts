/**
 * The site configuration: a JSON file (path from --config or FLEXPROOF_EDGE_CONFIG),
 * then environment variables FLEXPROOF_EDGE_* over single fields. Read once at start;
 * every problem is listed in one CONFIG_INVALID error. Relative paths are relative to
 * the config file's folder.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PERIODS_PER_DAY, isCircuitId, requestCommitment, type CircuitId } from '@flexproof/circuits';
import { EdgeError } from './errors';
import { isLogLevel, type LogLevel } from './log';

export interface EnrollmentConfig {
  enrollmentId: string;
  /** The circuit id on the ledger: a shape id (flexdev-v1-r4) or a shape id with a suffix (flexdev-v1-r4.ceremony2). */
  circuitId: string;
  /** The circuit shape: the ledger id up to the first '.'; names the artifacts the edge proves with. */
  shape: CircuitId;
  /** ISO 8601 start of period 0 (as on the ledger). */
  startTime: string;
  periodSeconds: number;
  graceSeconds: number;
  /** Private: the 24 requested energies (Wh, decimal strings), from the aggregator, never sent anywhere. */
  requestProfile: string[];
  /** Private: the salt of the request commitment, from the aggregator. */
  commitmentSalt: string;
  /** The public commitment; computed from the profile and salt when omitted. */
  requestCommitment: string;
}

export interface TamperConfig {
  enrollmentId?: string;
  periodIndex: number;
}

export interface EdgeConfig {
  meterId: string;
  prosumerId: string;
  keyFile: string;
  dataDir: string;
  mqtt: {
    url: string;
    topic: string;
    clientId: string;
    username?: string;
    password?: string;
  };
  /** When set, `run` starts an embedded MQTT broker (aedes) on this port of 127.0.0.1 (or `embeddedBrokerHost`). */
  embeddedBrokerPort?: number;
  embeddedBrokerHost: string;
  gatewayUrl: string;
  /** Private: hex, at least 32 hex digits; per-period fingerprint salts are derived from it. */
  siteSecret: string;
  enrollments: EnrollmentConfig[];
  /** Wait after a period's end before closing it, so the reading after the boundary arrives. */
  closeDelaySeconds: number;
  /** How far ahead of our clock a meter timestamp may be. */
  maxClockSkewSeconds: number;
  retry: { initialMs: number; maxMs: number };
  /** Demonstrations only: sign a deliberately corrupted proof at this period. */
  tamper?: TamperConfig;
  /** Accept configured enrollments the ledger shows as offered (default true). */
  autoAccept: boolean;
  logLevel: LogLevel;
}

export const ENV_PREFIX = 'FLEXPROOF_EDGE_';

/** Environment variable -> config field (dotted path) and type. */
export const ENV_OVERRIDES: Record<string, { field: string; type: 'string' | 'number' | 'boolean' }> = {
  METER_ID: { field: 'meterId', type: 'string' },
  PROSUMER_ID: { field: 'prosumerId', type: 'string' },
  KEY_FILE: { field: 'keyFile', type: 'string' },
  DATA_DIR: { field: 'dataDir', type: 'string' },
  MQTT_URL: { field: 'mqtt.url', type: 'string' },
  MQTT_TOPIC: { field: 'mqtt.topic', type: 'string' },
  MQTT_CLIENT_ID: { field: 'mqtt.clientId', type: 'string' },
  MQTT_USERNAME: { field: 'mqtt.username', type: 'string' },
  MQTT_PASSWORD: { field: 'mqtt.password', type: 'string' },
  EMBEDDED_BROKER_PORT: { field: 'embeddedBrokerPort', type: 'number' },
  GATEWAY_URL: { field: 'gatewayUrl', type: 'string' },
  SITE_SECRET: { field: 'siteSecret', type: 'string' },
  CLOSE_DELAY_SECONDS: { field: 'closeDelaySeconds', type: 'number' },
  MAX_CLOCK_SKEW_SECONDS: { field: 'maxClockSkewSeconds', type: 'number' },
  RETRY_INITIAL_MS: { field: 'retry.initialMs', type: 'number' },
  RETRY_MAX_MS: { field: 'retry.maxMs', type: 'number' },
  AUTO_ACCEPT: { field: 'autoAccept', type: 'boolean' },
  LOG_LEVEL: { field: 'logLevel', type: 'string' },
  /** `<period>` or `<enrollmentId>:<period>`. */
  TAMPER_PERIOD: { field: 'tamper', type: 'string' },
};

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

export function defaultTopic(meterId: string): string {
  return `flexproof/meters/${meterId}/energy`;
}

/** Reads the file and the environment; throws CONFIG_INVALID listing every problem. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): EdgeConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new EdgeError('CONFIG_INVALID', `cannot read config file ${file}: ${(cause as Error).message}`, { cause, details: { file } });
  }
  return parseConfig(raw, { baseDir: path.dirname(path.resolve(file)), env });
}

export function parseConfig(raw: unknown, options: { baseDir: string; env?: NodeJS.ProcessEnv }): EdgeConfig {
  const problems: string[] = [];
  const isObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
  if (!isObject) problems.push('the config must be a JSON object');
  const input: Record<string, unknown> = isObject ? structuredClone(raw as Record<string, unknown>) : {};
  applyEnv(input, options.env ?? {}, problems);

  const str = (v: unknown, name: string, pattern?: RegExp): string => {
    if (typeof v !== 'string' || v === '' || (pattern && !pattern.test(v))) {
      problems.push(`${name}: required${pattern ? ` and must match ${pattern}` : ' (non-empty string)'}`);
      return '';
    }
    return v;
  };
  const int = (v: unknown, name: string, fallback: number, min: number, max: number): number => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      problems.push(`${name}: an integer from ${min} to ${max}`);
      return fallback;
    }
    return v;
  };
  const resolvePath = (p: string): string => (p === '' ? p : path.resolve(options.baseDir, p));

  const meterId = str(input.meterId, 'meterId', ID);
  const prosumerId = str(input.prosumerId, 'prosumerId', ID);
  const keyFile = resolvePath(str(input.keyFile, 'keyFile'));
  const dataDir = resolvePath(str(input.dataDir, 'dataDir'));
  const mqttIn = (typeof input.mqtt === 'object' && input.mqtt !== null ? input.mqtt : {}) as Record<string, unknown>;
  const mqttUrl = str(mqttIn.url, 'mqtt.url', /^(mqtts?|wss?|tcp|ssl):\/\//);
  const topic = mqttIn.topic === undefined ? defaultTopic(meterId) : str(mqttIn.topic, 'mqtt.topic', /^[^#+]+$/);
  const clientId = mqttIn.clientId === undefined ? `flexproof-edge-${meterId}` : str(mqttIn.clientId, 'mqtt.clientId');
  const optionalString = (v: unknown, name: string): string | undefined => (v === undefined ? undefined : str(v, name));
  const gatewayUrl = str(input.gatewayUrl, 'gatewayUrl', /^https?:\/\//).replace(/\/+$/, '');
  const siteSecret = str(input.siteSecret, 'siteSecret', /^([0-9a-fA-F]{2}){16,}$/);
  const embeddedBrokerPort = input.embeddedBrokerPort === undefined ? undefined : int(input.embeddedBrokerPort, 'embeddedBrokerPort', 1883, 0, 65535);
  const retryIn = (typeof input.retry === 'object' && input.retry !== null ? input.retry : {}) as Record<string, unknown>;
  const retry = {
    initialMs: int(retryIn.initialMs, 'retry.initialMs', 1000, 1, 3_600_000),
    maxMs: int(retryIn.maxMs, 'retry.maxMs', 60_000, 1, 3_600_000),
  };
  const logLevel = input.logLevel === undefined ? 'info' : input.logLevel;
  if (!isLogLevel(logLevel)) problems.push('logLevel: one of debug, info, warn, error');
  if (input.autoAccept !== undefined && typeof input.autoAccept !== 'boolean') problems.push('autoAccept: true or false');

  const enrollments: EnrollmentConfig[] = [];
  if (!Array.isArray(input.enrollments)) problems.push('enrollments: a list (may be empty)');
  else input.enrollments.forEach((e, i) => {
    const parsed = parseEnrollment(e, `enrollments[${i}]`, problems);
    if (parsed) enrollments.push(parsed);
  });
  const ids = enrollments.map((e) => e.enrollmentId);
  if (new Set(ids).size !== ids.length) problems.push('enrollments: an enrollmentId appears twice');

  let tamper: TamperConfig | undefined;
  if (input.tamper !== undefined && input.tamper !== null) {
    const t = input.tamper as Record<string, unknown>;
    const periodIndex = int(t.periodIndex, 'tamper.periodIndex', -1, 0, PERIODS_PER_DAY - 1);
    if (t.periodIndex === undefined) problems.push('tamper.periodIndex: required when tamper is set');
    const enrollmentId = t.enrollmentId === undefined ? undefined : str(t.enrollmentId, 'tamper.enrollmentId', ID);
    tamper = { periodIndex, ...(enrollmentId !== undefined ? { enrollmentId } : {}) };
  }

  if (problems.length > 0) {
    throw new EdgeError('CONFIG_INVALID', `invalid configuration:\n  - ${problems.join('\n  - ')}`, { details: { problems } });
  }
  const username = optionalString(mqttIn.username, 'mqtt.username');
  const password = optionalString(mqttIn.password, 'mqtt.password');
  return {
    meterId,
    prosumerId,
    keyFile,
    dataDir,
    mqtt: { url: mqttUrl, topic, clientId, ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}) },
    ...(embeddedBrokerPort !== undefined ? { embeddedBrokerPort } : {}),
    embeddedBrokerHost: typeof input.embeddedBrokerHost === 'string' ? input.embeddedBrokerHost : '127.0.0.1',
    gatewayUrl,
    siteSecret,
    enrollments,
    closeDelaySeconds: seconds(input.closeDelaySeconds, 'closeDelaySeconds', 30, problems),
    maxClockSkewSeconds: int(input.maxClockSkewSeconds, 'maxClockSkewSeconds', 300, 0, 86_400),
    retry,
    ...(tamper ? { tamper } : {}),
    autoAccept: input.autoAccept !== false,
    logLevel: logLevel as LogLevel,
  };
}

function seconds(v: unknown, name: string, fallback: number, problems: string[]): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 3600) {
    problems.push(`${name}: a number of seconds from 0 to 3600`);
    return fallback;
  }
  return v;
}

function parseEnrollment(raw: unknown, name: string, problems: string[]): EnrollmentConfig | undefined {
  if (typeof raw !== 'object' || raw === null) {
    problems.push(`${name}: an object`);
    return undefined;
  }
  const e = raw as Record<string, unknown>;
  const before = problems.length;
  if (typeof e.enrollmentId !== 'string' || !ID.test(e.enrollmentId)) problems.push(`${name}.enrollmentId: required, matching ${ID}`);
  const shape = typeof e.circuitId === 'string' ? e.circuitId.split('.')[0] : undefined;
  if (typeof e.circuitId !== 'string' || !ID.test(e.circuitId) || !isCircuitId(shape)) {
    problems.push(`${name}.circuitId: a known circuit shape (e.g. flexdev-v1-r4), optionally with a .suffix`);
  }
  if (typeof e.startTime !== 'string' || Number.isNaN(Date.parse(e.startTime))) problems.push(`${name}.startTime: an ISO 8601 time`);
  const periodSeconds = e.periodSeconds === undefined ? 3600 : e.periodSeconds;
  const graceSeconds = e.graceSeconds === undefined ? 900 : e.graceSeconds;
  if (typeof periodSeconds !== 'number' || !Number.isInteger(periodSeconds) || periodSeconds < 1) problems.push(`${name}.periodSeconds: a positive integer`);
  if (typeof graceSeconds !== 'number' || !Number.isInteger(graceSeconds) || graceSeconds < 0) problems.push(`${name}.graceSeconds: a non-negative integer`);
  const profile = e.requestProfile;
  if (!Array.isArray(profile) || profile.length !== PERIODS_PER_DAY || !profile.every((v) => typeof v === 'string' ? DECIMAL.test(v) : Number.isSafeInteger(v) && (v as number) >= 0)) {
    problems.push(`${name}.requestProfile: ${PERIODS_PER_DAY} non-negative integers (Wh)`);
  }
  if (typeof e.commitmentSalt !== 'string' || !DECIMAL.test(e.commitmentSalt)) problems.push(`${name}.commitmentSalt: a decimal string`);
  if (e.requestCommitment !== undefined && (typeof e.requestCommitment !== 'string' || !DECIMAL.test(e.requestCommitment))) {
    problems.push(`${name}.requestCommitment: a decimal string`);
  }
  if (problems.length > before) return undefined;
  const requestProfile = (profile as (string | number)[]).map((v) => String(v));
  let commitment: string;
  try {
    commitment = requestCommitment(requestProfile, e.commitmentSalt as string).toString();
  } catch (error) {
    problems.push(`${name}: the request profile or salt is out of range (${(error as Error).message})`);
    return undefined;
  }
  if (e.requestCommitment !== undefined && e.requestCommitment !== commitment) {
    problems.push(`${name}.requestCommitment: the request profile and salt do not open it`);
    return undefined;
  }
  return {
    enrollmentId: e.enrollmentId as string,
    circuitId: e.circuitId as string,
    shape: shape as CircuitId,
    startTime: new Date(Date.parse(e.startTime as string)).toISOString(),
    periodSeconds: periodSeconds as number,
    graceSeconds: graceSeconds as number,
    requestProfile,
    commitmentSalt: e.commitmentSalt as string,
    requestCommitment: commitment,
  };
}

function applyEnv(input: Record<string, unknown>, env: NodeJS.ProcessEnv, problems: string[]): void {
  for (const [suffix, { field, type }] of Object.entries(ENV_OVERRIDES)) {
    const value = env[`${ENV_PREFIX}${suffix}`];
    if (value === undefined || value === '') continue;
    let parsed: unknown = value;
    if (field === 'tamper') {
      const match = /^(?:([A-Za-z0-9][A-Za-z0-9._-]*):)?([0-9]{1,2})$/.exec(value);
      if (!match) {
        problems.push(`${ENV_PREFIX}${suffix}: <period> or <enrollmentId>:<period>`);
        continue;
      }
      parsed = { periodIndex: Number(match[2]), ...(match[1] !== undefined ? { enrollmentId: match[1] } : {}) };
    } else if (type === 'number') {
      parsed = Number(value);
      if (!Number.isFinite(parsed)) {
        problems.push(`${ENV_PREFIX}${suffix}: a number`);
        continue;
      }
    } else if (type === 'boolean') {
      if (value !== 'true' && value !== 'false') {
        problems.push(`${ENV_PREFIX}${suffix}: true or false`);
        continue;
      }
      parsed = value === 'true';
    }
    setPath(input, field, parsed);
  }
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
}

/** A starter config for `init` (the operator fills in the gateway and enrollments). */
export function configTemplate(meterId: string, siteSecret: string): Record<string, unknown> {
  return {
    meterId,
    prosumerId: 'prosumer-id-from-the-dso',
    keyFile: 'site-key.pem',
    dataDir: 'data',
    mqtt: { url: 'mqtt://127.0.0.1:1883', topic: defaultTopic(meterId) },
    gatewayUrl: 'https://gateway.example.org',
    siteSecret,
    closeDelaySeconds: 30,
    enrollments: [],
  };
}
