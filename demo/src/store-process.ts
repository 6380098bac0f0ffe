/**
 * One organisation's off-chain store (the sealed-period store) as a process of its own,
 * so the supervisor can restart it and a fault can kill it apart from the gateway, which
 * reaches it with COUCHDB_URL: the gateway's embedded CouchDB-protocol server, locked to
 * its admin user, data on disk in DATA_DIR (created 0700, credentials kept there 0600
 * and reused on restart).
 *
 *   node demo/dist/store-process.js DATA_DIR PORT
 */
import { startEmbeddedCouch } from '@flexproof/gateway-api';

async function main(argv: string[]): Promise<void> {
  const [dataDir, portArg] = argv;
  const port = Number(portArg);
  if (dataDir === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error('usage: store-process DATA_DIR PORT (PORT: an integer from 1 to 65535)');
  }
  const store = await startEmbeddedCouch({ dataDir, port });
  // The URL without credentials only: they stay in the data directory.
  console.log(`store listening on ${store.url}`);
  const stop = () => void store.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`store-process: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
