/**
 * Credentials of the raw-data store (S8). The embedded store has one admin user whose
 * password is generated on first start and kept in a 0600 file inside the store's 0700
 * data directory, so a restart reuses it and only the account running the gateway (and
 * root) can read it. A real CouchDB gets its credentials from the configuration.
 *
 * Nothing here ever puts a password in an error message or a log line.
 */
import { randomBytes, createHash, timingSafeEqual } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import * as path from 'node:path';

export interface StoreCredentials {
  username: string;
  password: string;
}

/** The embedded store's credentials file, inside its data directory. */
export const STORE_CREDENTIALS_FILE = 'admin-credentials.json';
/** The embedded store's admin user name. */
export const EMBEDDED_STORE_ADMIN = 'flexproof-admin';

const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
/** 32 random bytes, base64url: 43 characters. */
const GENERATED_PASSWORD = /^[A-Za-z0-9_-]{43}$/;

/** Path of the credentials file of an embedded store's data directory. */
export function storeCredentialsPath(dataDir: string): string {
  return path.join(path.resolve(dataDir), STORE_CREDENTIALS_FILE);
}

/**
 * The embedded store's credentials: read from its data directory, or generated and
 * written there (0600) when the file does not exist yet. A file that others may read,
 * or that is not a credentials file, stops the start rather than being trusted or
 * silently replaced.
 */
export function readOrCreateStoreCredentials(dataDir: string): StoreCredentials {
  const file = storeCredentialsPath(dataDir);
  const existing = tryReadCredentials(file);
  if (existing) return existing;
  const credentials: StoreCredentials = { username: EMBEDDED_STORE_ADMIN, password: randomBytes(32).toString('base64url') };
  // Written whole to a temporary name, then linked into place: the link fails if another
  // process got there first, and a crash never leaves a half-written file under the name.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(credentials)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const winner = tryReadCredentials(file);
    if (!winner) throw err;
    return winner;
  } finally {
    unlinkSync(tmp);
  }
  return credentials;
}

/**
 * The credentials of an embedded store that has started at least once (for tools that
 * act as the store's operator: the demo's insider, tests). Throws if there is none.
 */
export function readEmbeddedStoreCredentials(dataDir: string): StoreCredentials {
  const file = storeCredentialsPath(dataDir);
  const credentials = tryReadCredentials(file);
  if (!credentials) throw new Error(`${file}: no store credentials (the embedded store has not started with this data directory)`);
  return credentials;
}

function tryReadCredentials(file: string): StoreCredentials | undefined {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if ((mode & 0o077) !== 0) {
    throw new Error(
      `${file}: the store credentials file is readable or writable by others (mode ${(mode & 0o777).toString(8)}); make it 0600, or delete it to generate new credentials`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new Error(`${file}: not a store credentials file (JSON {username, password}); delete it to generate new credentials`);
  }
  const v = (value ?? {}) as Record<string, unknown>;
  if (typeof v.username !== 'string' || !USERNAME.test(v.username) || typeof v.password !== 'string' || !GENERATED_PASSWORD.test(v.password)) {
    throw new Error(`${file}: not a store credentials file (JSON {username, password}); delete it to generate new credentials`);
  }
  return { username: v.username, password: v.password };
}

/** The `Authorization` header value of HTTP Basic authentication with these credentials. */
export function basicAuthorization(credentials: StoreCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}

/**
 * A checker of `Authorization` headers against one user: constant time in the header's
 * content (both sides are hashed first, so lengths do not leak either).
 */
export function basicAuthChecker(credentials: StoreCredentials): (header: string | undefined) => boolean {
  const expected = createHash('sha256').update(basicAuthorization(credentials)).digest();
  return (header) => {
    if (typeof header !== 'string' || header.length > 1024) return false;
    const given = createHash('sha256').update(header.trim()).digest();
    return timingSafeEqual(given, expected);
  };
}

/**
 * `url` with the credentials as its user information (percent-encoded), for clients such
 * as nano that read them from there. The result is a secret: keep it out of logs.
 */
export function urlWithCredentials(url: string, credentials: StoreCredentials): string {
  const u = new URL(url);
  u.username = encodeURIComponent(credentials.username);
  u.password = encodeURIComponent(credentials.password);
  return u.toString().replace(/\/$/, '');
}

/** Splits user information off a URL: the bare URL and the credentials it held, if any. */
export function splitCredentials(url: string): { url: string; credentials?: StoreCredentials } {
  const u = new URL(url);
  const username = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  const bare = u.toString().replace(/\/$/, '');
  return username === '' && password === '' ? { url: bare } : { url: bare, credentials: { username, password } };
}
