/**
 * The embedded CouchDB-protocol server used when no COUCHDB_URL is configured: the
 * pouchdb-server stack (express-pouchdb over PouchDB with the LevelDB adapter) run
 * inside the gateway process, listening on loopback only, with its data on disk.
 * pouchdb-server's own entry point parses the command line when it is loaded, so it
 * cannot be embedded; its parts can. leveldown ships a prebuilt N-API binary, so no
 * install script is needed.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface EmbeddedCouch {
  /** http://127.0.0.1:port, without credentials (the embedded server has no admin users). */
  readonly url: string;
  readonly port: number;
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
    mode: 'minimumForPouchDB',
    configPath: path.join(dataDir, 'config.json'),
    logPath: path.join(dataDir, 'log.txt'),
  });
  appsByDataDir.set(dataDir, app);
  return app;
}

/** Starts the embedded store on 127.0.0.1:port (0 picks a free port) with its data in `dataDir`. */
export async function startEmbeddedCouch(options: { dataDir: string; port: number }): Promise<EmbeddedCouch> {
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const app = pouchApp(dataDir);
  const server: Server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
