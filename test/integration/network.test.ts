import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { StatusCode, type Contract } from '@hyperledger/fabric-gateway';
import {
  connectToPeer,
  identityOf,
  readNetworkDescriptor,
  type FabricConnection,
  type NetworkDescriptor,
} from '@flexproof/gateway-api';
import { NETWORK_JSON, fabricBinDir } from '../support/paths';

const utf8 = new TextDecoder();
const utf8encode = (text: string) => new TextEncoder().encode(text);
const SYSTEM = 'org.flexproof.system';

describe('native Fabric network (real peers, orderer and chaincode service)', () => {
  let network: NetworkDescriptor;
  const connections: FabricConnection[] = [];
  let aggregator: Contract;
  let dso: Contract;

  before(async () => {
    network = await readNetworkDescriptor(NETWORK_JSON);
    for (const org of ['aggregator', 'dso'] as const) {
      const connection = await connectToPeer(identityOf(network.orgs[org]));
      connections.push(connection);
      const contract = connection.gateway.getNetwork(network.channel).getContract(network.chaincode);
      if (org === 'aggregator') aggregator = contract;
      else dso = contract;
    }
  });

  after(() => connections.forEach((c) => c.close()));

  it('answers a query on each organisation peer with the caller identity', async () => {
    for (const [contract, mspId] of [[aggregator, 'AggregatorMSP'], [dso, 'DsoMSP']] as const) {
      const ping = JSON.parse(utf8.decode(await contract.evaluateTransaction(`${SYSTEM}:Ping`)));
      assert.equal(ping.chaincode, 'flexproof');
      assert.equal(ping.mspId, mspId);
    }
  });

  it('commits a transaction of each organisation, endorsed by both, and reads it back from the other peer', async () => {
    const note = `integration ${Date.now()}`;
    for (const [writer, reader, mspId] of [[aggregator, dso, 'AggregatorMSP'], [dso, aggregator, 'DsoMSP']] as const) {
      const result = await writer.submitAsync(`${SYSTEM}:RecordHeartbeat`, { arguments: [JSON.stringify({ note })] });
      const status = await result.getStatus();
      assert.equal(status.successful, true, `commit status ${status.code}`);
      // The other peer commits the block a moment later, under load up to seconds.
      let stored: { note?: string; txId?: string } = {};
      for (let i = 0; i < 50 && stored.note !== note; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, 200));
        stored = JSON.parse(utf8.decode(await reader.evaluateTransaction(`${SYSTEM}:GetHeartbeat`, JSON.stringify({ mspId })).catch(() => utf8encode('{}')))) as typeof stored;
      }
      assert.equal(stored.note, note);
      assert.equal(stored.txId, result.getTransactionId());
    }
  });

  it('rejects at commit a transaction endorsed by only one organisation (endorsement policy)', async () => {
    const proposal = aggregator.newProposal(`${SYSTEM}:RecordHeartbeat`, {
      arguments: [JSON.stringify({ note: 'aggregator alone' })],
      endorsingOrganizations: ['AggregatorMSP'],
    });
    const transaction = await proposal.endorse();
    const commit = await transaction.submit();
    const status = await commit.getStatus();
    assert.equal(status.successful, false);
    assert.equal(status.code, StatusCode.ENDORSEMENT_POLICY_FAILURE);
    const stored = JSON.parse(utf8.decode(await dso.evaluateTransaction(`${SYSTEM}:GetHeartbeat`, JSON.stringify({ mspId: 'AggregatorMSP' }))));
    assert.notEqual(stored.note, 'aggregator alone', 'the rejected write must not reach the state');
  });

  it('refuses a client whose certificate comes from an unknown CA', async () => {
    // A CA outside the consortium: cryptogen gives it its own root, unknown to the channel.
    const dir = mkdtempSync(path.join(tmpdir(), 'flexproof-rogue-'));
    try {
      const config = path.join(dir, 'crypto-config.yaml');
      writeFileSync(config, 'PeerOrgs:\n  - Name: Rogue\n    Domain: aggregator.flexproof.local\n    EnableNodeOUs: true\n    Users:\n      Count: 1\n');
      const cryptogen = path.join(fabricBinDir(), 'cryptogen');
      execFileSync(cryptogen, ['generate', `--config=${config}`, `--output=${dir}`]);
      const user = path.join(dir, 'peerOrganizations', 'aggregator.flexproof.local', 'users', 'User1@aggregator.flexproof.local', 'msp');
      const certFile = readdirSync(path.join(user, 'signcerts'))[0] ?? '';
      const rogue = await connectToPeer({
        ...identityOf(network.orgs.aggregator),
        certPath: path.join(user, 'signcerts', certFile),
        keyPath: path.join(user, 'keystore', 'priv_sk'),
      });
      try {
        const contract = rogue.gateway.getNetwork(network.channel).getContract(network.chaincode);
        await assert.rejects(contract.evaluateTransaction(`${SYSTEM}:Ping`), (err: Error & { code?: number; details?: { mspId: string; message: string }[] }) => {
          // The peer's gateway answers FAILED_PRECONDITION (gRPC 9) with the endorser's
          // refusal of the creator identity in the details.
          assert.equal(err.name, 'GatewayError');
          assert.equal(err.code, 9);
          assert.equal(err.details?.[0]?.mspId, 'AggregatorMSP');
          assert.match(err.details?.[0]?.message ?? '', /access denied/);
          return true;
        });
      } finally {
        rogue.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
