// Validation of a Groth16 verification key when it is proposed for the ledger: every
// check that can be made without a proof, so a key that could never verify a proof (or
// that verifies proofs of the wrong statement size) is refused before anyone approves it.

import { CircuitError } from './errors';
import { ShapeChecker, VerificationKey, checkVerificationKeyShape } from './proof-format';
import { singleThreadCurve } from './verify';

/** Every field snarkjs writes into verification_key.json for Groth16; nothing else is accepted. */
const KEY_FIELDS = new Set([
  'protocol',
  'curve',
  'nPublic',
  'vk_alpha_1',
  'vk_beta_2',
  'vk_gamma_2',
  'vk_delta_2',
  'vk_alphabeta_12',
  'IC',
]);

const fail = (rule: string, path: string): never => {
  throw new CircuitError('MALFORMED_VERIFICATION_KEY', `malformed verification key: ${rule}`, { details: { path, rule } });
};

/**
 * Checks a snarkjs Groth16 verification key for a circuit with `expectedPublicSignals`
 * public signals, on snarkjs's own BN254 engine, and returns its normalised form (the
 * fields verification reads, as `readVerificationKey` gives them). Refused with
 * MALFORMED_VERIFICATION_KEY, `details.path` naming the field and `details.rule` the rule:
 *
 * - not an object, or a field snarkjs does not write;
 * - protocol other than "groth16", curve other than "bn128", nPublic other than
 *   `expectedPublicSignals`, IC not exactly nPublic + 1 points;
 * - a coordinate that is not a canonical decimal string below the base field order q;
 * - a G1 point (vk_alpha_1, IC[i]) not affine, at infinity or off y² = x³ + 3 (G1 has
 *   cofactor 1, so on the curve means in the group);
 * - a G2 point (vk_beta_2, vk_gamma_2, vk_delta_2) not affine, at infinity, off the twist,
 *   or outside its prime-order subgroup (r·P ≠ 0): the twist has a huge cofactor, and
 *   the pairing check means nothing for such a point;
 * - vk_alphabeta_12, when present (snarkjs writes it, the normalised form omits it), not
 *   e(vk_alpha_1, vk_beta_2). Verification does not read it, but a key that carries a
 *   false one is not the key snarkjs exported.
 *
 * A key that passes may still belong to another circuit of the same size: only the
 * organisations' review of its hash (and the ceremony's transcript) can tell.
 */
export async function validateVerificationKey(verificationKey: unknown, expectedPublicSignals: number): Promise<VerificationKey> {
  if (!Number.isSafeInteger(expectedPublicSignals) || expectedPublicSignals < 1) {
    throw new RangeError('expectedPublicSignals must be a positive integer');
  }
  if (typeof verificationKey !== 'object' || verificationKey === null || Array.isArray(verificationKey)) {
    fail('expected a JSON object', '$');
  }
  for (const field of Object.keys(verificationKey as object)) {
    if (!KEY_FIELDS.has(field)) fail(`unknown field (a Groth16 key has ${[...KEY_FIELDS].join(', ')})`, field);
  }
  const vk = checkVerificationKeyShape(verificationKey, expectedPublicSignals);
  const alphaBeta = (verificationKey as Record<string, unknown>).vk_alphabeta_12;
  const expectedAlphaBeta = alphaBeta === undefined ? undefined : checkFq12(alphaBeta, 'vk_alphabeta_12');

  const curve = await singleThreadCurve();
  for (const name of ['vk_beta_2', 'vk_gamma_2', 'vk_delta_2'] as const) {
    const point = curve.G2.fromObject(vk[name].map((c) => c.map((v) => BigInt(v))));
    if (!curve.G2.isZero(curve.G2.timesScalar(point, curve.r))) {
      fail('point is not in the prime-order subgroup of G2', name);
    }
  }
  if (expectedAlphaBeta !== undefined) {
    const alpha = curve.G1.fromObject(vk.vk_alpha_1.map((v) => BigInt(v)));
    const beta = curve.G2.fromObject(vk.vk_beta_2.map((c) => c.map((v) => BigInt(v))));
    const actual = curve.Gt.toObject(curve.pairing(alpha, beta)).map((a) => a.map((b) => b.map((c) => c.toString())));
    if (JSON.stringify(actual) !== JSON.stringify(expectedAlphaBeta)) {
      fail('vk_alphabeta_12 is not the pairing of vk_alpha_1 and vk_beta_2', 'vk_alphabeta_12');
    }
  }
  return vk;
}

/** An element of Fq12 as snarkjs writes it: 2 × 3 × 2 canonical coordinates below q. */
function checkFq12(value: unknown, path: string): string[][][] {
  const check = new ShapeChecker('MALFORMED_VERIFICATION_KEY', 'malformed verification key');
  const list = (v: unknown, n: number, p: string): unknown[] => {
    if (!Array.isArray(v) || v.length !== n) check.fail(`expected a list of ${n}`, p);
    return v as unknown[];
  };
  return list(value, 2, path).map((c6, i) =>
    list(c6, 3, `${path}[${i}]`).map((c2, j) =>
      list(c2, 2, `${path}[${i}][${j}]`).map((c, k) => check.coordinate(c, `${path}[${i}][${j}][${k}]`).toString()),
    ),
  );
}
