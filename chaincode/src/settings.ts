/**
 * Settings of the chaincode server, read once from its environment at start-up. Every
 * chaincode server of the network must run with the same values: they decide what each
 * peer endorses, and peers that disagree fail the endorsement policy.
 *
 * - FLEXPROOF_CHAINCODE_NAME (default "flexproof"): the name the chaincode is deployed
 *   under; signed prosumer payloads must name it (`payload.chaincode`).
 * - FLEXPROOF_MAX_CLOCK_SKEW_SECONDS (default 120): see MAX_CLOCK_SKEW_SECONDS.
 * - FLEXPROOF_MAX_BATCH_ITEMS (default 64): the most submissions one SubmitPeriods takes.
 *
 * No Fabric import: the defaults are part of the client surface.
 */

/** The chaincode name of the flexproof networks. */
export const DEFAULT_CHAINCODE_NAME = 'flexproof';

/**
 * Default of MAX_CLOCK_SKEW_SECONDS: how far a proposal timestamp may be from a peer's
 * clock. Two minutes covers NTP-synchronised machines and the time a proposal takes to
 * reach the peers with room to spare, and is small next to the time windows it guards
 * (grace periods of 15 minutes, hours, days).
 */
export const DEFAULT_MAX_CLOCK_SKEW_SECONDS = 120;

const CHAINCODE_NAME_PATTERN = /^[A-Za-z0-9]+([-_][A-Za-z0-9]+)*$/;

/** The chaincode name from its setting (Fabric's rule for chaincode names). */
export function chaincodeNameFrom(setting: string | undefined): string {
  const name = setting === undefined || setting === '' ? DEFAULT_CHAINCODE_NAME : setting;
  if (name.length > 128 || !CHAINCODE_NAME_PATTERN.test(name)) {
    throw new Error(`FLEXPROOF_CHAINCODE_NAME: "${name}" is not a chaincode name (letters, digits, single - or _ between them)`);
  }
  return name;
}

/** The clock skew from its setting: an integer number of seconds, 0 to 86400. */
export function maxClockSkewSecondsFrom(setting: string | undefined): number {
  if (setting === undefined || setting === '') return DEFAULT_MAX_CLOCK_SKEW_SECONDS;
  const seconds = /^(0|[1-9][0-9]{0,4})$/.test(setting) ? Number(setting) : Number.NaN;
  if (!(seconds >= 0 && seconds <= 86400)) {
    throw new Error(`FLEXPROOF_MAX_CLOCK_SKEW_SECONDS: "${setting}" must be an integer number of seconds from 0 to 86400`);
  }
  return seconds;
}

/**
 * Default of FLEXPROOF_MAX_BATCH_ITEMS: the hard cap on the items of one SubmitPeriods.
 * Twice the gateway's default batch (32), so a gateway configured a little higher still
 * fits; it bounds the work (and the transaction size, about 1 kB per item) of one
 * endorsement.
 */
export const DEFAULT_MAX_BATCH_ITEMS = 64;

/** The batch cap from its setting: an integer from 1 to 1024. */
export function maxBatchItemsFrom(setting: string | undefined): number {
  if (setting === undefined || setting === '') return DEFAULT_MAX_BATCH_ITEMS;
  const items = /^[1-9][0-9]{0,3}$/.test(setting) ? Number(setting) : Number.NaN;
  if (!(items >= 1 && items <= 1024)) {
    throw new Error(`FLEXPROOF_MAX_BATCH_ITEMS: "${setting}" must be an integer from 1 to 1024`);
  }
  return items;
}
