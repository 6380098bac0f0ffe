import { ChaincodeError } from '../errors';

/**
 * One movement of tokens. `from: null` mints, `to: null` burns; otherwise a transfer.
 * Every change of a balance in this chaincode is a list of movements applied by
 * `applyMovements`, which is what keeps minted - burned = sum of all accounts.
 */
export interface TokenMovement {
  from: string | null;
  to: string | null;
  amount: bigint;
}

/** The part of the token ledger a transaction touches (absent accounts hold 0). */
export interface TokenState {
  balances: ReadonlyMap<string, bigint>;
  minted: bigint;
  burned: bigint;
}

export function balanceOf(state: TokenState, accountId: string): bigint {
  return state.balances.get(accountId) ?? 0n;
}

/** Accounts a list of movements reads and writes, in a stable order. */
export function accountsTouched(movements: readonly TokenMovement[]): string[] {
  const ids = new Set<string>();
  for (const m of movements) {
    if (m.from !== null) ids.add(m.from);
    if (m.to !== null) ids.add(m.to);
  }
  return [...ids].sort();
}

export function changesSupply(movements: readonly TokenMovement[]): boolean {
  return movements.some((m) => m.from === null || m.to === null);
}

/**
 * Applies movements in order and returns the new state. Refuses (RULE_VIOLATION) any
 * movement that would take an account below zero; zero-amount movements are no-ops,
 * negative ones are a programming error reported as BAD_INPUT.
 */
export function applyMovements(state: TokenState, movements: readonly TokenMovement[]): TokenState {
  const balances = new Map(state.balances);
  let { minted, burned } = state;
  for (const m of movements) {
    if (m.amount < 0n) throw new ChaincodeError('BAD_INPUT', 'amount: must not be negative');
    if (m.amount === 0n) continue;
    if (m.from === null && m.to === null) throw new ChaincodeError('BAD_INPUT', 'movement needs a source or a target');
    if (m.from !== null && m.from === m.to) throw new ChaincodeError('BAD_INPUT', 'movement to the same account');
    if (m.from === null) {
      minted += m.amount;
    } else {
      const available = balances.get(m.from) ?? 0n;
      if (available < m.amount) {
        throw new ChaincodeError(
          'RULE_VIOLATION',
          `insufficient balance in ${m.from}: has ${available}, needs ${m.amount}`,
        );
      }
      balances.set(m.from, available - m.amount);
    }
    if (m.to === null) {
      burned += m.amount;
    } else {
      balances.set(m.to, (balances.get(m.to) ?? 0n) + m.amount);
    }
  }
  return { balances, minted, burned };
}

/** minted - burned - sum of balances: zero whenever the token ledger is consistent. */
export function supplyImbalance(state: TokenState): bigint {
  let total = 0n;
  for (const v of state.balances.values()) total += v;
  return state.minted - state.burned - total;
}
