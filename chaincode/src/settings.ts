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
 * No Fabric import; the name and skew defaults and parsers are @flexproof/protocol's.
 */

// The name and skew parsers are the protocol's, so a client reads its configuration by
// the same rules as the server it must agree with.
export { DEFAULT_CHAINCODE_NAME, DEFAULT_MAX_CLOCK_SKEW_SECONDS, chaincodeNameFrom, maxClockSkewSecondsFrom } from '@flexproof/protocol';

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
