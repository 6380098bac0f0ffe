import { CircuitId, circuitShape } from './circuit-ids';
import { CircuitError } from './errors';
import { IntegerLike, toBoundedInteger } from './field';
import { fingerprint, periodDeviation, requestCommitment } from './hashing';
import { SCALAR_FIELD_ORDER } from './constants';
import { DeviationPublicSignals } from './public-signals';

/** What the prover knows for one period. Integers as bigint, safe integers or decimal strings. */
export interface DeviationWitnessParams {
  circuitId: CircuitId;
  /** Chain head on the ledger before this period. */
  prevFingerprint: IntegerLike;
  /** Hour of the day, 0..23. */
  periodIndex: number;
  /** The period's interval energies in Wh, as many as the shape has (4 or 60), each < 2^32. */
  readings: readonly IntegerLike[];
  /** The enrollment's requested energy per period of the day, 24 values in Wh, each < 2^40. */
  requestProfile: readonly IntegerLike[];
  commitmentSalt: IntegerLike;
  fingerprintSalt: IntegerLike;
  /**
   * The enrollment's commitment as recorded on the ledger. When given, it is checked
   * against the profile and salt here (COMMITMENT_MISMATCH), before minutes are spent
   * on a proof the circuit would refuse.
   */
  requestCommitment?: IntegerLike;
}

/** Witness input of the circuit: signal names to decimal strings, JSON-ready. */
export interface DeviationInput {
  prevFingerprint: string;
  requestCommitment: string;
  periodIndex: string;
  readings: string[];
  requestProfile: string[];
  commitmentSalt: string;
  fingerprintSalt: string;
}

/**
 * Validates every value against the ranges the circuit enforces and returns the witness
 * input. Errors: INVALID_CIRCUIT_ID, INVALID_INPUT (wrong count or not an integer),
 * INPUT_OUT_OF_RANGE, COMMITMENT_MISMATCH.
 */
export function buildDeviationInput(params: DeviationWitnessParams): DeviationInput {
  const { readingsPerPeriod } = circuitShape(params.circuitId);
  if (!Array.isArray(params.readings) || params.readings.length !== readingsPerPeriod) {
    throw new CircuitError('INVALID_INPUT', `${params.circuitId} takes ${readingsPerPeriod} readings per period`, {
      details: { name: 'readings', expected: readingsPerPeriod, actual: Array.isArray(params.readings) ? params.readings.length : typeof params.readings },
    });
  }
  const commitment = requestCommitment(params.requestProfile, params.commitmentSalt);
  if (params.requestCommitment !== undefined) {
    const expected = toBoundedInteger(params.requestCommitment, SCALAR_FIELD_ORDER, 'requestCommitment');
    if (expected !== commitment) {
      throw new CircuitError('COMMITMENT_MISMATCH', 'the request profile and salt do not open the enrollment commitment');
    }
  }
  // fingerprint() range-checks the readings, the period and both chain inputs.
  fingerprint(params.prevFingerprint, params.fingerprintSalt, params.periodIndex, params.readings);
  const decimal = (v: IntegerLike, name: string): string => toBoundedInteger(v, SCALAR_FIELD_ORDER, name).toString();
  return {
    prevFingerprint: decimal(params.prevFingerprint, 'prevFingerprint'),
    requestCommitment: commitment.toString(),
    periodIndex: decimal(params.periodIndex, 'periodIndex'),
    readings: params.readings.map((r, i) => decimal(r, `readings[${i}]`)),
    requestProfile: params.requestProfile.map((p, i) => decimal(p, `requestProfile[${i}]`)),
    commitmentSalt: decimal(params.commitmentSalt, 'commitmentSalt'),
    fingerprintSalt: decimal(params.fingerprintSalt, 'fingerprintSalt'),
  };
}

/**
 * The public signals a proof over these values must carry, computed in JS: what the
 * edge client expects back from the prover and what an auditor recomputes.
 */
export function expectedPublicSignals(params: DeviationWitnessParams): DeviationPublicSignals {
  const input = buildDeviationInput(params);
  const { deviation, direction } = periodDeviation(params.readings, params.requestProfile, params.periodIndex);
  return {
    newFingerprint: fingerprint(params.prevFingerprint, params.fingerprintSalt, params.periodIndex, params.readings).toString(),
    deviation: deviation.toString(),
    direction: direction === 1 ? '1' : '0',
    prevFingerprint: input.prevFingerprint,
    requestCommitment: input.requestCommitment,
    periodIndex: input.periodIndex,
  };
}
