/**
 * Thin access to world state: records as sorted-key JSON under composite keys, index
 * entries as composite keys with an empty-ish value, token movements applied through
 * the token rules, one event per transaction. Only composite keys: the state database
 * is LevelDB, so there are no rich queries.
 *
 * Fabric reads committed state, not this transaction's own writes: every function
 * here reads before it writes, and a transaction never writes one key twice.
 */
import type { Context } from 'fabric-contract-api';
import { ChaincodeError } from './errors';
import type { Account, Supply } from './model';
import { stableStringify } from './stable-json';
import { accountsTouched, applyMovements, changesSupply, type TokenMovement, type TokenState } from './rules/tokens';

/** Object types of the composite keys (records, then indexes named `record~by`). */
export const KEY = {
  meter: 'meter',
  prosumer: 'prosumer',
  meterByCongestionPoint: 'meter~cp',
  account: 'account',
  supply: 'supply',
  redemption: 'redemption',
  request: 'flexrequest',
  offer: 'flexoffer',
  offerByRequest: 'flexoffer~request',
  order: 'flexorder',
  orderByRequest: 'flexorder~request',
  enrollment: 'enrollment',
  enrollmentByOrder: 'enrollment~order',
  enrollmentByOrderMeter: 'enrollment~order~meter',
  /** [circuitId, enrollmentId] of every live enrollment (offered, accepted, active): retirement checks it. */
  liveEnrollmentByCircuit: 'enrollment~circuit',
  verificationKey: 'vkey',
  auditorKey: 'auditorkey',
  /** [keyHash, auditorId]: a key is registered under one auditor id only. */
  auditorKeyByHash: 'auditorkey~hash',
} as const;

const INDEX_VALUE = Buffer.from([0]);

function key(ctx: Context, type: string, attrs: readonly string[]): string {
  return ctx.stub.createCompositeKey(type, [...attrs]);
}

export async function readRecord<T>(ctx: Context, type: string, attrs: readonly string[]): Promise<T | undefined> {
  const bytes = await ctx.stub.getState(key(ctx, type, attrs));
  if (!bytes || bytes.length === 0) return undefined;
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
}

export async function requireRecord<T>(ctx: Context, type: string, attrs: readonly string[], what: string): Promise<T> {
  const record = await readRecord<T>(ctx, type, attrs);
  if (record === undefined) throw new ChaincodeError('NOT_FOUND', `${what} not found`);
  return record;
}

export async function recordExists(ctx: Context, type: string, attrs: readonly string[]): Promise<boolean> {
  const bytes = await ctx.stub.getState(key(ctx, type, attrs));
  return !!bytes && bytes.length > 0;
}

export async function writeRecord(ctx: Context, type: string, attrs: readonly string[], value: unknown): Promise<void> {
  await ctx.stub.putState(key(ctx, type, attrs), Buffer.from(stableStringify(value), 'utf8'));
}

export async function writeIndex(ctx: Context, type: string, attrs: readonly string[]): Promise<void> {
  await ctx.stub.putState(key(ctx, type, attrs), INDEX_VALUE);
}

export async function deleteIndex(ctx: Context, type: string, attrs: readonly string[]): Promise<void> {
  await ctx.stub.deleteState(key(ctx, type, attrs));
}

/** Attribute lists of the entries of an index under a partial key, in key order. */
export async function listIndex(ctx: Context, type: string, partial: readonly string[]): Promise<string[][]> {
  const out: string[][] = [];
  for await (const kv of ctx.stub.getStateByPartialCompositeKey(type, [...partial])) {
    out.push(ctx.stub.splitCompositeKey(kv.key).attributes);
  }
  return out;
}

/** All records of a type under a partial key, in key order. */
export async function listRecords<T>(ctx: Context, type: string, partial: readonly string[]): Promise<T[]> {
  const out: T[] = [];
  for await (const kv of ctx.stub.getStateByPartialCompositeKey(type, [...partial])) {
    out.push(JSON.parse(Buffer.from(kv.value).toString('utf8')) as T);
  }
  return out;
}

export interface HistoryEntry {
  txId: string;
  time: string;
  isDelete: boolean;
  value: unknown;
}

/** Every committed version of a record, as Fabric's history database returns them. */
export async function recordHistory(ctx: Context, type: string, attrs: readonly string[]): Promise<HistoryEntry[]> {
  const out: HistoryEntry[] = [];
  for await (const mod of ctx.stub.getHistoryForKey(key(ctx, type, attrs))) {
    const millis = Number(mod.timestamp.seconds.toString()) * 1000 + Math.floor(mod.timestamp.nanos / 1e6);
    const text = mod.value && mod.value.length > 0 ? Buffer.from(mod.value).toString('utf8') : '';
    out.push({
      txId: mod.txId,
      time: new Date(millis).toISOString(),
      isDelete: mod.isDelete,
      value: text ? (JSON.parse(text) as unknown) : null,
    });
  }
  return out;
}

/**
 * The single event of a transaction (Fabric keeps only the last one set): a name and a
 * JSON payload with the ids the gateway needs to route it, never a secret.
 */
export function emitEvent(ctx: Context, name: string, payload: Record<string, unknown>): void {
  ctx.stub.setEvent(name, Buffer.from(stableStringify({ ...payload, txId: ctx.stub.getTxID() }), 'utf8'));
}

// ---- tokens ---------------------------------------------------------------------

export async function readBalance(ctx: Context, accountId: string): Promise<bigint> {
  const account = await readRecord<Account>(ctx, KEY.account, [accountId]);
  return account ? BigInt(account.balance) : 0n;
}

export async function readSupply(ctx: Context): Promise<Supply> {
  return (await readRecord<Supply>(ctx, KEY.supply, [])) ?? { minted: '0', burned: '0' };
}

/**
 * Reads the accounts (and the supply, if minting or burning) the movements touch,
 * applies them with the token rules, and writes back what changed.
 */
export async function applyTokenMovements(ctx: Context, movements: readonly TokenMovement[]): Promise<void> {
  if (movements.length === 0) return;
  const ids = accountsTouched(movements);
  const balances = new Map<string, bigint>();
  for (const id of ids) balances.set(id, await readBalance(ctx, id));
  const withSupply = changesSupply(movements);
  const supply = withSupply ? await readSupply(ctx) : { minted: '0', burned: '0' };
  const before: TokenState = { balances, minted: BigInt(supply.minted), burned: BigInt(supply.burned) };
  const after = applyMovements(before, movements);
  for (const id of ids) {
    const balance = after.balances.get(id) ?? 0n;
    if (balance !== balances.get(id)) {
      const account: Account = { accountId: id, balance: balance.toString() };
      await writeRecord(ctx, KEY.account, [id], account);
    }
  }
  if (withSupply) {
    const next: Supply = { minted: after.minted.toString(), burned: after.burned.toString() };
    await writeRecord(ctx, KEY.supply, [], next);
  }
}
