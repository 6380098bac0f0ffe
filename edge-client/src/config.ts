/**
 * The site configuration: a JSON file (path from --config or FLEXPROOF_EDGE_CONFIG),
 * then environment variables FLEXPROOF_EDGE_* over single fields. Read once at start;
 * every problem is listed in one CONFIG_INVALID error. Relative paths are relative to
 * the config file's folder.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PERIODS_PER_DAY, circuitShape, isCircuitId, requestCommitmentFor, type CircuitId } from '@flexproof/circuits';
import { isTimeZone } from './adapters/tasmota-sml';
import { EdgeError } from './errors';
import { isLogLevel, type LogLevel } from './log';
import { DEFAULT_LEDGER_TARGET, type LedgerTarget } from './prosumer-signing';
import { SEALING_KEY_FILE } from './sealing-key';

/**
 * The economics a site accepts for an enrollment without asking (auto-accept), all
 * integers as decimal strings. A term left unset means the site has not agreed to any
 * value of it: an offer is then not accepted automatically (see accept-policy.ts).
 */
export interface AcceptPolicy {
  /** The enrollment's reward (token base units) must be at least this. */
  minReward?: string;
  /** The penalty rate per Wh of deviation beyond the tolerance must be at most this. */
  maxRatePerWh?: string;
  /** The tolerance (Wh) must be at least this. */
  minToleranceWh?: string;
  /** The flexibility committed per period (Wh) must be at most this: 24 caps (one value in the file means the same cap each period). */
  maxFlexWh?: string[];
  /** The order the enrollment belongs to, exactly. */
  orderId?: string;
}

export const ACCEPT_POLICY_TERMS = ['minReward', 'maxRatePerWh', 'minToleranceWh', 'maxFlexWh', 'orderId'] as const;
export type AcceptPolicyTerm = (typeof ACCEPT_POLICY_TERMS)[number];

/** A user of the embedded broker: a meter that may publish on its own topic only. */
export interface BrokerUserConfig {
  username: string;
  /** The meter whose topic this user publishes on. */
  meterId: string;
  /** The one topic it may publish on (default flexproof/meters/<meterId>/energy, or mqtt.topic for this site's meter). */
  topic: string;
  /** Exactly one of the two: the password itself, or a file holding it (read at start; mode 600). */
  password?: string;
  passwordFile?: string;
}

export interface EmbeddedBrokerConfig {
  users: BrokerUserConfig[];
  /** When set the broker speaks MQTT over TLS (mqtts://) with this key and certificate (PEM files). */
  tls?: { keyFile: string; certFile: string };
}

export interface MqttTlsConfig {
  /** PEM file of the CA that signed the broker's certificate (default: the system's CAs). */
  caFile?: string;
  /** Client certificate and key (PEM files), for brokers that authenticate clients by certificate. */
  certFile?: string;
  keyFile?: string;
  /** Refuse a broker certificate that does not verify (default true; false only for tests). */
  rejectUnauthorized: boolean;
}

/** The formats a meter's messages may come in (`meterFormat`); see adapters/index.ts. */
export const METER_FORMATS = ['flexproof', 'dsmr-p1', 'tasmota-sml', 'shelly'] as const;
export type MeterFormat = (typeof METER_FORMATS)[number];

/** Where a dsmr-p1 meter's telegrams come from: a serial device, or a P1-to-network dongle's TCP stream. */
export interface P1Config {
  /** The serial device (e.g. /dev/ttyUSB0); or host and port. */
  serialPath?: string;
  /** Serial speed (DSMR 5: 115200; DSMR 2.2/3: 9600). */
  baudRate: number;
  host?: string;
  port?: number;
}

export const DEFAULT_P1_BAUD_RATE = 115_200;

/** How a Tasmota SML script names the meter and its registers. */
export interface TasmotaConfig {
  /** The meter's object in the SENSOR message (the script's meter name, e.g. "SML"). */
  meterName: string;
  importField: string;
  /** Unset in the file: "Total_out"; a message without it reads as a meter without export. */
  exportField?: string;
  unit: 'kWh' | 'Wh';
  /** The IANA zone the device's local `Time` is in. */
  timeZone: string;
}

export interface ShellyConfig {
  /** The data component: emdata:<id> (three-phase) or em1data:<id> (single-phase channel). */
  component: string;
}

/** A meter cannot add more energy than its rated power over the time since the last reading (default: a 3 x 63 A connection with room). */
export const DEFAULT_RATED_POWER_W = 50_000;
/** The gateway organisation an edge request is signed for, when the config does not say (protocol P2). */
export const DEFAULT_GATEWAY_MSP_ID = 'AggregatorMSP';

/** One gateway the edge may submit through: its base URL and the MSP id its request signatures name. */
export interface GatewayEntry {
  url: string;
  mspId: string;
}

/** How many gateways `gateways` may list (one per organisation running one, with room). */
export const MAX_GATEWAYS = 4;

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
  /** The site-wide `acceptPolicy` with this enrollment's `acceptPolicy` laid over it, term by term. */
  acceptPolicy: AcceptPolicy;
}

export interface TamperConfig {
  enrollmentId?: string;
  periodIndex: number;
}

export interface EdgeConfig {
  meterId: string;
  prosumerId: string;
  keyFile: string;
  /** The site's P-256 sealing key (PKCS#8, mode 600): a recipient of every sealed period document (default: sealing-key.pem beside keyFile). */
  sealingKeyFile: string;
  /**
   * The auditors (ledger auditorIds) this prosumer consents to seal its readings to; unset:
   * every auditor key the ledger holds as active. An empty list: none (only the site's own key).
   */
  auditors?: string[];
  dataDir: string;
  /** What the meter's messages look like (default flexproof, our JSON). */
  meterFormat: MeterFormat;
  /** meterFormat dsmr-p1 read from a serial port or TCP stream; unset: telegrams arrive over MQTT, one per message. */
  p1?: P1Config;
  /** meterFormat tasmota-sml: its settings (filled with the defaults). */
  tasmota?: TasmotaConfig;
  /** meterFormat shelly: its settings (filled with the defaults). */
  shelly?: ShellyConfig;
  mqtt: {
    /** '' when the meter is read from `p1` instead. */
    url: string;
    topic: string;
    clientId: string;
    username?: string;
    password?: string;
    /** A file holding the password (read at start), instead of `password`. */
    passwordFile?: string;
    tls?: MqttTlsConfig;
  };
  /** When set, `run` starts an embedded MQTT broker (aedes) on this port of 127.0.0.1 (or `embeddedBrokerHost`). */
  embeddedBrokerPort?: number;
  embeddedBrokerHost: string;
  /** Who may publish to the embedded broker (required with embeddedBrokerPort), and its TLS key. */
  embeddedBroker?: EmbeddedBrokerConfig;
  gatewayUrl: string;
  /** MSP id of the organisation whose gateway `gatewayUrl` is: edge request signatures name it (protocol P2). */
  gatewayMspId: string;
  /**
   * Every gateway the edge may use, in order of preference (1 to MAX_GATEWAYS): from
   * `gateways` in the file, or the one of gatewayUrl/gatewayMspId. gatewayUrl and
   * gatewayMspId are always its first entry.
   */
  gateways: GatewayEntry[];
  /** The channel and chaincode every signed prosumer payload names (protocol P1). */
  ledger: LedgerTarget;
  /** The meter's rated power (W): a register increase beyond it over the time since the last reading is dropped. */
  ratedPowerW: number;
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
  SEALING_KEY_FILE: { field: 'sealingKeyFile', type: 'string' },
  /** Comma-separated auditor ids; an empty value leaves the file's list (or its absence) as it is. */
  AUDITORS: { field: 'auditors', type: 'string' },
  DATA_DIR: { field: 'dataDir', type: 'string' },
  METER_FORMAT: { field: 'meterFormat', type: 'string' },
  MQTT_URL: { field: 'mqtt.url', type: 'string' },
  MQTT_TOPIC: { field: 'mqtt.topic', type: 'string' },
  MQTT_CLIENT_ID: { field: 'mqtt.clientId', type: 'string' },
  MQTT_USERNAME: { field: 'mqtt.username', type: 'string' },
  MQTT_PASSWORD: { field: 'mqtt.password', type: 'string' },
  MQTT_PASSWORD_FILE: { field: 'mqtt.passwordFile', type: 'string' },
  MQTT_CA_FILE: { field: 'mqtt.tls.caFile', type: 'string' },
  EMBEDDED_BROKER_PORT: { field: 'embeddedBrokerPort', type: 'number' },
  GATEWAY_URL: { field: 'gatewayUrl', type: 'string' },
  GATEWAY_MSP_ID: { field: 'gatewayMspId', type: 'string' },
  LEDGER_CHANNEL: { field: 'ledger.channel', type: 'string' },
  LEDGER_CHAINCODE: { field: 'ledger.chaincode', type: 'string' },
  RATED_POWER_W: { field: 'ratedPowerW', type: 'number' },
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
const SIGNED_DECIMAL = /^(0|-?[1-9][0-9]*)$/;
/** Fabric channel names: lower case letters, digits, dots and dashes, starting with a letter. */
const CHANNEL = /^[a-z][a-z0-9.-]{0,248}$/;
const MSP_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Passwords of the embedded broker's users: long enough not to be guessed over the network. */
export const MIN_BROKER_PASSWORD_LENGTH = 16;

export function defaultTopic(meterId: string): string {
  return `flexproof/meters/${meterId}/energy`;
}

/** Reads the file and the environment; throws CONFIG_INVALID listing every problem. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): EdgeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new EdgeError(
        'CONFIG_MISSING',
        `no config file ${file}: create it with \`flexproof-edge init --config ${file} --meter-id METER_ID\` (or point --config or FLEXPROOF_EDGE_CONFIG at the site's config)`,
        { cause, details: { file } },
      );
    }
    throw new EdgeError('CONFIG_INVALID', `cannot read config file ${file}: ${(cause as Error).message}`, { cause, details: { file } });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new EdgeError('CONFIG_INVALID', `config file ${file} is not JSON: ${(cause as Error).message}`, { cause, details: { file } });
  }
  return parseConfig(raw, { baseDir: path.dirname(path.resolve(file)), env });
}

export function parseConfig(raw: unknown, options: { baseDir: string; env?: NodeJS.ProcessEnv }): EdgeConfig {
  const problems: string[] = [];
  const isObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
  if (!isObject) problems.push('the config must be a JSON object');
  const input: Record<string, unknown> = isObject ? structuredClone(raw as Record<string, unknown>) : {};
  refuseUnknownFields(input, problems);
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
  const sealingKeyFile =
    input.sealingKeyFile === undefined
      ? keyFile === ''
        ? ''
        : path.join(path.dirname(keyFile), SEALING_KEY_FILE)
      : resolvePath(str(input.sealingKeyFile, 'sealingKeyFile'));
  if (sealingKeyFile !== '' && sealingKeyFile === keyFile) problems.push('sealingKeyFile: must not be the keyFile (the sealing key is a key of its own)');
  const auditors = parseAuditors(input.auditors, problems);
  const dataDir = resolvePath(str(input.dataDir, 'dataDir'));
  const mqttIn = (typeof input.mqtt === 'object' && input.mqtt !== null ? input.mqtt : {}) as Record<string, unknown>;
  const meter = parseMeterFormat(input, problems);
  if (meter.p1 !== undefined && mqttIn.url !== undefined) problems.push('mqtt.url, p1: the P1 telegrams come from p1 (serial or TCP) or over MQTT, not both');
  const mqttUrl = meter.p1 !== undefined ? '' : str(mqttIn.url, 'mqtt.url', /^(mqtts?|wss?|tcp|ssl):\/\//);
  const topic = mqttIn.topic === undefined ? defaultTopic(meterId) : str(mqttIn.topic, 'mqtt.topic', /^[^#+]+$/);
  const clientId = mqttIn.clientId === undefined ? `flexproof-edge-${meterId}` : str(mqttIn.clientId, 'mqtt.clientId');
  const optionalString = (v: unknown, name: string): string | undefined => (v === undefined ? undefined : str(v, name));
  const object = (v: unknown, name: string): Record<string, unknown> => {
    if (v === undefined) return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      problems.push(`${name}: an object`);
      return {};
    }
    return v as Record<string, unknown>;
  };
  const gateways = parseGateways(input, problems, str);
  const gatewayUrl = gateways[0]?.url ?? '';
  const gatewayMspId = gateways[0]?.mspId ?? DEFAULT_GATEWAY_MSP_ID;
  const ledgerIn = object(input.ledger, 'ledger');
  const ledger: LedgerTarget = {
    channel: ledgerIn.channel === undefined ? DEFAULT_LEDGER_TARGET.channel : str(ledgerIn.channel, 'ledger.channel', CHANNEL),
    chaincode: ledgerIn.chaincode === undefined ? DEFAULT_LEDGER_TARGET.chaincode : str(ledgerIn.chaincode, 'ledger.chaincode', ID),
  };
  const ratedPowerW = int(input.ratedPowerW, 'ratedPowerW', DEFAULT_RATED_POWER_W, 1, 1_000_000_000);
  const mqttPasswordFile = mqttIn.passwordFile === undefined ? undefined : resolvePath(str(mqttIn.passwordFile, 'mqtt.passwordFile'));
  if (mqttIn.password !== undefined && mqttPasswordFile !== undefined) problems.push('mqtt.password, mqtt.passwordFile: give one of them');
  const mqttTls = parseMqttTls(mqttIn.tls, problems, resolvePath);
  const sitePolicy = parseAcceptPolicy(input.acceptPolicy, 'acceptPolicy', problems);
  const embeddedBroker = parseEmbeddedBroker(input.embeddedBroker, input.embeddedBrokerPort !== undefined, problems, resolvePath, meterId, topic);
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
    const parsed = parseEnrollment(e, `enrollments[${i}]`, problems, sitePolicy);
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
    sealingKeyFile,
    ...(auditors !== undefined ? { auditors } : {}),
    dataDir,
    ...meter,
    mqtt: {
      url: mqttUrl,
      topic,
      clientId,
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
      ...(mqttPasswordFile !== undefined ? { passwordFile: mqttPasswordFile } : {}),
      ...(mqttTls !== undefined ? { tls: mqttTls } : {}),
    },
    ...(embeddedBrokerPort !== undefined ? { embeddedBrokerPort } : {}),
    embeddedBrokerHost: typeof input.embeddedBrokerHost === 'string' ? input.embeddedBrokerHost : '127.0.0.1',
    ...(embeddedBroker !== undefined ? { embeddedBroker } : {}),
    gatewayUrl,
    gatewayMspId,
    gateways,
    ledger,
    ratedPowerW,
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

const GATEWAY_URL = /^https?:\/\//;

/** A JSON field name of a vendor message: printable, no dots (they would read as a path). */
const FIELD_NAME = /^[^\s.]{1,64}$/;

/** `meterFormat` and the settings of its adapter; the settings of another adapter are a problem. */
function parseMeterFormat(input: Record<string, unknown>, problems: string[]): Pick<EdgeConfig, 'meterFormat' | 'p1' | 'tasmota' | 'shelly'> {
  const raw = input.meterFormat ?? 'flexproof';
  if (typeof raw !== 'string' || !(METER_FORMATS as readonly string[]).includes(raw)) {
    problems.push(`meterFormat: one of ${METER_FORMATS.join(', ')}`);
    return { meterFormat: 'flexproof' };
  }
  const meterFormat = raw as MeterFormat;
  const owner = { p1: 'dsmr-p1', tasmota: 'tasmota-sml', shelly: 'shelly' } as const;
  for (const [key, format] of Object.entries(owner)) {
    if (input[key] !== undefined && meterFormat !== format) problems.push(`${key}: settings of meterFormat ${format}, but meterFormat is ${meterFormat}`);
  }
  const object = (key: string): Record<string, unknown> | undefined => {
    const v = input[key];
    if (v === undefined) return undefined;
    if (!isPlainObject(v)) {
      problems.push(`${key}: an object`);
      return undefined;
    }
    return v;
  };
  if (meterFormat === 'dsmr-p1') {
    const p1 = object('p1');
    return { meterFormat, ...(p1 !== undefined ? { p1: parseP1(p1, problems) } : {}) };
  }
  if (meterFormat === 'tasmota-sml') {
    const t = object('tasmota');
    if (t === undefined) {
      problems.push('tasmota: required with meterFormat tasmota-sml ({ "meterName": "<the meter name of the SML script>" } at least)');
      return { meterFormat };
    }
    const field = (key: string, fallback: string | undefined): string | undefined => {
      const v = t[key] ?? fallback;
      if (v === undefined) return undefined;
      if (typeof v !== 'string' || !FIELD_NAME.test(v)) {
        problems.push(`tasmota.${key}: a JSON field name (1 to 64 characters, no spaces or dots)`);
        return fallback;
      }
      return v;
    };
    if (t.meterName === undefined) problems.push('tasmota.meterName: required (the meter name of the SML script, the object name in the SENSOR message)');
    const unit = t.unit ?? 'kWh';
    if (unit !== 'kWh' && unit !== 'Wh') problems.push('tasmota.unit: kWh or Wh');
    const timeZone = t.timeZone ?? 'UTC';
    if (typeof timeZone !== 'string' || !isTimeZone(timeZone)) problems.push('tasmota.timeZone: an IANA time zone (e.g. Europe/Berlin), the one the device is set to');
    const exportField = field('exportField', 'Total_out');
    return {
      meterFormat,
      tasmota: {
        meterName: field('meterName', undefined) ?? '',
        importField: field('importField', 'Total_in') ?? 'Total_in',
        ...(exportField !== undefined ? { exportField } : {}),
        unit: unit === 'Wh' ? 'Wh' : 'kWh',
        timeZone: typeof timeZone === 'string' ? timeZone : 'UTC',
      },
    };
  }
  if (meterFormat === 'shelly') {
    const sh = object('shelly') ?? {};
    const component = sh.component ?? 'emdata:0';
    if (typeof component !== 'string' || !/^(emdata|em1data):[0-9]{1,2}$/.test(component)) {
      problems.push('shelly.component: emdata:<id> (Pro 3EM, 3EM Gen3) or em1data:<id> (Pro EM, EM Gen3 channel)');
    }
    return { meterFormat, shelly: { component: typeof component === 'string' ? component : 'emdata:0' } };
  }
  return { meterFormat };
}

function parseP1(p1: Record<string, unknown>, problems: string[]): P1Config {
  const hasSerial = p1.serialPath !== undefined;
  const hasTcp = p1.host !== undefined || p1.port !== undefined;
  if (hasSerial === hasTcp) problems.push('p1: give serialPath (a serial device) or host and port (a P1-to-network dongle)');
  if (hasSerial && (typeof p1.serialPath !== 'string' || p1.serialPath === '')) problems.push('p1.serialPath: a device path, e.g. /dev/ttyUSB0');
  const baudRate = p1.baudRate ?? DEFAULT_P1_BAUD_RATE;
  if (typeof baudRate !== 'number' || !Number.isInteger(baudRate) || baudRate < 300 || baudRate > 4_000_000) problems.push('p1.baudRate: an integer from 300 to 4000000');
  if (p1.baudRate !== undefined && !hasSerial) problems.push('p1.baudRate: only with serialPath');
  if (hasTcp) {
    if (typeof p1.host !== 'string' || p1.host === '') problems.push('p1.host: the dongle\'s host name or address');
    if (typeof p1.port !== 'number' || !Number.isInteger(p1.port) || p1.port < 1 || p1.port > 65535) problems.push('p1.port: an integer from 1 to 65535');
  }
  return {
    ...(typeof p1.serialPath === 'string' ? { serialPath: p1.serialPath } : {}),
    baudRate: typeof baudRate === 'number' ? baudRate : DEFAULT_P1_BAUD_RATE,
    ...(typeof p1.host === 'string' ? { host: p1.host } : {}),
    ...(typeof p1.port === 'number' ? { port: p1.port } : {}),
  };
}

/**
 * The gateways: either `gateways: [{ url, mspId }, ...]` or the single-gateway fields
 * gatewayUrl (+ gatewayMspId), never both, since which one would win is not obvious.
 */
function parseGateways(
  input: Record<string, unknown>,
  problems: string[],
  str: (v: unknown, name: string, pattern?: RegExp) => string,
): GatewayEntry[] {
  const raw = input.gateways;
  if (raw === undefined) {
    const url = str(input.gatewayUrl, 'gatewayUrl', GATEWAY_URL).replace(/\/+$/, '');
    const mspId = input.gatewayMspId === undefined ? DEFAULT_GATEWAY_MSP_ID : str(input.gatewayMspId, 'gatewayMspId', MSP_ID);
    return [{ url, mspId }];
  }
  if (input.gatewayUrl !== undefined || input.gatewayMspId !== undefined) {
    problems.push('gateways, gatewayUrl, gatewayMspId: give gateways or gatewayUrl (with gatewayMspId), not both');
  }
  if (!Array.isArray(raw) || raw.length < 1 || raw.length > MAX_GATEWAYS) {
    problems.push(`gateways: a list of 1 to ${MAX_GATEWAYS} entries { url, mspId }`);
    return [];
  }
  const entries: GatewayEntry[] = [];
  raw.forEach((g, i) => {
    const name = `gateways[${i}]`;
    if (!isPlainObject(g)) {
      problems.push(`${name}: an object { url, mspId }`);
      return;
    }
    const before = problems.length;
    if (typeof g.url !== 'string' || !GATEWAY_URL.test(g.url)) problems.push(`${name}.url: required and must match ${GATEWAY_URL}`);
    if (typeof g.mspId !== 'string' || !MSP_ID.test(g.mspId)) problems.push(`${name}.mspId: required and must match ${MSP_ID}`);
    if (problems.length > before) return;
    const url = (g.url as string).replace(/\/+$/, '');
    if (entries.some((e) => e.url === url)) problems.push(`${name}.url: ${url} appears twice`);
    else entries.push({ url, mspId: g.mspId as string });
  });
  return entries;
}

/** The `auditors` allowlist: distinct ledger auditor ids. */
function parseAuditors(raw: unknown, problems: string[]): string[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) {
    problems.push(`auditors: a list of auditor ids (the ledger's auditorId), e.g. ["auditor-1"]; [] for none`);
    return undefined;
  }
  const ids: string[] = [];
  raw.forEach((v, i) => {
    if (typeof v !== 'string' || !ID.test(v)) problems.push(`auditors[${i}]: an auditor id matching ${ID}`);
    else if (ids.includes(v)) problems.push(`auditors[${i}]: ${v} appears twice`);
    else ids.push(v);
  });
  return ids;
}

/**
 * The fields of each object of the config file. A misspelt field would otherwise be
 * ignored silently and its default used (a `periodSecond` leaves the period at an hour),
 * so every field not listed here is a problem, named with its path.
 */
const CONFIG_FIELDS = {
  site: [
    'meterId', 'prosumerId', 'keyFile', 'sealingKeyFile', 'auditors', 'dataDir', 'meterFormat', 'p1', 'tasmota', 'shelly', 'mqtt', 'embeddedBrokerPort', 'embeddedBrokerHost',
    'embeddedBroker', 'gatewayUrl', 'gatewayMspId', 'gateways', 'ledger', 'ratedPowerW', 'siteSecret', 'acceptPolicy', 'enrollments',
    'closeDelaySeconds', 'maxClockSkewSeconds', 'retry', 'tamper', 'autoAccept', 'logLevel',
  ],
  p1: ['serialPath', 'baudRate', 'host', 'port'],
  tasmota: ['meterName', 'importField', 'exportField', 'unit', 'timeZone'],
  shelly: ['component'],
  mqtt: ['url', 'topic', 'clientId', 'username', 'password', 'passwordFile', 'tls'],
  mqttTls: ['caFile', 'certFile', 'keyFile', 'rejectUnauthorized'],
  embeddedBroker: ['users', 'tls'],
  brokerUser: ['username', 'password', 'passwordFile', 'meterId', 'topic'],
  brokerTls: ['keyFile', 'certFile'],
  gateway: ['url', 'mspId'],
  ledger: ['channel', 'chaincode'],
  retry: ['initialMs', 'maxMs'],
  tamper: ['periodIndex', 'enrollmentId'],
  enrollment: [
    'enrollmentId', 'circuitId', 'startTime', 'periodSeconds', 'graceSeconds', 'requestProfile', 'commitmentSalt', 'requestCommitment', 'acceptPolicy',
  ],
} as const satisfies Record<string, readonly string[]>;

/** Every unknown field at every level of the file (acceptPolicy terms are checked by parseAcceptPolicy). */
function refuseUnknownFields(input: Record<string, unknown>, problems: string[]): void {
  const check = (value: unknown, fields: readonly string[], name: string): void => {
    if (!isPlainObject(value)) return; // a wrong type is reported by the field's own parser
    for (const key of Object.keys(value)) {
      if (fields.includes(key)) continue;
      const guess = closest(key, fields);
      // A field of each enrollment written at the top of the file, where it means nothing.
      const enrollmentField = name === '' && guess === undefined ? closest(key, CONFIG_FIELDS.enrollment) : undefined;
      const hint =
        guess !== undefined ? ` (did you mean ${guess}?)` : enrollmentField !== undefined ? ` (${enrollmentField} is a field of each entry of enrollments)` : '';
      problems.push(`${name === '' ? '' : `${name}.`}${key}: unknown field${hint}`);
    }
  };
  check(input, CONFIG_FIELDS.site, '');
  check(input.p1, CONFIG_FIELDS.p1, 'p1');
  check(input.tasmota, CONFIG_FIELDS.tasmota, 'tasmota');
  check(input.shelly, CONFIG_FIELDS.shelly, 'shelly');
  check(input.mqtt, CONFIG_FIELDS.mqtt, 'mqtt');
  if (isPlainObject(input.mqtt)) check(input.mqtt.tls, CONFIG_FIELDS.mqttTls, 'mqtt.tls');
  check(input.embeddedBroker, CONFIG_FIELDS.embeddedBroker, 'embeddedBroker');
  if (isPlainObject(input.embeddedBroker)) {
    const { users, tls } = input.embeddedBroker;
    if (Array.isArray(users)) users.forEach((u, i) => check(u, CONFIG_FIELDS.brokerUser, `embeddedBroker.users[${i}]`));
    check(tls, CONFIG_FIELDS.brokerTls, 'embeddedBroker.tls');
  }
  if (Array.isArray(input.gateways)) input.gateways.forEach((g, i) => check(g, CONFIG_FIELDS.gateway, `gateways[${i}]`));
  check(input.ledger, CONFIG_FIELDS.ledger, 'ledger');
  check(input.retry, CONFIG_FIELDS.retry, 'retry');
  check(input.tamper, CONFIG_FIELDS.tamper, 'tamper');
  if (Array.isArray(input.enrollments)) input.enrollments.forEach((e, i) => check(e, CONFIG_FIELDS.enrollment, `enrollments[${i}]`));
}

/** The known name a misspelt one most likely meant: same letters in another case, or at most a third of its letters away. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, candidate);
    if (best === undefined || distance < best.distance) best = { name: candidate, distance };
  }
  return best !== undefined && best.distance <= Math.max(2, Math.floor(name.length / 3)) ? best.name : undefined;
}

/** Edit distance with adjacent transpositions (optimal string alignment): `tsl` is one edit from `tls`. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => (d[i] as number[])[j] as number;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

function seconds(v: unknown, name: string, fallback: number, problems: string[]): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 3600) {
    problems.push(`${name}: a number of seconds from 0 to 3600`);
    return fallback;
  }
  return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A non-negative integer given as a decimal string or a safe integer, as a decimal string; undefined (and a problem) otherwise. */
function decimalTerm(v: unknown, name: string, problems: string[]): string | undefined {
  if (typeof v === 'string' && DECIMAL.test(v) && v.length <= 78) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  problems.push(`${name}: a non-negative integer (decimal string or number)`);
  return undefined;
}

/** An acceptPolicy object; `base` (the site-wide policy) fills the terms it leaves out. */
export function parseAcceptPolicy(raw: unknown, name: string, problems: string[], base: AcceptPolicy = {}): AcceptPolicy {
  if (raw === undefined) return { ...base };
  if (!isPlainObject(raw)) {
    problems.push(`${name}: an object with ${ACCEPT_POLICY_TERMS.join(', ')}`);
    return { ...base };
  }
  for (const key of Object.keys(raw)) {
    if (!(ACCEPT_POLICY_TERMS as readonly string[]).includes(key)) {
      const guess = closest(key, ACCEPT_POLICY_TERMS);
      problems.push(`${name}.${key}: unknown term (${guess !== undefined ? `did you mean ${guess}? ` : ''}the terms are ${ACCEPT_POLICY_TERMS.join(', ')})`);
    }
  }
  const policy: AcceptPolicy = { ...base };
  for (const term of ['minReward', 'maxRatePerWh', 'minToleranceWh'] as const) {
    if (raw[term] === undefined) continue;
    const value = decimalTerm(raw[term], `${name}.${term}`, problems);
    if (value !== undefined) policy[term] = value;
  }
  if (raw.maxFlexWh !== undefined) {
    const cap = raw.maxFlexWh;
    if (Array.isArray(cap)) {
      if (cap.length !== PERIODS_PER_DAY) problems.push(`${name}.maxFlexWh: one cap, or ${PERIODS_PER_DAY} caps (one per period)`);
      else {
        const values = cap.map((v, p) => decimalTerm(v, `${name}.maxFlexWh[${p}]`, problems));
        if (values.every((v) => v !== undefined)) policy.maxFlexWh = values as string[];
      }
    } else {
      const value = decimalTerm(cap, `${name}.maxFlexWh`, problems);
      if (value !== undefined) policy.maxFlexWh = new Array<string>(PERIODS_PER_DAY).fill(value);
    }
  }
  if (raw.orderId !== undefined) {
    if (typeof raw.orderId !== 'string' || !ID.test(raw.orderId)) problems.push(`${name}.orderId: an id matching ${ID}`);
    else policy.orderId = raw.orderId;
  }
  return policy;
}

function parseMqttTls(raw: unknown, problems: string[], resolvePath: (p: string) => string): MqttTlsConfig | undefined {
  if (raw === undefined) return undefined;
  if (!isPlainObject(raw)) {
    problems.push('mqtt.tls: an object with caFile, certFile, keyFile, rejectUnauthorized');
    return undefined;
  }
  const file = (key: 'caFile' | 'certFile' | 'keyFile'): string | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') {
      problems.push(`mqtt.tls.${key}: a file path`);
      return undefined;
    }
    return resolvePath(v);
  };
  const caFile = file('caFile');
  const certFile = file('certFile');
  const keyFile = file('keyFile');
  if ((certFile === undefined) !== (keyFile === undefined)) problems.push('mqtt.tls.certFile, mqtt.tls.keyFile: give both or neither');
  if (raw.rejectUnauthorized !== undefined && typeof raw.rejectUnauthorized !== 'boolean') problems.push('mqtt.tls.rejectUnauthorized: true or false');
  return {
    ...(caFile !== undefined ? { caFile } : {}),
    ...(certFile !== undefined ? { certFile } : {}),
    ...(keyFile !== undefined ? { keyFile } : {}),
    rejectUnauthorized: raw.rejectUnauthorized !== false,
  };
}

function parseEmbeddedBroker(
  raw: unknown,
  enabled: boolean,
  problems: string[],
  resolvePath: (p: string) => string,
  siteMeterId: string,
  siteTopic: string,
): EmbeddedBrokerConfig | undefined {
  if (raw === undefined) {
    if (enabled) problems.push('embeddedBroker.users: required with embeddedBrokerPort (the broker lets only these users publish)');
    return undefined;
  }
  if (!isPlainObject(raw)) {
    problems.push('embeddedBroker: an object with users (and optionally tls)');
    return undefined;
  }
  const users: BrokerUserConfig[] = [];
  if (!Array.isArray(raw.users) || raw.users.length === 0) problems.push('embeddedBroker.users: a non-empty list of { username, password or passwordFile, meterId }');
  else raw.users.forEach((u, i) => {
    const name = `embeddedBroker.users[${i}]`;
    if (!isPlainObject(u)) {
      problems.push(`${name}: an object`);
      return;
    }
    const before = problems.length;
    if (typeof u.username !== 'string' || !ID.test(u.username)) problems.push(`${name}.username: required, matching ${ID}`);
    if (typeof u.meterId !== 'string' || !ID.test(u.meterId)) problems.push(`${name}.meterId: required, matching ${ID}`);
    const hasPassword = u.password !== undefined;
    const hasFile = u.passwordFile !== undefined;
    if (hasPassword === hasFile) problems.push(`${name}: give exactly one of password, passwordFile`);
    if (hasPassword && (typeof u.password !== 'string' || u.password.length < MIN_BROKER_PASSWORD_LENGTH)) {
      problems.push(`${name}.password: at least ${MIN_BROKER_PASSWORD_LENGTH} characters`);
    }
    if (hasFile && (typeof u.passwordFile !== 'string' || u.passwordFile === '')) problems.push(`${name}.passwordFile: a file path`);
    if (u.topic !== undefined && (typeof u.topic !== 'string' || !/^[^#+]+$/.test(u.topic))) problems.push(`${name}.topic: a topic without wildcards`);
    if (problems.length > before) return;
    const meterId = u.meterId as string;
    const topic = typeof u.topic === 'string' ? u.topic : meterId === siteMeterId ? siteTopic : defaultTopic(meterId);
    users.push({
      username: u.username as string,
      meterId,
      topic,
      ...(hasPassword ? { password: u.password as string } : { passwordFile: resolvePath(u.passwordFile as string) }),
    });
  });
  const names = users.map((u) => u.username);
  if (new Set(names).size !== names.length) problems.push('embeddedBroker.users: a username appears twice');
  let tls: EmbeddedBrokerConfig['tls'];
  if (raw.tls !== undefined) {
    const t = isPlainObject(raw.tls) ? raw.tls : {};
    if (typeof t.keyFile !== 'string' || t.keyFile === '' || typeof t.certFile !== 'string' || t.certFile === '') {
      problems.push('embeddedBroker.tls: { keyFile, certFile } (PEM files)');
    } else {
      tls = { keyFile: resolvePath(t.keyFile), certFile: resolvePath(t.certFile) };
    }
  }
  if (!enabled) problems.push('embeddedBroker: needs embeddedBrokerPort (the broker runs only with a port)');
  return { users, ...(tls ? { tls } : {}) };
}

function parseEnrollment(raw: unknown, name: string, problems: string[], sitePolicy: AcceptPolicy): EnrollmentConfig | undefined {
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
  // A net-energy circuit (v2) takes signed requested energies (negative: export); v1 only consumption.
  const signed = isCircuitId(shape) && circuitShape(shape).kind === 'net';
  const value = signed ? SIGNED_DECIMAL : DECIMAL;
  if (!Array.isArray(profile) || profile.length !== PERIODS_PER_DAY || !profile.every((v) => (typeof v === 'string' ? value.test(v) : Number.isSafeInteger(v) && (signed || (v as number) >= 0)))) {
    problems.push(`${name}.requestProfile: ${PERIODS_PER_DAY} ${signed ? 'integers (Wh, negative for export)' : 'non-negative integers (Wh)'}`);
  }
  if (typeof e.commitmentSalt !== 'string' || !DECIMAL.test(e.commitmentSalt)) problems.push(`${name}.commitmentSalt: a decimal string`);
  if (e.requestCommitment !== undefined && (typeof e.requestCommitment !== 'string' || !DECIMAL.test(e.requestCommitment))) {
    problems.push(`${name}.requestCommitment: a decimal string`);
  }
  const acceptPolicy = parseAcceptPolicy(e.acceptPolicy, `${name}.acceptPolicy`, problems, sitePolicy);
  if (problems.length > before) return undefined;
  const requestProfile = (profile as (string | number)[]).map((v) => String(v));
  let commitment: string;
  try {
    commitment = requestCommitmentFor(shape as CircuitId, e.commitmentSalt as string, requestProfile).toString();
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
    acceptPolicy,
  };
}

function applyEnv(input: Record<string, unknown>, env: NodeJS.ProcessEnv, problems: string[]): void {
  for (const [suffix, { field, type }] of Object.entries(ENV_OVERRIDES)) {
    const value = env[`${ENV_PREFIX}${suffix}`];
    if (value === undefined || value === '') continue;
    let parsed: unknown = value;
    if (field === 'auditors') {
      setPath(input, field, value.split(',').map((id) => id.trim()).filter((id) => id !== ''));
      continue;
    }
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

/** The default port of the embedded broker a starter config runs (MQTT's registered port). */
export const DEFAULT_EMBEDDED_BROKER_PORT = 1883;
/** The file beside the config that holds the meter's password for the embedded broker (mode 600). */
export const METER_BROKER_PASSWORD_FILE = 'meter-broker.pass';

/**
 * A starter config for `init` (the operator fills in the gateway, the prosumer id and the
 * enrollments). With no `mqttUrl` it runs the embedded broker on `brokerPort`, with one
 * user for this site's meter whose password is in METER_BROKER_PASSWORD_FILE, so `run`
 * works as written (and `simulate --config` publishes as that meter); with `mqttUrl` it
 * connects to that broker instead.
 */
export function configTemplate(meterId: string, siteSecret: string, broker: { mqttUrl?: string; brokerPort?: number } = {}): Record<string, unknown> {
  const port = broker.brokerPort ?? DEFAULT_EMBEDDED_BROKER_PORT;
  const mqttUrl = broker.mqttUrl ?? `mqtt://127.0.0.1:${port}`;
  return {
    meterId,
    prosumerId: 'prosumer-id-from-the-dso',
    keyFile: 'site-key.pem',
    dataDir: 'data',
    mqtt: { url: mqttUrl, topic: defaultTopic(meterId) },
    ...(broker.mqttUrl === undefined
      ? { embeddedBrokerPort: port, embeddedBroker: { users: [{ username: meterId, passwordFile: METER_BROKER_PASSWORD_FILE, meterId }] } }
      : {}),
    gatewayUrl: 'https://gateway.example.org',
    gatewayMspId: DEFAULT_GATEWAY_MSP_ID,
    ledger: { ...DEFAULT_LEDGER_TARGET },
    siteSecret,
    closeDelaySeconds: 30,
    ratedPowerW: DEFAULT_RATED_POWER_W,
    // No sealingKeyFile: sealing-key.pem beside keyFile. No auditors list: readings are
    // sealed to every auditor key the ledger holds as active.
    // No acceptPolicy: offers wait for `flexproof-edge accept` until one is written.
    enrollments: [],
  };
}
