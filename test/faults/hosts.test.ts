/**
 * Hosts of their own (issue 13): the network of network/config/topology.loopback.env,
 * seven hosts on one machine (127.0.0.2 to 127.0.0.6: three orderers, then each
 * organisation's peer and chaincode server), in its own state directory on ports
 * + 20000. Each node binds its own address and nothing else, its TLS certificate is
 * issued for that address, and a transaction endorsed by both organisations commits.
 * A deployment across machines uses the same scripts with real host names.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { connectToPeer, identityOf, readNetworkDescriptor } from '@flexproof/gateway-api';
import { NETWORK_SCRIPTS, ROOT_DIR } from '../support/paths';

const STATE = path.join(ROOT_DIR, '.flexproof', 'network-hosts');
const TOPOLOGY = path.join(ROOT_DIR, 'network', 'config', 'topology.loopback.env');

/** Sources a shell file of `: "${NAME:=value}"` lines and returns the NAME=value pairs matching `pattern`. */
function shellVars(file: string, pattern: string): Record<string, string> {
  const script = `source ${JSON.stringify(file)}; compgen -v | grep -E '${pattern}' | while read -r v; do echo "$v=\${!v}"; done`;
  const out = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH } }).stdout;
  return Object.fromEntries(out.trim().split('\n').map((l) => l.split('=') as [string, string]));
}

const hosts = shellVars(TOPOLOGY, '_HOST$');
const ports = Object.fromEntries(
  Object.entries(shellVars(path.join(ROOT_DIR, 'network', 'config', 'network.env'), '_PORT$')).map(([k, v]) => [k, String(Number(v) + 20_000)]),
);
/** The scripts' environment: this suite's network, not the fault suites' one in process.env. */
const env = { ...process.env, ...ports, ORDERERS: '3', FLEXPROOF_NETWORK_DIR: STATE, FLEXPROOF_TOPOLOGY: TOPOLOGY };

function script(name: string, args: string[] = []): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn('bash', [path.join(NETWORK_SCRIPTS, name), ...args], { env, stdio: 'inherit' });
    child.on('exit', resolve);
  });
}

/** The host each component must bind: orderers by index, peers and chaincode servers by organisation. */
function hostOf(component: string): string | undefined {
  if (component.startsWith('orderer')) return hosts[`ORDERER${component.slice('orderer'.length) || '0'}_HOST`];
  if (component.endsWith('-aggregator')) return hosts.AGGREGATOR_HOST;
  if (component.endsWith('-dso')) return hosts.DSO_HOST;
  return undefined;
}

describe('hosts of their own: seven loopback hosts, each node on its own address', function () {
  this.timeout(300_000);

  before(async () => {
    await script('down.sh', ['--clean']);
    assert.equal(await script('up.sh'), 0, 'network:up on the loopback topology');
  });
  after(async () => {
    if (process.env.FLEXPROOF_KEEP_NETWORK !== '1') await script('down.sh', ['--clean']);
  });

  it('the topology names a different host for every node', () => {
    const used = ['ORDERER0_HOST', 'ORDERER1_HOST', 'ORDERER2_HOST', 'AGGREGATOR_HOST', 'DSO_HOST'].map((k) => hosts[k]);
    assert.equal(new Set(used).size, used.length);
    assert.ok(!used.includes('127.0.0.1'));
  });

  it('every component listens on its own host only (nothing on 127.0.0.1 or any other address)', () => {
    const listeners = spawnSync('ss', ['-Hltnp'], { encoding: 'utf8' }).stdout.split('\n');
    const components = readdirSync(path.join(STATE, 'run')).filter((f) => f.endsWith('.pid')).map((f) => f.slice(0, -'.pid'.length));
    assert.equal(components.length, 7, components.join(', '));
    for (const component of components) {
      const pid = readFileSync(path.join(STATE, 'run', `${component}.pid`), 'utf8').trim();
      const addresses = listeners.filter((l) => l.includes(`pid=${pid},`)).map((l) => l.trim().split(/\s+/)[3] as string);
      assert.ok(addresses.length > 0, `${component} listens`);
      for (const address of addresses) {
        assert.equal(address.slice(0, address.lastIndexOf(':')), hostOf(component), `${component} listens on ${address}`);
      }
    }
  });

  it('each node\'s TLS certificate is issued for its host', () => {
    const crypto = path.join(STATE, 'crypto');
    const cert = (file: string) => new X509Certificate(readFileSync(path.join(crypto, file)));
    for (const i of [0, 1, 2]) {
      const san = cert(`ordererOrganizations/orderer.flexproof.local/orderers/orderer${i}.orderer.flexproof.local/tls/server.crt`).subjectAltName ?? '';
      assert.match(san, new RegExp(`IP Address:${hosts[`ORDERER${i}_HOST`]?.replace(/\./g, '\\.')}(,|$)`));
    }
    for (const [org, host] of [['aggregator', hosts.AGGREGATOR_HOST], ['dso', hosts.DSO_HOST]] as const) {
      for (const node of ['peer0', 'ccserver']) {
        const san = cert(`peerOrganizations/${org}.flexproof.local/peers/${node}.${org}.flexproof.local/tls/server.crt`).subjectAltName ?? '';
        assert.match(san, new RegExp(`IP Address:${host?.replace(/\./g, '\\.')}(,|$)`), `${node}.${org}`);
      }
    }
  });

  it('a transaction endorsed by both organisations commits, and both peers read it', async () => {
    const network = await readNetworkDescriptor(path.join(STATE, 'network.json'));
    assert.equal(network.orgs.aggregator.peerEndpoint, `${hosts.AGGREGATOR_HOST}:${ports.AGGREGATOR_PEER_PORT}`);
    const dso = await connectToPeer(identityOf(network.orgs.dso));
    const aggregator = await connectToPeer(identityOf(network.orgs.aggregator));
    try {
      const contract = (c: typeof dso) => c.gateway.getNetwork(network.channel).getContract(network.chaincode);
      const utf8 = new TextDecoder();
      await contract(dso).submitTransaction('org.flexproof.tokens:Mint', JSON.stringify({ account: 'org:AggregatorMSP', amount: '7' }));
      let balance = '';
      for (let i = 0; i < 20 && balance !== '7'; i++) {
        const answer = await contract(aggregator).evaluateTransaction('org.flexproof.tokens:GetBalance', JSON.stringify({ account: 'org:AggregatorMSP' }));
        balance = (JSON.parse(utf8.decode(answer)) as { balance: string }).balance;
        if (balance !== '7') await new Promise((r) => setTimeout(r, 250));
      }
      assert.equal(balance, '7', 'the aggregator\'s peer committed the DSO\'s mint');
    } finally {
      dso.close();
      aggregator.close();
    }
  });
});
