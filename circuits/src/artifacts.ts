// Cached circuit artifacts (wasm, zkey, verification key) and their manifest. Loading is
// cheap and never builds; ensureArtifacts builds missing ones in a child process (the
// compiler and the set-up use worker threads and a lot of memory, which a caller such as
// a test runner or an edge client should not inherit).

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CircuitId, assertCircuitId, circuitShape } from './circuit-ids';
import { circuitSourceHash, ToolVersions } from './circuit-source';
import { CircuitError } from './errors';
import { VerificationKey, checkVerificationKey } from './proof-format';

export interface ArtifactFile {
  /** File name inside the artifact directory. */
  file: string;
  sha256: string;
  bytes: number;
}

export interface ArtifactManifest {
  schema: 1;
  /** "dev": local throw-away set-up by `npm run setup`; "ceremony": output of the production ceremony. */
  kind: 'dev' | 'ceremony';
  circuitId: CircuitId;
  readingsPerPeriod: number;
  periodsPerDay: 24;
  sourceHash: string;
  tools: ToolVersions;
  constraints: number;
  publicSignals: number;
  ptau: { power: number; sha256: string; origin: string };
  /** Phase 2 contributions in order, with the hash each contributor can recognise. */
  contributions: { name: string; hash: string }[];
  files: { wasm: ArtifactFile; zkey: ArtifactFile; verificationKey: ArtifactFile; r1cs: ArtifactFile };
  createdAt: string;
}

export interface CircuitArtifacts {
  circuitId: CircuitId;
  dir: string;
  wasmPath: string;
  zkeyPath: string;
  verificationKeyPath: string;
  r1csPath: string;
  manifestPath: string;
  manifest: ArtifactManifest;
}

export interface CacheOptions {
  /** Root of the cache; default ${FLEXPROOF_CACHE:-$HOME/.cache/flexproof}. */
  cacheRoot?: string;
}

export const MANIFEST_FILE = 'manifest.json';

export function cacheRoot(options: CacheOptions = {}): string {
  return path.resolve(options.cacheRoot ?? (process.env.FLEXPROOF_CACHE || path.join(os.homedir(), '.cache', 'flexproof')));
}

/** ${cacheRoot}/circuits/<circuitId>-<first 12 hex of the source hash>. */
export function artifactsDir(circuitId: CircuitId, options: CacheOptions = {}): string {
  return path.join(cacheRoot(options), 'circuits', `${assertCircuitId(circuitId)}-${circuitSourceHash(circuitId).slice(0, 12)}`);
}

/** Artifacts in any directory holding a manifest (the cache, or a ceremony's output). */
export function loadArtifactsFrom(dir: string): CircuitArtifacts {
  const manifestPath = path.join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) {
    throw new CircuitError('ARTIFACTS_MISSING', `no circuit artifacts in ${dir}`, { details: { dir } });
  }
  let manifest: ArtifactManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ArtifactManifest;
  } catch (cause) {
    throw new CircuitError('ARTIFACTS_CORRUPT', `unreadable manifest ${manifestPath}`, { cause, details: { dir } });
  }
  if (manifest.schema !== 1 || typeof manifest.files !== 'object' || manifest.files === null) {
    throw new CircuitError('ARTIFACTS_CORRUPT', `manifest ${manifestPath} is not a schema 1 manifest`, { details: { dir } });
  }
  const circuitId = assertCircuitId(manifest.circuitId);
  const file = (entry: ArtifactFile | undefined, role: string): string => {
    const p = typeof entry?.file === 'string' ? path.join(dir, path.basename(entry.file)) : '';
    if (p === '' || !existsSync(p)) {
      throw new CircuitError('ARTIFACTS_MISSING', `${role} of ${circuitId} missing in ${dir}`, { details: { dir, role } });
    }
    return p;
  };
  return {
    circuitId,
    dir,
    wasmPath: file(manifest.files.wasm, 'wasm'),
    zkeyPath: file(manifest.files.zkey, 'zkey'),
    verificationKeyPath: file(manifest.files.verificationKey, 'verificationKey'),
    r1csPath: file(manifest.files.r1cs, 'r1cs'),
    manifestPath,
    manifest,
  };
}

/** Artifacts of a shape from the cache; ARTIFACTS_MISSING when they were never built for this source. */
export function loadArtifacts(circuitId: CircuitId, options: CacheOptions = {}): CircuitArtifacts {
  const dir = artifactsDir(circuitId, options);
  let artifacts: CircuitArtifacts;
  try {
    artifacts = loadArtifactsFrom(dir);
  } catch (error) {
    if (error instanceof CircuitError && error.code === 'ARTIFACTS_MISSING') {
      throw new CircuitError('ARTIFACTS_MISSING', `artifacts of ${circuitId} not built yet: run \`npm run setup -w @flexproof/circuits -- ${circuitId}\``, {
        details: { dir, circuitId },
        cause: error,
      });
    }
    throw error;
  }
  if (artifacts.circuitId !== circuitId || artifacts.manifest.sourceHash !== circuitSourceHash(circuitId)) {
    throw new CircuitError('ARTIFACTS_CORRUPT', `manifest in ${dir} does not describe ${circuitId} at this source`, { details: { dir } });
  }
  return artifacts;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Recomputes the sha256 of every file against the manifest (ARTIFACTS_CORRUPT on a difference). */
export async function checkArtifactIntegrity(artifacts: CircuitArtifacts): Promise<void> {
  const { files } = artifacts.manifest;
  for (const [role, entry] of Object.entries(files) as [string, ArtifactFile][]) {
    const actual = await sha256File(path.join(artifacts.dir, path.basename(entry.file)));
    if (actual !== entry.sha256) {
      throw new CircuitError('ARTIFACTS_CORRUPT', `${role} in ${artifacts.dir} does not match its manifest hash`, {
        details: { dir: artifacts.dir, role },
      });
    }
  }
}

/** The verification key of a set of artifacts, strictly checked. */
export function readVerificationKey(artifacts: CircuitArtifacts): VerificationKey {
  return checkVerificationKey(JSON.parse(readFileSync(artifacts.verificationKeyPath, 'utf8')));
}

export interface SetupProgress {
  circuitId: CircuitId;
  /** compile, ptau, zkey, contribute, export, self-check, done, ... */
  step: string;
  message: string;
  /** Since the start of this shape's build. */
  elapsedMs: number;
}

export interface EnsureOptions extends CacheOptions {
  onProgress?: (event: SetupProgress) => void;
}

/**
 * Artifacts of a shape, built first when missing or corrupt (in a child process running
 * the set-up CLI). Errors: ARTIFACT_BUILD_FAILED, with the child's last output lines in
 * `details.output`.
 */
export async function ensureArtifacts(circuitId: CircuitId, options: EnsureOptions = {}): Promise<CircuitArtifacts> {
  assertCircuitId(circuitId);
  try {
    const artifacts = loadArtifacts(circuitId, options);
    await checkArtifactIntegrity(artifacts);
    return artifacts;
  } catch (error) {
    if (!(error instanceof CircuitError) || (error.code !== 'ARTIFACTS_MISSING' && error.code !== 'ARTIFACTS_CORRUPT')) throw error;
  }
  await runSetupProcess(circuitId, options);
  return loadArtifacts(circuitId, options);
}

function runSetupProcess(circuitId: CircuitId, options: EnsureOptions): Promise<void> {
  const script = path.join(__dirname, 'cli', `setup${path.extname(__filename)}`);
  // Under ts-node (tests importing src/) the child needs the same loader.
  const loader = path.extname(__filename) === '.ts' ? ['-r', 'ts-node/register/transpile-only'] : [];
  const child = spawn(process.execPath, [...loader, script, '--json', circuitId], {
    env: { ...process.env, FLEXPROOF_CACHE: cacheRoot(options) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const remember = (line: string): void => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
  };
  let failure: { code?: string; message?: string } | undefined;
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      remember(line);
      let event: { type?: string } & Partial<SetupProgress> & { code?: string };
      try {
        event = JSON.parse(line) as typeof event;
      } catch {
        continue;
      }
      if (event.type === 'progress' && options.onProgress) {
        options.onProgress({ circuitId, step: String(event.step), message: String(event.message), elapsedMs: Number(event.elapsedMs) });
      } else if (event.type === 'error') {
        failure = { code: event.code, message: event.message };
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => chunk.split('\n').filter(Boolean).forEach(remember));
  const { readingsPerPeriod } = circuitShape(circuitId);
  return new Promise((resolve, reject) => {
    child.on('error', (cause) =>
      reject(new CircuitError('ARTIFACT_BUILD_FAILED', `could not start the set-up of ${circuitId}`, { cause, details: { circuitId } })),
    );
    child.on('close', (exitCode, signal) => {
      if (exitCode === 0) return resolve();
      reject(
        new CircuitError(
          'ARTIFACT_BUILD_FAILED',
          `set-up of ${circuitId} (${readingsPerPeriod} readings) failed${failure?.message ? `: ${failure.message}` : ''}`,
          { details: { circuitId, exitCode, signal, setupCode: failure?.code, output: tail.join('\n') } },
        ),
      );
    });
  });
}
