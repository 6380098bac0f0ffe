/**
 * Machine-readable chaincode errors. Fabric carries only a message string back to the
 * client, so every error is rendered as `[CODE] message`; the gateway parses the code
 * out of that prefix (never out of the free text) to choose an HTTP status.
 */
// The closed list of codes (and their HTTP statuses) is the protocol's: clients and the
// gateway read the same one. CLOCK_SKEW: the proposal timestamp is more than the allowed
// skew (MAX_CLOCK_SKEW_SECONDS) from this peer's clock; gateways stamp proposals with
// their own clock, so only a client building its own proposals with a wrong clock gets it.
import type { ChaincodeErrorCode } from '@flexproof/protocol';
export { CHAINCODE_ERROR_CODES, type ChaincodeErrorCode } from '@flexproof/protocol';

export class ChaincodeError extends Error {
  constructor(
    readonly code: ChaincodeErrorCode,
    detail: string,
  ) {
    super(`[${code}] ${detail}`);
    this.name = 'ChaincodeError';
  }
}

const CODE_PREFIX = /^\[([A-Z_]+)\] /;

/** Reads the code back out of a message produced by ChaincodeError. */
export function parseErrorCode(message: string): string | undefined {
  return CODE_PREFIX.exec(message)?.[1];
}
