/**
 * The network part of `npm run demo`: each organisation submits one real transaction
 * (a heartbeat, endorsed by both peers) and reads the other's back from its own peer.
 * Prints what happened; leaves the network running.
 */
import * as path from 'node:path';
import { connectToPeer, identityOf, readNetworkDescriptor } from '@flexproof/gateway-api';

const utf8 = new TextDecoder();

async function main(): Promise<void> {
  const descriptorPath = process.argv[2] ?? path.resolve(__dirname, '..', '..', '.flexproof', 'network', 'network.json');
  const network = await readNetworkDescriptor(descriptorPath);
  const orgs = ['aggregator', 'dso'] as const;
  const connections = await Promise.all(orgs.map((org) => connectToPeer(identityOf(network.orgs[org]))));
  try {
    const contracts = connections.map((c) => c.gateway.getNetwork(network.channel).getContract(network.chaincode));
    for (const [i, org] of orgs.entries()) {
      const contract = contracts[i]!;
      const mspId = network.orgs[org].mspId;
      const started = Date.now();
      const submitted = await contract.submitAsync('org.flexproof.system:RecordHeartbeat', {
        arguments: [JSON.stringify({ note: `hello from the ${org}` })],
      });
      const status = await submitted.getStatus();
      if (!status.successful) throw new Error(`${mspId}: transaction ${status.transactionId} failed with validation code ${status.code}`);
      console.log(`${mspId.padEnd(14)} submitted heartbeat  tx ${status.transactionId.slice(0, 16)}…  block ${status.blockNumber}  ${Date.now() - started} ms  (endorsed by AggregatorMSP and DsoMSP)`);
    }
    for (const [i, org] of orgs.entries()) {
      const other = orgs[1 - i]!;
      const record = JSON.parse(utf8.decode(await contracts[i]!.evaluateTransaction(
        'org.flexproof.system:GetHeartbeat', JSON.stringify({ mspId: network.orgs[other].mspId }))));
      console.log(`${network.orgs[org].mspId.padEnd(14)} reads ${record.mspId}'s heartbeat from its own peer: "${record.note}" at ${record.time}`);
    }
  } finally {
    connections.forEach((c) => c.close());
  }
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
