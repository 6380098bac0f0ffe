/**
 * The off-chain raw-data store: the readings of each settled period with the
 * fingerprint salt that lets an auditor recompute the period's fingerprint. One CouchDB
 * database per meter; one document per (enrollment, period). The gateway decides who
 * may read (the owning prosumer, auditors); nothing here checks access.
 */
import { createHash } from 'node:crypto';

export interface PeriodReadingsInput {
  meterId: string;
  enrollmentId: string;
  periodIndex: number;
  /** Interval energies of the period, Wh, decimal strings. */
  readings: string[];
  /** The period's fingerprint salt, a field element as a decimal string. */
  fingerprintSalt: string;
}

export interface PeriodReadings extends PeriodReadingsInput {
  /** sha256 (hex) of the readings and salt as first stored. */
  contentHash: string;
  uploadedAt: string;
}

export interface RawReadingsStore {
  /** Stores a period's readings once; an identical upload is 'unchanged', a different one a StoreConflict. */
  putPeriod(input: PeriodReadingsInput): Promise<'created' | 'unchanged'>;
  /** The stored periods of a meter, optionally of one enrollment, by enrollment and period. */
  listPeriods(meterId: string, enrollmentId?: string): Promise<PeriodReadings[]>;
  ping(): Promise<void>;
}

/** The store cannot be reached or answered with a server error. */
export class StoreUnavailable extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'StoreUnavailable';
  }
}

/** A period already stored with other readings or salt. */
export class StoreConflict extends Error {
  constructor(readonly meterId: string, readonly enrollmentId: string, readonly periodIndex: number) {
    super(`period ${periodIndex} of enrollment ${enrollmentId} is already stored with different readings`);
    this.name = 'StoreConflict';
  }
}

/** What identifies the content of an upload (readings and salt, in order). */
export function contentHash(readings: readonly string[], fingerprintSalt: string): string {
  return createHash('sha256').update(JSON.stringify({ fingerprintSalt, readings })).digest('hex');
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
