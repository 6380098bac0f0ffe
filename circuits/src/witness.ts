import { CircuitId, circuitShape } from './circuit-ids';
import { CircuitError } from './errors';
import { IntegerLike, toBoundedInteger } from './field';
import {
  encodeNetProfile,
  fingerprint,
  netFingerprint,
  netPeriodDeviation,
  netRequestCommitment,
  periodDeviation,
  registersFor,
  requestCommitment,
} from './hashing';
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
  const { readingsPerPeriod, kind } = circuitShape(params.circuitId);
  if (kind !== 'consumption') {
    throw new CircuitError('INVALID_INPUT', `${params.circuitId} is a net energy circuit: build its input with buildNetDeviationInput (importWh, exportWh)`, {
      details: { name: 'circuitId', circuitId: params.circuitId },
    });
  }
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
export function expectedPublicSignals(params: DeviationWitnessParams | NetDeviationWitnessParams): DeviationPublicSignals {
  if ('importWh' in params) return expectedNetPublicSignals(params);
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

/**
 * What the prover knows for one period of a v2 (signed net energy) circuit; accepted for a
 * v1 circuit too, with importWh as its readings and exportWh absent or all zero.
 */
export interface NetDeviationWitnessParams {
  circuitId: CircuitId;
  /** Chain head on the ledger before this period. */
  prevFingerprint: IntegerLike;
  /** Hour of the day, 0..23. */
  periodIndex: number;
  /** Imported energy of each interval, Wh, as many as the shape has (4 or 60), each < 2^32. */
  importWh: readonly IntegerLike[];
  /** Exported energy of each interval, Wh, each < 2^32; absent for a meter without an export register (all zero). */
  exportWh?: readonly IntegerLike[];
  /**
   * Requested net energy per period of the day, 24 SIGNED values in Wh (negative = net
   * export), each in [-(2^39), 2^39 - 1] for v2; non-negative below 2^40 for v1. Plain
   * values: the builder applies the offset encoding.
   */
  requestProfile: readonly IntegerLike[];
  commitmentSalt: IntegerLike;
  fingerprintSalt: IntegerLike;
  /** The enrollment's commitment; when given it is checked here (COMMITMENT_MISMATCH). */
  requestCommitment?: IntegerLike;
}

/**
 * Witness input of a v2 circuit: signal names to decimal strings, JSON-ready.
 * `requestProfile` holds the OFFSET-ENCODED values (v + 2^39), as the circuit takes them.
 */
export interface NetDeviationInput {
  prevFingerprint: string;
  requestCommitment: string;
  periodIndex: string;
  importWh: string[];
  exportWh: string[];
  requestProfile: string[];
  commitmentSalt: string;
  fingerprintSalt: string;
}

/** The witness input of either circuit version. */
export type AnyDeviationInput = DeviationInput | NetDeviationInput;

/**
 * Validates every value against the ranges the circuit enforces and returns the witness
 * input, for either version: a v2 id gives a NetDeviationInput (profile offset-encoded), a
 * v1 id the DeviationInput of buildDeviationInput (readings = importWh; a non-zero
 * exportWh is refused, as v1 cannot prove it). Errors name the field: INVALID_CIRCUIT_ID,
 * INVALID_INPUT (wrong count, not an integer), INPUT_OUT_OF_RANGE (`importWh[i]`,
 * `exportWh[i]` outside [0, 2^32), `requestProfile[h]` outside [-(2^39), 2^39 - 1],
 * `periodIndex` outside 0..23, a salt or chain head outside the field), COMMITMENT_MISMATCH.
 */
export function buildNetDeviationInput(params: NetDeviationWitnessParams): AnyDeviationInput {
  const { kind } = circuitShape(params.circuitId);
  const exportWh = registersFor(params.circuitId, params.importWh, params.exportWh);
  if (kind === 'consumption') {
    const { importWh, exportWh: _exports, ...rest } = params;
    return buildDeviationInput({ ...rest, readings: importWh });
  }
  const encoded = encodeNetProfile(params.requestProfile);
  const commitment = netRequestCommitment(params.requestProfile, params.commitmentSalt);
  if (params.requestCommitment !== undefined) {
    const expected = toBoundedInteger(params.requestCommitment, SCALAR_FIELD_ORDER, 'requestCommitment');
    if (expected !== commitment) {
      throw new CircuitError('COMMITMENT_MISMATCH', 'the request profile and salt do not open the enrollment commitment');
    }
  }
  // netFingerprint range-checks both registers, the period and both chain inputs.
  netFingerprint(params.prevFingerprint, params.fingerprintSalt, params.periodIndex, params.importWh, exportWh);
  const decimal = (v: IntegerLike, name: string): string => toBoundedInteger(v, SCALAR_FIELD_ORDER, name).toString();
  return {
    prevFingerprint: decimal(params.prevFingerprint, 'prevFingerprint'),
    requestCommitment: commitment.toString(),
    periodIndex: decimal(params.periodIndex, 'periodIndex'),
    importWh: params.importWh.map((v, i) => decimal(v, `importWh[${i}]`)),
    exportWh: exportWh.map((v, i) => decimal(v, `exportWh[${i}]`)),
    requestProfile: encoded.map(String),
    commitmentSalt: decimal(params.commitmentSalt, 'commitmentSalt'),
    fingerprintSalt: decimal(params.fingerprintSalt, 'fingerprintSalt'),
  };
}

/**
 * The public signals a proof over these values must carry, for either version (v1 with
 * importWh as readings): what the edge expects back and what an auditor recomputes.
 */
export function expectedNetPublicSignals(params: NetDeviationWitnessParams): DeviationPublicSignals {
  const { kind } = circuitShape(params.circuitId);
  if (kind === 'consumption') {
    registersFor(params.circuitId, params.importWh, params.exportWh);
    const { importWh, exportWh: _exports, ...rest } = params;
    return expectedPublicSignals({ ...rest, readings: importWh });
  }
  const input = buildNetDeviationInput(params);
  const exportWh = registersFor(params.circuitId, params.importWh, params.exportWh);
  const { deviation, direction } = netPeriodDeviation(params.importWh, exportWh, params.requestProfile, params.periodIndex);
  return {
    newFingerprint: netFingerprint(params.prevFingerprint, params.fingerprintSalt, params.periodIndex, params.importWh, exportWh).toString(),
    deviation: deviation.toString(),
    direction: direction === 1 ? '1' : '0',
    prevFingerprint: input.prevFingerprint,
    requestCommitment: input.requestCommitment,
    periodIndex: input.periodIndex,
  };
}
