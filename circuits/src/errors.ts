/** Every failure of this package is a CircuitError; callers branch on `code`, never on the message. */
export type CircuitErrorCode =
  | 'INVALID_CIRCUIT_ID'
  | 'INVALID_INPUT'
  | 'INPUT_OUT_OF_RANGE'
  | 'COMMITMENT_MISMATCH'
  | 'PUBLIC_SIGNAL_COUNT'
  | 'PUBLIC_SIGNAL_NOT_CANONICAL'
  | 'PUBLIC_SIGNAL_OUT_OF_FIELD'
  | 'MALFORMED_PROOF'
  | 'MALFORMED_VERIFICATION_KEY'
  | 'MALFORMED_SUBMISSION'
  | 'WITNESS_FAILED'
  | 'PROVING_FAILED'
  | 'VERIFIER_FAILED'
  | 'ARTIFACTS_MISSING'
  | 'ARTIFACTS_CORRUPT'
  | 'ARTIFACT_BUILD_FAILED'
  | 'COMPILE_FAILED'
  | 'SETUP_FAILED'
  | 'CEREMONY_FAILED';

export interface CircuitErrorOptions {
  /** Structured facts about the failure (an index, a limit), safe to log: never a salt or a reading. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class CircuitError extends Error {
  readonly code: CircuitErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: CircuitErrorCode, message: string, options: CircuitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CircuitError';
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

export function isCircuitError(value: unknown, code?: CircuitErrorCode): value is CircuitError {
  return value instanceof CircuitError && (code === undefined || value.code === code);
}
