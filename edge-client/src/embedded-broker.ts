/**
 * An MQTT broker inside the edge process (aedes), for a single box where the meter
 * adapter publishes to the same machine. In-memory sessions: messages published while
 * the edge process is down are not kept (use a real broker such as Mosquitto for that).
 *
 * Only known accounts connect (threat T10): each has a username and a password, compared
 * in constant time, and may publish on its one topic (a meter) and subscribe to its own
 * topics (an edge client); anything else is refused. With `tls` the broker speaks MQTT
 * over TLS only (mqtts://).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AedesOptions } from 'aedes';
import type { EdgeConfig } from './config';
import { EdgeError } from './errors';
import type { Logger } from './log';

export interface BrokerAccount {
  username: string;
  password: string;
  /** The one topic this account may publish on (a meter). */
  publishTopic?: string;
  /** The topics (exact, no wildcards) this account may subscribe to (an edge client). */
  subscribeTopics?: string[];
}

export interface EmbeddedBrokerOptions {
  port: number;
  host?: string;
  logger: Logger;
  /** Who may connect; nobody else can. */
  accounts: BrokerAccount[];
  /** PEM key and certificate: MQTT over TLS instead of plain TCP. */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface EmbeddedBroker {
  port: number;
  url: string;
  close(): Promise<void>;
}

const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

interface Account {
  username: string;
  digest: Buffer;
  publishTopic: string | undefined;
  subscribeTopics: ReadonlySet<string>;
}

/** sha256 first, so timingSafeEqual compares equal lengths whatever the password lengths. */
function digest(password: string | Buffer): Buffer {
  return createHash('sha256').update(password).digest();
}

/** The account a username and password authenticate, or undefined; takes the same time for an unknown user. */
export function authenticateAccount(accounts: ReadonlyMap<string, Account>, username: string | undefined, password: Buffer | undefined): Account | undefined {
  const account = username === undefined ? undefined : accounts.get(username);
  const given = digest(password ?? Buffer.alloc(0));
  const expected = account?.digest ?? digest(randomBytes(32));
  const equal = timingSafeEqual(given, expected);
  return equal && account !== undefined && password !== undefined ? account : undefined;
}

function authError(message: string, returnCode: number): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode });
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const { logger } = options;
  const accounts = new Map<string, Account>();
  for (const a of options.accounts) {
    if (accounts.has(a.username)) throw new EdgeError('CONFIG_INVALID', `broker account ${a.username} appears twice`, { details: { username: a.username } });
    accounts.set(a.username, {
      username: a.username,
      digest: digest(a.password),
      publishTopic: a.publishTopic,
      subscribeTopics: new Set(a.subscribeTopics ?? []),
    });
  }
  const userOf = (client: unknown): Account | undefined => (client as { flexproofAccount?: Account } | null)?.flexproofAccount;
  const handlers: AedesOptions = {
    authenticate: (client, username, password, done) => {
      const account = authenticateAccount(accounts, username, password);
      if (!account) {
        // The username is not a secret; the password never reaches a log.
        logger.warn('broker.connection-refused', { clientId: client.id, username: username ?? '(none)', reason: 'bad username or password' });
        done(authError('bad username or password', BAD_USERNAME_OR_PASSWORD) as Parameters<typeof done>[0], false);
        return;
      }
      (client as unknown as { flexproofAccount: Account }).flexproofAccount = account;
      done(null, true);
    },
    authorizePublish: (client, packet, done) => {
      // client null: the broker's own messages ($SYS), not from the network.
      if (client === null) return done(null);
      const account = userOf(client);
      if (account?.publishTopic === undefined || packet.topic !== account.publishTopic) {
        logger.warn('broker.publish-refused', { clientId: client.id, username: account?.username, topic: packet.topic, reason: 'not this account\'s meter topic' });
        return done(authError(`not allowed to publish on ${packet.topic}`, NOT_AUTHORIZED));
      }
      done(null);
    },
    authorizeSubscribe: (client, subscription, done) => {
      const account = userOf(client);
      if (!account?.subscribeTopics.has(subscription.topic)) {
        logger.warn('broker.subscribe-refused', { clientId: client.id, username: account?.username, topic: subscription.topic });
        // A null subscription is a SUBACK failure (0x80) for this filter, not a disconnect.
        return done(null, null);
      }
      done(null, subscription);
    },
  };
  const broker = await Aedes.createBroker(handlers);
  const server: Server = options.tls
    ? createTlsServer({ key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2' }, broker.handle)
    : createServer(broker.handle);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (cause) {
    // Close the broker too: its timers would keep the process alive doing nothing.
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw listenError(cause, host, options.port);
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  logger.info('broker.started', { host, port, kind: 'embedded aedes', tls: options.tls !== undefined, accounts: accounts.size });
  return {
    port,
    url: `${options.tls ? 'mqtts' : 'mqtt'}://${host}:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The port cannot be had: say which setting to change, not a stack trace. */
function listenError(cause: unknown, host: string, port: number): Error {
  const code = (cause as NodeJS.ErrnoException).code;
  const change = 'set embeddedBrokerPort in the config (or FLEXPROOF_EDGE_EMBEDDED_BROKER_PORT) to a free port, and mqtt.url to the same port';
  if (code === 'EADDRINUSE') {
    return new EdgeError('BROKER_PORT_UNAVAILABLE', `the embedded MQTT broker cannot listen on ${host}:${port}: the port is in use (another MQTT broker such as Mosquitto, or another flexproof-edge?): ${change}; or, to use the broker already there, remove embeddedBrokerPort and embeddedBroker and point mqtt.url at it`, { cause, details: { host, port, code } });
  }
  if (code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    return new EdgeError('BROKER_PORT_UNAVAILABLE', `the embedded MQTT broker cannot listen on ${host}:${port} (${code}: ${code === 'EACCES' ? 'a port below 1024 needs privileges' : 'not an address of this machine: check embeddedBrokerHost'}): ${change}`, { cause, details: { host, port, code } });
  }
  return cause instanceof Error ? cause : new Error(String(cause));
}

/** A secret file: refused when group or others may read it (like the site key). Trailing newlines are not part of it. */
export function readSecretFile(file: string, what: string): string {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    throw new EdgeError('CONFIG_INVALID', `${what}: file ${file} does not exist`, { details: { file } });
  }
  if ((mode & 0o077) !== 0) {
    throw new EdgeError('CONFIG_INVALID', `${what}: file ${file} is readable by others (mode ${(mode & 0o777).toString(8)}): chmod 600 it`, { details: { file } });
  }
  return readFileSync(file, 'utf8').replace(/\r?\n+$/, '');
}

/**
 * The accounts of the site's embedded broker: the configured meters (publishers) and the
 * edge's own client (subscriber to the site's topic), with mqtt.username/password when
 * set, otherwise with credentials made up for this process. Returns the subscriber's
 * credentials too, for the edge's MQTT client.
 */
export function siteBrokerAccounts(config: EdgeConfig): { accounts: BrokerAccount[]; subscriber: { username: string; password: string } } {
  const users = config.embeddedBroker?.users ?? [];
  const accounts: BrokerAccount[] = users.map((u) => {
    const password = u.password ?? readSecretFile(u.passwordFile as string, `embeddedBroker user ${u.username}`);
    if (password.length < 16) throw new EdgeError('CONFIG_INVALID', `embeddedBroker user ${u.username}: the password must have at least 16 characters`, { details: { username: u.username } });
    return { username: u.username, password, publishTopic: u.topic };
  });
  const configured = mqttPassword(config);
  const subscriber =
    config.mqtt.username !== undefined && configured !== undefined
      ? { username: config.mqtt.username, password: configured }
      : { username: `flexproof-edge-${randomBytes(6).toString('hex')}`, password: randomBytes(24).toString('hex') };
  if (accounts.some((a) => a.username === subscriber.username)) {
    throw new EdgeError('CONFIG_INVALID', `mqtt.username ${subscriber.username} is also a meter user of the embedded broker`, { details: { username: subscriber.username } });
  }
  accounts.push({ ...subscriber, subscribeTopics: [config.mqtt.topic] });
  return { accounts, subscriber };
}

/** The edge client's MQTT password: mqtt.password, or the content of mqtt.passwordFile. */
export function mqttPassword(config: EdgeConfig): string | undefined {
  if (config.mqtt.password !== undefined) return config.mqtt.password;
  if (config.mqtt.passwordFile !== undefined) return readSecretFile(config.mqtt.passwordFile, 'mqtt.passwordFile');
  return undefined;
}
