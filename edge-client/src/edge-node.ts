/**
 * The edge node: the durable reading log, the state file and one pipeline per
 * configured enrollment, driven by one scheduler loop. Meter messages come in through
 * `ingest` (the MQTT adapter calls it and acknowledges only after it resolves).
 * One node per data directory: a lock file with the pid refuses a second one.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { EdgeConfig } from './config';
import { ensurePrivateDir } from './durable-file';
import { EdgeStateFile } from './edge-state';
import { EnrollmentPipeline } from './enrollment-pipeline';
import { EdgeError } from './errors';
import type { GatewayPort } from './gateway-port';
import type { Logger } from './log';
import { meterDecoder, type MeterDecoder } from './adapters';
import type { ParsedMessage, RejectReason } from './meter-message';
import type { ProverPort } from './prover';
import { ReadingLog } from './reading-log';
import { ensureSealingKey, type SealingKey } from './sealing-key';
import type { SiteKey } from './site-key';

export const READINGS_FILE = 'readings.jsonl';
export const STATE_FILE = 'state.json';
export const LOCK_FILE = 'edge.lock';

export interface EdgeNodeOptions {
  config: EdgeConfig;
  siteKey: SiteKey;
  /** The sealing key; default: loaded from config.sealingKeyFile, created there (and logged) when missing. */
  sealingKey?: SealingKey;
  gateway: GatewayPort;
  prover: ProverPort;
  logger: Logger;
  /** Longest sleep of the scheduler loop (ms). */
  maxTickMs?: number;
  now?: () => number;
}

export class EdgeNode {
  readonly #options: EdgeNodeOptions;
  readonly #readings: ReadingLog;
  readonly #state: EdgeStateFile;
  readonly #pipelines: EnrollmentPipeline[];
  readonly #lockFile: string;
  /** What the meter speaks (config.meterFormat): our JSON, a DSMR P1 telegram, Tasmota SML or Shelly JSON. */
  readonly #decoder: MeterDecoder;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  readonly #counters = { accepted: 0, dropped: 0 };
  readonly #droppedByReason: Partial<Record<RejectReason, number>> = {};

  private constructor(options: EdgeNodeOptions, sealingKey: SealingKey, readings: ReadingLog, state: EdgeStateFile, lockFile: string) {
    this.#options = options;
    this.#readings = readings;
    this.#state = state;
    this.#lockFile = lockFile;
    this.#decoder = meterDecoder(options.config);
    const { config } = options;
    if (config.tamper) {
      options.logger.error('TAMPER.switch-on', {
        periodIndex: config.tamper.periodIndex,
        enrollmentId: config.tamper.enrollmentId ?? '(every enrollment)',
        warning: 'DEMONSTRATION ONLY: a deliberately corrupted proof will be signed; the ledger will exclude this site',
      });
    }
    this.#pipelines = config.enrollments.map(
      (e) =>
        new EnrollmentPipeline(e, {
          meterId: config.meterId,
          prosumerId: config.prosumerId,
          siteSecret: config.siteSecret,
          privateKey: options.siteKey.privateKey,
          sealingKey,
          ...(config.auditors !== undefined ? { auditors: config.auditors } : {}),
          closeDelayMs: Math.round(config.closeDelaySeconds * 1000),
          retry: config.retry,
          autoAccept: config.autoAccept,
          ledger: config.ledger,
          ...(config.tamper && (config.tamper.enrollmentId === undefined || config.tamper.enrollmentId === e.enrollmentId)
            ? { tamperPeriod: config.tamper.periodIndex }
            : {}),
          state,
          readings,
          gateway: options.gateway,
          prover: options.prover,
          logger: options.logger,
          clock: () => this.#now(),
        }),
    );
  }

  /** Opens the stores (repairing a torn last reading) and takes the data directory's lock. */
  static async open(options: EdgeNodeOptions): Promise<EdgeNode> {
    const { dataDir, meterId } = options.config;
    await ensurePrivateDir(dataDir);
    const lockFile = path.join(dataDir, LOCK_FILE);
    await takeLock(lockFile);
    try {
      const sealingKey = options.sealingKey ?? ensureSealingKey(options.config.sealingKeyFile, options.logger);
      const readings = await ReadingLog.open(path.join(dataDir, READINGS_FILE), options.logger, { ratedPowerW: options.config.ratedPowerW });
      const state = await EdgeStateFile.open(path.join(dataDir, STATE_FILE), meterId);
      options.logger.info('node.opened', {
        dataDir,
        readings: readings.readings.length,
        enrollments: options.config.enrollments.length,
        sealingKeyHash: sealingKey.keyHash,
        auditors: options.config.auditors ?? 'every active auditor key on the ledger',
      });
      return new EdgeNode(options, sealingKey, readings, state, lockFile);
    } catch (error) {
      await fsp.rm(lockFile, { force: true });
      throw error;
    }
  }

  get readings(): ReadingLog {
    return this.#readings;
  }

  get state(): EdgeStateFile {
    return this.#state;
  }

  get counters(): Readonly<{ accepted: number; dropped: number }> {
    return this.#counters;
  }

  /** Dropped messages by reason, since start. */
  get droppedByReason(): Readonly<Partial<Record<RejectReason, number>>> {
    return this.#droppedByReason;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  /**
   * One meter message (an MQTT payload, or a telegram cut from the P1 stream), decoded
   * by the config's meterFormat, validated, then made durable. Resolves once the reading
   * is on disk or dropped; a dropped message is logged with its reason, counted (per
   * reason, in the reading log's reject counts that `status` shows) and never throws.
   */
  async ingest(message: Uint8Array | string): Promise<ParsedMessage> {
    const parsed = this.#decoder.decode(message, { now: this.#now(), maxClockSkewMs: this.#options.config.maxClockSkewSeconds * 1000 });
    const outcome = parsed.ok ? await this.#readings.accept(parsed.reading) : parsed;
    if (outcome.ok) {
      this.#counters.accepted++;
      this.#options.logger.debug('reading.accepted', { ts: outcome.reading.ts });
    } else {
      this.#counters.dropped++;
      this.#droppedByReason[outcome.reason] = (this.#droppedByReason[outcome.reason] ?? 0) + 1;
      this.#readings.countRejected(outcome.reason);
      const ts = parsed.ok ? parsed.reading.ts : undefined;
      this.#options.logger.warn('reading.dropped', {
        reason: outcome.reason,
        meterFormat: this.#decoder.format,
        detail: outcome.detail,
        droppedForThisReason: this.#droppedByReason[outcome.reason],
        ...(ts !== undefined ? { ts } : {}),
      });
    }
    return outcome;
  }

  /** Starts the scheduler loop. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Runs one round of every pipeline now (tests, and `run` at start-up). */
  async stepOnce(): Promise<void> {
    for (const pipeline of this.#pipelines) await pipeline.step(this.#now());
  }

  async #run(): Promise<void> {
    const maxTick = this.#options.maxTickMs ?? 1000;
    while (this.#running) {
      try {
        await this.stepOnce();
      } catch (error) {
        // Only a local fault (disk) gets here: log it and keep going; the state is unchanged.
        this.#options.logger.error('node.step-failed', { error });
      }
      if (!this.#running) break;
      const now = this.#now();
      const wake = Math.min(now + maxTick, ...this.#pipelines.map((p) => p.nextWakeMs(now)));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(10, wake - now));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  /** Stops the loop (waits for the current step), flushes and closes the stores, releases the lock. */
  async close(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    await this.#readings.close();
    await fsp.rm(this.#lockFile, { force: true });
    this.#options.logger.info('node.closed', { accepted: this.#counters.accepted, dropped: this.#counters.dropped, droppedByReason: this.#droppedByReason });
  }
}

async function takeLock(lockFile: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await fsp.open(lockFile, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number((await fsp.readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new EdgeError('STORE_LOCKED', `another edge client (pid ${pid}) uses this data directory`, { details: { lockFile, pid } });
      }
      // Stale lock of a process that died (kill -9): take it over.
      await fsp.rm(lockFile, { force: true });
    }
  }
  throw new EdgeError('STORE_LOCKED', `cannot take the lock ${lockFile}`, { details: { lockFile } });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
