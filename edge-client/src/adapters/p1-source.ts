/**
 * The byte stream of a P1 port: a serial device (the meter's P1 port through a USB
 * cable; DSMR 5 is 115200 baud 8N1, using the `serialport` library) or a TCP stream (the
 * P1-to-network dongles that serve the raw port on a TCP port, often 23 or 8088). The
 * stream is cut into telegrams (TelegramFramer) and each is handed to `onTelegram` in
 * order, one at a time, as MQTT messages are: the next waits until the previous one is
 * on disk or refused. The source reconnects by itself after the device or the dongle
 * goes away; a P1 port has no flow control and no acknowledgement, so telegrams that
 * arrive while it is away are simply not read (the registers are cumulative: no energy
 * is lost, it is counted with the next telegram).
 *
 * `serialport` is loaded only when a serial device is configured, so a site that reads
 * a dongle over TCP runs even where the library's native binding does not load.
 */
import * as net from 'node:net';
import type { P1Config } from '../config';
import type { Logger } from '../log';
import { TelegramFramer } from './dsmr-p1';

/** What the source needs of a serial port (serialport's SerialPort and SerialPortMock have it). */
export interface SerialPortLike {
  open(callback: (error: Error | null) => void): void;
  close(callback?: (error: Error | null) => void): void;
  readonly isOpen: boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'close' | 'error', listener: (error?: Error | null) => void): this;
  removeAllListeners(): this;
}

export type SerialPortFactory = (options: { path: string; baudRate: number }) => SerialPortLike;

export interface P1SourceOptions {
  p1: P1Config;
  onTelegram: (telegram: Buffer) => Promise<unknown>;
  /** A telegram that could not be made durable (disk): the process stops instead of going on. */
  onFatal: (error: unknown) => void;
  logger: Logger;
  /** Wait before reopening the port or reconnecting (default 5 s). */
  reconnectMs?: number;
  /** The serial port to open (tests: serialport's SerialPortMock); default serialport's SerialPort. */
  serialPort?: SerialPortFactory;
}

/** Telegrams waiting for the one being stored; a DSMR 5 meter sends one a second, so this is minutes of backlog. */
export const MAX_QUEUED_TELEGRAMS = 256;

export class P1Source {
  readonly #options: P1SourceOptions;
  readonly #framer = new TelegramFramer();
  readonly #queue: Buffer[] = [];
  #draining: Promise<void> | undefined;
  #stopped = false;
  #connected = false;
  #socket: net.Socket | undefined;
  #serial: SerialPortLike | undefined;
  #timer: NodeJS.Timeout | undefined;
  #downLogged = false;
  #dropped = 0;

  private constructor(options: P1SourceOptions) {
    this.#options = options;
  }

  static start(options: P1SourceOptions): P1Source {
    const source = new P1Source(options);
    source.#connect();
    return source;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Telegrams dropped because the store fell behind (queue full). */
  get droppedTelegrams(): number {
    return this.#dropped;
  }

  /** Where the telegrams come from, for logs. */
  get description(): string {
    const { p1 } = this.#options;
    return p1.serialPath !== undefined ? `serial ${p1.serialPath} at ${p1.baudRate} baud` : `tcp ${p1.host}:${p1.port}`;
  }

  #connect(): void {
    if (this.#stopped) return;
    if (this.#options.p1.serialPath !== undefined) this.#openSerial(this.#options.p1.serialPath);
    else this.#openTcp();
  }

  #openTcp(): void {
    const { host, port } = this.#options.p1;
    const socket = net.createConnection({ host: host as string, port: port as number });
    this.#socket = socket;
    socket.setKeepAlive(true, 30_000);
    socket.on('connect', () => this.#up());
    socket.on('data', (chunk) => this.#receive(chunk));
    socket.on('error', (error) => this.#down(error));
    socket.on('close', () => this.#down(undefined));
  }

  #openSerial(path: string): void {
    let factory = this.#options.serialPort;
    if (factory === undefined) {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on use: see the file comment
        const { SerialPort } = require('serialport') as typeof import('serialport');
        factory = (o) => new SerialPort({ path: o.path, baudRate: o.baudRate, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false });
      } catch (error) {
        this.#options.logger.error('p1.serialport-unavailable', { error, message: 'the serialport library does not load here: read the P1 port through a TCP dongle (p1.host, p1.port)' });
        this.#options.onFatal(error);
        return;
      }
    }
    const port = factory({ path, baudRate: this.#options.p1.baudRate });
    this.#serial = port;
    port.on('data', (chunk) => this.#receive(chunk));
    port.on('error', (error) => this.#down(error ?? undefined));
    port.on('close', () => this.#down(undefined));
    port.open((error) => (error ? this.#down(error) : this.#up()));
  }

  #up(): void {
    this.#connected = true;
    this.#downLogged = false;
    this.#options.logger.info('p1.connected', { source: this.description });
  }

  #down(error: Error | undefined): void {
    const wasConnected = this.#connected;
    this.#connected = false;
    if (this.#stopped || this.#timer !== undefined) return;
    const reconnectMs = this.#options.reconnectMs ?? 5000;
    // Once per outage at warn, the retries at debug (as the MQTT side does).
    const event = wasConnected ? 'p1.disconnected' : 'p1.unreachable';
    if (!this.#downLogged) this.#options.logger.warn(event, { source: this.description, ...(error ? { error } : {}), retryInMs: reconnectMs });
    else this.#options.logger.debug(event, { source: this.description, ...(error ? { code: (error as NodeJS.ErrnoException).code } : {}) });
    this.#downLogged = true;
    this.#release();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#connect();
    }, reconnectMs);
  }

  #release(): void {
    this.#socket?.removeAllListeners();
    this.#socket?.on('error', () => undefined);
    this.#socket?.destroy();
    this.#socket = undefined;
    const serial = this.#serial;
    this.#serial = undefined;
    if (serial !== undefined) {
      serial.removeAllListeners();
      serial.on('error', () => undefined);
      if (serial.isOpen) serial.close(() => undefined);
    }
  }

  #receive(chunk: Buffer): void {
    for (const telegram of this.#framer.push(chunk)) {
      if (this.#queue.length >= MAX_QUEUED_TELEGRAMS) {
        this.#dropped++;
        if (this.#dropped === 1 || this.#dropped % 100 === 0) this.#options.logger.warn('p1.telegram-dropped', { reason: 'the store is behind', dropped: this.#dropped });
        continue;
      }
      this.#queue.push(telegram);
    }
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = undefined;
    });
  }

  async #drain(): Promise<void> {
    for (let telegram = this.#queue.shift(); telegram !== undefined && !this.#stopped; telegram = this.#queue.shift()) {
      try {
        await this.#options.onTelegram(telegram);
      } catch (error) {
        this.#options.logger.error('p1.telegram-not-durable', { error });
        this.#stopped = true;
        this.#options.onFatal(error);
        return;
      }
    }
  }

  /** Closes the port or connection; waits for the telegram being stored. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#release();
    this.#connected = false;
    await this.#draining;
  }
}
