/**
 * The chaincode settings a client must agree with (chaincode/src/settings.ts reads the
 * server's from its environment with these same parsers): the name the chaincode is
 * deployed under, which signed prosumer payloads name (`payload.chaincode`), and the
 * clock skew the peers tolerate, which decides when a missed period may be claimed and an
 * order settled.
 */

/** The chaincode name of the flexproof networks. */
export const DEFAULT_CHAINCODE_NAME = 'flexproof';

/**
 * Default of the chaincode's MAX_CLOCK_SKEW_SECONDS: how far a proposal timestamp may be
 * from a peer's clock. Two minutes covers NTP-synchronised machines and the time a
 * proposal takes to reach the peers with room to spare, and is small next to the time
 * windows it guards (grace periods of 15 minutes, hours, days).
 */
export const DEFAULT_MAX_CLOCK_SKEW_SECONDS = 120;

const CHAINCODE_NAME_PATTERN = /^[A-Za-z0-9]+([-_][A-Za-z0-9]+)*$/;

/** The chaincode name from its setting (FLEXPROOF_CHAINCODE_NAME; Fabric's rule for chaincode names). */
export function chaincodeNameFrom(setting: string | undefined): string {
  const name = setting === undefined || setting === '' ? DEFAULT_CHAINCODE_NAME : setting;
  if (name.length > 128 || !CHAINCODE_NAME_PATTERN.test(name)) {
    throw new Error(`FLEXPROOF_CHAINCODE_NAME: "${name}" is not a chaincode name (letters, digits, single - or _ between them)`);
  }
  return name;
}

/** The clock skew from its setting (FLEXPROOF_MAX_CLOCK_SKEW_SECONDS): an integer number of seconds, 0 to 86400. */
export function maxClockSkewSecondsFrom(setting: string | undefined): number {
  if (setting === undefined || setting === '') return DEFAULT_MAX_CLOCK_SKEW_SECONDS;
  const seconds = /^(0|[1-9][0-9]{0,4})$/.test(setting) ? Number(setting) : Number.NaN;
  if (!(seconds >= 0 && seconds <= 86400)) {
    throw new Error(`FLEXPROOF_MAX_CLOCK_SKEW_SECONDS: "${setting}" must be an integer number of seconds from 0 to 86400`);
  }
  return seconds;
}
