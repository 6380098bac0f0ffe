/**
 * The proofs the simulated prosumers submit, made before the run (proving is not part
 * of the throughput) and cached under .flexproof/bench/pool/, keyed by the circuit's
 * artifacts (the zkey's sha256), the number of chains and their deviations (workload.ts).
 *
 * A chain is one set of secrets (request profile, commitment salt, fingerprint salts,
 * readings) and its 24 proofs, each chaining from the previous fingerprint. Prosumers
 * share chains (prosumer i uses chain i mod chains): every enrollment carries the chain's
 * request commitment and starts at the genesis fingerprint, so period p of every
 * prosumer on a chain has the same public signals and the same proof bytes. Each
 * submission is still distinct and fully checked on the ledger: its own enrollment,
 * meter, signature, period window and chain head. Real prosumers would each have their
 * own secrets; the verifier's work per proof is the same either way.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  PERIODS_PER_DAY,
  buildDeviationInput,
  circuitShape,
  proveDeviation,
  randomSalt,
  requestCommitment,
  submissionHash,
  type CircuitArtifacts,
  type CircuitId,
} from '@flexproof/circuits';
import { BENCH_DIR } from './paths';

/** Requested energy per hour of every bench profile (Wh). */
export const REQUESTED_WH = 1000n;

export interface PooledProof {
  proof: Record<string, unknown>;
  publicSignals: string[];
  submissionHash: string;
}

export interface ProofChain {
  requestCommitment: string;
  /** proofs[p]: period p, chaining from proofs[p-1]'s new fingerprint (genesis 0 for p = 0). */
  proofs: PooledProof[];
  /** deviations[p]: the deviation period p's readings carry, Wh. */
  deviations: number[];
  /**
   * invalid[p]: period p's public signals with the proof points of period p+1 (mod 24) of
   * the same chain: well-formed points on the curve, the right signals, a fresh
   * submission hash, so the chaincode's checks pass and only the pairing fails (its
   * invalidProof path: forfeit and exclusion). Derived when the pool loads, not cached.
   */
  invalid: PooledProof[];
}

export interface ProofPool {
  circuitId: CircuitId;
  zkeySha256: string;
  /** sha256 of the deviations (the cache key, with the zkey and the chain count). */
  deviationsKey: string;
  chains: ProofChain[];
  /** Proving time of each proof when the pool was made (ms). */
  proveMs: number[];
  createdAt: string;
}

/** The readings of one period: the request spread evenly, plus `deviationWh` on the last interval (over-consumption). */
export function periodReadings(readingsPerPeriod: number, deviationWh: number): bigint[] {
  const n = BigInt(readingsPerPeriod);
  const base = REQUESTED_WH / n;
  const readings = Array.from({ length: readingsPerPeriod }, () => base);
  readings[readingsPerPeriod - 1] = REQUESTED_WH - base * (n - 1n) + BigInt(deviationWh);
  return readings;
}

function withInvalid(chain: Omit<ProofChain, 'invalid'>): ProofChain {
  const invalid = chain.proofs.map((item, p) => {
    const other = chain.proofs[(p + 1) % chain.proofs.length] as PooledProof;
    return { proof: other.proof, publicSignals: item.publicSignals, submissionHash: submissionHash(other.proof, item.publicSignals) };
  });
  return { ...chain, invalid };
}

/** deviations[chain][period] (Wh) as workload.ts draws them. */
export async function loadOrMakePool(
  artifacts: CircuitArtifacts,
  deviations: number[][],
  onProgress: (done: number, total: number) => void,
): Promise<{ pool: ProofPool; cached: boolean; file: string }> {
  const circuitId = artifacts.circuitId;
  const chains = deviations.length;
  const zkeySha256 = artifacts.manifest.files.zkey.sha256;
  const deviationsKey = createHash('sha256').update(JSON.stringify(deviations)).digest('hex');
  const file = path.join(BENCH_DIR, 'pool', `${circuitId}-${zkeySha256.slice(0, 12)}-c${chains}-${deviationsKey.slice(0, 12)}.json`);
  if (existsSync(file)) {
    const pool = JSON.parse(readFileSync(file, 'utf8')) as ProofPool;
    if (pool.zkeySha256 === zkeySha256 && pool.deviationsKey === deviationsKey && pool.chains.length === chains) {
      return { pool: { ...pool, chains: pool.chains.map(withInvalid) }, cached: true, file };
    }
  }
  const { readingsPerPeriod } = circuitShape(circuitId);
  const profile = Array.from({ length: PERIODS_PER_DAY }, () => REQUESTED_WH);
  const total = chains * PERIODS_PER_DAY;
  const proveMs: number[] = [];
  const out: Omit<ProofChain, 'invalid'>[] = [];
  for (let c = 0; c < chains; c++) {
    const commitmentSalt = randomSalt();
    const commitment = requestCommitment(profile, commitmentSalt);
    const proofs: PooledProof[] = [];
    let prev = 0n;
    for (let p = 0; p < PERIODS_PER_DAY; p++) {
      const input = buildDeviationInput({
        circuitId,
        prevFingerprint: prev,
        periodIndex: p,
        readings: periodReadings(readingsPerPeriod, deviations[c]?.[p] ?? 0),
        requestProfile: profile,
        commitmentSalt,
        fingerprintSalt: randomSalt(),
        requestCommitment: commitment,
      });
      const t0 = performance.now();
      const { proof, publicSignals } = await proveDeviation(circuitId, input, artifacts);
      proveMs.push(performance.now() - t0);
      proofs.push({ proof: proof as unknown as Record<string, unknown>, publicSignals, submissionHash: submissionHash(proof, publicSignals) });
      prev = BigInt(publicSignals[0] as string);
      onProgress(c * PERIODS_PER_DAY + p + 1, total);
    }
    out.push({ requestCommitment: commitment.toString(), proofs, deviations: deviations[c] ?? [] });
  }
  const stored = { circuitId, zkeySha256, deviationsKey, chains: out, proveMs, createdAt: new Date().toISOString() };
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(stored));
  renameSync(`${file}.tmp`, file);
  return { pool: { ...stored, chains: out.map(withInvalid) }, cached: false, file };
}
