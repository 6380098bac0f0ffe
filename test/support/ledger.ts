/**
 * Test helpers over the real network: one Fabric Gateway connection per organisation
 * and typed submit/evaluate of the flexproof chaincode's JSON transactions.
 */
import assert from 'node:assert/strict';
import sinon from 'sinon';
import type { Contract } from '@hyperledger/fabric-gateway';
import { connectToPeer, identityOf, readNetworkDescriptor, type FabricConnection } from '@flexproof/gateway-api';
import { readFileSync } from 'node:fs';
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
  const submitted = await contract.submitAsync(tx, { arguments: [JSON.stringify(arg)] }).catch((err: unknown) => {
    // The chaincode's reason is in the details of an endorsement error, not in its message.
    const details = ((err as { details?: { message?: string }[] }).details ?? []).map((d) => d.message).filter(Boolean);
    throw details.length > 0 ? new Error(`${tx}: ${details.join('; ')}`, { cause: err }) : err;
  });
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

/**
 * Submits `contract:Tx` in a proposal whose timestamp the caller chose, as a member's
 * own Fabric client can (Fabric does not check it; the gateway SDK stamps proposals with
 * `new Date()`, which is faked for the moment the proposal is built). Endorsement,
 * submission and commit then run on the real clock. Resolves with the parsed result if
 * every step passes; rejects with the endorsement error otherwise.
 */
export async function submitStampedAt<T = Record<string, unknown>>(contract: Contract, tx: string, arg: unknown, stampMs: number): Promise<Submitted<T>> {
  const clock = sinon.useFakeTimers({ now: stampMs, toFake: ['Date'] });
  let proposal;
  try {
    proposal = contract.newProposal(tx, { arguments: [JSON.stringify(arg)] });
  } finally {
    clock.restore();
  }
  const transaction = await proposal.endorse();
  const submitted = await transaction.submit();
  const status = await submitted.getStatus();
  assert.equal(status.successful, true, `${tx} committed with validation code ${status.code}`);
  return { result: JSON.parse(utf8.decode(transaction.getResult())) as T, txId: transaction.getTransactionId() };
}

/** What the running network says about itself in network.json (written by `network:up`). */
export interface NetworkFacts {
  channel: string;
  chaincode: string;
  /** How far a proposal's timestamp may be from a peer's clock; claims open this long after a deadline. */
  maxClockSkewSeconds: number;
}

export function networkFacts(): NetworkFacts {
  const json = JSON.parse(readFileSync(NETWORK_JSON, 'utf8')) as Partial<NetworkFacts>;
  assert.ok(json.channel && json.chaincode, `${NETWORK_JSON} names no channel or chaincode`);
  assert.ok(typeof json.maxClockSkewSeconds === 'number', `${NETWORK_JSON} has no maxClockSkewSeconds: restart the network (npm run network:down && npm run network:up)`);
  return { channel: json.channel, chaincode: json.chaincode, maxClockSkewSeconds: json.maxClockSkewSeconds };
}

/** The fields that bind a prosumer signature to this network's channel and chaincode. */
export function ledgerTarget(): { channel: string; chaincode: string } {
  const { channel, chaincode } = networkFacts();
  return { channel, chaincode };
}

/**
 * `submit` for set-up steps that follow another organisation's transaction: the other
 * peer may not have committed that block yet when this proposal reaches it (it answers
 * NOT_FOUND, or an endorsement mismatch), so a refused endorsement is tried again for a
 * few seconds. Never for a step whose refusal a test asserts.
 */
export async function submitAfterLag<T = Record<string, unknown>>(contract: Contract, tx: string, arg: unknown, attempts = 15): Promise<Submitted<T>> {
  for (let i = 1; ; i++) {
    try {
      return await submit<T>(contract, tx, arg);
    } catch (err) {
      if (i >= attempts || (err as { cause?: { name?: string } }).cause?.name !== 'EndorseError') throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
