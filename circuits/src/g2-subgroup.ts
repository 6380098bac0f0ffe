// Membership of a twist point in G2, the prime-order subgroup the pairing is defined on,
// at the cost of a 63-bit scalar multiplication instead of the 254-bit [r]P.
//
// The twist E'(Fq2) of BN254 has a huge cofactor, so a point that satisfies the curve
// equation may lie outside G2; a pairing check on such a point means nothing. Multiplying
// by r costs about 1 ms on snarkjs's engine, a third of the budget of a batched proof.
// With ψ the untwist-Frobenius-twist endomorphism of the twist and x = 4965661367192848881
// the curve's seed, a twist point P is in G2 exactly when
//     [x + 1]P + ψ([x]P) + ψ²([x]P) = ψ³([2x]P)
// (Dai, Lin, Zhao, Zhou, "Fast subgroup membership testings for G1, G2 and GT on
// pairing-friendly curves", eprint 2022/348, for BN curves whose seed has x ≢ 4 (mod 13)
// and x ≢ 92 (mod 97), which BN254's has; applied to BN254 by Sanso and Liang, ethresear.ch
// 13974). The older criterion ψ(P) = [6x²]P (El Housni, Guillevic, Piellard, eprint
// 2022/352) costs a 126-bit multiplication. test/unit/circuits checks both against
// [r]P = 0 on points inside and outside the subgroup.

import { BASE_FIELD_ORDER } from './constants';
import type { Bn128Curve } from 'snarkjs';

const q = BASE_FIELD_ORDER;
type Fq2 = readonly [bigint, bigint];

const mod = (a: bigint): bigint => ((a % q) + q) % q;
const fq2Mul = (a: Fq2, b: Fq2): Fq2 => [mod(a[0] * b[0] - a[1] * b[1]), mod(a[0] * b[1] + a[1] * b[0])];
// The q-power Frobenius on Fq2 = Fq[u]/(u² + 1) is conjugation.
const conjugate = (a: Fq2): Fq2 => [a[0], mod(-a[1])];

function fq2Pow(base: Fq2, exponent: bigint): Fq2 {
  let result: Fq2 = [1n, 0n];
  let b = base;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = fq2Mul(result, b);
    b = fq2Mul(b, b);
  }
  return result;
}

/** The seed of BN254 (q and r are polynomials in it). */
export const BN254_SEED = 4965661367192848881n;
/** The scalar of the membership test: ψ acts on G2 as multiplication by 6x² (mod r). */
export const G2_PSI_SCALAR = 6n * BN254_SEED * BN254_SEED;

// BN254's twist is a D-type sextic twist by ξ = 9 + u: untwisting multiplies x by w² and y
// by w³ with w⁶ = ξ, so ψ(x, y) = (x̄ · ξ^((q-1)/3), ȳ · ξ^((q-1)/2)).
const XI: Fq2 = [9n, 1n];
const PSI_X = fq2Pow(XI, (q - 1n) / 3n);
const PSI_Y = fq2Pow(XI, (q - 1n) / 2n);

/** ψ of an affine twist point given by its coordinates (x0 + x1·u, y0 + y1·u). */
export function psi(x: Fq2, y: Fq2): [Fq2, Fq2] {
  return [fq2Mul(conjugate(x), PSI_X), fq2Mul(conjugate(y), PSI_Y)];
}

/** The criterion of eprint 2022/352 on affine coordinates: ψ(P) = [6x²]P. Kept as a cross-check for tests. */
export function isInG2BySixXSquared(curve: Bn128Curve, x: Fq2, y: Fq2, point: Uint8Array): boolean {
  const [px, py] = psi(x, y);
  const image = curve.G2.fromObject([[px[0], px[1]], [py[0], py[1]], [1n, 0n]]);
  return curve.G2.eq(image, curve.G2.timesScalar(point, G2_PSI_SCALAR));
}

interface Fq2Engine {
  F1: { neg(a: Uint8Array): Uint8Array };
  F2: { mul(a: Uint8Array, b: Uint8Array): Uint8Array; fromObject(a: bigint[]): Uint8Array };
}

/**
 * ψ on a Jacobian point in the engine's form (X, Y, Z, each c0 || c1 in Montgomery form):
 * conjugation is a field automorphism, so (X̄·cx, Ȳ·cy, Z̄) is ψ of the affine point X/Z², Y/Z³.
 */
function psiJacobian(curve: Bn128Curve, point: Uint8Array, cx: Uint8Array, cy: Uint8Array): Uint8Array {
  const engine = curve as unknown as Fq2Engine;
  const n = point.length / 6; // bytes of one Fq coordinate
  const conj = (offset: number): Uint8Array => {
    const c = new Uint8Array(2 * n);
    c.set(point.subarray(offset, offset + n));
    c.set(engine.F1.neg(point.subarray(offset + n, offset + 2 * n)), n);
    return c;
  };
  const out = new Uint8Array(6 * n);
  out.set(engine.F2.mul(conj(0), cx), 0);
  out.set(engine.F2.mul(conj(2 * n), cy), 2 * n);
  out.set(conj(4 * n), 4 * n);
  return out;
}

const constants = new WeakMap<Bn128Curve, { cx: Uint8Array; cy: Uint8Array }>();

/**
 * True when `point`, a twist point in the engine's form already checked to be on the twist
 * and not at infinity, lies in G2 (the criterion of eprint 2022/348 above).
 */
export function isInG2(curve: Bn128Curve, point: Uint8Array): boolean {
  let c = constants.get(curve);
  if (c === undefined) {
    const engine = curve as unknown as Fq2Engine;
    c = { cx: engine.F2.fromObject([PSI_X[0], PSI_X[1]]), cy: engine.F2.fromObject([PSI_Y[0], PSI_Y[1]]) };
    constants.set(curve, c);
  }
  const { cx, cy } = c;
  const G2 = curve.G2;
  const p = G2.toJacobian(point);
  const xP = G2.timesScalar(p, BN254_SEED);
  const psiXP = psiJacobian(curve, xP, cx, cy);
  const lhs = G2.add(G2.add(G2.add(xP, p), psiXP), psiJacobian(curve, psiXP, cx, cy));
  let rhs = G2.add(xP, xP);
  for (let i = 0; i < 3; i++) rhs = psiJacobian(curve, rhs, cx, cy);
  return G2.eq(lhs, rhs);
}
