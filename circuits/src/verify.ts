// Groth16 verification for long-running servers (the chaincode): strict checks first,
// then snarkjs on one cached single-threaded curve, so no worker thread is ever started
// and a process that verifies can exit.

import * as snarkjs from 'snarkjs';
import { CircuitError } from './errors';
import { checkProof, checkVerificationKey } from './proof-format';
import { checkPublicSignals } from './public-signals';

let cachedCurve: Promise<snarkjs.Bn128Curve> | undefined;

/**
 * The single-threaded BN254 engine shared by every verification in this process (built
 * once, ~0.1 s). Internal to the package (verification-key.ts uses it too).
 */
export function singleThreadCurve(): Promise<snarkjs.Bn128Curve> {
  if (cachedCurve === undefined) {
    const building = snarkjs.curves.getCurveFromName('bn128', { singleThread: true });
    cachedCurve = building;
    building.catch(() => {
      if (cachedCurve === building) cachedCurve = undefined;
    });
  }
  return cachedCurve;
}

const curveSlot = globalThis as { curve_bn128?: unknown };

/**
 * snarkjs 0.7.6's groth16.verify takes no thread option: it asks ffjavascript for the
 * process-wide BN254 engine (globalThis.curve_bn128) and builds a multi-threaded one
 * with worker threads when there is none. It reads that slot synchronously, before its
 * first await, so lending our single-threaded engine for the duration of the call (and
 * restoring the slot before anything else can run) makes it use ours and start no worker.
 * A test checks that the slot is left as found and that a verifying process exits.
 */
function verifyOnCurve(curve: snarkjs.Bn128Curve, verificationKey: unknown, publicSignals: string[], proof: unknown): Promise<boolean> {
  const previous = curveSlot.curve_bn128;
  curveSlot.curve_bn128 = curve;
  try {
    return snarkjs.groth16.verify(verificationKey, publicSignals, proof);
  } finally {
    curveSlot.curve_bn128 = previous;
  }
}

/**
 * Verifies a deviation proof. Throws CircuitError before any pairing when an argument is
 * malformed: MALFORMED_VERIFICATION_KEY, PUBLIC_SIGNAL_COUNT, PUBLIC_SIGNAL_NOT_CANONICAL,
 * PUBLIC_SIGNAL_OUT_OF_FIELD, MALFORMED_PROOF (including pi_b outside the prime-order
 * subgroup of G2); VERIFIER_FAILED if snarkjs itself throws. Resolves false when the
 * proof does not verify for these public signals.
 */
export async function verifyDeviationProof(verificationKey: unknown, proof: unknown, publicSignals: unknown): Promise<boolean> {
  const vk = checkVerificationKey(verificationKey);
  const signals = checkPublicSignals(publicSignals);
  const p = checkProof(proof);
  const curve = await singleThreadCurve();
  // G2 has a large cofactor, so a point on the twist may lie outside the group the
  // pairing is defined on; snarkjs only checks the curve equation.
  const piB = curve.G2.fromObject(p.pi_b.map((c) => c.map((v) => BigInt(v))));
  if (!curve.G2.isZero(curve.G2.timesScalar(piB, curve.r))) {
    throw new CircuitError('MALFORMED_PROOF', 'malformed proof: pi_b is not in the prime-order subgroup of G2', {
      details: { path: 'pi_b' },
    });
  }
  try {
    return await verifyOnCurve(curve, vk, signals, p);
  } catch (cause) {
    throw new CircuitError('VERIFIER_FAILED', 'snarkjs failed while verifying', { cause });
  }
}
