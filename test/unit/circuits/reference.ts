// An independent restatement of the circuits' arithmetic (circuits/circom/hourly-deviation.circom
// and net-deviation.circom) with poseidon-lite's fixed-arity functions, written from the
// spec rather than from the library: tests compare the library and the circuit against
// these values.

import { poseidon3, poseidon4, poseidon5, poseidon9, poseidon12, poseidon16 } from 'poseidon-lite';

export const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
export const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

/** Poseidon3(salt, Poseidon12(profile[0..11]), Poseidon12(profile[12..23])). */
export function referenceCommitment(profile: bigint[], salt: bigint): bigint {
  return poseidon3([salt, poseidon12(profile.slice(0, 12)), poseidon12(profile.slice(12, 24))]);
}

/** Chain link for 4 readings (one chunk) or 60 readings (four chunks of 15). */
export function referenceFingerprint(prev: bigint, salt: bigint, period: number, readings: bigint[]): bigint {
  const head = poseidon4([prev, salt, BigInt(period), BigInt(readings.length)]);
  if (readings.length === 4) return poseidon5([head, ...readings]);
  if (readings.length === 60) {
    let h = head;
    for (let c = 0; c < 4; c++) h = poseidon16([h, ...readings.slice(15 * c, 15 * c + 15)]);
    return h;
  }
  throw new Error('reference covers the 4 and 60 reading shapes only');
}

export function referenceDeviation(readings: bigint[], profile: bigint[], period: number): { deviation: bigint; direction: bigint } {
  const measured = readings.reduce((a, b) => a + b, 0n);
  const requested = profile[period] as bigint;
  return measured > requested ? { deviation: measured - requested, direction: 1n } : { deviation: requested - measured, direction: 0n };
}

/** The public signals a proof must carry, in snarkjs order. */
export function referenceSignals(p: {
  prev: bigint;
  fingerprintSalt: bigint;
  period: number;
  readings: bigint[];
  profile: bigint[];
  commitmentSalt: bigint;
}): string[] {
  const { deviation, direction } = referenceDeviation(p.readings, p.profile, p.period);
  return [
    referenceFingerprint(p.prev, p.fingerprintSalt, p.period, p.readings),
    deviation,
    direction,
    p.prev,
    referenceCommitment(p.profile, p.commitmentSalt),
    BigInt(p.period),
  ].map(String);
}

// ---- v2: signed net energy (README "Signed net energy (v2)") ----

/** 2^39: a signed request v enters the v2 circuit as v + 2^39. */
export const NET_OFFSET = 549755813888n;

/** Poseidon4(2, salt, Poseidon12(enc[0..11]), Poseidon12(enc[12..23])), enc = v + 2^39, for a signed profile. */
export function referenceNetCommitment(signedProfile: bigint[], salt: bigint): bigint {
  const enc = signedProfile.map((v) => v + NET_OFFSET);
  return poseidon4([2n, salt, poseidon12(enc.slice(0, 12)), poseidon12(enc.slice(12, 24))]);
}

/**
 * v2 chain link: Poseidon5(prev, salt, period, N, 2), then import[0], export[0], import[1], ...
 * absorbed 15 at a time: 8 values in one Poseidon9 for N = 4, 120 values in eight Poseidon16 for N = 60.
 */
export function referenceNetFingerprint(prev: bigint, salt: bigint, period: number, importWh: bigint[], exportWh: bigint[]): bigint {
  const head = poseidon5([prev, salt, BigInt(period), BigInt(importWh.length), 2n]);
  const values: bigint[] = [];
  for (let i = 0; i < importWh.length; i++) values.push(importWh[i] as bigint, exportWh[i] as bigint);
  if (importWh.length === 4) return poseidon9([head, ...values]);
  if (importWh.length === 60) {
    let h = head;
    for (let c = 0; c < 8; c++) h = poseidon16([h, ...values.slice(15 * c, 15 * c + 15)]);
    return h;
  }
  throw new Error('reference covers the 4 and 60 interval shapes only');
}

/** measured = sum(import) - sum(export); deviation |measured - requested|, direction 1 iff measured > requested. */
export function referenceNetDeviation(importWh: bigint[], exportWh: bigint[], signedProfile: bigint[], period: number): { measured: bigint; deviation: bigint; direction: bigint } {
  let measured = 0n;
  for (const v of importWh) measured += v;
  for (const v of exportWh) measured -= v;
  const requested = signedProfile[period] as bigint;
  return measured > requested
    ? { measured, deviation: measured - requested, direction: 1n }
    : { measured, deviation: requested - measured, direction: 0n };
}

/** The public signals of a v2 proof, in snarkjs order. */
export function referenceNetSignals(p: {
  prev: bigint;
  fingerprintSalt: bigint;
  period: number;
  importWh: bigint[];
  exportWh: bigint[];
  profile: bigint[];
  commitmentSalt: bigint;
}): string[] {
  const { deviation, direction } = referenceNetDeviation(p.importWh, p.exportWh, p.profile, p.period);
  return [
    referenceNetFingerprint(p.prev, p.fingerprintSalt, p.period, p.importWh, p.exportWh),
    deviation,
    direction,
    p.prev,
    referenceNetCommitment(p.profile, p.commitmentSalt),
    BigInt(p.period),
  ].map(String);
}

/** BN254 G1 generator, G2 generator (snarkjs JSON), and a point on the G2 twist outside the prime-order subgroup. */
export const G1_GENERATOR = ['1', '2', '1'];
export const G2_GENERATOR = [
  ['10857046999023057135944570762232829481370756359578518086990519993285655852781', '11559732032986387107991004021392285783925812861821192530917403151452391805634'],
  ['8495653923123431417604973247489272438418190587263600148770280649306958101930', '4082367875863433681332203403145435568316851327593401208105741076214120093531'],
  ['1', '0'],
];
export const G2_TWIST_POINT_OUTSIDE_SUBGROUP = [
  ['1', '0'],
  ['18278151005453108793778860132295291098363647455926340152056652516292830556603', '5912654199736721486680175016176231956195085055698687135131307249486702594212'],
  ['1', '0'],
];

/** A well-formed proof object (valid points, not a valid proof). */
export function wellFormedProof(): { pi_a: string[]; pi_b: string[][]; pi_c: string[]; protocol: string; curve: string } {
  return { pi_a: [...G1_GENERATOR], pi_b: G2_GENERATOR.map((c) => [...c]), pi_c: [...G1_GENERATOR], protocol: 'groth16', curve: 'bn128' };
}

// ---- the G2 twist over Fq2 = Fq[u]/(u^2 + 1), in plain bigint (independent of ffjavascript) ----
// E'(Fq2): y^2 = x^3 + 3/(9 + u). Its group order is r times a huge cofactor, so most
// points on it are outside the r-torsion subgroup G2 the pairing is defined on.

export type Fq2 = [bigint, bigint];
const md = (a: bigint): bigint => ((a % Q) + Q) % Q;
function fqPow(b: bigint, e: bigint): bigint {
  let out = 1n;
  let x = md(b);
  for (let k = e; k > 0n; k >>= 1n) {
    if (k & 1n) out = (out * x) % Q;
    x = (x * x) % Q;
  }
  return out;
}
const fqInv = (a: bigint): bigint => fqPow(a, Q - 2n);
/** Square root in Fq (q = 3 mod 4), or undefined for a non-residue. */
function fqSqrt(a: bigint): bigint | undefined {
  const s = fqPow(a, (Q + 1n) / 4n);
  return md(s * s) === md(a) ? s : undefined;
}
const f2add = (a: Fq2, b: Fq2): Fq2 => [md(a[0] + b[0]), md(a[1] + b[1])];
const f2sub = (a: Fq2, b: Fq2): Fq2 => [md(a[0] - b[0]), md(a[1] - b[1])];
const f2mul = (a: Fq2, b: Fq2): Fq2 => [md(a[0] * b[0] - a[1] * b[1]), md(a[0] * b[1] + a[1] * b[0])];
function f2inv(a: Fq2): Fq2 {
  const n = fqInv(md(a[0] * a[0] + a[1] * a[1]));
  return [md(a[0] * n), md(-a[1] * n)];
}
const f2eq = (a: Fq2, b: Fq2): boolean => a[0] === b[0] && a[1] === b[1];
/** Square root in Fq2 by the norm: x = x0 + x1·u with x0^2 = (a0 ± sqrt(a0^2 + a1^2)) / 2 and x1 = a1 / (2·x0). */
function f2sqrt(a: Fq2): Fq2 | undefined {
  const n = fqSqrt(md(a[0] * a[0] + a[1] * a[1]));
  if (n === undefined) return undefined;
  const half = fqInv(2n);
  for (const d of [md((a[0] + n) * half), md((a[0] - n) * half)]) {
    const x0 = fqSqrt(d);
    if (x0 === undefined || x0 === 0n) continue;
    const x: Fq2 = [x0, md(a[1] * fqInv(2n * x0))];
    if (f2eq(f2mul(x, x), a)) return x;
  }
  return undefined;
}
const TWIST_B: Fq2 = f2mul([3n, 0n], f2inv([9n, 1n]));

/** An affine twist point, or null for infinity. */
export type TwistPoint = { x: Fq2; y: Fq2 } | null;

export function onTwist(p: { x: Fq2; y: Fq2 }): boolean {
  return f2eq(f2mul(p.y, p.y), f2add(f2mul(f2mul(p.x, p.x), p.x), TWIST_B));
}

function twistAdd(a: TwistPoint, b: TwistPoint): TwistPoint {
  if (a === null) return b;
  if (b === null) return a;
  let lambda: Fq2;
  if (f2eq(a.x, b.x)) {
    if (!f2eq(a.y, b.y) || f2eq(a.y, [0n, 0n])) return null;
    const x2 = f2mul(a.x, a.x);
    lambda = f2mul(f2add(f2add(x2, x2), x2), f2inv(f2add(a.y, a.y)));
  } else {
    lambda = f2mul(f2sub(b.y, a.y), f2inv(f2sub(b.x, a.x)));
  }
  const x = f2sub(f2sub(f2mul(lambda, lambda), a.x), b.x);
  return { x, y: f2sub(f2mul(lambda, f2sub(a.x, x)), a.y) };
}

export function twistTimes(p: TwistPoint, k: bigint): TwistPoint {
  let out: TwistPoint = null;
  let acc = p;
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) out = twistAdd(out, acc);
    acc = twistAdd(acc, acc);
  }
  return out;
}

/**
 * Hash to the twist: the first x = (seed + i) + 1·u for which x^3 + b' is a square, with
 * its square root as y. Such a point lies on the twist; checking r·P ≠ 0 shows it is
 * outside G2 (almost every point is).
 */
export function twistPointFromSeed(seed: bigint): { x: Fq2; y: Fq2 } {
  for (let i = 0n; ; i++) {
    const x: Fq2 = [md(seed + i), 1n];
    const y = f2sqrt(f2add(f2mul(f2mul(x, x), x), TWIST_B));
    if (y !== undefined) return { x, y };
  }
}

/** A twist point as snarkjs JSON: [[x0, x1], [y0, y1], ["1", "0"]]. */
export function twistPointJson(p: { x: Fq2; y: Fq2 }): string[][] {
  return [p.x.map(String), p.y.map(String), ['1', '0']];
}
