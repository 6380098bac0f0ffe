/**
 * Test helpers over the real network: one Fabric Gateway connection per organisation
 * and typed submit/evaluate of the flexproof chaincode's JSON transactions.
 */
import assert from 'node:assert/strict';
import type { Contract } from '@hyperledger/fabric-gateway';
import { connectToPeer, identityOf, readNetworkDescriptor, type FabricConnection } from '@flexproof/gateway-api';
import { NETWORK_JSON } from './paths';

const utf8 = new TextDecoder();

export interface OrgClients {
  dso: Contract;
  aggregator: Contract;
  close(): void;
}

export async function connectOrgs(): Promise<OrgClients> {
  const network = await readNetworkDescriptor(NETWORK_JSON);
  const connections: FabricConnection[] = [];
  const contractOf = async (org: 'dso' | 'aggregator'): Promise<Contract> => {
    const connection = await connectToPeer(identityOf(network.orgs[org]));
    connections.push(connection);
    return connection.gateway.getNetwork(network.channel).getContract(network.chaincode);
  };
  return {
    dso: await contractOf('dso'),
    aggregator: await contractOf('aggregator'),
    close: () => connections.forEach((c) => c.close()),
  };
}

export interface Submitted<T> {
  result: T;
  txId: string;
}

/** Submits `contract:Tx` with one JSON argument, waits for a valid commit, returns the parsed result. */
export async function submit<T = Record<string, unknown>>(contract: Contract, tx: string, arg: unknown): Promise<Submitted<T>> {
  const submitted = await contract.submitAsync(tx, { arguments: [JSON.stringify(arg)] });
  const status = await submitted.getStatus();
  assert.equal(status.successful, true, `${tx} committed with validation code ${status.code}`);
  return { result: JSON.parse(utf8.decode(submitted.getResult())) as T, txId: submitted.getTransactionId() };
}

export async function evaluate<T = Record<string, unknown>>(contract: Contract, tx: string, arg: unknown = {}): Promise<T> {
  return JSON.parse(utf8.decode(await contract.evaluateTransaction(tx, JSON.stringify(arg)))) as T;
}

/** The chaincode's `[CODE]` of a refused endorsement or evaluation. */
export function chaincodeErrorCode(err: unknown): string | undefined {
  const messages: string[] = [];
  const e = err as { message?: string; details?: { message?: string }[] };
  for (const d of e.details ?? []) if (d.message) messages.push(d.message);
  if (e.message) messages.push(e.message);
  for (const m of messages) {
    const match = /\[([A-Z_]+)\] /.exec(m);
    if (match) return match[1];
  }
  return undefined;
}

/** Asserts that the transaction is refused by the chaincode with `code`. */
export async function assertRefused(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal(chaincodeErrorCode(err), code, `expected [${code}], got: ${(err as Error).message}`);
    return true;
  });
}
