/**
 * Machine-readable chaincode errors. Fabric carries only a message string back to the
 * client, so every error is rendered as `[CODE] message`; the gateway parses the code
 * out of that prefix (never out of the free text) to choose an HTTP status.
 */
export type ChaincodeErrorCode =
  | 'BAD_INPUT'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RULE_VIOLATION';

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
