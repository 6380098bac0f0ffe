import nano, { type DocumentScope, type ServerScope } from 'nano';
import {
  contentHash,
  meterDatabaseName,
  periodDocumentId,
  StoreConflict,
  StoreUnavailable,
  type PeriodReadings,
  type PeriodReadingsInput,
  type RawReadingsStore,
} from './raw-readings';

type StoredDocument = PeriodReadings & { _id: string; _rev?: string; type: 'periodReadings' };

/** The raw-data store on a CouchDB-protocol server (a CouchDB cluster or the embedded one), through nano. */
export class CouchReadingsStore implements RawReadingsStore {
  readonly #server: ServerScope;
  readonly #now: () => Date;

  constructor(url: string, options: { now?: () => Date } = {}) {
    this.#server = nano({ url });
    this.#now = options.now ?? (() => new Date());
  }

  async putPeriod(input: PeriodReadingsInput): Promise<'created' | 'unchanged'> {
    const hash = contentHash(input.readings, input.fingerprintSalt);
    const doc: StoredDocument = {
      _id: periodDocumentId(input.enrollmentId, input.periodIndex),
      type: 'periodReadings',
      meterId: input.meterId,
      enrollmentId: input.enrollmentId,
      periodIndex: input.periodIndex,
      readings: [...input.readings],
      fingerprintSalt: input.fingerprintSalt,
      contentHash: hash,
      uploadedAt: this.#now().toISOString(),
    };
    const db = await this.#database(input.meterId, true);
    try {
      await call(() => db.insert(doc));
      return 'created';
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
    }
    const existing = await call(() => db.get(doc._id));
    if (contentHash(existing.readings, existing.fingerprintSalt) === hash) return 'unchanged';
    throw new StoreConflict(input.meterId, input.enrollmentId, input.periodIndex);
  }

  async listPeriods(meterId: string, enrollmentId?: string): Promise<PeriodReadings[]> {
    const db = await this.#database(meterId, false);
    if (!db) return [];
    const range = enrollmentId === undefined ? {} : { startkey: `${enrollmentId}:`, endkey: `${enrollmentId}:\ufff0` };
    let rows;
    try {
      rows = (await call(() => db.list({ include_docs: true, ...range }))).rows;
    } catch (err) {
      if (statusOf(err) === 404) return [];
      throw err;
    }
    const out: PeriodReadings[] = [];
    for (const row of rows) {
      const d = row.doc;
      if (!d || d.type !== 'periodReadings') continue;
      out.push({
        meterId: d.meterId,
        enrollmentId: d.enrollmentId,
        periodIndex: d.periodIndex,
        readings: d.readings,
        fingerprintSalt: d.fingerprintSalt,
        contentHash: d.contentHash,
        uploadedAt: d.uploadedAt,
      });
    }
    return out;
  }

  async ping(): Promise<void> {
    await call(() => this.#server.info());
  }

  async #database(meterId: string, create: true): Promise<DocumentScope<StoredDocument>>;
  async #database(meterId: string, create: false): Promise<DocumentScope<StoredDocument> | undefined>;
  async #database(meterId: string, create: boolean): Promise<DocumentScope<StoredDocument> | undefined> {
    const name = meterDatabaseName(meterId);
    try {
      await call(() => this.#server.db.get(name));
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      if (!create) return undefined;
      try {
        await call(() => this.#server.db.create(name));
      } catch (createErr) {
        if (statusOf(createErr) !== 412) throw createErr;
      }
    }
    return this.#server.use<StoredDocument>(name);
  }
}

function statusOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** Runs a nano call; no answer or a 5xx becomes StoreUnavailable, 4xx answers pass through. */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const status = statusOf(err);
    if (status === undefined || status >= 500) throw new StoreUnavailable('the raw-data store did not answer', err);
    throw err;
  }
}
