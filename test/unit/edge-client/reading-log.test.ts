import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { isEdgeError, memoryLogger, ReadingLog, readRejectCounts, rejectCountsFile } from '@flexproof/edge-client';

const T0 = 1_780_000_000_000;

describe('edge-client: durable reading log', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'flexproof-log-'));
    file = path.join(dir, 'readings.jsonl');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('persists accepted readings and reads them back after a restart', async () => {
    const log = await ReadingLog.open(file);
    for (let i = 0; i < 5; i++) assert.equal((await log.accept({ ts: T0 + i, importWh: BigInt(100 + i) })).ok, true);
    // Durable before accept resolved: the file holds them even without close().
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 5);
    await log.close();
    const again = await ReadingLog.open(file);
    assert.deepEqual(again.readings.map((r) => r.importWh), [100n, 101n, 102n, 103n, 104n]);
    assert.deepEqual(again.between(T0 + 1, T0 + 3).map((r) => r.ts), [T0 + 1, T0 + 2]);
    await again.close();
  });

  it('refuses duplicates, earlier timestamps and a decreasing register, also across restarts', async () => {
    const log = await ReadingLog.open(file);
    await log.accept({ ts: T0, importWh: 100n });
    await log.close();
    const again = await ReadingLog.open(file);
    const dup = await again.accept({ ts: T0, importWh: 100n });
    const early = await again.accept({ ts: T0 - 5, importWh: 90n });
    const down = await again.accept({ ts: T0 + 5, importWh: 99n });
    assert.deepEqual([dup, early, down].map((o) => (o.ok ? 'ok' : o.reason)), ['DUPLICATE_TIMESTAMP', 'OUT_OF_ORDER', 'REGISTER_DECREASED']);
    assert.equal(again.readings.length, 1);
    await again.close();
  });

  it('writes concurrent appends together and keeps their order', async () => {
    const log = await ReadingLog.open(file);
    await Promise.all(Array.from({ length: 50 }, (_, i) => log.accept({ ts: T0 + i, importWh: BigInt(i) })));
    await log.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { ts: number }).ts - T0);
    assert.deepEqual(lines, Array.from({ length: 50 }, (_, i) => i));
  });

  it('closes only after the write in flight is on disk (a stop signal during an fsync)', async () => {
    const log = await ReadingLog.open(file);
    const pending = log.accept({ ts: T0, importWh: 7n }); // not awaited: its write is in flight
    const closed = log.close();
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('close() did not return')), 5_000));
    await Promise.race([Promise.all([pending, closed]), timeout]);
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 1);
  });

  it('writes a reading queued just as the previous write finished', async () => {
    const log = await ReadingLog.open(file);
    for (let i = 0; i < 20; i++) {
      const first = log.accept({ ts: T0 + 2 * i, importWh: BigInt(2 * i) });
      // Queued from the first write's continuation, after the write loop may have looked at the queue.
      const second = first.then(() => log.accept({ ts: T0 + 2 * i + 1, importWh: BigInt(2 * i + 1) }));
      await Promise.race([second, new Promise((_, reject) => setTimeout(() => reject(new Error(`reading ${2 * i + 1} never became durable`)), 5_000))]);
    }
    await log.close();
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 40);
  });

  it('tolerates a torn last line (kill -9 during a write): drops it, truncates, appends cleanly', async () => {
    writeFileSync(file, `{"ts":${T0},"registerWh":"100"}\n{"ts":${T0 + 1},"registerWh":"101"}\n{"ts":${T0 + 2},"regis`);
    const logger = memoryLogger();
    const log = await ReadingLog.open(file, logger);
    assert.equal(log.readings.length, 2);
    assert.ok(logger.lines.some((l) => l.event === 'reading-log.torn-line-dropped'));
    await log.accept({ ts: T0 + 2, importWh: 102n });
    await log.close();
    assert.equal(readFileSync(file, 'utf8'), `{"ts":${T0},"registerWh":"100"}\n{"ts":${T0 + 1},"registerWh":"101"}\n{"ts":${T0 + 2},"registerWh":"102"}\n`);
  });

  it('refuses a log corrupted in the middle rather than silently dropping readings', async () => {
    writeFileSync(file, `{"ts":${T0},"registerWh":"100"}\ngarbage\n`);
    appendFileSync(file, `{"ts":${T0 + 1},"registerWh":"101"}\n`);
    await assert.rejects(ReadingLog.open(file), (e) => isEdgeError(e, 'STORE_CORRUPT'));
  });

  it('stores the export register beside the import one; reads logs of the first version (no exportWh: export 0)', async () => {
    writeFileSync(file, `{"ts":${T0},"registerWh":"100"}\n{"ts":${T0 + 1},"registerWh":"101"}\n`);
    const log = await ReadingLog.open(file);
    assert.deepEqual(log.readings, [{ ts: T0, importWh: 100n }, { ts: T0 + 1, importWh: 101n }]);
    assert.equal((await log.accept({ ts: T0 + 2, importWh: 102n, exportWh: 7n })).ok, true);
    const missing = await log.accept({ ts: T0 + 3, importWh: 103n });
    assert.ok(!missing.ok && missing.reason === 'EXPORT_REGISTER_MISSING');
    const down = await log.accept({ ts: T0 + 3, importWh: 103n, exportWh: 6n });
    assert.ok(!down.ok && down.reason === 'EXPORT_REGISTER_DECREASED');
    assert.equal((await log.accept({ ts: T0 + 4, importWh: 103n, exportWh: 9n })).ok, true);
    await log.close();
    assert.equal(
      readFileSync(file, 'utf8'),
      `{"ts":${T0},"registerWh":"100"}\n{"ts":${T0 + 1},"registerWh":"101"}\n{"ts":${T0 + 2},"registerWh":"102","exportWh":"7"}\n{"ts":${T0 + 4},"registerWh":"103","exportWh":"9"}\n`,
    );
    const again = await ReadingLog.open(file);
    assert.deepEqual(again.readings.map((r) => r.exportWh), [undefined, undefined, 7n, 9n]);
    const afterRestart = await again.accept({ ts: T0 + 5, importWh: 104n, exportWh: 8n });
    assert.ok(!afterRestart.ok && afterRestart.reason === 'EXPORT_REGISTER_DECREASED', 'the rule holds across restarts');
    await again.close();
  });

  it('refuses a line with a malformed exportWh as corrupt', async () => {
    writeFileSync(file, `{"ts":${T0},"registerWh":"100","exportWh":-4}\n{"ts":${T0 + 1},"registerWh":"101"}\n`);
    await assert.rejects(ReadingLog.open(file), (e) => isEdgeError(e, 'STORE_CORRUPT'));
  });

  it('counts refused messages per reason, keeps the counts across restarts beside the log', async () => {
    const log = await ReadingLog.open(file);
    log.countRejected('BAD_CRC');
    log.countRejected('BAD_CRC');
    log.countRejected('EXPORT_REGISTER_DECREASED');
    assert.deepEqual(log.rejectCounts.counts, { BAD_CRC: 2, EXPORT_REGISTER_DECREASED: 1 });
    await log.close();
    assert.equal(rejectCountsFile(file), path.join(dir, 'readings.rejected.json'));
    assert.deepEqual((await readRejectCounts(file)).counts, { BAD_CRC: 2, EXPORT_REGISTER_DECREASED: 1 });
    const again = await ReadingLog.open(file);
    again.countRejected('NOT_JSON');
    assert.deepEqual(again.rejectCounts.counts, { BAD_CRC: 2, EXPORT_REGISTER_DECREASED: 1, NOT_JSON: 1 });
    await again.close();
    assert.deepEqual((await readRejectCounts(file)).counts, { BAD_CRC: 2, EXPORT_REGISTER_DECREASED: 1, NOT_JSON: 1 });
    // A damaged count file does not stop the log (statistics only): counting starts again.
    writeFileSync(rejectCountsFile(file), 'not json');
    const logger = memoryLogger();
    const third = await ReadingLog.open(file, logger);
    assert.deepEqual(third.rejectCounts.counts, {});
    assert.ok(logger.lines.some((l) => l.event === 'reading-log.reject-counts-unreadable'));
    await third.close();
  });
});
