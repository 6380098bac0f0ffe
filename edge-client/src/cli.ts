#!/usr/bin/env node
/**
 * flexproof-edge: the command line of the edge client. See `flexproof-edge --help`.
 * Exit codes: 0 done, 1 runtime failure, 2 usage or configuration error.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { randomBytes, type KeyObject } from 'node:crypto';
import * as path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { EdgeGatewayClient, GatewayError as ClientGatewayError } from '@flexproof/protocol';
import { CircuitsProver } from './prover';
import { InstallRefused, formatInstallResult, formatInstalled, installBundle, installedArtifacts, type LedgerKeyLookup } from './artifacts-install';
import { METER_BROKER_PASSWORD_FILE, configTemplate, loadConfig, type EdgeConfig } from './config';
import { writeFileAtomicSync } from './durable-file';
import { EdgeNode } from './edge-node';
import { mqttPassword, readSecretFile, siteBrokerAccounts, startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker';
import { EdgeError } from './errors';
import { FailoverGateway } from './failover-gateway';
import { GatewayError, type GatewayPort } from './gateway-port';
import { HttpGateway } from './http-gateway';
import { LoadModel } from './load-model';
import { jsonLogger, type Logger } from './log';
import { acceptByHand, withdrawByHand } from './manual-actions';
import { MeterSimulator } from './meter-simulator';
import { P1Source } from './adapters';
import { MeterSubscription, mqttTlsOptions, type MeterSource } from './meter-subscription';
import { formatOwnPeriod, readOwnPeriod, type OwnPeriodReadings } from './own-readings';
import { SEALING_KEY_FILE, createSealingKey, loadSealingKey } from './sealing-key';
import { SEALING_PUBLIC_KEY_FILE, enrollFromPackage, formatEnrollResult, writeSealingPublicKey } from './enrollment-package';
import { createSiteKey, loadSiteKey, type SiteKeyType } from './site-key';
import { formatStatus, statusReport } from './status-report';

const DEFAULT_CONFIG = 'flexproof-edge.json';

const HELP = `flexproof-edge: reads a meter over MQTT, proves every period's deviation (Groth16),
signs it with the site key and submits it through the flexproof gateway.

usage: flexproof-edge <command> [options]

commands:
  init       create the site key pair (file readable only by its owner) and print the
             public key for the DSO to register, and the P-256 sealing key
             (sealing-key.pem beside it, mode 600); writes a starter config if none
             exists (its directory too)   [--meter-id ID] [--key-type ed25519|ec-p256]
             [--prosumer-id ID] [--gateway-url URL] [--gateway-msp-id MSP] (as the DSO
             registered the meter and the aggregator's gateway; else edit them later)
             [--broker-port N | --mqtt-url URL]
             The starter config runs the embedded MQTT broker on 127.0.0.1:N (default
             1883) with one user for the meter (username: the meter id, password in
             ${METER_BROKER_PASSWORD_FILE} beside the config, mode 600: give it to the meter's
             adapter); with --mqtt-url it connects to that broker instead.
  run        ingest meter readings, prove, sign and submit every period until stopped
             (SIGINT/SIGTERM) [--dev-artifacts] [--tamper-period [ENROLLMENT:]PERIOD]
             Offers are accepted automatically only within each enrollment's acceptPolicy
             (minReward, maxRatePerWh, minToleranceWh, maxFlexWh, orderId); nothing is
             signed unless the ledger's verification key is this site's.
  accept     show an offered enrollment's terms on the ledger next to the acceptPolicy and
             sign its acceptance on confirmation (y/N on a terminal, or --yes); terms that
             differ from the config (commitment, circuit, timing) are refused whatever
             the answer   --enrollment ID [--yes]
  enroll     add an enrollment from the package the aggregator sent (sealed to this site's
             sealing key): its terms must equal the ledger's enrollment (read through the
             gateway) field by field, its profile and salt must open its request
             commitment, and its terms must be within the acceptPolicy; then it is added
             to the config (atomically, once per enrollment id)   PACKAGE
  sealing-key  print the sealing public key (SPKI PEM) the aggregator seals enrollment
             packages to, and its key hash on stderr to read out to the aggregator
             [--out FILE] (write it to FILE, e.g. ${SEALING_PUBLIC_KEY_FILE}, mode 644)
  withdraw   sign a withdrawal (burn for off-chain redemption) of the prosumer's tokens on
             confirmation   --amount N [--yes]
  status     what is stored, proven, submitted, settled, pending and held (and why) [--json]
  readings   fetch this site's sealed document of a period from the store (through the
             gateway) and open it with the sealing key: prints the period's readings
             --period P [--enrollment ID] (default: every configured enrollment)
             [--json] (the readings and the fingerprint salt, as JSON, on stdout)
  artifacts install BUNDLE [--circuit ID] [--replace-dev-artifacts]
             install a ceremony bundle (\`ceremony publish\`) as this site's proving
             artifacts: the bundle is checked whole (every file's sha256, the key derived
             again from the zkey), then the ledger's key under the circuit id (default:
             the bundle's shape; a shape with a .suffix such as flexdev-v1-r4.ceremony2 is
             allowed) is read through the gateway: it must be active and its keyHash the
             bundle's; then the files are installed atomically where run and accept load
             them, and listed with their sha256; dev artifacts there (shared by
             everything on the machine using dev keys) are replaced only with
             --replace-dev-artifacts (or set FLEXPROOF_CACHE to a directory of the site's)
  artifacts show
             what is installed for every shape: dev or ceremony artifacts, the circuit id
             and key hash, every file's sha256, and whether they are intact
  simulate   a simulated meter publishing to MQTT
             [--enrollment ID] [--compliance 0..1] [--acceleration N] [--interval-ms MS]
             [--duration-seconds S] [--seed N] [--no-ev] [--no-heat-pump] [--solar-peak-w W]
             [--url URL] [--topic T]
             [--username U --password-file F] [--ca-file F] (default: the config's
             embeddedBroker user of this meter)

--dev-artifacts builds throw-away dev proving artifacts when they are missing (development
networks only). Without it, run and accept refuse to start without the artifacts, naming
the directory: proofs made with artifacts that are not the ledger's are found invalid on
the ledger and cost the escrow. Install the consortium's with \`artifacts install BUNDLE\`.

options for every command:
  --config FILE   site config (JSON); default $FLEXPROOF_EDGE_CONFIG or ./${DEFAULT_CONFIG}
  --help          this text

Config fields of note (README for all): acceptPolicy (site-wide, and per enrollment:
minReward, maxRatePerWh, minToleranceWh, maxFlexWh, orderId), gatewayMspId (default
AggregatorMSP: every request signature names the gateway's organisation), or instead of
gatewayUrl/gatewayMspId: gateways [{url, mspId}, ...] (1 to 4; when one answers 503 or
not at all, the next is tried at once, and calls stay with the one that answered), ledger
{channel, chaincode} (named by every signed payload), ratedPowerW (register jumps beyond
it are dropped), mqtt.username/password/passwordFile and mqtt.tls {caFile, certFile,
keyFile, rejectUnauthorized}. With embeddedBrokerPort, the embedded broker lets only
embeddedBroker.users connect (password or passwordFile each), each publishing on its own
meter topic only; embeddedBroker.tls {keyFile, certFile} makes it mqtts only.

Raw data leaves the site only sealed: after a period settles, its readings and fingerprint
salt are encrypted (JWE, ECDH-ES+A256KW on P-256, A256GCM) to the site's own sealing key
(sealingKeyFile, default sealing-key.pem beside keyFile; created by init, or by run when
missing) and to each auditor key the ledger holds as active (GET /v1/edge/auditor-keys,
each key's hash recomputed here; a key whose hash does not match is refused and logged),
only those named in the config's auditors list when it is set (auditor ids; [] for none).
The store and the gateways see ciphertext, its size and the time of upload, never a
reading. Documents already sealed are not sealed again for an auditor added later.

Every config field can be overridden from the environment (FLEXPROOF_EDGE_METER_ID,
FLEXPROOF_EDGE_MQTT_URL, FLEXPROOF_EDGE_GATEWAY_URL, FLEXPROOF_EDGE_GATEWAY_MSP_ID, ...:
see the README).

--tamper-period is for demonstrations only: the client signs a deliberately corrupted
proof at that period, and the ledger excludes the site.`;

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return command === undefined ? 2 : 0;
  }
  try {
    switch (command) {
      case 'init':
        return init(rest);
      case 'run':
        return await run(rest);
      case 'accept':
        return await accept(rest);
      case 'withdraw':
        return await withdraw(rest);
      case 'enroll':
        return await enroll(rest);
      case 'sealing-key':
        return sealingKey(rest);
      case 'status':
        return await status(rest);
      case 'readings':
        return await readings(rest);
      case 'simulate':
        return await simulate(rest);
      case 'artifacts':
        return await artifacts(rest);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`flexproof-edge: ${error.message}\n(see flexproof-edge --help)\n`);
      return 2;
    }
    if (error instanceof GatewayError) {
      process.stderr.write(`flexproof-edge: the gateway: ${error.message} (${error.code}${error.retryable ? ', try again later' : ''})\n`);
      return 1;
    }
    if (error instanceof InstallRefused) {
      process.stderr.write(`flexproof-edge: refused (${error.code}): ${error.message}\n`);
      return error.code === 'CIRCUIT_ID_INVALID' ? 2 : 1;
    }
    if (error instanceof ClientGatewayError) {
      process.stderr.write(`flexproof-edge: the gateway: ${error.message} (${error.code}${error.kind === 'unavailable' ? ', try again later' : ''})\n`);
      return 1;
    }
    if (error instanceof EdgeError) {
      process.stderr.write(`flexproof-edge: ${error.message}\n`);
      return CONFIGURATION_ERRORS.has(error.code) ? 2 : 1;
    }
    process.stderr.write(`flexproof-edge: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

/** Failures fixed by changing the config or the command line: exit code 2. */
const CONFIGURATION_ERRORS: ReadonlySet<string> = new Set(['CONFIG_INVALID', 'CONFIG_MISSING', 'USAGE', 'ARTIFACTS_MISSING', 'BROKER_PORT_UNAVAILABLE']);

const common = { config: { type: 'string' }, help: { type: 'boolean' } } as const;

function configPath(value: string | undefined): string {
  // An empty variable is unset, as for the FLEXPROOF_EDGE_* field overrides.
  const fromEnv = process.env.FLEXPROOF_EDGE_CONFIG;
  return path.resolve(value ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_CONFIG));
}

function wantsHelp(help: boolean | undefined): boolean {
  if (help) process.stdout.write(`${HELP}\n`);
  return help === true;
}

function init(args: string[]): number {
  const { values } = parseArgs({
    args,
    options: {
      ...common,
      'meter-id': { type: 'string' },
      'key-type': { type: 'string' },
      'broker-port': { type: 'string' },
      'mqtt-url': { type: 'string' },
      'prosumer-id': { type: 'string' },
      'gateway-url': { type: 'string' },
      'gateway-msp-id': { type: 'string' },
    },
  });
  if (wantsHelp(values.help)) return 0;
  const keyType = (values['key-type'] ?? 'ed25519') as SiteKeyType;
  if (keyType !== 'ed25519' && keyType !== 'ec-p256') throw new UsageError('--key-type is ed25519 or ec-p256');
  if (values['broker-port'] !== undefined && values['mqtt-url'] !== undefined) throw new UsageError('give --broker-port (the embedded broker) or --mqtt-url (a broker of your own), not both');
  let brokerPort: number | undefined;
  if (values['broker-port'] !== undefined) {
    brokerPort = Number(values['broker-port']);
    if (!/^[0-9]+$/.test(values['broker-port']) || brokerPort < 1 || brokerPort > 65535) throw new UsageError('--broker-port is a port number from 1 to 65535');
  }
  for (const flag of ['prosumer-id', 'gateway-url', 'gateway-msp-id'] as const) {
    if (values[flag] === '') throw new UsageError(`--${flag} must not be empty`);
  }
  const mqttUrl = values['mqtt-url'];
  if (mqttUrl !== undefined && !/^(mqtts?|wss?|tcp|ssl):\/\//.test(mqttUrl)) throw new UsageError('--mqtt-url is an mqtt://, mqtts://, ws:// or wss:// URL');
  const file = configPath(values.config);
  let keyFile: string;
  let meterId: string;
  if (existsSync(file)) {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { keyFile?: unknown; meterId?: unknown };
    if (typeof raw.keyFile !== 'string' || typeof raw.meterId !== 'string') throw new UsageError(`${file} has no keyFile or meterId`);
    keyFile = path.resolve(path.dirname(file), process.env.FLEXPROOF_EDGE_KEY_FILE ?? raw.keyFile);
    meterId = raw.meterId;
  } else {
    const id = values['meter-id'] ?? process.env.FLEXPROOF_EDGE_METER_ID;
    if (id === undefined) throw new UsageError(`${file} does not exist: give --meter-id to create it`);
    meterId = id;
    const template = configTemplate(meterId, randomBytes(32).toString('hex'), {
      ...(mqttUrl !== undefined ? { mqttUrl } : {}),
      ...(brokerPort !== undefined ? { brokerPort } : {}),
    });
    keyFile = path.resolve(path.dirname(file), process.env.FLEXPROOF_EDGE_KEY_FILE ?? (template.keyFile as string));
    if (existsSync(keyFile)) throw new EdgeError('KEY_EXISTS', `key file ${keyFile} already exists; a site keeps its key`, { details: { keyFile } });
    // A new site's directory may not exist yet; it holds keys, so only its owner may enter it.
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    let brokerNote = `it connects to the MQTT broker at ${mqttUrl}`;
    if (template.embeddedBrokerPort !== undefined) {
      const passwordFile = path.join(path.dirname(file), METER_BROKER_PASSWORD_FILE);
      // An existing password file is kept: the meter's adapter may already use it.
      if (!existsSync(passwordFile)) writeFileAtomicSync(passwordFile, `${randomBytes(24).toString('base64url')}\n`, 0o600);
      brokerNote = `run starts the embedded MQTT broker on 127.0.0.1:${String(template.embeddedBrokerPort)}; the meter publishes to ${(template.mqtt as { topic: string }).topic} as user ${meterId} with the password in ${passwordFile} (mode 600)`;
    }
    // What the DSO and the aggregator told the site, given as flags, so the config runs as written.
    const given: [string, string, string | undefined][] = [
      ['prosumerId', 'prosumer-id', values['prosumer-id']],
      ['gatewayUrl', 'gateway-url', values['gateway-url']],
      ['gatewayMspId', 'gateway-msp-id', values['gateway-msp-id']],
    ];
    for (const [field, , value] of given) {
      if (value !== undefined) template[field] = value;
    }
    const toEdit = given.filter(([field, , value]) => value === undefined && field !== 'gatewayMspId').map(([field, flag]) => `${field} (--${flag})`);
    writeFileAtomicSync(file, `${JSON.stringify(template, null, 2)}\n`, 0o600);
    process.stderr.write(
      `wrote a starter config to ${file} (mode 600: it holds the site secret); ${brokerNote}; ` +
        `${toEdit.length > 0 ? `set ${toEdit.join(' and ')}, then ` : ''}add enrollments with \`flexproof-edge enroll PACKAGE\`\n`,
    );
  }
  const sealingKeyFile = sealingKeyFileOf(file, keyFile);
  const siteKeyExists = existsSync(keyFile);
  if (existsSync(sealingKeyFile)) {
    process.stderr.write(`kept the sealing key in ${sealingKeyFile} (key hash ${loadSealingKey(sealingKeyFile).keyHash})\n`);
  } else {
    const sealing = createSealingKey(sealingKeyFile);
    process.stderr.write(
      `created the P-256 sealing key in ${sealingKeyFile} (mode 600, key hash ${sealing.keyHash}): every period's readings are sealed to it; back it up, it is the only way for this site to read its stored documents\n`,
    );
    // A site set up before sealing existed: give it its sealing key, keep its site key.
    if (siteKeyExists) {
      process.stderr.write(`kept the site key in ${keyFile}\n`);
      return 0;
    }
  }
  const key = createSiteKey(keyFile, keyType);
  process.stderr.write(`created the ${key.type} site key in ${keyFile} (mode 600)\n`);
  process.stderr.write(`give this public key to the DSO to register with meter ${meterId}:\n`);
  process.stdout.write(key.publicKeyPem);
  return 0;
}

/** The config's sealingKeyFile (env override first), else sealing-key.pem beside the site key, as parseConfig resolves it. */
function sealingKeyFileOf(configFile: string, keyFile: string): string {
  let configured: unknown = process.env.FLEXPROOF_EDGE_SEALING_KEY_FILE;
  if ((configured === undefined || configured === '') && existsSync(configFile)) {
    configured = (JSON.parse(readFileSync(configFile, 'utf8')) as { sealingKeyFile?: unknown }).sealingKeyFile;
  }
  if (typeof configured === 'string' && configured !== '') return path.resolve(path.dirname(configFile), configured);
  return path.join(path.dirname(keyFile), SEALING_KEY_FILE);
}

function loggerFor(config: EdgeConfig): Logger {
  return jsonLogger({ level: config.logLevel, base: { meterId: config.meterId } });
}

/** One HttpGateway per configured gateway, each signing for its own MSP id; several fail over (failover-gateway.ts). */
function gatewayFor(config: EdgeConfig, privateKey: KeyObject, logger: Logger = loggerFor(config)): GatewayPort {
  const members = config.gateways.map((g) => ({
    url: g.url,
    gateway: new HttpGateway({ baseUrl: g.url, meterId: config.meterId, privateKey, gatewayMspId: g.mspId }),
  }));
  if (members.length === 1) return (members[0] as { gateway: HttpGateway }).gateway;
  return new FailoverGateway(members, { logger });
}

async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...common, 'tamper-period': { type: 'string' }, 'dev-artifacts': { type: 'boolean' } } });
  if (wantsHelp(values.help)) return 0;
  const env = { ...process.env };
  if (values['tamper-period'] !== undefined) env.FLEXPROOF_EDGE_TAMPER_PERIOD = values['tamper-period'];
  const config = loadConfig(configPath(values.config), env);
  const logger = loggerFor(config);
  const siteKey = loadSiteKey(config.keyFile);
  const prover = new CircuitsProver({ logger, devArtifacts: values['dev-artifacts'] === true });
  if (values['dev-artifacts']) logger.warn('prover.dev-artifacts', { warning: 'missing proving artifacts are built as a throw-away dev set-up: for development networks only' });
  for (const shape of new Set(config.enrollments.map((e) => e.shape))) await prover.prepare(shape);
  const gateway = gatewayFor(config, siteKey.privateKey, logger);
  let broker: EmbeddedBroker | undefined;
  const configuredPassword = mqttPassword(config);
  let mqttCredentials: { username?: string; password?: string } = {
    ...(config.mqtt.username !== undefined ? { username: config.mqtt.username } : {}),
    ...(configuredPassword !== undefined ? { password: configuredPassword } : {}),
  };
  if (config.embeddedBrokerPort !== undefined) {
    const { accounts, subscriber } = siteBrokerAccounts(config);
    const tls = config.embeddedBroker?.tls;
    broker = await startEmbeddedBroker({
      port: config.embeddedBrokerPort,
      host: config.embeddedBrokerHost,
      logger,
      accounts,
      ...(tls ? { tls: { key: readSecretFile(tls.keyFile, 'embeddedBroker.tls.keyFile'), cert: readFileSync(tls.certFile) } } : {}),
    });
    mqttCredentials = subscriber;
  }
  const unreachableHint =
    broker !== undefined
      ? `the embedded broker listens on ${broker.url}: set mqtt.url (FLEXPROOF_EDGE_MQTT_URL) to it`
      : 'start an MQTT broker there (e.g. Mosquitto), or set embeddedBrokerPort (FLEXPROOF_EDGE_EMBEDDED_BROKER_PORT) and embeddedBroker.users to run one inside flexproof-edge (see `flexproof-edge init --broker-port`)';
  const node = await EdgeNode.open({ config, siteKey, gateway, prover, logger });
  let fatal: unknown;
  let stopRequested: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  const onFatal = (error: unknown): void => {
    fatal = error;
    stopRequested();
  };
  let source: MeterSource;
  if (config.meterFormat === 'dsmr-p1' && config.p1) {
    // The meter's P1 port itself (serial, or a P1-to-network dongle): no broker in between.
    source = P1Source.start({ p1: config.p1, onTelegram: (telegram) => node.ingest(telegram), onFatal, logger });
  } else {
    const mqttTls = mqttTlsOptions(config.mqtt.tls);
    source = MeterSubscription.start({
      url: config.mqtt.url,
      topic: config.mqtt.topic,
      clientId: config.mqtt.clientId,
      ...mqttCredentials,
      ...(mqttTls !== undefined ? { tls: mqttTls } : {}),
      unreachableHint,
      onMessage: (payload) => node.ingest(payload),
      onFatal,
      logger,
    });
  }
  node.start();
  logger.info('node.running', {
    enrollments: config.enrollments.map((e) => e.enrollmentId),
    gateways: config.gateways.map((g) => g.url),
    meterFormat: config.meterFormat,
    ...(source instanceof P1Source ? { p1: source.description } : { topic: config.mqtt.topic }),
  });
  const onSignal = (signal: string) => () => {
    logger.info('node.stopping', { signal });
    stopRequested();
  };
  process.once('SIGINT', onSignal('SIGINT'));
  process.once('SIGTERM', onSignal('SIGTERM'));
  await stopped;
  await source.stop();
  await node.close();
  await broker?.close();
  return fatal === undefined ? 0 : 1;
}

/** y/N on a terminal; without one, only --yes confirms. */
function confirmation(yes: boolean | undefined): (question: string) => Promise<boolean> {
  return async (question) => {
    if (yes) return true;
    if (!process.stdin.isTTY) throw new UsageError('not a terminal: nothing signed; give --yes to confirm without a prompt');
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return /^(y|yes)$/i.test((await rl.question(`${question} [y/N] `)).trim());
    } finally {
      rl.close();
    }
  };
}

async function accept(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...common, enrollment: { type: 'string' }, yes: { type: 'boolean' }, 'dev-artifacts': { type: 'boolean' } } });
  if (wantsHelp(values.help)) return 0;
  if (values.enrollment === undefined) throw new UsageError('accept needs --enrollment ID');
  const config = loadConfig(configPath(values.config));
  const siteKey = loadSiteKey(config.keyFile);
  const outcome = await acceptByHand(
    {
      config,
      gateway: gatewayFor(config, siteKey.privateKey),
      prover: new CircuitsProver({ logger: loggerFor(config), devArtifacts: values['dev-artifacts'] === true }),
      privateKey: siteKey.privateKey,
      confirm: confirmation(values.yes),
      out: (text) => process.stdout.write(text),
    },
    values.enrollment,
  );
  return outcome.signed || (outcome.reason === 'not-offered' && outcome.status !== 'cancelled' && outcome.status !== 'excluded') ? 0 : 1;
}

async function enroll(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...common }, allowPositionals: true });
  if (wantsHelp(values.help)) return 0;
  if (positionals.length !== 1) throw new UsageError('enroll needs PACKAGE (the enrollment package file the aggregator sent)');
  const configFile = configPath(values.config);
  const config = loadConfig(configFile);
  const siteKey = loadSiteKey(config.keyFile);
  const result = await enrollFromPackage({
    configFile,
    packageFile: path.resolve(positionals[0] as string),
    sealingKey: loadSealingKey(config.sealingKeyFile),
    ledger: gatewayFor(config, siteKey.privateKey),
  });
  process.stdout.write(formatEnrollResult(result));
  return 0;
}

function sealingKey(args: string[]): number {
  const { values } = parseArgs({ args, options: { ...common, out: { type: 'string' } } });
  if (wantsHelp(values.help)) return 0;
  const key = loadSealingKey(loadConfig(configPath(values.config)).sealingKeyFile);
  if (values.out === undefined) process.stdout.write(key.publicKeyPem);
  else {
    writeSealingPublicKey(key, path.resolve(values.out));
    process.stderr.write(`wrote the sealing public key to ${path.resolve(values.out)}: give it to the aggregator\n`);
  }
  process.stderr.write(`sealing key hash ${key.keyHash}: \`flexproof enrollments offer\` prints the hash it sealed to; read it out and compare\n`);
  return 0;
}

async function withdraw(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...common, amount: { type: 'string' }, yes: { type: 'boolean' } } });
  if (wantsHelp(values.help)) return 0;
  if (values.amount === undefined) throw new UsageError('withdraw needs --amount N (token base units)');
  const config = loadConfig(configPath(values.config));
  const siteKey = loadSiteKey(config.keyFile);
  const outcome = await withdrawByHand(
    { config, gateway: gatewayFor(config, siteKey.privateKey), privateKey: siteKey.privateKey, confirm: confirmation(values.yes), out: (text) => process.stdout.write(text) },
    values.amount,
  );
  return outcome.signed ? 0 : 1;
}

async function status(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...common, json: { type: 'boolean' } } });
  if (wantsHelp(values.help)) return 0;
  const config = loadConfig(configPath(values.config));
  const report = await statusReport(config);
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatStatus(report)}\n`);
  return 0;
}

async function readings(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { ...common, period: { type: 'string' }, enrollment: { type: 'string' }, json: { type: 'boolean' } } });
  if (wantsHelp(values.help)) return 0;
  if (values.period === undefined || !/^([0-9]|1[0-9]|2[0-3])$/.test(values.period)) throw new UsageError('readings needs --period P (0 to 23)');
  const periodIndex = Number(values.period);
  const config = loadConfig(configPath(values.config));
  const enrollments = values.enrollment !== undefined ? [values.enrollment] : config.enrollments.map((e) => e.enrollmentId);
  if (enrollments.length === 0) throw new UsageError('the config lists no enrollments: give --enrollment ID');
  const siteKey = loadSiteKey(config.keyFile);
  const sealingKey = loadSealingKey(config.sealingKeyFile);
  const gateway = gatewayFor(config, siteKey.privateKey);
  const opened: OwnPeriodReadings[] = [];
  const problems: { enrollmentId: string; code: string; message: string }[] = [];
  for (const enrollmentId of enrollments) {
    try {
      opened.push(await readOwnPeriod(gateway, sealingKey, { meterId: config.meterId, enrollmentId, periodIndex }));
    } catch (error) {
      if (!(error instanceof EdgeError) || (error.code !== 'SEALED_DOCUMENT_MISSING' && error.code !== 'SEALED_DOCUMENT_UNREADABLE')) throw error;
      problems.push({ enrollmentId, code: error.code, message: error.message });
    }
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ meterId: config.meterId, periodIndex, documents: opened, problems }, null, 2)}\n`);
  } else {
    if (opened.length > 0) process.stdout.write(`${opened.map(formatOwnPeriod).join('\n')}\n`);
    for (const p of problems) process.stderr.write(`flexproof-edge: ${p.message}\n`);
  }
  return problems.length === 0 ? 0 : 1;
}

async function simulate(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...common,
      enrollment: { type: 'string' },
      compliance: { type: 'string' },
      acceleration: { type: 'string' },
      'interval-ms': { type: 'string' },
      'duration-seconds': { type: 'string' },
      seed: { type: 'string' },
      'no-ev': { type: 'boolean' },
      'no-heat-pump': { type: 'boolean' },
      'solar-peak-w': { type: 'string' },
      url: { type: 'string' },
      topic: { type: 'string' },
      'initial-register': { type: 'string' },
      username: { type: 'string' },
      'password-file': { type: 'string' },
      'ca-file': { type: 'string' },
    },
  });
  if (wantsHelp(values.help)) return 0;
  const number = (v: string | undefined, name: string, fallback: number): number => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number`);
    return n;
  };
  const file = configPath(values.config);
  const config = existsSync(file) ? loadConfig(file) : undefined;
  const url = values.url ?? config?.mqtt.url;
  const topic = values.topic ?? config?.mqtt.topic;
  if (url === undefined || topic === undefined) throw new UsageError('give --url and --topic, or a --config');
  // The meter's own broker account: flags, or the config's embeddedBroker user of this meter.
  const meterUser = config?.embeddedBroker?.users.find((u) => u.meterId === config.meterId);
  const username = values.username ?? meterUser?.username;
  let password: string | undefined;
  if (values['password-file'] !== undefined) password = readSecretFile(path.resolve(values['password-file']), '--password-file');
  else if (values.username === undefined && meterUser) password = meterUser.password ?? readSecretFile(meterUser.passwordFile as string, `embeddedBroker user ${meterUser.username}`);
  if (username !== undefined && password === undefined) throw new UsageError('--username needs --password-file');
  const ca = values['ca-file'] !== undefined ? readFileSync(path.resolve(values['ca-file'])) : undefined;
  let acceleration = number(values.acceleration, 'acceleration', 1);
  let realStartMs: number | undefined;
  let follow: { requestProfileWh: number[]; compliance: number } | undefined;
  if (values.enrollment !== undefined) {
    const e = config?.enrollments.find((x) => x.enrollmentId === values.enrollment);
    if (!e) throw new UsageError(`enrollment ${values.enrollment} is not in the config`);
    acceleration = 3600 / e.periodSeconds;
    realStartMs = Date.parse(e.startTime);
    follow = { requestProfileWh: e.requestProfile.map(Number), compliance: number(values.compliance, 'compliance', 1) };
  } else if (values.compliance !== undefined) {
    throw new UsageError('--compliance needs --enrollment (the request profile to follow)');
  }
  const model = new LoadModel({
    seed: number(values.seed, 'seed', 1),
    heatPump: !values['no-heat-pump'],
    ...(values['no-ev'] ? { ev: false } : {}),
    ...(follow ? { follow } : {}),
    ...(values['solar-peak-w'] !== undefined ? { solar: { peakW: number(values['solar-peak-w'], 'solar-peak-w', 0) } } : {}),
  });
  const simulator = new MeterSimulator({
    url,
    topic,
    model,
    acceleration,
    ...(realStartMs !== undefined ? { realStartMs } : {}),
    intervalMs: number(values['interval-ms'], 'interval-ms', 1000),
    initialRegisterWh: number(values['initial-register'], 'initial-register', 1_000_000),
    ...(username !== undefined && password !== undefined ? { username, password } : {}),
    ...(ca !== undefined ? { tls: { ca } } : {}),
    onPublished: (r) =>
      process.stdout.write(`${JSON.stringify({ ts: r.ts, registerWh: r.importWh.toString(), ...(r.exportWh !== undefined ? { exportWh: r.exportWh.toString() } : {}) })}\n`),
  });
  process.stderr.write(`simulating a meter on ${topic} (acceleration ${acceleration}x${follow ? `, following ${values.enrollment} at compliance ${follow.compliance}` : ''})\n`);
  simulator.start();
  const duration = number(values['duration-seconds'], 'duration-seconds', 0);
  await new Promise<void>((resolve) => {
    if (duration > 0) setTimeout(resolve, duration * 1000);
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await simulator.stop();
  process.stderr.write(`published ${simulator.published} messages\n`);
  return 0;
}

/**
 * The ledger's key of a circuit id, read through the site's gateways in order (site-signed,
 * GET /v1/edge/verification-keys/:circuitId); undefined on 404. A gateway that is
 * unavailable is passed over for the next.
 */
function ledgerKeyLookup(config: EdgeConfig, privateKey: KeyObject): LedgerKeyLookup {
  return async (circuitId) => {
    let last: unknown;
    for (const g of config.gateways) {
      const client = new EdgeGatewayClient({
        baseUrl: g.url,
        meterId: config.meterId,
        privateKey,
        gatewayMspId: g.mspId,
        ...(config.gateways.length > 1 ? { retry: { deadlineMs: 10_000 } } : {}),
      });
      try {
        const record = await client.verificationKeyFor(circuitId);
        return { status: record.status, keyHash: record.keyHash, verificationKey: record.verificationKey };
      } catch (error) {
        if (error instanceof ClientGatewayError && error.status === 404) return undefined;
        if (!(error instanceof ClientGatewayError) || error.kind !== 'unavailable') throw error;
        last = error;
      }
    }
    throw last;
  };
}

async function artifacts(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: { ...common, circuit: { type: 'string' }, 'replace-dev-artifacts': { type: 'boolean' } },
    allowPositionals: true,
  });
  if (wantsHelp(values.help) || action === '--help') return 0;
  if (action === 'install') {
    if (positionals.length !== 1) throw new UsageError('artifacts install needs BUNDLE (the directory `ceremony publish` wrote)');
    const config = loadConfig(configPath(values.config));
    const siteKey = loadSiteKey(config.keyFile);
    const result = await installBundle({
      bundleDir: path.resolve(positionals[0] as string),
      ...(values.circuit !== undefined ? { circuitId: values.circuit } : {}),
      lookup: ledgerKeyLookup(config, siteKey.privateKey),
      configuredCircuitIds: config.enrollments.map((e) => e.circuitId),
      replaceDevArtifacts: values['replace-dev-artifacts'] === true,
    });
    process.stdout.write(formatInstallResult(result));
    return 0;
  }
  if (action === 'show') {
    if (positionals.length > 0 || values.circuit !== undefined || values['replace-dev-artifacts'] !== undefined) throw new UsageError('artifacts show takes no BUNDLE, --circuit or --replace-dev-artifacts');
    // The config is optional here: what is installed can be shown before a site has one.
    const file = configPath(values.config);
    const enrollments = existsSync(file) ? loadConfig(file).enrollments : [];
    process.stdout.write(formatInstalled(await installedArtifacts(), enrollments));
    return 0;
  }
  throw new UsageError(`artifacts ${action ?? ''}: which action? (install BUNDLE, show)`);
}

/** The process entry (bin/flexproof-edge.js, or `node dist/cli.js`): main, then its exit code. */
export function runCli(argv: string[]): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`flexproof-edge: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

if (require.main === module) runCli(process.argv.slice(2));
