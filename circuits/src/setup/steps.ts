// Building blocks of the dev set-up and of the ceremony: progress reporting, a local
// powers of tau, the manifest, and a prove-and-verify self-check.

import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as snarkjs from 'snarkjs';
import { ArtifactFile, ArtifactManifest, CircuitArtifacts, MANIFEST_FILE, SetupProgress, loadArtifactsFrom, sha256File } from '../artifacts';
import { CircuitId, circuitShape } from '../circuit-ids';
import { circuitSourceHash, toolVersions } from '../circuit-source';
import { CircuitError } from '../errors';
import { MAX_NET_REQUEST, MAX_READING, MIN_NET_REQUEST, PERIODS_PER_DAY } from '../constants';
import { randomSalt } from '../hashing';
import { proveDeviation } from '../prove';
import { decodePublicSignals } from '../public-signals';
import { verifyDeviationProof } from '../verify';
import { buildNetDeviationInput, expectedNetPublicSignals } from '../witness';
import { withLock } from './lock';

/** One line per step, with the time since the start; long snarkjs steps add a line at most every 10 s. */
export class Progress {
  private readonly started = Date.now();

  constructor(
    private readonly circuitId: CircuitId,
    private readonly sink: (event: SetupProgress) => void,
  ) {}

  step(step: string, message: string): void {
    this.sink({ circuitId: this.circuitId, step, message, elapsedMs: Date.now() - this.started });
  }

  /** A snarkjs logger that turns its chatter into throttled progress lines of `step`. */
  logger(step: string): snarkjs.Logger {
    let last = Date.now();
    const tick = (message: string): void => {
      if (Date.now() - last < 10_000) return;
      last = Date.now();
      this.step(step, `… ${message.trim()}`);
    };
    return { error: (m) => this.step(step, `error: ${m}`), warn: tick, info: tick, debug: tick };
  }
}

export const entropy = (): string => randomBytes(32).toString('hex');
export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Smallest powers-of-tau power whose domain fits the circuit (as snarkjs zkey new computes it). */
export function requiredPower(info: { nConstraints: number; nPubInputs: number; nOutputs: number }): number {
  return (info.nConstraints + info.nPubInputs + info.nOutputs).toString(2).length;
}

const DEV_PTAU = /^dev-bn128-p(\d+)\.ptau$/;

/**
 * A local powers of tau of at least `power`, prepared for phase 2: the smallest cached
 * one, or a new one (one random contribution whose entropy is discarded). Dev only: one
 * machine knows, and forgets, its toxic waste.
 */
export async function devPowersOfTau(power: number, root: string, progress: Progress): Promise<{ file: string; power: number }> {
  const dir = path.join(root, 'circuits', 'ptau');
  mkdirSync(dir, { recursive: true });
  const cached = (): { file: string; power: number } | undefined =>
    readdirSync(dir)
      .map((name) => ({ name, match: DEV_PTAU.exec(name) }))
      .filter((e): e is { name: string; match: RegExpExecArray } => e.match !== null && Number(e.match[1]) >= power)
      .map((e) => ({ file: path.join(dir, e.name), power: Number(e.match[1]) }))
      .sort((a, b) => a.power - b.power)[0];
  const found = cached();
  if (found) {
    progress.step('ptau', `reusing dev powers of tau 2^${found.power} (${found.file})`);
    return found;
  }
  const file = path.join(dir, `dev-bn128-p${power}.ptau`);
  return withLock(
    `${file}.lock`,
    (pid) => progress.step('ptau', `waiting for another process (pid ${pid ?? '?'}) building ${path.basename(file)}`),
    async () => {
      const built = cached();
      if (built) return built;
      const tmp = (stage: string): string => path.join(dir, `dev-bn128-p${power}.${stage}.${process.pid}.tmp`);
      try {
        progress.step('ptau', `new powers of tau 2^${power} (prepare takes about ${power <= 12 ? '1-2' : '3-5'} minutes on 2 cores)`);
        const curve = await snarkjs.curves.getCurveFromName('bn128');
        await snarkjs.powersOfTau.newAccumulator(curve, power, tmp('0'), progress.logger('ptau'));
        progress.step('ptau', 'phase 1 contribution (random entropy, discarded)');
        await snarkjs.powersOfTau.contribute(tmp('0'), tmp('1'), 'flexproof dev phase 1', entropy(), progress.logger('ptau'));
        progress.step('ptau', 'preparing phase 2 (Lagrange basis)');
        await snarkjs.powersOfTau.preparePhase2(tmp('1'), tmp('final'), progress.logger('ptau'));
        renameSync(tmp('final'), file);
      } finally {
        for (const stage of ['0', '1', 'final']) rmSync(tmp(stage), { force: true });
      }
      progress.step('ptau', `dev powers of tau 2^${power} ready`);
      return { file, power };
    },
  );
}

async function fileEntry(dir: string, file: string): Promise<ArtifactFile> {
  const full = path.join(dir, file);
  return { file, sha256: await sha256File(full), bytes: statSync(full).size };
}

export interface ManifestFacts {
  kind: ArtifactManifest['kind'];
  circuitId: CircuitId;
  constraints: number;
  ptau: { file: string; power: number; origin: string };
  contributions: { name: string; hash: string }[];
}

export const ARTIFACT_FILES = {
  wasm: 'circuit.wasm',
  zkey: 'circuit.zkey',
  verificationKey: 'verification_key.json',
  r1cs: 'circuit.r1cs',
} as const;

/** Exports the verification key of dir/circuit.zkey and writes the manifest over dir's files. */
export async function finishArtifactDir(dir: string, facts: ManifestFacts): Promise<CircuitArtifacts> {
  const vk = await snarkjs.zKey.exportVerificationKey(path.join(dir, ARTIFACT_FILES.zkey));
  writeFileSync(path.join(dir, ARTIFACT_FILES.verificationKey), `${JSON.stringify(vk, null, 1)}\n`);
  const { readingsPerPeriod } = circuitShape(facts.circuitId);
  const manifest: ArtifactManifest = {
    schema: 1,
    kind: facts.kind,
    circuitId: facts.circuitId,
    readingsPerPeriod,
    periodsPerDay: PERIODS_PER_DAY as 24,
    sourceHash: circuitSourceHash(facts.circuitId),
    tools: toolVersions(),
    constraints: facts.constraints,
    publicSignals: Number(vk.nPublic),
    ptau: { power: facts.ptau.power, sha256: await sha256File(facts.ptau.file), origin: facts.ptau.origin },
    contributions: facts.contributions,
    files: {
      wasm: await fileEntry(dir, ARTIFACT_FILES.wasm),
      zkey: await fileEntry(dir, ARTIFACT_FILES.zkey),
      verificationKey: await fileEntry(dir, ARTIFACT_FILES.verificationKey),
      r1cs: await fileEntry(dir, ARTIFACT_FILES.r1cs),
    },
    createdAt: new Date().toISOString(),
  };
  writeFileSync(path.join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return loadArtifactsFrom(dir);
}

/**
 * Proves a random period with the artifacts and checks the proof verifies, and fails once
 * tampered with. A v2 shape gets a signed profile with both extreme values, exports, and
 * one register at its maximum.
 */
export async function selfCheck(artifacts: CircuitArtifacts): Promise<void> {
  const { readingsPerPeriod, kind } = circuitShape(artifacts.circuitId);
  const energies = (): bigint[] => Array.from({ length: readingsPerPeriod }, () => BigInt(randomInt(2 ** 20)));
  const net = kind === 'net';
  const params = {
    circuitId: artifacts.circuitId,
    prevFingerprint: randomSalt(),
    periodIndex: randomInt(PERIODS_PER_DAY),
    importWh: energies(),
    exportWh: net ? energies() : undefined,
    requestProfile: Array.from({ length: PERIODS_PER_DAY }, () => BigInt(randomInt(2 ** 20) * readingsPerPeriod) - (net ? 2n ** 19n * BigInt(readingsPerPeriod) : 0n)),
    commitmentSalt: randomSalt(),
    fingerprintSalt: randomSalt(),
  };
  params.importWh[0] = MAX_READING;
  if (net) {
    params.requestProfile[(params.periodIndex + 1) % PERIODS_PER_DAY] = MIN_NET_REQUEST;
    params.requestProfile[(params.periodIndex + 2) % PERIODS_PER_DAY] = MAX_NET_REQUEST;
  }
  const { proof, publicSignals } = await proveDeviation(artifacts.circuitId, buildNetDeviationInput(params), artifacts);
  const vk: unknown = JSON.parse(readFileSync(artifacts.verificationKeyPath, 'utf8'));
  const expected = expectedNetPublicSignals(params);
  const actual = decodePublicSignals(publicSignals);
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new CircuitError('SETUP_FAILED', 'self-check: the circuit and the JS library disagree on the public signals', {
      details: { expected, actual },
    });
  }
  if (!(await verifyDeviationProof(vk, proof, publicSignals))) {
    throw new CircuitError('SETUP_FAILED', 'self-check: a fresh proof does not verify');
  }
  const tampered = [...publicSignals];
  tampered[1] = (BigInt(actual.deviation) + 1n).toString();
  if (await verifyDeviationProof(vk, proof, tampered)) {
    throw new CircuitError('SETUP_FAILED', 'self-check: a proof verifies with a changed deviation');
  }
}

export function replaceDir(tmp: string, dir: string): void {
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}
