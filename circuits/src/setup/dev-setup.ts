// Dev artifacts for one shape, built locally from nothing: compile, powers of tau (cached
// per power), phase 2 with two random contributions, verification key, manifest, and a
// prove-and-verify self-check. Nothing is downloaded. Each contribution's entropy comes
// from node:crypto and is never stored, but one machine saw it: dev artifacts prove
// nothing to anyone else. Production uses the ceremony (README).

import { mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as snarkjs from 'snarkjs';
import { CacheOptions, CircuitArtifacts, SetupProgress, artifactsDir, cacheRoot, checkArtifactIntegrity, loadArtifacts } from '../artifacts';
import { CircuitId, circuitShape } from '../circuit-ids';
import { CircuitError } from '../errors';
import { compileCircuit } from './compile';
import { withLock } from './lock';
import { ARTIFACT_FILES, Progress, devPowersOfTau, entropy, finishArtifactDir, hex, replaceDir, requiredPower, selfCheck } from './steps';

export const DEV_CONTRIBUTORS = ['flexproof dev contribution 1', 'flexproof dev contribution 2'];

export interface BuildOptions extends CacheOptions {
  onProgress: (event: SetupProgress) => void;
}

async function cachedArtifacts(circuitId: CircuitId, options: CacheOptions): Promise<CircuitArtifacts | undefined> {
  try {
    const artifacts = loadArtifacts(circuitId, options);
    await checkArtifactIntegrity(artifacts);
    return artifacts;
  } catch (error) {
    if (error instanceof CircuitError && (error.code === 'ARTIFACTS_MISSING' || error.code === 'ARTIFACTS_CORRUPT')) return undefined;
    throw error;
  }
}

/** The shape's dev artifacts: from the cache when present and intact, otherwise built. */
export async function buildDevArtifacts(circuitId: CircuitId, options: BuildOptions): Promise<CircuitArtifacts> {
  const progress = new Progress(circuitId, options.onProgress);
  const dir = artifactsDir(circuitId, options);
  const present = await cachedArtifacts(circuitId, options);
  if (present) {
    progress.step('done', `cached in ${dir}`);
    return present;
  }
  mkdirSync(path.dirname(dir), { recursive: true });
  return withLock(
    `${dir}.lock`,
    (pid) => progress.step('wait', `another process (pid ${pid ?? '?'}) is building ${circuitId}; waiting`),
    async () => {
      const builtMeanwhile = await cachedArtifacts(circuitId, options);
      if (builtMeanwhile) {
        progress.step('done', `built by another process in ${dir}`);
        return builtMeanwhile;
      }
      const tmp = `${dir}.tmp-${process.pid}`;
      rmSync(tmp, { recursive: true, force: true });
      try {
        const artifacts = await buildInto(circuitId, tmp, progress, options);
        replaceDir(tmp, dir);
        progress.step('done', `artifacts of ${circuitId} (${artifacts.manifest.constraints} constraints) in ${dir}`);
        return loadArtifacts(circuitId, options);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  );
}

async function buildInto(circuitId: CircuitId, tmp: string, progress: Progress, options: CacheOptions): Promise<CircuitArtifacts> {
  const { readingsPerPeriod } = circuitShape(circuitId);
  progress.step('compile', `circom2 → r1cs + wasm (${readingsPerPeriod} readings per period)`);
  const compiled = await compileCircuit(circuitId, tmp);
  const info = await snarkjs.r1cs.info(compiled.r1csPath);
  const power = requiredPower(info);
  progress.step('compile', `${info.nConstraints} constraints, ${info.nPubInputs} public inputs, ${info.nOutputs} outputs; needs powers of tau 2^${power}`);

  const ptau = await devPowersOfTau(power, cacheRoot(options), progress);

  const zkey = (n: number): string => path.join(tmp, `circuit_${String(n).padStart(4, '0')}.zkey`);
  progress.step('zkey', 'phase 2: initial zkey from r1cs and powers of tau');
  await snarkjs.zKey.newZKey(compiled.r1csPath, ptau.file, zkey(0), progress.logger('zkey'));
  const contributions: { name: string; hash: string }[] = [];
  for (const [i, name] of DEV_CONTRIBUTORS.entries()) {
    progress.step('contribute', `phase 2 contribution ${i + 1}/${DEV_CONTRIBUTORS.length} (${name})`);
    const hash = await snarkjs.zKey.contribute(zkey(i), zkey(i + 1), name, entropy(), progress.logger('contribute'));
    contributions.push({ name, hash: hex(hash) });
    rmSync(zkey(i));
  }
  renameSync(zkey(DEV_CONTRIBUTORS.length), path.join(tmp, ARTIFACT_FILES.zkey));

  progress.step('export', 'verification key and manifest');
  const artifacts = await finishArtifactDir(tmp, {
    kind: 'dev',
    circuitId,
    constraints: info.nConstraints,
    ptau: { ...ptau, origin: `local dev powers of tau 2^${ptau.power} (one contribution, not a ceremony)` },
    contributions,
  });
  progress.step('self-check', 'prove a random period and verify it (and a tampered copy)');
  await selfCheck(artifacts);
  return artifacts;
}
