/**
 * The nonces of signed edge requests, remembered long enough that no accepted request
 * can be accepted again: a request is accepted while its timestamp is within ±window of
 * the gateway's clock, so a nonce is kept for twice the window after it was first seen.
 *
 * `FileNonceStore` keeps them on disk as well, so a replay after a gateway restart (or a
 * crash) is still refused. The file is an append-only log, one line per nonce:
 *
 *   flexproof-edge-nonces v1              (header)
 *   <expiresAt unix ms> <meterId> <nonce>
 *
 * Each new nonce is appended and fdatasync'ed before the request is let through, so a
 * request the gateway answered is on disk even after `kill -9` or a power cut. Concurrent
 * requests share one write and one sync (group commit). When the log holds more than
 * twice the live nonces it is compacted by write-then-rename (the old log stays whole
 * until the new one replaces it), and on open every expired line is dropped the same way.
 *
 * Bounded in size: at most `maxEntries` live nonces in all and `maxPerMeter` per meter
 * (only a meter whose signature verified can add one, so an outsider cannot fill it).
 * One directory belongs to one gateway process.
 */
import { open, mkdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import * as path from 'node:path';

export type NonceVerdict = 'new' | 'replay';

export interface EdgeNonceStore {
  /** Records the meter's nonce; 'replay' if it is already remembered. Resolves once the nonce is durable. */
  remember(meterId: string, nonce: string, nowMs: number): Promise<NonceVerdict>;
  /** Live nonces remembered. */
  readonly size: number;
  close(): Promise<void>;
}

export const DEFAULT_MAX_NONCES = 200_000;
export const DEFAULT_MAX_NONCES_PER_METER = 2_000;
export const NONCE_LOG_FILE = 'edge-nonces.log';
const HEADER = 'flexproof-edge-nonces v1';
const LINE = /^([0-9]{1,16}) ([A-Za-z0-9][A-Za-z0-9._-]{0,127}) ([0-9a-f]{32,128})$/;
/** Below this many lines the log is never compacted: rewriting a small file buys nothing. */
const COMPACT_MIN_LINES = 4096;

/** The store cannot take another nonce: for this meter (429) or for the whole gateway (503). */
export class NonceLimitReached extends Error {
  constructor(
    readonly scope: 'meter' | 'gateway',
    readonly limit: number,
  ) {
    super(scope === 'meter' ? `the meter has ${limit} live nonces, the most allowed` : `the gateway holds ${limit} live nonces, the most allowed`);
    this.name = 'NonceLimitReached';
  }
}

export interface NonceLimits {
  /** How long a nonce is remembered after it was first seen, ms (twice the timestamp window). */
  ttlMs: number;
  maxEntries?: number;
  maxPerMeter?: number;
}

/** The in-memory table both stores use: live nonces in expiry order, counted per meter. */
class NonceTable {
  readonly #expiry = new Map<string, number>();
  readonly #perMeter = new Map<string, number>();
  readonly ttlMs: number;
  readonly #maxEntries: number;
  readonly #maxPerMeter: number;

  constructor(limits: NonceLimits) {
    this.ttlMs = limits.ttlMs;
    this.#maxEntries = limits.maxEntries ?? DEFAULT_MAX_NONCES;
    this.#maxPerMeter = limits.maxPerMeter ?? DEFAULT_MAX_NONCES_PER_METER;
  }

  get size(): number {
    return this.#expiry.size;
  }

  entries(): IterableIterator<[string, number]> {
    return this.#expiry.entries();
  }

  prune(nowMs: number): void {
    // Insertion order is expiry order (constant TTL; the log is sorted on load), so stop
    // at the first live entry. A clock stepped back only delays pruning.
    for (const [key, expiresAt] of this.#expiry) {
      if (expiresAt > nowMs) break;
      this.delete(key);
    }
  }

  isLive(key: string, nowMs: number): boolean {
    const expiresAt = this.#expiry.get(key);
    return expiresAt !== undefined && expiresAt > nowMs;
  }

  /** Adds a nonce that is not live; throws NonceLimitReached when a bound is reached. */
  add(key: string, meterId: string, expiresAt: number, enforceLimits = true): void {
    const count = this.#perMeter.get(meterId) ?? 0;
    if (enforceLimits) {
      if (count >= this.#maxPerMeter) throw new NonceLimitReached('meter', this.#maxPerMeter);
      if (this.#expiry.size >= this.#maxEntries) throw new NonceLimitReached('gateway', this.#maxEntries);
    }
    // An expired entry still in the table (out of order) is replaced, keeping the count right.
    if (this.#expiry.has(key)) this.delete(key);
    this.#expiry.set(key, expiresAt);
    this.#perMeter.set(meterId, (this.#perMeter.get(meterId) ?? 0) + 1);
  }

  delete(key: string): void {
    if (!this.#expiry.delete(key)) return;
    const meterId = key.slice(0, key.indexOf(' '));
    const count = (this.#perMeter.get(meterId) ?? 1) - 1;
    if (count <= 0) this.#perMeter.delete(meterId);
    else this.#perMeter.set(meterId, count);
  }
}

function keyOf(meterId: string, nonce: string): string {
  return `${meterId} ${nonce}`;
}

/** Nonces in memory only: forgotten at a restart. For tests and tools, never a deployed gateway. */
export class MemoryNonceStore implements EdgeNonceStore {
  readonly #table: NonceTable;

  constructor(limits: NonceLimits) {
    this.#table = new NonceTable(limits);
  }

  get size(): number {
    return this.#table.size;
  }

  async remember(meterId: string, nonce: string, nowMs: number): Promise<NonceVerdict> {
    this.#table.prune(nowMs);
    const key = keyOf(meterId, nonce);
    if (this.#table.isLive(key, nowMs)) return 'replay';
    this.#table.add(key, meterId, nowMs + this.#table.ttlMs);
    return 'new';
  }

  async close(): Promise<void> {}
}

/** Directories held by an open FileNonceStore of this process: a second store on one is refused. */
const OPEN_DIRECTORIES = new Set<string>();

export interface FileNonceStoreOptions extends NonceLimits {
  /** Directory of the log (created if missing). */
  dir: string;
  nowMs?: number;
  /** Told about a failed compaction (the log keeps growing; appends still work). */
  onError?: (err: unknown) => void;
}

export class FileNonceStore implements EdgeNonceStore {
  readonly #table: NonceTable;
  readonly #dir: string;
  readonly #file: string;
  readonly #onError: (err: unknown) => void;
  #handle: FileHandle;
  #linesInLog: number;
  #pending: string[] = [];
  #waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  #flushing: Promise<void> | undefined;
  #closed = false;
  /** The clock of the latest request: compaction prunes by the same clock the requests use. */
  #lastNowMs: number;
  /** Lines of the log that were not well formed when it was opened (dropped by the compaction). */
  readonly droppedLines: number;

  private constructor(table: NonceTable, dir: string, handle: FileHandle, droppedLines: number, onError: (err: unknown) => void) {
    this.#table = table;
    this.#dir = dir;
    this.#file = path.join(dir, NONCE_LOG_FILE);
    this.#handle = handle;
    this.#linesInLog = table.size;
    this.droppedLines = droppedLines;
    this.#onError = onError;
    this.#lastNowMs = 0;
  }

  /** Opens (or creates) the log under `dir`, keeps its live nonces and compacts it. */
  static async open(options: FileNonceStoreOptions): Promise<FileNonceStore> {
    const dir = path.resolve(options.dir);
    if (OPEN_DIRECTORIES.has(dir)) throw new Error(`edge nonce directory ${dir} is already in use by this process`);
    OPEN_DIRECTORIES.add(dir);
    try {
      await mkdir(dir, { recursive: true });
      const nowMs = options.nowMs ?? Date.now();
      const table = new NonceTable(options);
      const file = path.join(dir, NONCE_LOG_FILE);
      const loaded = await readLog(file, nowMs);
      // Sorted by expiry so that pruning can stop at the first live entry.
      loaded.entries.sort((a, b) => a.expiresAt - b.expiresAt);
      for (const e of loaded.entries) table.add(keyOf(e.meterId, e.nonce), e.meterId, e.expiresAt, false);
      const handle = await writeLog(dir, file, table);
      return new FileNonceStore(table, dir, handle, loaded.dropped, options.onError ?? (() => undefined));
    } catch (err) {
      OPEN_DIRECTORIES.delete(dir);
      throw err;
    }
  }

  get size(): number {
    return this.#table.size;
  }

  async remember(meterId: string, nonce: string, nowMs: number): Promise<NonceVerdict> {
    if (this.#closed) throw new Error('the edge nonce store is closed');
    this.#lastNowMs = nowMs;
    this.#table.prune(nowMs);
    const key = keyOf(meterId, nonce);
    if (this.#table.isLive(key, nowMs)) return 'replay';
    const expiresAt = nowMs + this.#table.ttlMs;
    // Taken in memory before the write, so a concurrent request with the same nonce is a replay.
    this.#table.add(key, meterId, expiresAt);
    try {
      await this.#append(`${expiresAt} ${key}\n`);
    } catch (err) {
      // Not durable, so not used: the request fails and the nonce may come again.
      this.#table.delete(key);
      throw err;
    }
    return 'new';
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#flushing;
    await this.#handle.close();
    OPEN_DIRECTORIES.delete(this.#dir);
  }

  #append(line: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push(line);
      this.#waiters.push({ resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const lines = this.#pending.splice(0);
      const waiters = this.#waiters.splice(0);
      try {
        await this.#handle.write(lines.join(''));
        await this.#handle.datasync();
        this.#linesInLog += lines.length;
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
      }
      if (this.#linesInLog > Math.max(COMPACT_MIN_LINES, 2 * this.#table.size)) {
        try {
          this.#table.prune(this.#lastNowMs);
          const handle = await writeLog(this.#dir, this.#file, this.#table);
          const old = this.#handle;
          this.#handle = handle;
          this.#linesInLog = this.#table.size;
          await old.close();
        } catch (err) {
          this.#onError(err);
        }
      }
    }
    this.#flushing = undefined;
  }
}

async function readLog(file: string, nowMs: number): Promise<{ entries: { expiresAt: number; meterId: string; nonce: string }[]; dropped: number }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], dropped: 0 };
    throw err;
  }
  if (text === '') return { entries: [], dropped: 0 };
  const lines = text.split('\n');
  if (lines[0] !== HEADER) {
    // Not ours (or another format): refusing to start beats silently forgetting nonces.
    throw new Error(`${file} is not an edge nonce log (first line must be "${HEADER}"); move it away to start with no remembered nonces`);
  }
  const entries: { expiresAt: number; meterId: string; nonce: string }[] = [];
  let dropped = 0;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const m = LINE.exec(line);
    // A line cut short by a power loss was never synced, so its request was never answered.
    if (!m) {
      dropped++;
      continue;
    }
    const expiresAt = Number(m[1]);
    if (expiresAt > nowMs) entries.push({ expiresAt, meterId: m[2] as string, nonce: m[3] as string });
  }
  return { entries, dropped };
}

/**
 * Writes the live nonces to a new log beside the old one, syncs it, renames it over the old
 * one and syncs the directory: at every instant one whole log is on disk. Returns the new
 * log's handle, positioned at its end for the appends that follow.
 */
async function writeLog(dir: string, file: string, table: NonceTable): Promise<FileHandle> {
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    const lines = [HEADER];
    for (const [key, expiresAt] of table.entries()) lines.push(`${expiresAt} ${key}`);
    await handle.write(`${lines.join('\n')}\n`);
    await handle.sync();
    await rename(tmp, file);
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dir);
  return handle;
}

async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    // Some platforms cannot sync a directory; the rename is then as durable as they allow.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM') throw err;
  } finally {
    await handle?.close();
  }
}
