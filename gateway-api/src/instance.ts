/**
 * One running gateway instance from a checked configuration: Fabric connection,
 * sealed-period store (embedded unless COUCHDB_URL is set; locked either way), the app
 * listening. Used by server.ts and by tests that start real instances.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app';
import type { GatewayConfig } from './config';
import { connectToPeer } from './fabric/connect';
import { FabricLedger } from './ledger/fabric-ledger';
import { CouchSealedStore } from './store/couch-store';
import { startEmbeddedCouch, type EmbeddedCouch } from './store/embedded-couch';
import { urlWithCredentials, type StoreCredentials } from './store/store-credentials';

export interface GatewayInstance {
  app: FastifyInstance;
  /** http://host:port the gateway listens on. */
  url: string;
  /**
   * URL of the sealed-period store with its credentials as user information, for the
   * store's operator (tests, the demo's insider). A secret: keep it out of logs.
   */
  storeUrl: string;
  /** The store's URL without credentials, and the credentials (a secret). */
  store: { url: string; credentials: StoreCredentials };
  close(): Promise<void>;
}

export async function startGateway(config: GatewayConfig, options: { logger?: boolean } = {}): Promise<GatewayInstance> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) await fn();
  };
  try {
    let embedded: EmbeddedCouch | undefined;
    let store: { url: string; credentials: StoreCredentials };
    if (config.store.kind === 'embedded') {
      embedded = await startEmbeddedCouch({ dataDir: config.store.dataDir, port: config.store.port });
      cleanups.push(() => embedded?.close());
      store = { url: embedded.url, credentials: embedded.credentials };
    } else {
      store = { url: config.store.url, credentials: config.store.credentials };
    }
    const connection = await connectToPeer(config.fabric);
    cleanups.push(() => connection.close());
    const app = await buildApp({
      org: config.org,
      mspId: config.fabric.mspId,
      ledger: new FabricLedger(connection, {
        channel: config.fabric.channel,
        chaincode: config.fabric.chaincode,
        mvccRetries: config.mvccRetries,
      }),
      store: new CouchSealedStore(store.url, { credentials: store.credentials }),
      tokens: config.tokens,
      edgeWindowSeconds: config.edgeWindowSeconds,
      nonceDir: config.edgeNonces.dir,
      maxNonces: config.edgeNonces.maxEntries,
      maxNoncesPerMeter: config.edgeNonces.maxPerMeter,
      bodyLimit: config.bodyLimit,
      periodBatching: config.periodBatching,
      logger: options.logger === false ? false : { level: config.logLevel },
    });
    cleanups.push(() => app.close());
    const address = await app.listen({ host: config.host, port: config.port });
    // The store is named by kind and origin only: never its credentials.
    app.log.info(
      {
        org: config.org,
        mspId: config.fabric.mspId,
        peer: config.fabric.peerEndpoint,
        store: config.store.kind,
        storeOrigin: new URL(store.url).origin,
        edgeNonces: config.edgeNonces.dir,
        periodBatching: config.periodBatching,
      },
      `gateway listening on ${address}`,
    );
    return { app, url: address, storeUrl: urlWithCredentials(store.url, store.credentials), store, close: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
