import { Context, Info, Returns, Transaction } from 'fabric-contract-api';
import { ChaincodeError } from '../errors';
import { callerMsp, callerRole, MEMBER_MSPS, requireRole, txTimeIso } from '../identity';
import {
  accountsWithDeltas,
  applyTokenMovements,
  compactAccount,
  compactSupply,
  emitEvent,
  isDeltaAccount,
  KEY,
  listRecords,
  readAllBalances,
  readBalance,
  readSupply,
  requireRecord,
  writeRecord,
} from '../ledger';
import type { Account, Meter, Redemption } from '../model';
import { consumeNonce, requireProsumerSignature } from '../prosumer-auth';
import type { PeerClock } from '../peer-clock';
import { isEscrowAccount, isProsumerAccount, orgAccount, prosumerAccount } from '../rules/accounts';
import { parseInput, schemas } from '../schemas';
import { stableStringify } from '@flexproof/protocol';
import { FlexproofContract } from './flexproof-contract';

/** Minting and burning are for member organisations' and prosumers' accounts only. */
function requireHolderAccount(accountId: string, action: string): void {
  if (isEscrowAccount(accountId)) {
    throw new ChaincodeError('RULE_VIOLATION', `${action}: escrow accounts move only through settlement`);
  }
  if (accountId.startsWith('org:') && !MEMBER_MSPS.includes(accountId.slice('org:'.length))) {
    throw new ChaincodeError('BAD_INPUT', `account: ${accountId} is not a member organisation`);
  }
}

/**
 * Settlement token (flexibility credits). The DSO mints and burns (redemption happens
 * off-chain); organisations transfer from their own account; a prosumer withdraws its
 * balance with a signed request, which burns it and records a redemption.
 */
@Info({ title: 'Tokens', description: 'Settlement token, balances, escrow accounts and redemptions' })
export class TokensContract extends FlexproofContract {
  /** `clock` is a seam for tests; Fabric constructs the contract with the peer's clock. */
  constructor(clock?: PeerClock) {
    super('org.flexproof.tokens', clock);
  }

  /** DSO: creates tokens in an organisation or prosumer account. */
  @Transaction()
  @Returns('string')
  public async Mint(ctx: Context, inputJson: string): Promise<string> {
    requireRole(ctx, 'dso', 'Mint');
    const { account, amount } = parseInput(schemas.MintInput, inputJson);
    requireHolderAccount(account, 'Mint');
    await applyTokenMovements(ctx, [{ from: null, to: account, amount: BigInt(amount) }]);
    emitEvent(ctx, 'TokensMinted', { account, amount });
    return stableStringify({ account, amount });
  }

  /**
   * DSO: destroys tokens of an organisation account (redeemed off-chain). A prosumer's
   * tokens leave its account only by its own signed withdrawal (Withdraw).
   */
  @Transaction()
  @Returns('string')
  public async Burn(ctx: Context, inputJson: string): Promise<string> {
    requireRole(ctx, 'dso', 'Burn');
    const { account, amount } = parseInput(schemas.BurnInput, inputJson);
    if (isProsumerAccount(account)) {
      throw new ChaincodeError('FORBIDDEN', `account: ${account} is burned only by the prosumer's signed withdrawal (Withdraw)`);
    }
    requireHolderAccount(account, 'Burn');
    await applyTokenMovements(ctx, [{ from: account, to: null, amount: BigInt(amount) }]);
    emitEvent(ctx, 'TokensBurned', { account, amount });
    return stableStringify({ account, amount });
  }

  /** Either organisation: moves tokens from its own account to an organisation or prosumer account. */
  @Transaction()
  @Returns('string')
  public async Transfer(ctx: Context, inputJson: string): Promise<string> {
    const from = orgAccount(callerMsp(ctx));
    const { to, amount } = parseInput(schemas.TransferInput, inputJson);
    requireHolderAccount(to, 'Transfer');
    if (to === from) throw new ChaincodeError('BAD_INPUT', 'to: must differ from the account of the caller');
    await applyTokenMovements(ctx, [{ from, to, amount: BigInt(amount) }]);
    emitEvent(ctx, 'TokensTransferred', { from, to, amount });
    return stableStringify({ from, to, amount });
  }

  /**
   * Prosumer (signed, relayed by either organisation): burns `amount` from the
   * prosumer's account and records the redemption the DSO credits on the bill.
   */
  @Transaction()
  @Returns('string')
  public async Withdraw(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    const { payload, signature } = parseInput(schemas.WithdrawInput, inputJson);
    const meter = await requireRecord<Meter>(ctx, KEY.meter, [payload.meterId], `meter ${payload.meterId}`);
    requireProsumerSignature(meter, payload, signature, ctx.stub.getChannelID());
    const now = txTimeIso(ctx);
    const nextMeter = consumeNonce(meter, payload.nonce, now);
    const account = prosumerAccount(meter.prosumerId);
    await applyTokenMovements(ctx, [{ from: account, to: null, amount: BigInt(payload.amount) }]);
    const redemption: Redemption = {
      redemptionId: ctx.stub.getTxID(),
      prosumerId: meter.prosumerId,
      meterId: meter.meterId,
      amount: payload.amount,
      nonce: payload.nonce,
      time: now,
    };
    await writeRecord(ctx, KEY.meter, [meter.meterId], nextMeter);
    await writeRecord(ctx, KEY.redemption, [meter.prosumerId, redemption.redemptionId], redemption);
    emitEvent(ctx, 'ProsumerWithdrew', {
      prosumerId: meter.prosumerId,
      meterId: meter.meterId,
      amount: payload.amount,
      redemptionId: redemption.redemptionId,
    });
    return stableStringify(redemption);
  }

  /** Either organisation: one account's balance (0 if it never held anything). */
  @Transaction(false)
  @Returns('string')
  public async GetBalance(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    const { account } = parseInput(schemas.AccountInput, inputJson);
    const balance: Account = { accountId: account, balance: (await readBalance(ctx, account)).toString() };
    return stableStringify(balance);
  }

  /** Either organisation: the named accounts, or every account that ever held tokens. */
  @Transaction(false)
  @Returns('string')
  public async GetBalances(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    const { accounts } = parseInput(schemas.AccountsInput, inputJson);
    if (!accounts) {
      const all: Account[] = (await readAllBalances(ctx)).map((a) => ({ accountId: a.accountId, balance: a.balance.toString() }));
      return stableStringify({ accounts: all });
    }
    const out: Account[] = [];
    for (const accountId of accounts) out.push({ accountId, balance: (await readBalance(ctx, accountId)).toString() });
    return stableStringify({ accounts: out });
  }

  /** Either organisation: minted, burned and outstanding (minted - burned) tokens. */
  @Transaction(false)
  @Returns('string')
  public async GetSupply(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    parseInput(schemas.EmptyInput, inputJson);
    const supply = await readSupply(ctx);
    const outstanding = (BigInt(supply.minted) - BigInt(supply.burned)).toString();
    return stableStringify({ ...supply, outstanding });
  }

  /**
   * Either organisation: folds the delta records of one organisation account (or, with
   * no accountId, of every organisation account and of the supply) into their base
   * records and deletes them. Balances do not change. It reads every delta it folds, so
   * it fails (MVCC) when a concurrent transaction adds one: retry later.
   */
  @Transaction()
  @Returns('string')
  public async CompactBalances(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    const { accountId } = parseInput(schemas.CompactBalancesInput, inputJson);
    const compacted: ({ accountId: string; deltas: number } | { supply: true; deltas: number })[] = [];
    if (accountId !== undefined) {
      if (!isDeltaAccount(accountId)) {
        throw new ChaincodeError('BAD_INPUT', `accountId: ${accountId} is not an organisation account (org:<MSP>); only those have deltas`);
      }
      requireHolderAccount(accountId, 'CompactBalances');
      compacted.push({ accountId, deltas: await compactAccount(ctx, accountId) });
    } else {
      for (const id of await accountsWithDeltas(ctx)) compacted.push({ accountId: id, deltas: await compactAccount(ctx, id) });
      const supplyDeltas = await compactSupply(ctx);
      if (supplyDeltas > 0) compacted.push({ supply: true, deltas: supplyDeltas });
    }
    emitEvent(ctx, 'BalancesCompacted', { compacted });
    return stableStringify({ compacted });
  }

  /**
   * Either organisation: the supply invariant over the whole ledger, deltas folded:
   * minted, burned, the sum of every account (organisations, prosumers, escrows), how
   * many accounts, and minted - burned - that sum, which is "0" on a consistent ledger.
   */
  @Transaction(false)
  @Returns('string')
  public async AuditSupply(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    parseInput(schemas.EmptyInput, inputJson);
    const supply = await readSupply(ctx);
    const all = await readAllBalances(ctx);
    let balances = 0n;
    for (const a of all) balances += a.balance;
    const imbalance = BigInt(supply.minted) - BigInt(supply.burned) - balances;
    return stableStringify({
      minted: supply.minted,
      burned: supply.burned,
      balances: balances.toString(),
      accounts: all.length,
      imbalance: imbalance.toString(),
    });
  }

  /** Either organisation: the redemptions of a prosumer, oldest key first. */
  @Transaction(false)
  @Returns('string')
  public async ListRedemptions(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    const { account } = parseInput(schemas.AccountInput, inputJson);
    if (!account.startsWith('prosumer:')) throw new ChaincodeError('BAD_INPUT', 'account: must be a prosumer account');
    const prosumerId = account.slice('prosumer:'.length);
    return stableStringify({ redemptions: await listRecords<Redemption>(ctx, KEY.redemption, [prosumerId]) });
  }
}
