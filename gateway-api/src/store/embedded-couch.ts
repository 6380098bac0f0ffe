/**
 * The embedded CouchDB-protocol server used when no COUCHDB_URL is configured: the
 * pouchdb-server stack (express-pouchdb over PouchDB with the LevelDB adapter) run
 * inside the gateway process, listening on loopback only, with its data on disk.
 * pouchdb-server's own entry point parses the command line when it is loaded, so it
 * cannot be embedded; its parts can. leveldown ships a prebuilt N-API binary, so no
 * install script is needed.
 *
 * Locked (S8, T9): the data directory is 0700; one admin user, whose generated password
 * is kept in a 0600 file in that directory (store-credentials.ts) and reused on restart;
 * every request without that user's HTTP Basic credentials is a 401 before it reaches
 * express-pouchdb. The lock is a gate in front rather than express-pouchdb's own admins
 * (`_config/admins`): like CouchDB 2, express-pouchdb with admins configured still lets
 * anonymous users read and write every database that has no `_security` members, and it
 * has no `require_valid_user`; a gate in front refuses everything, including routes and
 * databases created later, by construction.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { basicAuthChecker, readOrCreateStoreCredentials, urlWithCredentials, type StoreCredentials } from './store-credentials';

export interface EmbeddedCouch {
  /** http://127.0.0.1:port, without credentials. */
  readonly url: string;
  readonly port: number;
  /** The admin user every request must authenticate as (a secret: keep it out of logs). */
  readonly credentials: StoreCredentials;
  /** `url` with the credentials as user information (a secret: keep it out of logs). */
  readonly urlWithCredentials: string;
  close(): Promise<void>;
}

interface PouchConstructor {
  defaults(options: Record<string, unknown>): PouchConstructor;
  plugin(plugin: unknown): PouchConstructor;
}

type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * One express-pouchdb app per data directory and process. Its databases stay open for
 * the life of the process: a second app over the same LevelDB files in one process
 * (a restart within a test) would clash with the first one's open handles.
 */
const appsByDataDir = new Map<string, RequestHandler>();

function pouchApp(dataDir: string): RequestHandler {
  const existing = appsByDataDir.get(dataDir);
  if (existing) return existing;
  /* eslint-disable @typescript-eslint/no-require-imports -- CommonJS packages without types */
  const PouchDB = (require('pouchdb-core') as PouchConstructor).plugin(require('pouchdb-adapter-leveldb'));
  const expressPouchdb = require('express-pouchdb') as (db: unknown, options: Record<string, unknown>) => RequestHandler;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const LocalPouch = PouchDB.defaults({ prefix: `${dataDir}${path.sep}`, adapter: 'leveldb' });
  const app = expressPouchdb(LocalPouch, {
    // The minimum the CouchDB protocol needs: no _config, _users, _replicate or Fauxton.
    mode: 'minimumForPouchDB',
    configPath: path.join(dataDir, 'config.json'),
    logPath: path.join(dataDir, 'log.txt'),
  });
  appsByDataDir.set(dataDir, app);
  return app;
}

/** Creates the data directory 0700, or makes an existing one 0700 (it holds the credentials). */
export function lockDataDirectory(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if ((statSync(dataDir).mode & 0o777) !== 0o700) chmodSync(dataDir, 0o700);
}

const UNAUTHORIZED_BODY = JSON.stringify({ error: 'unauthorized', reason: 'this store requires its admin credentials (HTTP Basic)' });

/**
 * Starts the embedded store on 127.0.0.1:port (0 picks a free port) with its data in
 * `dataDir` (created 0700) and its admin credentials in `dataDir`/admin-credentials.json
 * (created 0600 on first start, reused after).
 */
export async function startEmbeddedCouch(options: { dataDir: string; port: number }): Promise<EmbeddedCouch> {
  const dataDir = path.resolve(options.dataDir);
  lockDataDirectory(dataDir);
  const credentials = readOrCreateStoreCredentials(dataDir);
  const authorized = basicAuthChecker(credentials);
  const app = pouchApp(dataDir);
  const server: Server = createServer((req, res) => {
    if (!authorized(req.headers.authorization)) {
      // Answered without reading the body: nothing an anonymous client sends is parsed.
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': 'Basic realm="flexproof-store"',
        connection: 'close',
      });
      res.end(UNAUTHORIZED_BODY);
      req.resume();
      return;
    }
    app(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    credentials,
    urlWithCredentials: urlWithCredentials(url, credentials),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
