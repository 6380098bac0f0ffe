/**
 * One running gateway instance from a checked configuration: Fabric connection, raw-data
 * store (embedded unless COUCHDB_URL is set), the app listening. Used by server.ts and
 * by tests that start real instances.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app';
import type { GatewayConfig } from './config';
import { connectToPeer } from './fabric/connect';
import { FabricLedger } from './ledger/fabric-ledger';
import type { FingerprintFn } from './services/audit';
import { CouchReadingsStore } from './store/couch-store';
import { startEmbeddedCouch, type EmbeddedCouch } from './store/embedded-couch';

export interface GatewayInstance {
  app: FastifyInstance;
  /** http://host:port the gateway listens on. */
  url: string;
  /** URL of the raw-data store (with its credentials, if any: keep it out of logs). */
  storeUrl: string;
  close(): Promise<void>;
}

/** @flexproof/circuits is loaded on first audit: it brings snarkjs, which the other routes never need. */
export function loadFingerprint(): Promise<FingerprintFn> {
  return import('@flexproof/circuits').then((m) => m.fingerprint as FingerprintFn);
}

export async function startGateway(config: GatewayConfig, options: { logger?: boolean } = {}): Promise<GatewayInstance> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) await fn();
  };
  try {
    let embedded: EmbeddedCouch | undefined;
    let storeUrl: string;
    if (config.store.kind === 'embedded') {
      embedded = await startEmbeddedCouch({ dataDir: config.store.dataDir, port: config.store.port });
      cleanups.push(() => embedded?.close());
      storeUrl = embedded.url;
    } else {
      storeUrl = config.store.url;
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
      store: new CouchReadingsStore(storeUrl),
      tokens: config.tokens,
      fingerprint: loadFingerprint,
      edgeWindowSeconds: config.edgeWindowSeconds,
      nonceDir: config.edgeNonces.dir,
      maxNonces: config.edgeNonces.maxEntries,
      maxNoncesPerMeter: config.edgeNonces.maxPerMeter,
      bodyLimit: config.bodyLimit,
      logger: options.logger === false ? false : { level: config.logLevel },
    });
    cleanups.push(() => app.close());
    const address = await app.listen({ host: config.host, port: config.port });
    app.log.info(
      { org: config.org, mspId: config.fabric.mspId, peer: config.fabric.peerEndpoint, store: config.store.kind, edgeNonces: config.edgeNonces.dir },
      `gateway listening on ${address}`,
    );
    return { app, url: address, storeUrl, close: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
