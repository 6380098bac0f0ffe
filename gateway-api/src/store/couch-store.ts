import nano, { type DocumentScope, type ServerScope } from 'nano';
import { sealedContentHash } from '@flexproof/protocol';
import {
  meterDatabaseName,
  periodDocumentId,
  StoreConflict,
  StoreUnavailable,
  type SealedPeriodDocument,
  type SealedPeriodInput,
  type SealedPeriodStore,
} from './sealed-periods';
import { basicAuthorization, splitCredentials, type StoreCredentials } from './store-credentials';

/** Stored form: the document plus CouchDB's own members and a type tag. */
type StoredDocument = SealedPeriodDocument & { _id: string; _rev?: string; type: 'sealedPeriod' };

export interface CouchStoreOptions {
  /** HTTP Basic credentials (else those in the URL's user information, if any). */
  credentials?: StoreCredentials;
  now?: () => Date;
}

/**
 * The sealed-period store on a CouchDB-protocol server (a CouchDB cluster or the embedded
 * one), through nano. The credentials travel as an Authorization header, never in the
 * URL nano keeps, and nano scrubs that header from the errors it throws; this class
 * passes on only the status and reason of a failure, never the request.
 */
export class CouchSealedStore implements SealedPeriodStore {
  readonly #server: ServerScope;
  readonly #now: () => Date;

  constructor(url: string, options: CouchStoreOptions = {}) {
    const split = splitCredentials(url);
    const credentials = options.credentials ?? split.credentials;
    this.#server = nano({ url: split.url, headers: credentials ? { Authorization: basicAuthorization(credentials) } : {} });
    this.#now = options.now ?? (() => new Date());
  }

  async putSealedPeriod(input: SealedPeriodInput): Promise<'created' | 'unchanged'> {
    const contentHash = sealedContentHash(input.jwe);
    const doc: StoredDocument = {
      _id: periodDocumentId(input.enrollmentId, input.periodIndex),
      type: 'sealedPeriod',
      meterId: input.meterId,
      enrollmentId: input.enrollmentId,
      periodIndex: input.periodIndex,
      jwe: input.jwe,
      contentHash,
      uploadedAt: this.#now().toISOString(),
    };
    const db = await this.#database(input.meterId, true);
    try {
      await call(() => db.insert(doc));
      return 'created';
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
    }
    // Create-once: the stored document is compared by the hash of what it holds now.
    const existing = await call(() => db.get(doc._id));
    if (existing.type === 'sealedPeriod' && sealedContentHash(existing.jwe) === contentHash) return 'unchanged';
    throw new StoreConflict(input.meterId, input.enrollmentId, input.periodIndex);
  }

  async listSealedPeriods(meterId: string, enrollmentId: string): Promise<SealedPeriodDocument[]> {
    const db = await this.#database(meterId, false);
    if (!db) return [];
    let rows;
    try {
      rows = (await call(() => db.list({ include_docs: true, startkey: `${enrollmentId}:`, endkey: `${enrollmentId}:\ufff0` }))).rows;
    } catch (err) {
      if (statusOf(err) === 404) return [];
      throw err;
    }
    const out: SealedPeriodDocument[] = [];
    for (const row of rows) {
      const d = row.doc;
      if (!d || d.type !== 'sealedPeriod') continue;
      // The place is where the document is stored (database and id), not what its members
      // say: an opener checks the JWE against that place, so a document moved or relabelled
      // by someone with access to the store is found out.
      const periodIndex = periodOfDocumentId(d._id, enrollmentId);
      if (periodIndex === undefined) continue;
      out.push({
        meterId,
        enrollmentId,
        periodIndex,
        jwe: d.jwe,
        contentHash: typeof d.contentHash === 'string' ? d.contentHash : '',
        uploadedAt: typeof d.uploadedAt === 'string' ? d.uploadedAt : '',
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

/** The period of a document id `${enrollmentId}:NN`, if it is one. */
function periodOfDocumentId(id: string, enrollmentId: string): number | undefined {
  const match = /^([0-9]{2})$/.exec(id.slice(enrollmentId.length + 1));
  if (!id.startsWith(`${enrollmentId}:`) || !match) return undefined;
  const n = Number(match[1]);
  return n < 24 ? n : undefined;
}

function statusOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Runs a nano call. No answer, a 5xx, or a refusal of the gateway's own credentials (401,
 * 403) becomes StoreUnavailable (a 503 at the API, the operator must act); other 4xx
 * answers pass through. The cause kept is only the status and the store's reason, not
 * nano's error with its request, so no header can reach a log line.
 */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const status = statusOf(err);
    if (status === undefined || status >= 500) {
      throw new StoreUnavailable('the raw-data store did not answer', { statusCode: status, reason: reasonOf(err) });
    }
    if (status === 401 || status === 403) {
      throw new StoreUnavailable('the raw-data store refused the gateway’s credentials', { statusCode: status, reason: reasonOf(err) });
    }
    throw err;
  }
}

function reasonOf(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message.slice(0, 200) : 'unknown';
}
