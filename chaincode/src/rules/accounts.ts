/**
 * Token account names: the protocol's (accounts.ts of @flexproof/protocol), so clients
 * name accounts as the rules do. Ids never contain ':' (the `Id` schema), so a name has
 * one reading. Organisation and prosumer accounts hold balances; escrow accounts are
 * owned by the contract and move only through the settlement rules.
 */
export { orgAccount, prosumerAccount, enrollmentEscrow, orderEscrow } from '@flexproof/protocol';

export function isEscrowAccount(accountId: string): boolean {
  return accountId.startsWith('escrow:');
}

export function isProsumerAccount(accountId: string): boolean {
  return accountId.startsWith('prosumer:');
}
