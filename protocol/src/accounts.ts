/**
 * Token account names. Ids never contain ':' (schemas/primitives.ts `Id`), so a name has
 * one reading: `org:<MSP>`, `prosumer:<id>`, `escrow:enrollment:<id>`, `escrow:order:<id>`
 * (the `AccountId` rule). Organisation and prosumer accounts hold balances; escrow
 * accounts are owned by the chaincode and move only through its settlement rules.
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
