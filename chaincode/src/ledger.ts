/**
 * Thin access to world state: records as sorted-key JSON under composite keys, index
 * entries as composite keys with an empty-ish value, token movements applied through
 * the token rules, one event per transaction. Only composite keys: the state database
 * is LevelDB, so there are no rich queries.
 *
 * Fabric reads committed state, not this transaction's own writes. Every access here
 * goes through a transaction-scoped overlay (keyed on the composite key) so that a
 * transaction reads its own writes: reads look in the overlay first, range reads merge
 * the overlay's entries of the range. By default a write goes to the overlay and to the
 * stub at once (write-through). A batch transaction calls `bufferWrites` first: then
 * writes stay in the overlay, `snapshotWrites`/`restoreWrites` undo one refused item,
 * and `flushWrites` hands the surviving writes to the stub once, at the end.
 */
import type { Context } from 'fabric-contract-api';
import { ChaincodeError } from './errors';
import type { Account, Supply } from './model';
import { stableStringify } from '@flexproof/protocol';
import { accountsTouched, applyMovements, type TokenMovement, type TokenState } from './rules/tokens';

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
  /**
   * [accountId, txId, seq] -> `{ amount: "<signed decimal>" }`: a change of an `org:`
   * account written by one transaction; the balance is the base record plus all of them.
   */
  accountDelta: 'account~delta',
  /** [txId, seq] -> `{ minted, burned }`: what one transaction minted and burned. */
  supplyDelta: 'supply~delta',
} as const;

const INDEX_VALUE = Buffer.from([0]);

// ---- the transaction overlay ----------------------------------------------------

interface Overlay {
  /** Composite key -> the value this transaction wrote, or null for a delete; in write order. */
  writes: Map<string, Buffer | null>;
  /** True between bufferWrites and flushWrites: writes wait in the overlay. */
  buffered: boolean;
  /**
   * Committed values already read (undefined: absent). The peer simulates a transaction
   * against one committed state, so a second read would return the same: a batch that
   * reads a key per item (the verification key) asks the peer once.
   */
  reads: Map<string, Buffer | undefined>;
}

// Fabric makes a new Context for every transaction, so the overlay lives exactly as long as it.
const overlays = new WeakMap<Context, Overlay>();

function overlayOf(ctx: Context): Overlay {
  let overlay = overlays.get(ctx);
  if (!overlay) {
    overlay = { writes: new Map(), buffered: false, reads: new Map() };
    overlays.set(ctx, overlay);
  }
  return overlay;
}

/** The writes of this transaction so far, as restoreWrites takes them back. */
export type WriteSnapshot = ReadonlyMap<string, Buffer | null>;

/**
 * From now on writes wait in the overlay until flushWrites. Must come before the
 * transaction's first write (an earlier write already reached the stub and could not be
 * undone by restoreWrites).
 */
export function bufferWrites(ctx: Context): void {
  const overlay = overlayOf(ctx);
  if (overlay.writes.size > 0) throw new Error('bufferWrites: the transaction has already written');
  overlay.buffered = true;
}

export function snapshotWrites(ctx: Context): WriteSnapshot {
  const overlay = overlayOf(ctx);
  if (!overlay.buffered) throw new Error('snapshotWrites: writes are not buffered');
  return new Map(overlay.writes);
}

/** Undoes every write made since the snapshot (they never reached the stub). */
export function restoreWrites(ctx: Context, snapshot: WriteSnapshot): void {
  const overlay = overlayOf(ctx);
  if (!overlay.buffered) throw new Error('restoreWrites: writes are not buffered');
  overlay.writes = new Map(snapshot);
}

/** Hands the buffered writes to the stub, one per key, and returns to write-through. */
export async function flushWrites(ctx: Context): Promise<void> {
  const overlay = overlayOf(ctx);
  if (!overlay.buffered) return;
  for (const [k, value] of overlay.writes) {
    if (value === null) await ctx.stub.deleteState(k);
    else await ctx.stub.putState(k, value);
  }
  overlay.buffered = false;
}

async function getBytes(ctx: Context, k: string): Promise<Buffer | undefined> {
  const overlay = overlayOf(ctx);
  if (overlay.writes.has(k)) return overlay.writes.get(k) ?? undefined;
  if (overlay.reads.has(k)) return overlay.reads.get(k);
  const bytes = await ctx.stub.getState(k);
  const value = bytes && bytes.length > 0 ? Buffer.from(bytes) : undefined;
  overlay.reads.set(k, value);
  return value;
}

async function putBytes(ctx: Context, k: string, value: Buffer): Promise<void> {
  const overlay = overlayOf(ctx);
  overlay.writes.delete(k); // keeps write order = order of the last write per key
  overlay.writes.set(k, value);
  if (!overlay.buffered) await ctx.stub.putState(k, value);
}

async function deleteBytes(ctx: Context, k: string): Promise<void> {
  const overlay = overlayOf(ctx);
  overlay.writes.delete(k);
  overlay.writes.set(k, null);
  if (!overlay.buffered) await ctx.stub.deleteState(k);
}

/**
 * The entries of a range under a partial composite key, committed state merged with this
 * transaction's writes, in key order. The stub's range read stays in the read set, so
 * Fabric still re-checks the range at commit.
 */
async function rangeEntries(ctx: Context, type: string, partial: readonly string[]): Promise<[string, Buffer][]> {
  const merged = new Map<string, Buffer>();
  for await (const kv of ctx.stub.getStateByPartialCompositeKey(type, [...partial])) {
    merged.set(kv.key, Buffer.from(kv.value));
  }
  const prefix = key(ctx, type, partial);
  for (const [k, value] of overlayOf(ctx).writes) {
    if (!k.startsWith(prefix)) continue;
    if (value === null) merged.delete(k);
    else merged.set(k, value);
  }
  return [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

// ---- records and indexes --------------------------------------------------------

function key(ctx: Context, type: string, attrs: readonly string[]): string {
  return ctx.stub.createCompositeKey(type, [...attrs]);
}

export async function readRecord<T>(ctx: Context, type: string, attrs: readonly string[]): Promise<T | undefined> {
  const bytes = await getBytes(ctx, key(ctx, type, attrs));
  if (bytes === undefined) return undefined;
  return JSON.parse(bytes.toString('utf8')) as T;
}

/** Bound of the parsed-record cache of readSharedRecord (records read by every settlement: a handful of verification keys). */
export const SHARED_RECORD_CACHE_LIMIT = 64;

const sharedRecords = new Map<string, { bytes: Buffer; value: unknown }>();

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/**
 * readRecord for a record many transactions read and few write (a verification key, read
 * twice per item of every settlement batch): the bytes are still read through this
 * transaction (so its read set is what Fabric checks), but parsed once per process for as
 * long as they stay the same bytes. The value is frozen, since every reader shares it.
 */
export async function readSharedRecord<T>(ctx: Context, type: string, attrs: readonly string[]): Promise<Readonly<T> | undefined> {
  const k = key(ctx, type, attrs);
  const bytes = await getBytes(ctx, k);
  if (bytes === undefined) return undefined;
  const cached = sharedRecords.get(k);
  if (cached && cached.bytes.equals(bytes)) return cached.value as T;
  const value = deepFreeze(JSON.parse(bytes.toString('utf8')) as T);
  if (!cached && sharedRecords.size >= SHARED_RECORD_CACHE_LIMIT) sharedRecords.clear();
  sharedRecords.set(k, { bytes: Buffer.from(bytes), value });
  return value;
}

export async function requireRecord<T>(ctx: Context, type: string, attrs: readonly string[], what: string): Promise<T> {
  const record = await readRecord<T>(ctx, type, attrs);
  if (record === undefined) throw new ChaincodeError('NOT_FOUND', `${what} not found`);
  return record;
}

export async function recordExists(ctx: Context, type: string, attrs: readonly string[]): Promise<boolean> {
  return (await getBytes(ctx, key(ctx, type, attrs))) !== undefined;
}

export async function writeRecord(ctx: Context, type: string, attrs: readonly string[], value: unknown): Promise<void> {
  await putBytes(ctx, key(ctx, type, attrs), Buffer.from(stableStringify(value), 'utf8'));
}

export async function deleteRecord(ctx: Context, type: string, attrs: readonly string[]): Promise<void> {
  await deleteBytes(ctx, key(ctx, type, attrs));
}

export async function writeIndex(ctx: Context, type: string, attrs: readonly string[]): Promise<void> {
  await putBytes(ctx, key(ctx, type, attrs), INDEX_VALUE);
}

export async function deleteIndex(ctx: Context, type: string, attrs: readonly string[]): Promise<void> {
  await deleteBytes(ctx, key(ctx, type, attrs));
}

/** Attribute lists of the entries of an index under a partial key, in key order. */
export async function listIndex(ctx: Context, type: string, partial: readonly string[]): Promise<string[][]> {
  return (await rangeEntries(ctx, type, partial)).map(([k]) => ctx.stub.splitCompositeKey(k).attributes);
}

/** All records of a type under a partial key, in key order. */
export async function listRecords<T>(ctx: Context, type: string, partial: readonly string[]): Promise<T[]> {
  return (await rangeEntries(ctx, type, partial)).map(([, v]) => JSON.parse(v.toString('utf8')) as T);
}

/** Records under a partial key with their attributes, in key order. */
async function listKeyed<T>(ctx: Context, type: string, partial: readonly string[]): Promise<{ attributes: string[]; value: T }[]> {
  return (await rangeEntries(ctx, type, partial)).map(([k, v]) => ({
    attributes: ctx.stub.splitCompositeKey(k).attributes,
    value: JSON.parse(v.toString('utf8')) as T,
  }));
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
//
// `org:` accounts and the supply are written by nearly every settlement, so a single
// record for each would make every pair of concurrent transactions conflict (MVCC).
// They are kept as a base record plus one delta record per transaction that changed
// them. A credit or a mint writes its delta without reading anything; a debit reads the
// folded balance through a range read (Fabric re-checks the range at commit, so two
// concurrent debits cannot overdraw) and writes a negative delta. CompactBalances folds
// the deltas into the base records.

/** What a delta key's seq is: one delta per account (and one supply delta) per transaction. */
const DELTA_SEQ = '0';

export interface AccountDelta {
  amount: string;
}

export type SupplyDelta = Supply;

/** Accounts kept as base record + deltas: the organisations' accounts. */
export function isDeltaAccount(accountId: string): boolean {
  return accountId.startsWith('org:');
}

/** A base record and the deltas on top of it, folded. */
export interface FoldedAccount {
  accountId: string;
  balance: bigint;
  /** Attributes of the delta records folded in. */
  deltaKeys: string[][];
}

async function foldAccount(ctx: Context, accountId: string): Promise<FoldedAccount> {
  const base = await readRecord<Account>(ctx, KEY.account, [accountId]);
  let balance = base ? BigInt(base.balance) : 0n;
  const deltaKeys: string[][] = [];
  if (isDeltaAccount(accountId)) {
    for (const d of await listKeyed<AccountDelta>(ctx, KEY.accountDelta, [accountId])) {
      balance += BigInt(d.value.amount);
      deltaKeys.push(d.attributes);
    }
  }
  return { accountId, balance, deltaKeys };
}

export interface FoldedSupply extends Supply {
  deltaKeys: string[][];
}

async function foldSupply(ctx: Context): Promise<FoldedSupply> {
  const base = (await readRecord<Supply>(ctx, KEY.supply, [])) ?? { minted: '0', burned: '0' };
  let minted = BigInt(base.minted);
  let burned = BigInt(base.burned);
  const deltaKeys: string[][] = [];
  for (const d of await listKeyed<SupplyDelta>(ctx, KEY.supplyDelta, [])) {
    minted += BigInt(d.value.minted);
    burned += BigInt(d.value.burned);
    deltaKeys.push(d.attributes);
  }
  return { minted: minted.toString(), burned: burned.toString(), deltaKeys };
}

/** The balance of an account (an `org:` account folded with its deltas); 0 if it never held anything. */
export async function readBalance(ctx: Context, accountId: string): Promise<bigint> {
  return (await foldAccount(ctx, accountId)).balance;
}

/** Minted and burned, folded with the supply deltas. */
export async function readSupply(ctx: Context): Promise<Supply> {
  const { minted, burned } = await foldSupply(ctx);
  return { minted, burned };
}

/** Every account that has a base record or a delta, folded, in account order; with its number of deltas. */
export async function readAllBalances(ctx: Context): Promise<{ accountId: string; balance: bigint; deltas: number }[]> {
  const all = new Map<string, { balance: bigint; deltas: number }>();
  for (const a of await listRecords<Account>(ctx, KEY.account, [])) {
    all.set(a.accountId, { balance: BigInt(a.balance), deltas: 0 });
  }
  for (const d of await listKeyed<AccountDelta>(ctx, KEY.accountDelta, [])) {
    const accountId = d.attributes[0] ?? '';
    const entry = all.get(accountId) ?? { balance: 0n, deltas: 0 };
    all.set(accountId, { balance: entry.balance + BigInt(d.value.amount), deltas: entry.deltas + 1 });
  }
  return [...all.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([accountId, v]) => ({ accountId, ...v }));
}

/**
 * Adds to this transaction's delta of an account, looking only at the overlay (the key
 * holds this transaction's id, so nothing committed can be there): no read of the
 * ledger, hence no conflict with other transactions.
 */
async function addAccountDelta(ctx: Context, accountId: string, change: bigint): Promise<void> {
  const k = key(ctx, KEY.accountDelta, [accountId, ctx.stub.getTxID(), DELTA_SEQ]);
  const mine = overlayOf(ctx).writes.get(k);
  const amount = (mine ? BigInt((JSON.parse(mine.toString('utf8')) as AccountDelta).amount) : 0n) + change;
  if (amount === 0n) {
    if (mine) await deleteBytes(ctx, k);
    return;
  }
  const delta: AccountDelta = { amount: amount.toString() };
  await putBytes(ctx, k, Buffer.from(stableStringify(delta), 'utf8'));
}

async function addSupplyDelta(ctx: Context, minted: bigint, burned: bigint): Promise<void> {
  const k = key(ctx, KEY.supplyDelta, [ctx.stub.getTxID(), DELTA_SEQ]);
  const mine = overlayOf(ctx).writes.get(k);
  const before = mine ? (JSON.parse(mine.toString('utf8')) as SupplyDelta) : { minted: '0', burned: '0' };
  const delta: SupplyDelta = {
    minted: (BigInt(before.minted) + minted).toString(),
    burned: (BigInt(before.burned) + burned).toString(),
  };
  await putBytes(ctx, k, Buffer.from(stableStringify(delta), 'utf8'));
}

/**
 * Applies movements with the token rules and writes what changed: plain accounts
 * (prosumers, escrows) are read and rewritten; an `org:` account is read (folded) only
 * when the movements debit it, and changes through this transaction's delta; minting
 * and burning only write the supply delta.
 */
export async function applyTokenMovements(ctx: Context, movements: readonly TokenMovement[]): Promise<void> {
  if (movements.length === 0) return;
  const ids = accountsTouched(movements);
  const debited = new Set(movements.filter((m) => m.amount > 0n && m.from !== null).map((m) => m.from));
  const balances = new Map<string, bigint>();
  // A balance that only grows cannot break a rule, so a credited-only org account starts
  // from 0 here: only the change is written.
  for (const id of ids) balances.set(id, isDeltaAccount(id) && !debited.has(id) ? 0n : await readBalance(ctx, id));
  const before: TokenState = { balances, minted: 0n, burned: 0n };
  const after = applyMovements(before, movements);
  for (const id of ids) {
    const change = (after.balances.get(id) ?? 0n) - (balances.get(id) ?? 0n);
    if (change === 0n) continue;
    if (isDeltaAccount(id)) {
      await addAccountDelta(ctx, id, change);
    } else {
      const account: Account = { accountId: id, balance: (after.balances.get(id) ?? 0n).toString() };
      await writeRecord(ctx, KEY.account, [id], account);
    }
  }
  if (after.minted !== 0n || after.burned !== 0n) await addSupplyDelta(ctx, after.minted, after.burned);
}

/** Folds an org account's deltas into its base record and deletes them; returns how many there were. */
export async function compactAccount(ctx: Context, accountId: string): Promise<number> {
  const folded = await foldAccount(ctx, accountId);
  if (folded.deltaKeys.length === 0) return 0;
  const account: Account = { accountId, balance: folded.balance.toString() };
  await writeRecord(ctx, KEY.account, [accountId], account);
  for (const attrs of folded.deltaKeys) await deleteRecord(ctx, KEY.accountDelta, attrs);
  return folded.deltaKeys.length;
}

/** Folds the supply deltas into the supply record and deletes them; returns how many there were. */
export async function compactSupply(ctx: Context): Promise<number> {
  const folded = await foldSupply(ctx);
  if (folded.deltaKeys.length === 0) return 0;
  const supply: Supply = { minted: folded.minted, burned: folded.burned };
  await writeRecord(ctx, KEY.supply, [], supply);
  for (const attrs of folded.deltaKeys) await deleteRecord(ctx, KEY.supplyDelta, attrs);
  return folded.deltaKeys.length;
}

/** The org accounts that have deltas now, in account order. */
export async function accountsWithDeltas(ctx: Context): Promise<string[]> {
  const ids = new Set<string>();
  for (const attrs of await listIndex(ctx, KEY.accountDelta, [])) if (attrs[0] !== undefined) ids.add(attrs[0]);
  return [...ids].sort();
}
