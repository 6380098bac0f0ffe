/**
 * The settings of this chaincode server process (settings.ts), read from its
 * environment once, at start-up: a bad value stops the server before it serves anything.
 */
import { chaincodeNameFrom, maxBatchItemsFrom, maxClockSkewSecondsFrom } from './settings';

/** The name this chaincode is deployed under (FLEXPROOF_CHAINCODE_NAME). */
export const CHAINCODE_NAME = chaincodeNameFrom(process.env.FLEXPROOF_CHAINCODE_NAME);

/**
 * MAX_CLOCK_SKEW_SECONDS (FLEXPROOF_MAX_CLOCK_SKEW_SECONDS, default 120): every
 * transaction whose proposal timestamp is further than this from the peer's own clock is
 * refused (CLOCK_SKEW); a missed period may be claimed only this long after its
 * deadline, and the DSO settles an order only this long after the end of its day.
 */
export const MAX_CLOCK_SKEW_SECONDS = maxClockSkewSecondsFrom(process.env.FLEXPROOF_MAX_CLOCK_SKEW_SECONDS);

/** The most submissions one SubmitPeriods transaction takes (FLEXPROOF_MAX_BATCH_ITEMS, default 64). */
export const MAX_BATCH_ITEMS = maxBatchItemsFrom(process.env.FLEXPROOF_MAX_BATCH_ITEMS);
