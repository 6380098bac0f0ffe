/**
 * Waits until each organisation's Fabric Gateway can gather endorsements from both
 * organisations' peers for the flexproof chaincode. Service discovery learns the other
 * organisation's peer and its chaincode through gossip, which lags the health checks by a
 * moment after a (re)start. Endorses a read-only Ping (never submitted).
 *
 * Part of the network's scripts (network/scripts/chaincode.sh `endorsable`), run from
 * source with ts-node: it needs no package's build output, only Fabric's own client
 * libraries.
 *
 * usage: wait-endorsement-ready.ts NETWORK_JSON [TIMEOUT_SECONDS]
 */
import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { connect, hash, signers } from '@hyperledger/fabric-gateway';

/** The part of network.json (written by network/scripts/artifacts.sh) this tool reads. */
interface NetworkJson {
  channel: string;
  chaincode: string;
  orgs: Record<string, { mspId: string; peerEndpoint: string; tlsServerName: string; tlsRootCertPath: string; client: { certPath: string; keyPath: string } }>;
}

async function endorseOnce(network: NetworkJson, name: string, deadline: number): Promise<void> {
  const org = network.orgs[name];
  if (!org) throw new Error(`network.json names no organisation ${name}`);
  const client = new grpc.Client(org.peerEndpoint, grpc.credentials.createSsl(readFileSync(org.tlsRootCertPath)), {
    'grpc.ssl_target_name_override': org.tlsServerName,
  });
  const gateway = connect({
    client,
    identity: { mspId: org.mspId, credentials: readFileSync(org.client.certPath) },
    signer: signers.newPrivateKeySigner(crypto.createPrivateKey(readFileSync(org.client.keyPath))),
    hash: hash.sha256,
    endorseOptions: () => ({ deadline: Date.now() + 10_000 }),
  });
  try {
    const contract = gateway.getNetwork(network.channel).getContract(network.chaincode);
    for (;;) {
      try {
        await contract.newProposal('org.flexproof.system:Ping').endorse();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`${name}: no endorsement by both organisations in time: ${err instanceof Error ? err.message : String(err)}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  } finally {
    gateway.close();
    client.close();
  }
}

async function main(): Promise<void> {
  const [file, timeoutArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: wait-endorsement-ready.ts NETWORK_JSON [TIMEOUT_SECONDS]');
  const timeout = Number(timeoutArg ?? 60);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new Error('TIMEOUT_SECONDS: a positive number');
  const network = JSON.parse(readFileSync(file, 'utf8')) as NetworkJson;
  const deadline = Date.now() + timeout * 1000;
  for (const name of Object.keys(network.orgs)) await endorseOnce(network, name, deadline);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
