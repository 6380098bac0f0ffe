/**
 * `flexproof-edge artifacts install BUNDLE`: puts a ceremony bundle (`ceremony publish`)
 * where the prover looks for its shape's artifacts, only after the ledger confirms it.
 *
 * The prover (prover.ts) finds a circuit's artifacts by its shape alone: a ledger circuit
 * id `flexdev-v1-r4.ceremony2` proves with `artifactsDir('flexdev-v1-r4')`, i.e.
 * `${cacheRoot}/circuits/<shape>-<12 hex of the shape's source hash>`, holding the four
 * files and a manifest.json that loadArtifacts checks (schema 1, the shape, this
 * checkout's source hash, every file's sha256). So a site holds one set of artifacts per
 * shape: installing another circuit id of the same shape replaces it, and is refused
 * while an enrollment of the site config still names the circuit id installed there.
 *
 * Refused (InstallRefused, nothing written) unless: the bundle passes its integrity check
 * (readBundle), this checkout's circuit source is the bundle's (else the prover could not
 * load it), the ledger holds a key under the circuit id, that key is active, and its
 * keyHash is the bundle's canonical verificationKeyHash. A proof made with other
 * artifacts is found invalid on the ledger and costs the escrow.
 */
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  BUNDLE_FILES,
  BUNDLE_MANIFEST_FILE,
  CIRCUIT_IDS,
  MANIFEST_FILE,
  artifactsDir,
  bundleCheckoutProblems,
  checkArtifactIntegrity,
  circuitShape,
  isCircuitError,
  isCircuitId,
  loadArtifacts,
  loadArtifactsFrom,
  readBundle,
  replaceDirectory,
  sha256File,
  type ArtifactManifest,
  type CeremonyBundle,
  type CircuitId,
} from '@flexproof/circuits';
import { canonicalVerificationKeyHash } from '@flexproof/protocol';

/** What the install needs of the ledger's record for a circuit id. */
export interface LedgerKeyRecord {
  status: string;
  keyHash: string;
  /** When given, its canonical hash must be keyHash (a record that contradicts itself is refused). */
  verificationKey?: unknown;
}

/** The ledger's key for a circuit id, or undefined when none is registered (404). */
export type LedgerKeyLookup = (circuitId: string) => Promise<LedgerKeyRecord | undefined>;

export type InstallRefusalCode =
  | 'BUNDLE_INVALID'
  | 'CIRCUIT_ID_INVALID'
  | 'CHECKOUT_MISMATCH'
  | 'KEY_NOT_REGISTERED'
  | 'KEY_NOT_ACTIVE'
  | 'KEY_MISMATCH'
  | 'IN_USE'
  | 'DEV_ARTIFACTS_PRESENT';

export class InstallRefused extends Error {
  override readonly name = 'InstallRefused';
  constructor(
    readonly code: InstallRefusalCode,
    message: string,
  ) {
    super(message);
  }
}

/** Written beside the artifacts: which ledger circuit id and key they were installed for. */
export const INSTALLED_FILE = 'installed.json';

export interface InstalledRecord {
  circuitId: string;
  keyHash: string;
  bundle: { dir: string; createdAt: string; contributions: { name: string; hash: string }[] };
  installedAt: string;
}

export interface InstallOptions {
  bundleDir: string;
  /** Ledger circuit id; default the bundle's shape. A shape with a .suffix is allowed. */
  circuitId?: string;
  lookup: LedgerKeyLookup;
  /** Artifact cache root (default $FLEXPROOF_CACHE or ~/.cache/flexproof), as the prover's. */
  cacheRoot?: string;
  /** The circuit ids the site config's enrollments name: their installed artifacts are not replaced by another id's. */
  configuredCircuitIds?: readonly string[];
  /**
   * Replace dev artifacts found where the bundle goes. Off: refused, as the machine's dev
   * cache is shared by everything on it that proves or verifies with dev keys (tests,
   * demo, bench), which would silently switch to the ceremony's key.
   */
  replaceDevArtifacts?: boolean;
}

export interface InstallResult {
  circuitId: string;
  shape: CircuitId;
  dir: string;
  keyHash: string;
  files: { file: string; sha256: string; bytes: number }[];
  /** What was there before: nothing, dev artifacts, or another (or the same) ceremony installation. */
  replaced: { kind: 'dev' | 'ceremony'; circuitId?: string; keyHash?: string } | null;
  /** The same bundle was installed for the same id already: nothing was written. */
  unchanged: boolean;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function shapeOf(circuitId: string): CircuitId {
  const shape = circuitId.split('.')[0];
  if (!ID.test(circuitId) || !isCircuitId(shape)) {
    throw new InstallRefused('CIRCUIT_ID_INVALID', `--circuit ${circuitId}: a known circuit shape (${CIRCUIT_IDS.join(', ')}), optionally with a .suffix`);
  }
  return shape;
}

function readInstalled(dir: string): InstalledRecord | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, INSTALLED_FILE), 'utf8')) as InstalledRecord;
  } catch {
    return undefined;
  }
}

function readManifestKind(dir: string): ArtifactManifest['kind'] | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(dir, MANIFEST_FILE), 'utf8')) as ArtifactManifest).kind;
  } catch {
    return undefined;
  }
}

async function checkedBundle(bundleDir: string): Promise<CeremonyBundle> {
  try {
    return await readBundle(bundleDir);
  } catch (error) {
    if (isCircuitError(error, 'ARTIFACTS_CORRUPT') || isCircuitError(error, 'ARTIFACTS_MISSING')) throw new InstallRefused('BUNDLE_INVALID', (error as Error).message);
    throw error;
  }
}

/** Checks the bundle against the ledger, then installs it atomically where the prover loads its shape's artifacts. */
export async function installBundle(options: InstallOptions): Promise<InstallResult> {
  const bundle = await checkedBundle(options.bundleDir);
  const { manifest } = bundle;
  const circuitId = options.circuitId ?? manifest.circuitShape;
  const shape = shapeOf(circuitId);
  if (shape !== manifest.circuitShape) {
    throw new InstallRefused('CIRCUIT_ID_INVALID', `--circuit ${circuitId}: the bundle is of shape ${manifest.circuitShape}: the circuit id must be ${manifest.circuitShape} or ${manifest.circuitShape}.<suffix>`);
  }
  const problems = bundleCheckoutProblems(manifest);
  if (problems.length > 0) throw new InstallRefused('CHECKOUT_MISMATCH', `bundle ${bundle.dir}: ${problems.join('; ')}`);

  const ledger = await options.lookup(circuitId);
  if (ledger === undefined) {
    throw new InstallRefused('KEY_NOT_REGISTERED', `the ledger holds no verification key under circuit id ${circuitId}: it is proposed and approved first (flexproof keys propose|approve --circuit ${circuitId} --bundle DIR)`);
  }
  if (ledger.status !== 'active') {
    const hint = ledger.status === 'proposed' ? ': the other organisation has not approved it yet' : ledger.status === 'retired' ? ': it was retired, and verifies no more proofs' : '';
    throw new InstallRefused('KEY_NOT_ACTIVE', `the key of circuit ${circuitId} on the ledger is ${ledger.status}, not active${hint}; nothing installed`);
  }
  if (ledger.verificationKey !== undefined && canonicalVerificationKeyHash(ledger.verificationKey) !== ledger.keyHash) {
    throw new InstallRefused('KEY_MISMATCH', `the ledger's record of ${circuitId} holds a key whose canonical hash is not its keyHash ${ledger.keyHash}; nothing installed`);
  }
  if (ledger.keyHash !== manifest.verificationKeyHash) {
    throw new InstallRefused(
      'KEY_MISMATCH',
      `the ledger's key of ${circuitId} is ${ledger.keyHash}, the bundle's is ${manifest.verificationKeyHash}: this bundle is not the circuit's ceremony; nothing installed`,
    );
  }

  const cache = options.cacheRoot !== undefined ? { cacheRoot: options.cacheRoot } : {};
  const target = artifactsDir(shape, cache);
  const before = existsSync(target) ? readInstalled(target) : undefined;
  const beforeKind = existsSync(target) ? readManifestKind(target) : undefined;
  if (before !== undefined && before.circuitId !== circuitId && (options.configuredCircuitIds ?? []).includes(before.circuitId)) {
    throw new InstallRefused(
      'IN_USE',
      `${target} holds the artifacts of ${before.circuitId}, which an enrollment of the site config names; the prover keeps one set per shape (${shape}): ` +
        `install ${circuitId} when no configured enrollment uses ${before.circuitId} any more; nothing installed`,
    );
  }
  if (beforeKind === 'dev' && options.replaceDevArtifacts !== true) {
    throw new InstallRefused(
      'DEV_ARTIFACTS_PRESENT',
      `${target} holds dev artifacts (npm run setup, run --dev-artifacts), which everything proving or verifying with dev keys on this machine shares: ` +
        `set FLEXPROOF_CACHE to a directory of the site's own, or give --replace-dev-artifacts to replace them; nothing installed`,
    );
  }
  const replaced = beforeKind === undefined ? null : { kind: beforeKind, ...(before ? { circuitId: before.circuitId, keyHash: before.keyHash } : {}) };

  if (before?.circuitId === circuitId && before.keyHash === manifest.verificationKeyHash) {
    try {
      const current = loadArtifacts(shape, cache);
      await checkArtifactIntegrity(current);
      if (current.manifest.files.zkey.sha256 === manifest.files[BUNDLE_FILES.zkey]) {
        return { circuitId, shape, dir: target, keyHash: ledger.keyHash, files: fileList(current.manifest), replaced, unchanged: true };
      }
    } catch {
      // Damaged or different: installed afresh below.
    }
  }

  await replaceDirectory(target, 'install', async (tmp) => {
    for (const [role, name] of Object.entries(BUNDLE_FILES) as [keyof typeof BUNDLE_FILES, string][]) copyFileSync(bundle.paths[role], path.join(tmp, name));
    copyFileSync(path.join(bundle.dir, BUNDLE_MANIFEST_FILE), path.join(tmp, BUNDLE_MANIFEST_FILE));
    const entry = async (file: string) => ({ file, sha256: await sha256File(path.join(tmp, file)), bytes: statSync(path.join(tmp, file)).size });
    const artifactManifest: ArtifactManifest = {
      schema: 1,
      kind: 'ceremony',
      circuitId: shape,
      readingsPerPeriod: circuitShape(shape).readingsPerPeriod,
      periodsPerDay: 24,
      sourceHash: manifest.circuitSourceHash,
      tools: manifest.toolVersions,
      constraints: manifest.constraints,
      publicSignals: Number(bundle.verificationKey.nPublic),
      ptau: { power: manifest.ptau.power, sha256: manifest.ptau.sha256, origin: `ceremony bundle ${path.basename(bundle.dir)}` },
      contributions: [...manifest.contributions, ...(manifest.beacon ? [{ name: 'beacon', hash: manifest.beacon.hash }] : [])],
      files: {
        wasm: await entry(BUNDLE_FILES.wasm),
        zkey: await entry(BUNDLE_FILES.zkey),
        verificationKey: await entry(BUNDLE_FILES.verificationKey),
        r1cs: await entry(BUNDLE_FILES.r1cs),
      },
      createdAt: new Date().toISOString(),
    };
    // The copies are checked against the bundle's hashes, not just against themselves.
    for (const [role, name] of Object.entries(BUNDLE_FILES) as [keyof typeof BUNDLE_FILES, (typeof BUNDLE_FILES)[keyof typeof BUNDLE_FILES]][]) {
      if (artifactManifest.files[role].sha256 !== manifest.files[name]) throw new InstallRefused('BUNDLE_INVALID', `bundle ${bundle.dir}: ${name} changed while it was being installed; nothing installed`);
    }
    writeFileSync(path.join(tmp, MANIFEST_FILE), `${JSON.stringify(artifactManifest, null, 2)}\n`);
    const installed: InstalledRecord = {
      circuitId,
      keyHash: ledger.keyHash,
      bundle: { dir: bundle.dir, createdAt: manifest.createdAt, contributions: manifest.contributions },
      installedAt: new Date().toISOString(),
    };
    writeFileSync(path.join(tmp, INSTALLED_FILE), `${JSON.stringify(installed, null, 2)}\n`);
    await checkArtifactIntegrity(loadArtifactsFrom(tmp));
  });
  const loaded = loadArtifacts(shape, cache);
  await checkArtifactIntegrity(loaded);
  return { circuitId, shape, dir: target, keyHash: ledger.keyHash, files: fileList(loaded.manifest), replaced, unchanged: false };
}

function fileList(manifest: ArtifactManifest): InstallResult['files'] {
  return Object.values(manifest.files).map(({ file, sha256, bytes }) => ({ file, sha256, bytes }));
}

export function formatInstallResult(result: InstallResult): string {
  const before =
    result.replaced === null
      ? ''
      : result.replaced.kind === 'dev'
        ? 'replaced the dev artifacts that were there\n'
        : result.replaced.circuitId !== undefined && result.replaced.circuitId !== result.circuitId
          ? `replaced the artifacts of ${result.replaced.circuitId} (key ${result.replaced.keyHash ?? '?'})\n`
          : '';
  const head = result.unchanged
    ? `already installed: the artifacts of ${result.circuitId} in ${result.dir} are this bundle's (nothing written)\n`
    : `installed the artifacts of ${result.circuitId} (shape ${result.shape}, key ${result.keyHash}, active on the ledger) into ${result.dir}\n`;
  const files = result.files.map((f) => `  ${f.file.padEnd(22)} sha256 ${f.sha256}  ${f.bytes} bytes\n`).join('');
  return `${head}${before}${files}${result.unchanged ? '' : 'restart flexproof-edge run (if it is running) to prove with them\n'}`;
}

export interface InstalledArtifacts {
  shape: CircuitId;
  dir: string;
  kind: ArtifactManifest['kind'] | 'missing' | 'unreadable';
  /** From installed.json (ceremony bundles installed by `artifacts install`). */
  circuitId?: string;
  /** Canonical hash of the verification key in the directory. */
  keyHash?: string;
  intact?: boolean;
  problem?: string;
  files?: InstallResult['files'];
}

/** What is installed for every shape in the cache, with hashes and an integrity check. */
export async function installedArtifacts(options: { cacheRoot?: string } = {}): Promise<InstalledArtifacts[]> {
  const cache = options.cacheRoot !== undefined ? { cacheRoot: options.cacheRoot } : {};
  const out: InstalledArtifacts[] = [];
  for (const shape of CIRCUIT_IDS) {
    const dir = artifactsDir(shape, cache);
    if (!existsSync(dir)) {
      out.push({ shape, dir, kind: 'missing' });
      continue;
    }
    try {
      const artifacts = loadArtifacts(shape, cache);
      let intact = true;
      let problem: string | undefined;
      try {
        await checkArtifactIntegrity(artifacts);
      } catch (error) {
        intact = false;
        problem = (error as Error).message;
      }
      const installed = readInstalled(dir);
      out.push({
        shape,
        dir,
        kind: artifacts.manifest.kind,
        ...(installed ? { circuitId: installed.circuitId } : {}),
        keyHash: canonicalVerificationKeyHash(JSON.parse(readFileSync(artifacts.verificationKeyPath, 'utf8'))),
        intact,
        ...(problem !== undefined ? { problem } : {}),
        files: fileList(artifacts.manifest),
      });
    } catch (error) {
      out.push({ shape, dir, kind: 'unreadable', problem: (error as Error).message });
    }
  }
  return out;
}

/**
 * The list for a person; with the site's enrollments, which shape each proves with, and a
 * warning where an enrollment names another circuit id than the one installed.
 */
export function formatInstalled(list: readonly InstalledArtifacts[], enrollments: readonly { enrollmentId: string; circuitId: string; shape: CircuitId }[] = []): string {
  return list
    .map((a) => {
      const users = enrollments
        .filter((e) => e.shape === a.shape)
        .map((e) => {
          const other = a.kind === 'ceremony' && a.circuitId !== undefined && a.circuitId !== e.circuitId ? `: NOT the installed ${a.circuitId}, install the bundle of ${e.circuitId}` : '';
          const none = a.kind === 'missing' || a.kind === 'unreadable' ? ': nothing to prove with, install its bundle' : '';
          return `  used by enrollment ${e.enrollmentId} (circuit ${e.circuitId})${other}${none}\n`;
        })
        .join('');
      if (a.kind === 'missing') return `${a.shape}: nothing installed (${a.dir})\n${users}`;
      if (a.kind === 'unreadable') return `${a.shape}: UNREADABLE in ${a.dir}: ${a.problem ?? ''}\n${users}`;
      const what = a.kind === 'dev' ? 'dev artifacts (development networks only)' : `ceremony artifacts${a.circuitId !== undefined ? ` of ${a.circuitId}` : ''}`;
      const state = a.intact ? 'intact' : `CORRUPT: ${a.problem ?? ''}`;
      const files = (a.files ?? []).map((f) => `  ${f.file.padEnd(22)} sha256 ${f.sha256}\n`).join('');
      return `${a.shape}: ${what}, key ${a.keyHash ?? '?'}, ${state}, in ${a.dir}\n${files}${users}`;
    })
    .join('');
}
