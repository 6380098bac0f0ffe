/**
 * The durable log of accepted meter readings: an append-only JSON-lines file, one
 * reading per line ({"ts":…,"registerWh":"…"}). `accept` validates the order against the
 * last accepted reading, appends, fsyncs, and only then resolves, so the MQTT client
 * acknowledges a message (QoS 1 PUBACK) only once it is on disk. Appends arriving during
 * an fsync are written together by the next one (group commit).
 *
 * After kill -9 or a power cut the last line may be torn: opening the log drops an
 * unterminated or unparsable last line (it was never acknowledged, the broker redelivers
 * it) and truncates the file back to the last complete line.
 */
import { promises as fsp } from 'node:fs';
import { EdgeError } from './errors';
import { checkOrder, type MeterReading, type OrderRules, type ParsedMessage } from './meter-message';
import type { Logger } from './log';
import { silentLogger } from './log';

interface PendingAppend {
  line: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class ReadingLog {
  readonly #file: string;
  readonly #handle: fsp.FileHandle;
  readonly #readings: MeterReading[];
  readonly #logger: Logger;
  readonly #rules: OrderRules;
  #queue: PendingAppend[] = [];
  #flushing: Promise<void> | undefined;
  #closed = false;

  private constructor(file: string, handle: fsp.FileHandle, readings: MeterReading[], logger: Logger, rules: OrderRules) {
    this.#file = file;
    this.#rules = rules;
    this.#handle = handle;
    this.#readings = readings;
    this.#logger = logger;
  }

  /**
   * Opens (or creates) the log, repairing a torn last line. `rules` bound every new
   * reading (rated power); readings already stored are not judged again.
   */
  static async open(file: string, logger: Logger = silentLogger, rules: OrderRules = {}): Promise<ReadingLog> {
    let text = '';
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const readings: MeterReading[] = [];
    let goodBytes = 0;
    let offset = 0;
    const lines = text.split('\n');
    lines.forEach((line, index) => {
      const isLast = index === lines.length - 1;
      const terminated = !isLast;
      const bytes = Buffer.byteLength(line) + (terminated ? 1 : 0);
      if (line === '') {
        offset += bytes;
        if (terminated) goodBytes = offset;
        return;
      }
      const reading = terminated ? parseLine(line) : undefined;
      if (reading === undefined) {
        if (terminated && index < lines.length - 2) {
          throw new EdgeError('STORE_CORRUPT', `reading log ${file}: line ${index + 1} is not a reading`, { details: { file, line: index + 1 } });
        }
        logger.warn('reading-log.torn-line-dropped', { file, line: index + 1 });
        offset += bytes;
        return;
      }
      const previous = readings[readings.length - 1];
      if (previous !== undefined && reading.ts <= previous.ts) {
        throw new EdgeError('STORE_CORRUPT', `reading log ${file}: line ${index + 1} is out of order`, { details: { file, line: index + 1 } });
      }
      readings.push(reading);
      offset += bytes;
      goodBytes = offset;
    });
    if (goodBytes < Buffer.byteLength(text)) {
      await fsp.truncate(file, goodBytes);
    }
    const handle = await fsp.open(file, 'a', 0o600);
    return new ReadingLog(file, handle, readings, logger, rules);
  }

  get file(): string {
    return this.#file;
  }

  /** Accepted readings, oldest first. Do not modify. */
  get readings(): readonly MeterReading[] {
    return this.#readings;
  }

  get last(): MeterReading | undefined {
    return this.#readings[this.#readings.length - 1];
  }

  /**
   * Checks the reading against the last accepted one; if it passes, makes it durable.
   * Resolves with the check's outcome once the reading is on disk (or refused).
   */
  async accept(reading: MeterReading): Promise<ParsedMessage> {
    if (this.#closed) throw new EdgeError('STORE_CORRUPT', 'reading log is closed');
    const checked = checkOrder(this.last, reading, this.#rules);
    if (!checked.ok) return checked;
    // In memory at once, so the next message is checked against it; durable before resolving.
    this.#readings.push(reading);
    await new Promise<void>((resolve, reject) => {
      this.#queue.push({ line: `${JSON.stringify({ ts: reading.ts, registerWh: reading.registerWh.toString() })}\n`, resolve, reject });
      void this.#flush();
    });
    return checked;
  }

  /** Readings with from <= ts < to (binary search). */
  between(fromMs: number, toMs: number): MeterReading[] {
    return this.#readings.slice(lowerBound(this.#readings, fromMs), lowerBound(this.#readings, toMs));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Waits for the write in flight (and anything queued behind it) before the handle closes.
    while (this.#flushing !== undefined || this.#queue.length > 0) await this.#flush();
    await this.#handle.close();
  }

  /** Writes what is queued; while a write is in flight, returns that write, so callers can wait for it. */
  #flush(): Promise<void> {
    this.#flushing ??= this.#writeQueued().finally(() => {
      this.#flushing = undefined;
      // A reading queued after the loop's last look is written by a flush of its own.
      if (this.#queue.length > 0) void this.#flush();
    });
    return this.#flushing;
  }

  async #writeQueued(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue;
      this.#queue = [];
      try {
        await this.#handle.write(batch.map((p) => p.line).join(''));
        await this.#handle.sync();
        batch.forEach((p) => p.resolve());
      } catch (error) {
        this.#logger.error('reading-log.write-failed', { file: this.#file, error });
        batch.forEach((p) => p.reject(error));
      }
    }
  }
}

function parseLine(line: string): MeterReading | undefined {
  try {
    const value = JSON.parse(line) as { ts?: unknown; registerWh?: unknown };
    if (typeof value.ts !== 'number' || !Number.isSafeInteger(value.ts)) return undefined;
    if (typeof value.registerWh !== 'string' || !/^(0|[1-9][0-9]*)$/.test(value.registerWh)) return undefined;
    return { ts: value.ts, registerWh: BigInt(value.registerWh) };
  } catch {
    return undefined;
  }
}

function lowerBound(readings: readonly MeterReading[], ts: number): number {
  let lo = 0;
  let hi = readings.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((readings[mid] as MeterReading).ts < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
