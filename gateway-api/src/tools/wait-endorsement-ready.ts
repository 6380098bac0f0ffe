/**
 * Waits until each organisation's Gateway can gather endorsements from both
 * organisations' peers for the flexproof chaincode. Service discovery learns the other
 * organisation's peer and its chaincode through gossip, which lags the health checks
 * by a moment after a (re)start. Endorses a read-only Ping (never submitted).
 *
 * usage: node wait-endorsement-ready.js NETWORK_JSON [TIMEOUT_SECONDS]
 */
import { connectToPeer } from '../fabric/connect';
import { identityOf, readNetworkDescriptor } from '../fabric/network-descriptor';

async function main(): Promise<void> {
  const [descriptorPath, timeoutArg] = process.argv.slice(2);
  if (!descriptorPath) throw new Error('usage: wait-endorsement-ready NETWORK_JSON [TIMEOUT_SECONDS]');
  const deadline = Date.now() + Number(timeoutArg ?? 60) * 1000;
  const network = await readNetworkDescriptor(descriptorPath);
  for (const org of ['aggregator', 'dso'] as const) {
    const connection = await connectToPeer(identityOf(network.orgs[org]));
    try {
      const contract = connection.gateway.getNetwork(network.channel).getContract(network.chaincode);
      for (;;) {
        try {
          await contract.newProposal('org.flexproof.system:Ping').endorse();
          break;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    } finally {
      connection.close();
    }
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
