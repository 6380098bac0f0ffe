// Strict shape checks for Groth16 proofs and verification keys in snarkjs JSON form, and
// the canonical serialisation of a submission (proof plus public signals) that prosumers
// sign. Pure bigint arithmetic: nothing here loads snarkjs.

import { createHash } from 'node:crypto';
import { CircuitError, CircuitErrorCode } from './errors';
import { parseCanonicalDecimal } from './field';
import { BASE_FIELD_ORDER } from './constants';
import { PUBLIC_SIGNAL_COUNT, checkPublicSignals } from './public-signals';

/** Affine point of G1 as snarkjs writes it: [x, y, "1"]. */
export type G1Point = [string, string, string];
/** Affine point of G2 as snarkjs writes it: [[x0, x1], [y0, y1], ["1", "0"]], x = x0 + x1·u. */
export type G2Point = [[string, string], [string, string], [string, string]];

export interface Groth16Proof {
  pi_a: G1Point;
  pi_b: G2Point;
  pi_c: G1Point;
  protocol: 'groth16';
  curve: 'bn128';
}

/** The part of a snarkjs verification key that Groth16 verification reads. */
export interface VerificationKey {
  protocol: 'groth16';
  curve: 'bn128';
  nPublic: number;
  vk_alpha_1: G1Point;
  vk_beta_2: G2Point;
  vk_gamma_2: G2Point;
  vk_delta_2: G2Point;
  IC: G1Point[];
}

const PROOF_KEYS = ['curve', 'pi_a', 'pi_b', 'pi_c', 'protocol'];

// ---- BN254 curve equations over the base field q ----
// G1: y^2 = x^3 + 3. G2 (the sextic twist over Fq2 = Fq[u]/(u^2 + 1)): y^2 = x^3 + 3/(9 + u).
const q = BASE_FIELD_ORDER;
type Fq2 = readonly [bigint, bigint];

const mod = (a: bigint): bigint => ((a % q) + q) % q;
function powMod(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % q;
    b = (b * b) % q;
  }
  return result;
}
const fq2Mul = (a: Fq2, b: Fq2): Fq2 => [mod(a[0] * b[0] - a[1] * b[1]), mod(a[0] * b[1] + a[1] * b[0])];
const fq2Add = (a: Fq2, b: Fq2): Fq2 => [mod(a[0] + b[0]), mod(a[1] + b[1])];
// 3 / (9 + u) = 3 (9 - u) / 82.
const inv82 = powMod(82n, q - 2n);
const TWIST_B: Fq2 = [mod(27n * inv82), mod(-3n * inv82)];

function isOnG1(x: bigint, y: bigint): boolean {
  return mod(y * y) === mod(x * x * x + 3n);
}

function isOnTwist(x: Fq2, y: Fq2): boolean {
  const lhs = fq2Mul(y, y);
  const rhs = fq2Add(fq2Mul(fq2Mul(x, x), x), TWIST_B);
  return lhs[0] === rhs[0] && lhs[1] === rhs[1];
}

export class ShapeChecker {
  constructor(
    private readonly code: CircuitErrorCode,
    private readonly what: string,
  ) {}

  /** Throws this checker's error; `details.path` names the offending field and `details.rule` the rule it breaks. */
  fail(message: string, path: string): never {
    throw new CircuitError(this.code, `${this.what}: ${message}`, { details: { path, rule: message } });
  }

  coordinate(value: unknown, path: string): bigint {
    const parsed = parseCanonicalDecimal(value);
    if (parsed === undefined) this.fail('coordinate is not a canonical decimal string', path);
    if (parsed >= q) this.fail('coordinate is not below the base field order', path);
    return parsed;
  }

  pair(value: unknown, path: string): [unknown, unknown] {
    if (!Array.isArray(value) || value.length !== 2) this.fail('expected a pair', path);
    return [value[0], value[1]];
  }

  /** An affine point of G1 other than infinity, on the curve (G1 has cofactor 1: on the curve is in the group). */
  g1(value: unknown, path: string): G1Point {
    if (!Array.isArray(value) || value.length !== 3) this.fail('a G1 point is [x, y, "1"]', path);
    const x = this.coordinate(value[0], `${path}[0]`);
    const y = this.coordinate(value[1], `${path}[1]`);
    if (value[2] !== '1') this.fail('a G1 point must be affine with z = "1"', `${path}[2]`);
    if (!isOnG1(x, y)) this.fail('point is not on the curve', path);
    return [x.toString(), y.toString(), '1'];
  }

  /** An affine point of the twist other than infinity, on the twist (subgroup membership is checked by the verifier). */
  g2(value: unknown, path: string): G2Point {
    if (!Array.isArray(value) || value.length !== 3) this.fail('a G2 point is [[x0, x1], [y0, y1], ["1", "0"]]', path);
    const [x0, x1] = this.pair(value[0], `${path}[0]`);
    const [y0, y1] = this.pair(value[1], `${path}[1]`);
    const [z0, z1] = this.pair(value[2], `${path}[2]`);
    const x: Fq2 = [this.coordinate(x0, `${path}[0][0]`), this.coordinate(x1, `${path}[0][1]`)];
    const y: Fq2 = [this.coordinate(y0, `${path}[1][0]`), this.coordinate(y1, `${path}[1][1]`)];
    if (z0 !== '1' || z1 !== '0') this.fail('a G2 point must be affine with z = ["1", "0"]', `${path}[2]`);
    if (!isOnTwist(x, y)) this.fail('point is not on the curve', path);
    return [
      [x[0].toString(), x[1].toString()],
      [y[0].toString(), y[1].toString()],
      ['1', '0'],
    ];
  }

  record(value: unknown): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail('expected a JSON object', '$');
    return value as Record<string, unknown>;
  }
}

/**
 * A snarkjs Groth16 proof over BN254, checked field by field: exactly the keys snarkjs
 * writes, canonical coordinates below q, affine points on the curve. Returns a normalised
 * copy; throws MALFORMED_PROOF.
 */
export function checkProof(proof: unknown): Groth16Proof {
  const check = new ShapeChecker('MALFORMED_PROOF', 'malformed proof');
  const p = check.record(proof);
  const keys = Object.keys(p).sort();
  if (keys.length !== PROOF_KEYS.length || keys.some((k, i) => k !== PROOF_KEYS[i])) {
    check.fail(`expected exactly the keys ${PROOF_KEYS.join(', ')}`, '$');
  }
  if (p.protocol !== 'groth16') check.fail('protocol must be "groth16"', 'protocol');
  if (p.curve !== 'bn128') check.fail('curve must be "bn128"', 'curve');
  return {
    pi_a: check.g1(p.pi_a, 'pi_a'),
    pi_b: check.g2(p.pi_b, 'pi_b'),
    pi_c: check.g1(p.pi_c, 'pi_c'),
    protocol: 'groth16',
    curve: 'bn128',
  };
}

/**
 * A snarkjs Groth16 verification key for a deviation circuit (6 public signals, 7 IC
 * points), checked as strictly as a proof. Returns a copy holding only the fields
 * verification reads; throws MALFORMED_VERIFICATION_KEY.
 */
export function checkVerificationKey(verificationKey: unknown): VerificationKey {
  return checkVerificationKeyShape(verificationKey, PUBLIC_SIGNAL_COUNT);
}

/**
 * The shape checks of checkVerificationKey for a circuit with `nPublic` public signals:
 * protocol, curve, nPublic, IC length nPublic + 1, canonical coordinates below q,
 * affine points (never infinity) on the curve or the twist. Internal to the package.
 */
export function checkVerificationKeyShape(verificationKey: unknown, nPublic: number): VerificationKey {
  const check = new ShapeChecker('MALFORMED_VERIFICATION_KEY', 'malformed verification key');
  const vk = check.record(verificationKey);
  if (vk.protocol !== 'groth16') check.fail('protocol must be "groth16"', 'protocol');
  if (vk.curve !== 'bn128') check.fail('curve must be "bn128"', 'curve');
  if (vk.nPublic !== nPublic) check.fail(`nPublic must be ${nPublic}`, 'nPublic');
  if (!Array.isArray(vk.IC) || vk.IC.length !== nPublic + 1) {
    check.fail(`IC must hold ${nPublic + 1} points`, 'IC');
  }
  return {
    protocol: 'groth16',
    curve: 'bn128',
    nPublic,
    vk_alpha_1: check.g1(vk.vk_alpha_1, 'vk_alpha_1'),
    vk_beta_2: check.g2(vk.vk_beta_2, 'vk_beta_2'),
    vk_gamma_2: check.g2(vk.vk_gamma_2, 'vk_gamma_2'),
    vk_delta_2: check.g2(vk.vk_delta_2, 'vk_delta_2'),
    IC: (vk.IC as unknown[]).map((point, i) => check.g1(point, `IC[${i}]`)),
  };
}

/**
 * The one text encoding of a submission that a prosumer signs:
 * {"proof":{"curve":"bn128","pi_a":[…],"pi_b":[…],"pi_c":[…],"protocol":"groth16"},"publicSignals":[…]}
 * with keys in this order, no white space, and every number a canonical decimal string.
 * Throws the strict-check errors of checkProof and checkPublicSignals.
 */
export function canonicalSubmission(proof: unknown, publicSignals: unknown): string {
  const p = checkProof(proof);
  const signals = checkPublicSignals(publicSignals);
  return JSON.stringify({
    proof: { curve: p.curve, pi_a: p.pi_a, pi_b: p.pi_b, pi_c: p.pi_c, protocol: p.protocol },
    publicSignals: signals,
  });
}

/** Lower-case hex SHA-256 of canonicalSubmission(proof, publicSignals): what signatures cover. */
export function submissionHash(proof: unknown, publicSignals: unknown): string {
  return createHash('sha256').update(canonicalSubmission(proof, publicSignals), 'utf8').digest('hex');
}

/**
 * Parses a canonical submission back, refusing any text that is not exactly the canonical
 * form of what it holds (MALFORMED_SUBMISSION), so one submission has one encoding.
 */
export function parseSubmission(text: string): { proof: Groth16Proof; publicSignals: string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new CircuitError('MALFORMED_SUBMISSION', 'submission is not JSON', { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CircuitError('MALFORMED_SUBMISSION', 'submission is not a JSON object');
  }
  const { proof, publicSignals } = parsed as Record<string, unknown>;
  const canonical = canonicalSubmission(proof, publicSignals);
  if (canonical !== text) {
    throw new CircuitError('MALFORMED_SUBMISSION', 'submission is not in canonical form');
  }
  return { proof: checkProof(proof), publicSignals: checkPublicSignals(publicSignals) };
}
