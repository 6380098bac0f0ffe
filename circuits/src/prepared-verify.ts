// Groth16 verification with a prepared key, and batches of proofs checked with one product
// of pairings. Same verdicts as verifyDeviationProof (snarkjs), every strict check kept, on
// the same cached single-threaded engine; only the pairing work is arranged differently.
//
// A proof (A, B, C) with public signals s verifies when
//     e(A, B) = e(alpha, beta) · e(vk_x, gamma) · e(C, delta),   vk_x = IC[0] + sum_j s_j·IC[j+1].
// snarkjs prepares all four G2 points and computes four Miller loops on every call. Here
// the key's G2 points (beta, -gamma, -delta) are prepared once and e(alpha, beta) computed
// once, so one proof costs three Miller loops (B prepared on the spot) and one final
// exponentiation: f = ML(A, B) · ML(vk_x, -gamma) · ML(C, -delta), verified when FE(f) = e(alpha, beta).
//
// A batch multiplies n such equations, each raised to a random coefficient r_i, into one:
//     prod_i e(r_i·A_i, B_i) · e(sum r_i·vk_x_i, -gamma) · e(sum r_i·C_i, -delta) · e(-(sum r_i)·alpha, beta) = 1
// n + 3 Miller loops and one final exponentiation. If some proof is invalid, the product
// differs from 1 except with probability about 2^-128 over the coefficients, which the
// prover cannot know when the proof is made (they hash the seed, in the chaincode the
// transaction id, and every item). A failing batch is bisected down to the invalid proofs.

import { createHash } from 'node:crypto';
import type { Bn128Curve } from 'snarkjs';
import { SCALAR_FIELD_ORDER } from './constants';
import { CircuitError } from './errors';
import { isInG2 } from './g2-subgroup';
import { Groth16Proof, G1Point, G2Point, canonicalSubmission, checkProof, checkVerificationKey } from './proof-format';
import { checkPublicSignals } from './public-signals';
import { singleThreadCurve } from './verify';

/** A verification key made ready for verifyPrepared and verifyBatch by prepareVerificationKey. */
export interface PreparedVerificationKey {
  /** Lower-case hex SHA-256 of the normalised key's JSON (checkVerificationKey's form): the cache key. */
  readonly keyHash: string;
  readonly nPublic: number;
}

/** One item of a batch: a proof and its public signals, as a submission carries them. */
export interface BatchItem {
  proof: unknown;
  publicSignals: unknown;
}

/**
 * The outcome of one batch item: `valid` and `invalid` are what verifyDeviationProof would
 * resolve to; `malformed` is where it would throw, with the same CircuitError code.
 */
export type BatchVerdict = { status: 'valid' } | { status: 'invalid' } | { status: 'malformed'; error: CircuitError };

interface KeyMaterial {
  curve: Bn128Curve;
  nPublic: number;
  alpha: Uint8Array;
  ic: Uint8Array[];
  /** e(alpha, beta), final exponentiation included. */
  alphaBeta: Uint8Array;
  beta: Uint8Array;
  negGamma: Uint8Array;
  negDelta: Uint8Array;
}

interface CheckedItem {
  proof: Groth16Proof;
  signals: string[];
  scalars: bigint[];
  a: Uint8Array;
  b: Uint8Array;
  c: Uint8Array;
}

const r = SCALAR_FIELD_ORDER;

// Only objects made here carry key material, so a caller cannot hand in a forged one.
const materials = new WeakMap<PreparedVerificationKey, KeyMaterial>();
// A process verifies under a handful of registered keys; the bound only stops a caller
// that passes ever new keys from growing memory (a prepared key holds about 60 kB).
const CACHE_LIMIT = 16;
const cache = new Map<string, Promise<PreparedVerificationKey>>();

const g1 = (curve: Bn128Curve, point: G1Point): Uint8Array => curve.G1.fromObject(point.map((v) => BigInt(v)));
const g2 = (curve: Bn128Curve, point: G2Point): Uint8Array => curve.G2.fromObject(point.map((c) => c.map((v) => BigInt(v))));

/**
 * Checks the key as verifyDeviationProof does (MALFORMED_VERIFICATION_KEY), and also that
 * beta, gamma and delta lie in G2 (validateVerificationKey checks that when a key is
 * registered; it costs nothing here as it is done once per key). Then caches, under the
 * key's hash, its parsed points, e(alpha, beta) and the prepared G2 points of beta, -gamma
 * and -delta. Concurrent calls for one key share one preparation.
 */
export async function prepareVerificationKey(verificationKey: unknown): Promise<PreparedVerificationKey> {
  const vk = checkVerificationKey(verificationKey);
  const keyHash = createHash('sha256').update(JSON.stringify(vk), 'utf8').digest('hex');
  const cached = cache.get(keyHash);
  if (cached !== undefined) return cached;
  const building = (async (): Promise<PreparedVerificationKey> => {
    const curve = await singleThreadCurve();
    const points = {} as Record<'vk_beta_2' | 'vk_gamma_2' | 'vk_delta_2', Uint8Array>;
    for (const name of ['vk_beta_2', 'vk_gamma_2', 'vk_delta_2'] as const) {
      points[name] = g2(curve, vk[name]);
      if (!isInG2(curve, points[name])) {
        throw new CircuitError('MALFORMED_VERIFICATION_KEY', 'malformed verification key: point is not in the prime-order subgroup of G2', {
          details: { path: name, rule: 'point is not in the prime-order subgroup of G2' },
        });
      }
    }
    const alpha = g1(curve, vk.vk_alpha_1);
    const prepare = (point: Uint8Array): Uint8Array => curve.prepareG2(curve.G2.toJacobian(point));
    const material: KeyMaterial = {
      curve,
      nPublic: vk.nPublic,
      alpha,
      ic: vk.IC.map((point) => g1(curve, point)),
      alphaBeta: curve.pairing(alpha, points.vk_beta_2),
      beta: prepare(points.vk_beta_2),
      negGamma: prepare(curve.G2.neg(points.vk_gamma_2)),
      negDelta: prepare(curve.G2.neg(points.vk_delta_2)),
    };
    const prepared: PreparedVerificationKey = Object.freeze({ keyHash, nPublic: vk.nPublic });
    materials.set(prepared, material);
    return prepared;
  })();
  cache.set(keyHash, building);
  while (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  building.catch(() => {
    if (cache.get(keyHash) === building) cache.delete(keyHash);
  });
  return building;
}

function materialOf(prepared: PreparedVerificationKey): KeyMaterial {
  const material = typeof prepared === 'object' && prepared !== null ? materials.get(prepared) : undefined;
  if (material === undefined) {
    throw new CircuitError('INVALID_INPUT', 'prepared must be a key returned by prepareVerificationKey', { details: { name: 'prepared' } });
  }
  return material;
}

/** The strict checks of verifyDeviationProof, in its order, with the fast G2 membership test. */
function checkItem(curve: Bn128Curve, proof: unknown, publicSignals: unknown): CheckedItem {
  const signals = checkPublicSignals(publicSignals);
  const p = checkProof(proof);
  const b = g2(curve, p.pi_b);
  if (!isInG2(curve, b)) {
    throw new CircuitError('MALFORMED_PROOF', 'malformed proof: pi_b is not in the prime-order subgroup of G2', {
      details: { path: 'pi_b' },
    });
  }
  return { proof: p, signals, scalars: signals.map((s) => BigInt(s)), a: g1(curve, p.pi_a), b, c: g1(curve, p.pi_c) };
}

/** ML(P, Q) for a prepared Q; 1 when P is the point at infinity (e(0, Q) = 1). */
function millerLoop(curve: Bn128Curve, point: Uint8Array, preparedG2: Uint8Array): Uint8Array {
  if (curve.G1.isZero(point)) return curve.Gt.one;
  return curve.millerLoop(curve.prepareG1(curve.G1.toJacobian(point)), preparedG2);
}

/** sum_j scalars[j]·points[j] (scalars below r; zero terms skipped). */
function linearCombination(curve: Bn128Curve, points: Uint8Array[], scalars: bigint[]): Uint8Array {
  let sum = curve.G1.zero;
  scalars.forEach((scalar, j) => {
    if (scalar !== 0n) sum = curve.G1.add(sum, curve.G1.timesScalar(points[j] as Uint8Array, scalar));
  });
  return sum;
}

/**
 * Verifies a deviation proof under a prepared key: the same refusals as verifyDeviationProof
 * (PUBLIC_SIGNAL_COUNT, PUBLIC_SIGNAL_NOT_CANONICAL, PUBLIC_SIGNAL_OUT_OF_FIELD,
 * MALFORMED_PROOF including pi_b outside G2; INVALID_INPUT for a `prepared` not made by
 * prepareVerificationKey), and the same verdict: true exactly when snarkjs's groth16.verify
 * would accept.
 */
export async function verifyPrepared(prepared: PreparedVerificationKey, proof: unknown, publicSignals: unknown): Promise<boolean> {
  const k = materialOf(prepared);
  const { curve } = k;
  const item = checkItem(curve, proof, publicSignals);
  try {
    const vkX = linearCombination(curve, k.ic, [1n, ...item.scalars]);
    let f = millerLoop(curve, item.a, curve.prepareG2(curve.G2.toJacobian(item.b)));
    f = curve.Gt.mul(f, millerLoop(curve, vkX, k.negGamma));
    f = curve.Gt.mul(f, millerLoop(curve, item.c, k.negDelta));
    return curve.Gt.eq(curve.finalExponentiation(f), k.alphaBeta);
  } catch (cause) {
    throw new CircuitError('VERIFIER_FAILED', 'the pairing engine failed while verifying', { cause });
  }
}

/** prepareVerificationKey then verifyPrepared: a drop-in for verifyDeviationProof that caches the key. */
export async function verifyDeviationProofPrepared(verificationKey: unknown, proof: unknown, publicSignals: unknown): Promise<boolean> {
  return verifyPrepared(await prepareVerificationKey(verificationKey), proof, publicSignals);
}

const SEED_LIMIT = 1024;
const DOMAIN = Buffer.from('flexproof/groth16-batch/v1\0', 'utf8');

function seedBytes(seed: unknown): Buffer {
  let bytes: Buffer | undefined;
  if (typeof seed === 'string') bytes = Buffer.from(seed, 'utf8');
  else if (seed instanceof Uint8Array) bytes = Buffer.from(seed.buffer, seed.byteOffset, seed.byteLength);
  if (bytes === undefined || bytes.length === 0 || bytes.length > SEED_LIMIT) {
    throw new CircuitError('INVALID_INPUT', `seed must be a non-empty string or Uint8Array of at most ${SEED_LIMIT} bytes`, {
      details: { name: 'seed' },
    });
  }
  return bytes;
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

interface Admitted {
  index: number;
  item: CheckedItem;
}

/**
 * The coefficients, one per admitted item (those that pass the strict checks):
 *   T   = SHA-256(DOMAIN || u32(len seed) || seed || keyHash (32 bytes) || u32(m)
 *                 || for each admitted item k: u32(index_k) || SHA-256(canonicalSubmission_k))
 *   r_k = 2^128 + (first 16 bytes of SHA-256(T || u32(index_k)), big-endian)
 * DOMAIN = "flexproof/groth16-batch/v1\0", u32 big-endian, index_k the item's position in
 * the batch. Every coefficient depends on the seed and on every item, is never zero and is
 * below r, and carries 128 bits drawn from the hash.
 */
function coefficients(keyHash: string, seed: Buffer, admitted: Admitted[]): bigint[] {
  const transcript = createHash('sha256')
    .update(DOMAIN)
    .update(u32(seed.length))
    .update(seed)
    .update(Buffer.from(keyHash, 'hex'))
    .update(u32(admitted.length));
  for (const { index, item } of admitted) {
    transcript.update(u32(index)).update(createHash('sha256').update(canonicalSubmission(item.proof, item.signals), 'utf8').digest());
  }
  const t = transcript.digest();
  return admitted.map(({ index }) => {
    const h = createHash('sha256').update(t).update(u32(index)).digest();
    return (1n << 128n) + BigInt(`0x${h.subarray(0, 16).toString('hex')}`);
  });
}

function admit(k: KeyMaterial, items: unknown): { verdicts: (BatchVerdict | undefined)[]; admitted: Admitted[] } {
  if (!Array.isArray(items)) {
    throw new CircuitError('INVALID_INPUT', 'items must be an array of { proof, publicSignals }', { details: { name: 'items' } });
  }
  const verdicts: (BatchVerdict | undefined)[] = [];
  const admitted: Admitted[] = [];
  items.forEach((raw: unknown, index) => {
    const entry = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<BatchItem>;
    try {
      admitted.push({ index, item: checkItem(k.curve, entry.proof, entry.publicSignals) });
      verdicts.push(undefined);
    } catch (error) {
      if (!(error instanceof CircuitError)) throw error;
      verdicts.push({ status: 'malformed', error });
    }
  });
  return { verdicts, admitted };
}

/**
 * The batch coefficients verifyBatch would use for these items under this seed, one per
 * item, undefined for an item that fails the strict checks (see `coefficients` above for
 * the derivation). Exposed so that tests and audits can recompute them.
 */
export function batchCoefficients(prepared: PreparedVerificationKey, items: readonly BatchItem[], seed: Uint8Array | string): (bigint | undefined)[] {
  const k = materialOf(prepared);
  const seedData = seedBytes(seed);
  const { verdicts, admitted } = admit(k, items);
  const rs = coefficients(prepared.keyHash, seedData, admitted);
  const result: (bigint | undefined)[] = verdicts.map(() => undefined);
  admitted.forEach(({ index }, i) => {
    result[index] = rs[i];
  });
  return result;
}

interface Term {
  index: number;
  coefficient: bigint;
  scalars: bigint[];
  /** ML(r·A, B): computed once, reused by every sub-batch the bisection checks. */
  loop: Uint8Array;
  /** r·C */
  c: Uint8Array;
}

/** Does the random linear combination of these terms' equations hold? n + 3 Miller loops' worth (item loops cached), one final exponentiation. */
function holds(k: KeyMaterial, terms: Term[]): boolean {
  const { curve } = k;
  let sumR = 0n;
  const icScalars = new Array<bigint>(k.nPublic).fill(0n);
  let sumC = curve.G1.zero;
  let f = curve.Gt.one;
  for (const term of terms) {
    sumR = (sumR + term.coefficient) % r;
    term.scalars.forEach((s, j) => {
      icScalars[j] = ((icScalars[j] as bigint) + term.coefficient * s) % r;
    });
    sumC = curve.G1.add(sumC, term.c);
    f = curve.Gt.mul(f, term.loop);
  }
  // sum_i r_i·vk_x_i = (sum r_i)·IC[0] + sum_j (sum_i r_i·s_ij)·IC[j+1]: n + 1 scalar
  // multiplications for the whole batch instead of n per item.
  const vkX = linearCombination(curve, k.ic, [sumR, ...icScalars]);
  const negAlpha = sumR === 0n ? curve.G1.zero : curve.G1.timesScalar(k.alpha, r - sumR);
  f = curve.Gt.mul(f, millerLoop(curve, vkX, k.negGamma));
  f = curve.Gt.mul(f, millerLoop(curve, sumC, k.negDelta));
  f = curve.Gt.mul(f, millerLoop(curve, negAlpha, k.beta));
  return curve.Gt.eq(curve.finalExponentiation(f), curve.Gt.one);
}

/**
 * Settles a group: valid when its combination holds, else bisected. `knownFailing` skips
 * the check when the caller already knows the group holds an invalid proof (its sibling
 * held while their union did not). Returns whether the group held an invalid proof.
 */
function settle(k: KeyMaterial, terms: Term[], verdicts: (BatchVerdict | undefined)[], knownFailing: boolean): boolean {
  if (!knownFailing && holds(k, terms)) {
    for (const t of terms) verdicts[t.index] = { status: 'valid' };
    return false;
  }
  if (terms.length === 1) {
    // One equation raised to r ≠ 0 (mod the group order) holds exactly when the equation
    // does: this is the single verification's verdict.
    verdicts[(terms[0] as Term).index] = { status: 'invalid' };
    return true;
  }
  const half = Math.ceil(terms.length / 2);
  const leftFailed = settle(k, terms.slice(0, half), verdicts, false);
  settle(k, terms.slice(half), verdicts, !leftFailed);
  return true;
}

/**
 * Verifies many proofs under one key with one product of pairings, and returns one
 * verdict per item, in order: `malformed` (with the CircuitError verifyDeviationProof
 * would throw) for an item that fails a strict check, which then stays out of the
 * product; otherwise `valid` or `invalid`, what single verification would say. A batch
 * with invalid proofs is bisected: each invalid proof costs about 2·log2(n) extra
 * checks of 3 Miller loops and a final exponentiation (the items' own Miller loops are
 * computed once). `seed` (in the chaincode the transaction id) and the items determine
 * the coefficients, so every endorser computes the same and a prover cannot choose them.
 * Throws INVALID_INPUT for a bad `prepared`, `items` or `seed`.
 */
export async function verifyBatchDetailed(prepared: PreparedVerificationKey, items: readonly BatchItem[], seed: Uint8Array | string): Promise<BatchVerdict[]> {
  const k = materialOf(prepared);
  const seedData = seedBytes(seed);
  const { verdicts, admitted } = admit(k, items);
  if (admitted.length === 0) return verdicts as BatchVerdict[];
  const { curve } = k;
  try {
    const rs = coefficients(prepared.keyHash, seedData, admitted);
    const terms: Term[] = admitted.map(({ index, item }, i) => {
      const coefficient = rs[i] as bigint;
      return {
        index,
        coefficient,
        scalars: item.scalars,
        loop: millerLoop(curve, curve.G1.timesScalar(item.a, coefficient), curve.prepareG2(curve.G2.toJacobian(item.b))),
        c: curve.G1.timesScalar(item.c, coefficient),
      };
    });
    settle(k, terms, verdicts, false);
  } catch (cause) {
    throw new CircuitError('VERIFIER_FAILED', 'the pairing engine failed while verifying a batch', { cause });
  }
  return verdicts as BatchVerdict[];
}

/** verifyBatchDetailed with one boolean per item: true for valid, false for invalid or malformed. */
export async function verifyBatch(prepared: PreparedVerificationKey, items: readonly BatchItem[], seed: Uint8Array | string): Promise<boolean[]> {
  return (await verifyBatchDetailed(prepared, items, seed)).map((v) => v.status === 'valid');
}
