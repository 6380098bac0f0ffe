/**
 * The MQTT side of ingestion (MQTT.js, protocol 3.1.1 or 5 against any broker). A
 * persistent session (clean: false, fixed client id) and QoS 1 make the broker keep the
 * meter's messages while the client is down or restarting; each message is
 * acknowledged (PUBACK) only after `onMessage` resolved, i.e. after the reading is on
 * disk or was dropped as invalid. MQTT.js hands messages over one at a time and
 * reconnects by itself after a broker restart.
 */
import { readFileSync } from 'node:fs';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { MqttTlsConfig } from './config';
import { EdgeError } from './errors';
import type { Logger } from './log';

/** TLS options of an MQTT connection (mqtts:// or wss://), as MQTT.js takes them. */
export interface MqttTlsOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Default true: a broker certificate that does not verify is refused. */
  rejectUnauthorized?: boolean;
}

/** Reads the PEM files a config names. */
export function mqttTlsOptions(tls: MqttTlsConfig | undefined): MqttTlsOptions | undefined {
  if (tls === undefined) return undefined;
  const read = (file: string | undefined, field: string): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (cause) {
      throw new EdgeError('CONFIG_INVALID', `mqtt.tls.${field}: cannot read ${file}`, { cause, details: { file } });
    }
  };
  const ca = read(tls.caFile, 'caFile');
  const cert = read(tls.certFile, 'certFile');
  const key = read(tls.keyFile, 'keyFile');
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), rejectUnauthorized: tls.rejectUnauthorized };
}

/** The credential and TLS part of MQTT.js client options. */
export function mqttAuthOptions(options: { username?: string; password?: string; tls?: MqttTlsOptions }): Partial<IClientOptions> {
  return {
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.tls?.ca !== undefined ? { ca: options.tls.ca } : {}),
    ...(options.tls?.cert !== undefined ? { cert: options.tls.cert } : {}),
    ...(options.tls?.key !== undefined ? { key: options.tls.key } : {}),
    ...(options.tls?.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.tls.rejectUnauthorized } : {}),
  };
}

export interface MeterSubscriptionOptions {
  url: string;
  topic: string;
  clientId: string;
  username?: string;
  password?: string;
  tls?: MqttTlsOptions;
  protocolVersion?: 4 | 5;
  reconnectPeriodMs?: number;
  onMessage: (payload: Buffer, topic: string) => Promise<unknown>;
  /** A message that could not be made durable: the process must not ack it (it stops instead). */
  onFatal: (error: unknown) => void;
  logger: Logger;
  /** What to do when nothing answers at `url` (logged once per outage with the error; default: start a broker there). */
  unreachableHint?: string;
}

/**
 * Where meter messages come from: this MQTT subscription, or a P1 port read directly
 * (adapters/p1-source.ts, for meterFormat dsmr-p1 with `p1` set). Both hand each message
 * to the node's ingest one at a time and stop the same way.
 */
export interface MeterSource {
  readonly connected: boolean;
  stop(): Promise<void>;
}

/** Errors that mean no broker answers at the address (as opposed to a broker that refuses us). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN']);

export class MeterSubscription implements MeterSource {
  readonly #client: MqttClient;
  readonly #options: MeterSubscriptionOptions;

  private constructor(client: MqttClient, options: MeterSubscriptionOptions) {
    this.#client = client;
    this.#options = options;
  }

  /** Connects and subscribes; resolves on the first subscription (the broker may still be down: it keeps retrying). */
  static start(options: MeterSubscriptionOptions): MeterSubscription {
    const clientOptions: IClientOptions = {
      clientId: options.clientId,
      clean: false,
      protocolVersion: options.protocolVersion ?? 4,
      reconnectPeriod: options.reconnectPeriodMs ?? 1000,
      connectTimeout: 10_000,
      keepalive: 30,
      // Subscribed on every connect (below), so no second copy from MQTT.js.
      resubscribe: false,
      ...(options.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 7 * 24 * 3600 } } : {}),
      ...mqttAuthOptions(options),
    };
    const client = connect(options.url, clientOptions);
    const subscription = new MeterSubscription(client, options);
    subscription.#wire();
    return subscription;
  }

  get connected(): boolean {
    return this.#client.connected;
  }

  #wire(): void {
    const { logger, topic } = this.#options;
    const client = this.#client;
    // Called one message at a time; the PUBACK of a QoS 1 message is sent after `done`.
    client.handleMessage = (packet, done) => {
      this.#options.onMessage(Buffer.from(packet.payload), packet.topic).then(
        () => done(),
        (error: unknown) => {
          logger.error('mqtt.message-not-durable', { error });
          this.#options.onFatal(error);
        },
      );
    };
    // An unreachable broker is retried every second; say so once, with what to do, instead
    // of the same error every second (the repeats go to debug).
    let unreachableLogged = false;
    client.on('connect', (connack) => {
      unreachableLogged = false;
      logger.info('mqtt.connected', { url: redactUrl(this.#options.url), sessionPresent: connack.sessionPresent });
      // Subscribing again is harmless with a kept session and needed without one (a broker
      // restarted without persistence, or a changed topic).
      client.subscribe(topic, { qos: 1 }, (error) => {
        if (error) logger.error('mqtt.subscribe-failed', { topic, error });
        else logger.info('mqtt.subscribed', { topic });
      });
    });
    client.on('reconnect', () => logger.debug('mqtt.reconnecting', { url: redactUrl(this.#options.url) }));
    client.on('offline', () => logger.warn('mqtt.offline', { url: redactUrl(this.#options.url) }));
    client.on('error', (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === undefined || !UNREACHABLE.has(code)) {
        logger.warn('mqtt.error', { error });
        return;
      }
      if (unreachableLogged) {
        logger.debug('mqtt.broker-unreachable', { url: redactUrl(this.#options.url), code });
        return;
      }
      unreachableLogged = true;
      const url = redactUrl(this.#options.url);
      const hint = this.#options.unreachableHint ?? 'start an MQTT broker there, or set mqtt.url to the one the meter publishes to';
      logger.error('mqtt.broker-unreachable', {
        url,
        code,
        message: `no MQTT broker at ${url} (${code}): ${hint}; retrying every ${(this.#options.reconnectPeriodMs ?? 1000) / 1000} s`,
      });
    });
  }

  async stop(): Promise<void> {
    await this.#client.endAsync(false);
  }
}

/** A broker URL without credentials, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '***';
      u.password = '';
    }
    return u.toString();
  } catch {
    return '(unparsable url)';
  }
}
