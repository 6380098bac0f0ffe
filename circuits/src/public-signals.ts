import { CircuitError } from './errors';
import { parseCanonicalDecimal } from './field';
import { PUBLIC_SIGNAL_NAMES, PublicSignalName, SCALAR_FIELD_ORDER } from './constants';

/**
 * Public signals of one deviation proof, as canonical decimal strings.
 * `direction` is "1" when the measured energy is above the requested energy and "0"
 * otherwise (below, or equal with deviation "0").
 */
export type DeviationPublicSignals = Record<PublicSignalName, string>;

export const PUBLIC_SIGNAL_COUNT = PUBLIC_SIGNAL_NAMES.length;

/**
 * The checks a verifier runs before any cryptography: a list of exactly 6 canonical
 * decimal strings, each below the scalar field order (snarkjs would otherwise reduce
 * r + x to x, so two encodings would verify for one statement).
 */
export function checkPublicSignals(signals: unknown): string[] {
  if (!Array.isArray(signals) || signals.length !== PUBLIC_SIGNAL_COUNT) {
    throw new CircuitError('PUBLIC_SIGNAL_COUNT', `a deviation proof has ${PUBLIC_SIGNAL_COUNT} public signals`, {
      details: { expected: PUBLIC_SIGNAL_COUNT, actual: Array.isArray(signals) ? signals.length : typeof signals },
    });
  }
  return signals.map((signal: unknown, index) => {
    const value = parseCanonicalDecimal(signal);
    const name = PUBLIC_SIGNAL_NAMES[index];
    if (value === undefined) {
      throw new CircuitError('PUBLIC_SIGNAL_NOT_CANONICAL', `public signal ${name} is not a canonical decimal string`, {
        details: { index, name },
      });
    }
    if (value >= SCALAR_FIELD_ORDER) {
      throw new CircuitError('PUBLIC_SIGNAL_OUT_OF_FIELD', `public signal ${name} is not below the scalar field order`, {
        details: { index, name },
      });
    }
    return signal as string;
  });
}

/** Names the public signals of a proof (snarkjs order), after the strict checks above. */
export function decodePublicSignals(signals: readonly string[]): DeviationPublicSignals {
  const checked = checkPublicSignals(signals);
  const decoded = {} as DeviationPublicSignals;
  PUBLIC_SIGNAL_NAMES.forEach((name, index) => {
    decoded[name] = checked[index] as string;
  });
  return decoded;
}

/** The inverse of decodePublicSignals: the list a verifier passes to verifyDeviationProof. */
export function encodePublicSignals(signals: DeviationPublicSignals): string[] {
  return checkPublicSignals(PUBLIC_SIGNAL_NAMES.map((name) => signals[name]));
}
