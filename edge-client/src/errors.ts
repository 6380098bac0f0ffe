/**
 * Every failure of the edge client that a caller may act on is an EdgeError; callers
 * branch on `code`, never on the message. Messages and details never hold a secret
 * (private key, salts, readings, request profile).
 */
export type EdgeErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_MISSING'
  | 'BROKER_PORT_UNAVAILABLE'
  | 'KEY_EXISTS'
  | 'KEY_MISSING'
  | 'KEY_INVALID'
  | 'KEY_PERMISSIONS'
  | 'STORE_CORRUPT'
  | 'STORE_LOCKED'
  | 'TERMS_MISMATCH'
  | 'PERIOD_NOT_CLOSED'
  | 'READING_OUT_OF_RANGE'
  | 'GATEWAY_UNAVAILABLE'
  | 'GATEWAY_REJECTED'
  | 'ARTIFACTS_MISSING'
  | 'LEDGER_KEY_MISMATCH'
  | 'PROOF_NOT_VERIFIED'
  | 'NOT_CONFIRMED'
  | 'AUDITOR_KEYS_INVALID'
  | 'SEALED_DOCUMENT_MISSING'
  | 'SEALED_DOCUMENT_UNREADABLE'
  | 'USAGE';

export interface EdgeErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class EdgeError extends Error {
  readonly code: EdgeErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: EdgeErrorCode, message: string, options: EdgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EdgeError';
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

export function isEdgeError(value: unknown, code?: EdgeErrorCode): value is EdgeError {
  return value instanceof EdgeError && (code === undefined || value.code === code);
}
