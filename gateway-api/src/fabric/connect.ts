import { readFile } from 'node:fs/promises';
import * as crypto from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { connect, hash, signers, type Gateway } from '@hyperledger/fabric-gateway';

/** Where an organisation's peer is and which identity a client uses to reach it. */
export interface FabricIdentityConfig {
  mspId: string;
  /** host:port of the organisation's own peer. */
  peerEndpoint: string;
  /** PEM file of the CA that issued the peer's TLS certificate. */
  tlsRootCertPath: string;
  /**
   * Name to check the peer's TLS certificate against when the endpoint is an IP address
   * (TLS server names cannot be IP addresses); the native network uses "localhost".
   */
  tlsServerName?: string;
  /** PEM file of the client's X.509 certificate. */
  certPath: string;
  /** PEM file of the client's private key. */
  keyPath: string;
}

export interface FabricConnection {
  readonly gateway: Gateway;
  close(): void;
}

/** Deadlines per gateway call; commit waits longest since it spans ordering and validation. */
const DEADLINES_MS = { evaluate: 10_000, endorse: 30_000, submit: 10_000, commitStatus: 60_000 };

/**
 * Opens a Fabric Gateway connection to the organisation's own peer with the given
 * client identity. The caller owns the connection and must close it.
 */
export async function connectToPeer(config: FabricIdentityConfig): Promise<FabricConnection> {
  const [tlsRootCert, certificate, keyPem] = await Promise.all([
    readFile(config.tlsRootCertPath),
    readFile(config.certPath),
    readFile(config.keyPath),
  ]);
  const options: grpc.ChannelOptions = config.tlsServerName
    ? { 'grpc.ssl_target_name_override': config.tlsServerName }
    : {};
  const client = new grpc.Client(config.peerEndpoint, grpc.credentials.createSsl(tlsRootCert), options);
  const gateway = connect({
    client,
    identity: { mspId: config.mspId, credentials: certificate },
    signer: signers.newPrivateKeySigner(crypto.createPrivateKey(keyPem)),
    hash: hash.sha256,
    evaluateOptions: () => ({ deadline: Date.now() + DEADLINES_MS.evaluate }),
    endorseOptions: () => ({ deadline: Date.now() + DEADLINES_MS.endorse }),
    submitOptions: () => ({ deadline: Date.now() + DEADLINES_MS.submit }),
    commitStatusOptions: () => ({ deadline: Date.now() + DEADLINES_MS.commitStatus }),
  });
  return {
    gateway,
    close() {
      gateway.close();
      client.close();
    },
  };
}
