/**
 * Token account names. Ids never contain ':' (schemas.ts), so a name has one reading.
 * Organisation and prosumer accounts hold balances; escrow accounts are owned by the
 * contract and move only through the settlement rules.
 */
export function orgAccount(mspId: string): string {
  return `org:${mspId}`;
}

export function prosumerAccount(prosumerId: string): string {
  return `prosumer:${prosumerId}`;
}

export function enrollmentEscrow(enrollmentId: string): string {
  return `escrow:enrollment:${enrollmentId}`;
}

export function orderEscrow(orderId: string): string {
  return `escrow:order:${orderId}`;
}

export function isEscrowAccount(accountId: string): boolean {
  return accountId.startsWith('escrow:');
}

export function isProsumerAccount(accountId: string): boolean {
  return accountId.startsWith('prosumer:');
}
