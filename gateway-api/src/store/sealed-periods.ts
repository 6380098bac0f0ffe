/**
 * The off-chain store of sealed period documents (issue 12, THREATS.md T9): one per
 * (meter, enrollment, period), holding the JWE the edge made (ciphertext only: the
 * readings and fingerprint salt are encrypted to the prosumer's and the auditors' keys
 * before they leave the site) and its content hash. The gateway never holds a key that
 * opens one. One CouchDB database per meter; one document per (enrollment, period). The
 * gateway decides who may read (the owning prosumer, auditors); nothing here checks access.
 */
import { createHash } from 'node:crypto';
import type { SealedPeriodJwe } from '@flexproof/protocol';

export interface SealedPeriodInput {
  meterId: string;
  enrollmentId: string;
  periodIndex: number;
  /** The sealed document, its shape checked for this place (checkSealedShape). */
  jwe: SealedPeriodJwe;
}

export interface SealedPeriodDocument extends SealedPeriodInput {
  /** sealedContentHash(jwe) as first stored: sha256 (hex) of the JWE's sorted-key JSON. */
  contentHash: string;
  uploadedAt: string;
}

export interface SealedPeriodStore {
  /**
   * Stores a period's sealed document once: the same document again is 'unchanged', a
   * different one for the same place a StoreConflict (a document is never replaced).
   */
  putSealedPeriod(input: SealedPeriodInput): Promise<'created' | 'unchanged'>;
  /** The stored documents of one enrollment of a meter, by period. */
  listSealedPeriods(meterId: string, enrollmentId: string): Promise<SealedPeriodDocument[]>;
  ping(): Promise<void>;
}

/** The store cannot be reached, answered with a server error, or refused the gateway's credentials. */
export class StoreUnavailable extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'StoreUnavailable';
  }
}

/** A period already stored with another document. */
export class StoreConflict extends Error {
  constructor(readonly meterId: string, readonly enrollmentId: string, readonly periodIndex: number) {
    super(`period ${periodIndex} of enrollment ${enrollmentId} is already stored with a different sealed document`);
    this.name = 'StoreConflict';
  }
}

const DB_PREFIX = 'flexproof-meter-';
/** CouchDB allows 238 characters in a database name. */
const MAX_DB_NAME = 238;

/**
 * CouchDB database of a meter. Database names allow only [a-z0-9_$()+/-], so the meter
 * id (letters of both cases, digits, '.', '_', '-') is escaped injectively: an upper-case
 * letter becomes '$' and its lower case, '.' becomes '+'. A name too long after escaping
 * falls back to the sha256 of the id.
 */
export function meterDatabaseName(meterId: string): string {
  const escaped = meterId.replace(/[A-Z]/g, (c) => `$${c.toLowerCase()}`).replace(/\./g, '+');
  const name = `${DB_PREFIX}${escaped}`;
  if (name.length <= MAX_DB_NAME) return name;
  return `${DB_PREFIX}sha256-${createHash('sha256').update(meterId).digest('hex')}`;
}

/** Document id of a period: sorts by enrollment, then period. */
export function periodDocumentId(enrollmentId: string, periodIndex: number): string {
  return `${enrollmentId}:${String(periodIndex).padStart(2, '0')}`;
}
