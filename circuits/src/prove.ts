// Proving at the edge: witness from the wasm, Groth16 proof from the zkey.

import * as snarkjs from 'snarkjs';
import { CircuitArtifacts, loadArtifacts } from './artifacts';
import { CircuitId, assertCircuitId, circuitShape } from './circuit-ids';
import { CircuitError } from './errors';
import { parseCanonicalDecimal } from './field';
import { PERIODS_PER_DAY, SCALAR_FIELD_ORDER } from './constants';
import { Groth16Proof, checkProof } from './proof-format';
import { checkPublicSignals } from './public-signals';
import { AnyDeviationInput } from './witness';

export interface DeviationProof {
  proof: Groth16Proof;
  /** snarkjs order: newFingerprint, deviation, direction, prevFingerprint, requestCommitment, periodIndex. */
  publicSignals: string[];
}

/**
 * Proves one period, for either circuit version. `input` normally comes from
 * buildDeviationInput (v1) or buildNetDeviationInput (v1 or v2); here it is only
 * checked for shape (names, counts, field elements): the ranges are the circuit's to
 * enforce, and a value it refuses gives WITNESS_FAILED. Artifacts default to the cache
 * (loadArtifacts). This is snarkjs groth16.fullProve in its two steps, so a refused
 * witness and a failing prover are told apart by code rather than by message. Runs on
 * one thread, leaving no worker behind.
 */
export async function proveDeviation(circuitId: CircuitId, input: AnyDeviationInput, artifacts?: CircuitArtifacts): Promise<DeviationProof> {
  assertCircuitId(circuitId);
  checkInputShape(circuitId, input);
  const use = artifacts ?? loadArtifacts(circuitId);
  if (use.circuitId !== circuitId) {
    throw new CircuitError('INVALID_INPUT', `artifacts are for ${use.circuitId}, not ${circuitId}`, {
      details: { expected: circuitId, actual: use.circuitId },
    });
  }
  const witness: snarkjs.MemFile = { type: 'mem' };
  try {
    await snarkjs.wtns.calculate(input, use.wasmPath, witness);
  } catch (cause) {
    throw new CircuitError('WITNESS_FAILED', 'the circuit refuses this input (a range check, the commitment or a period check fails)', {
      cause,
      details: { circuitId },
    });
  }
  let result: { proof: unknown; publicSignals: unknown };
  try {
    result = await snarkjs.groth16.prove(use.zkeyPath, witness, undefined, { singleThread: true });
  } catch (cause) {
    throw new CircuitError('PROVING_FAILED', 'snarkjs failed to prove', { cause, details: { circuitId } });
  }
  return { proof: checkProof(result.proof), publicSignals: checkPublicSignals(result.publicSignals) };
}

function checkInputShape(circuitId: CircuitId, input: AnyDeviationInput): void {
  const { readingsPerPeriod, kind } = circuitShape(circuitId);
  // The signal names of each version: a v1 input given to a v2 id (or the reverse) is refused by name.
  const lists: Record<string, number> =
    kind === 'net'
      ? { importWh: readingsPerPeriod, exportWh: readingsPerPeriod, requestProfile: PERIODS_PER_DAY }
      : { readings: readingsPerPeriod, requestProfile: PERIODS_PER_DAY };
  const scalars = ['prevFingerprint', 'requestCommitment', 'periodIndex', 'commitmentSalt', 'fingerprintSalt'];
  const record = input as unknown as Record<string, unknown>;
  const expectedKeys = [...scalars, ...Object.keys(lists)].sort();
  const keys = typeof input === 'object' && input !== null ? Object.keys(input).sort() : [];
  if (keys.join() !== expectedKeys.join()) {
    throw new CircuitError('INVALID_INPUT', `witness input must have exactly ${expectedKeys.join(', ')}`, { details: { keys } });
  }
  const element = (value: unknown, name: string): void => {
    const parsed = parseCanonicalDecimal(value);
    if (parsed === undefined) throw new CircuitError('INVALID_INPUT', `${name} must be a decimal string`, { details: { name } });
    if (parsed >= SCALAR_FIELD_ORDER) throw new CircuitError('INPUT_OUT_OF_RANGE', `${name} is not a field element`, { details: { name } });
  };
  scalars.forEach((name) => element(record[name], name));
  for (const [name, length] of Object.entries(lists)) {
    const list = record[name];
    if (!Array.isArray(list) || list.length !== length) {
      throw new CircuitError('INVALID_INPUT', `${name} must hold ${length} values for ${circuitId}`, {
        details: { name, expected: length, actual: Array.isArray(list) ? list.length : typeof list },
      });
    }
    list.forEach((value: unknown, i) => element(value, `${name}[${i}]`));
  }
}
