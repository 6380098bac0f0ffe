import assert from 'node:assert/strict';
import { CircuitError, CircuitErrorCode } from '@flexproof/circuits';

/** Asserts that `run` throws (or rejects with) a CircuitError of this code, and returns it. */
export async function expectCircuitError(run: () => unknown, code: CircuitErrorCode): Promise<CircuitError> {
  let caught: unknown;
  try {
    await run();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof CircuitError, `expected a CircuitError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected code ${code}, got ${caught.code}: ${caught.message}`);
  return caught;
}
