/**
 * The durable log of accepted meter readings: an append-only JSON-lines file, one
 * reading per line: {"ts":…,"registerWh":"…"} for a meter with an import register only,
 * {"ts":…,"registerWh":"…","exportWh":"…"} for one with an export register too. The
 * import register keeps the line's first-version name `registerWh`, so logs written
 * before export registers existed read unchanged (a line without exportWh: no export
 * register, export energy 0), and an older edge client can still read a newer log.
 * `accept` validates the order against the
 * last accepted reading, appends, fsyncs, and only then resolves, so the MQTT client
 * acknowledges a message (QoS 1 PUBACK) only once it is on disk. Appends arriving during
 * an fsync are written together by the next one (group commit).
 *
 * After kill -9 or a power cut the last line may be torn: opening the log drops an
 * unterminated or unparsable last line (it was never acknowledged, the broker redelivers
 * it) and truncates the file back to the last complete line.
 */
import { promises as fsp } from 'node:fs';
import { writeFileAtomic } from './durable-file';
import { EdgeError } from './errors';
import { checkOrder, isRejectReason, type MeterReading, type OrderRules, type ParsedMessage, type RejectReason } from './meter-message';
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
  readonly #rejected: RejectCounts;
  #rejectedDirty = false;
  #rejectedTimer: NodeJS.Timeout | undefined;
  #rejectedWrite: Promise<void> | undefined;
  #queue: PendingAppend[] = [];
  #flushing: Promise<void> | undefined;
  #closed = false;

  private constructor(file: string, handle: fsp.FileHandle, readings: MeterReading[], logger: Logger, rules: OrderRules, rejected: RejectCounts) {
    this.#file = file;
    this.#rejected = rejected;
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
    const rejected = await readRejectCounts(file).catch((error: unknown) => {
      // Statistics only: a damaged tally is started again rather than stopping the site.
      logger.warn('reading-log.reject-counts-unreadable', { file: rejectCountsFile(file), error });
      return emptyRejectCounts();
    });
    const handle = await fsp.open(file, 'a', 0o600);
    return new ReadingLog(file, handle, readings, logger, rules, rejected);
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
      this.#queue.push({ line: `${formatLine(reading)}\n`, resolve, reject });
      void this.#flush();
    });
    return checked;
  }

  /** Readings with from <= ts < to (binary search). */
  between(fromMs: number, toMs: number): MeterReading[] {
    return this.#readings.slice(lowerBound(this.#readings, fromMs), lowerBound(this.#readings, toMs));
  }

  /**
   * Counts a refused message under its reason (parse and order refusals alike). The
   * counts survive restarts in REJECT_COUNTS beside the log, written at most every
   * REJECT_COUNTS_WRITE_MS (a flood of garbage must not become a flood of fsyncs) and on
   * close; `flexproof-edge status` reads them from there.
   */
  countRejected(reason: RejectReason): void {
    this.#rejected.counts[reason] = (this.#rejected.counts[reason] ?? 0) + 1;
    this.#rejectedDirty = true;
    if (this.#closed || this.#rejectedTimer !== undefined) return;
    this.#rejectedTimer = setTimeout(() => {
      this.#rejectedTimer = undefined;
      void this.#writeRejected();
    }, REJECT_COUNTS_WRITE_MS);
    this.#rejectedTimer.unref();
  }

  /** Refused messages by reason, since `since` (the first count of this data directory). */
  get rejectCounts(): Readonly<RejectCounts> {
    return this.#rejected;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Waits for the write in flight (and anything queued behind it) before the handle closes.
    while (this.#flushing !== undefined || this.#queue.length > 0) await this.#flush();
    await this.#handle.close();
    if (this.#rejectedTimer !== undefined) clearTimeout(this.#rejectedTimer);
    this.#rejectedTimer = undefined;
    await this.#rejectedWrite;
    await this.#writeRejected();
  }

  #writeRejected(): Promise<void> {
    if (!this.#rejectedDirty) return Promise.resolve();
    this.#rejectedDirty = false;
    const text = `${JSON.stringify({ schema: 1, since: this.#rejected.since, counts: this.#rejected.counts })}\n`;
    this.#rejectedWrite = writeFileAtomic(rejectCountsFile(this.#file), text).catch((error: unknown) => {
      this.#rejectedDirty = true;
      this.#logger.warn('reading-log.reject-counts-write-failed', { file: rejectCountsFile(this.#file), error });
    });
    return this.#rejectedWrite;
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

/** How often at most the reject counts are written (ms). */
export const REJECT_COUNTS_WRITE_MS = 5000;

/** Refused messages per reason, cumulative for a data directory. */
export interface RejectCounts {
  /** ISO time of the first count. */
  since: string;
  counts: Partial<Record<RejectReason, number>>;
}

/** The file of the reject counts beside a reading log (readings.jsonl -> readings.rejected.json). */
export function rejectCountsFile(logFile: string): string {
  return `${logFile.replace(/\.jsonl$/, '')}.rejected.json`;
}

/** The reject counts stored beside `logFile` (none yet: empty counts). Throws on a damaged file. */
export async function readRejectCounts(logFile: string): Promise<RejectCounts> {
  let text: string;
  try {
    text = await fsp.readFile(rejectCountsFile(logFile), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyRejectCounts();
    throw error;
  }
  const value = JSON.parse(text) as { since?: unknown; counts?: unknown };
  if (typeof value.since !== 'string' || typeof value.counts !== 'object' || value.counts === null) {
    throw new EdgeError('STORE_CORRUPT', `${rejectCountsFile(logFile)}: not a reject count file`, { details: { file: rejectCountsFile(logFile) } });
  }
  const counts: Partial<Record<RejectReason, number>> = {};
  for (const [reason, n] of Object.entries(value.counts)) {
    if (isRejectReason(reason) && Number.isSafeInteger(n) && (n as number) > 0) counts[reason] = n as number;
  }
  return { since: value.since, counts };
}

function emptyRejectCounts(): RejectCounts {
  return { since: new Date().toISOString(), counts: {} };
}

function formatLine(reading: MeterReading): string {
  return JSON.stringify({
    ts: reading.ts,
    registerWh: reading.importWh.toString(),
    ...(reading.exportWh !== undefined ? { exportWh: reading.exportWh.toString() } : {}),
  });
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

function parseLine(line: string): MeterReading | undefined {
  try {
    const value = JSON.parse(line) as { ts?: unknown; registerWh?: unknown; exportWh?: unknown };
    if (typeof value.ts !== 'number' || !Number.isSafeInteger(value.ts)) return undefined;
    if (typeof value.registerWh !== 'string' || !DECIMAL.test(value.registerWh)) return undefined;
    if (value.exportWh === undefined) return { ts: value.ts, importWh: BigInt(value.registerWh) };
    if (typeof value.exportWh !== 'string' || !DECIMAL.test(value.exportWh)) return undefined;
    return { ts: value.ts, importWh: BigInt(value.registerWh), exportWh: BigInt(value.exportWh) };
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
