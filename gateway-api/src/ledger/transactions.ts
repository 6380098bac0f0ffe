/**
 * The chaincode transactions the gateway calls: the protocol's transaction map
 * (@flexproof/protocol TRANSACTIONS: contract, name, input and output schema, kind) is
 * the one list. This module adds calls typed by it, so a route names a transaction by
 * its key and gets the protocol's type of the answer.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { TRANSACTIONS, TX, type TransactionKey, type Transactions } from '@flexproof/protocol';
import type { LedgerPort, SubmitOptions } from './ledger-port';

export { TRANSACTIONS, TX, type TransactionKey, type TransactionName } from '@flexproof/protocol';

/** The argument of a transaction, as its input schema types it. */
export type TransactionInput<K extends TransactionKey> = Transactions[K]['input'] extends infer I extends TSchema ? Static<I> : undefined;
/** The chaincode's answer, as its output schema types it. */
export type TransactionOutput<K extends TransactionKey> = Static<Transactions[K]['output']>;

/*
 * The ledger port answers `unknown` (parsed JSON). The casts below are the one place it
 * becomes the protocol's type: the chaincode is the authority on its answer, and the
 * protocol's records are its model (test/unit/protocol/schemas.test.ts), so the answer is
 * not validated again on every call.
 */

/** Runs a query (a transaction of kind evaluate). */
export async function evaluate<K extends TransactionKey>(ledger: LedgerPort, key: K, argument: TransactionInput<K>): Promise<TransactionOutput<K>> {
  return (await ledger.evaluate(TX[key], argument)) as TransactionOutput<K>;
}

/** Submits a transaction (of kind submit) and waits for its commit. */
export async function submit<K extends TransactionKey>(
  ledger: LedgerPort,
  key: K,
  argument: TransactionInput<K>,
  options?: SubmitOptions,
): Promise<{ txId: string; result: TransactionOutput<K> }> {
  const outcome = await ledger.submit(TX[key], argument, options);
  return { txId: outcome.txId, result: outcome.result as TransactionOutput<K> };
}

/** Whether a transaction is submitted or evaluated (the map's word, not the caller's). */
export function kindOf(key: TransactionKey): 'submit' | 'evaluate' {
  return TRANSACTIONS[key].kind;
}
