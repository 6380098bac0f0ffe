/**
 * The ceremony bundle (format flexproof.bundle.v1): what `ceremony publish` writes and
 * what the operator (`flexproof keys propose|review|approve --bundle`) and the edge
 * (`flexproof-edge artifacts install`) read. A directory with exactly these files:
 *
 *   circuit.wasm            witness generator
 *   circuit.zkey            the final proving key of the ceremony
 *   verification_key.json   snarkjs's export of that zkey
 *   circuit.r1cs            the constraint system the ceremony was verified against (the
 *                           edge's artifact loader expects it; anyone can recompile and compare)
 *   bundle.json             the manifest below
 *
 * readBundle checks everything that can be checked without the powers of tau: every
 * file's sha256 against bundle.json, the verification key derived again from the zkey
 * and equal to the file, its points (validateVerificationKey), its canonical hash
 * (@flexproof/protocol, the hash the ledger records and organisations approve) equal
 * to bundle.json's verificationKeyHash, a known shape, and the contributor rule. The
 * contribution chain itself is checked by `ceremony publish` (and by anyone with
 * `ceremony verify --zkey BUNDLE/circuit.zkey --ptau FILE`): it needs the ptau.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { canonicalVerificationKeyHash } from '@flexproof/protocol';
import * as snarkjs from 'snarkjs';
import { sha256File } from './artifacts';
import { CircuitId, isCircuitId, CIRCUIT_IDS } from './circuit-ids';
import { ToolVersions, circuitSourceHash, toolVersions } from './circuit-source';
import { CircuitError } from './errors';
import { PUBLIC_SIGNAL_COUNT } from './public-signals';
import { validateVerificationKey } from './verification-key';
import { singleThreadCurve } from './verify';

export const BUNDLE_FORMAT = 'flexproof.bundle.v1';
export const BUNDLE_MANIFEST_FILE = 'bundle.json';

/** The files of a bundle by role, as the artifact cache names them too. */
export const BUNDLE_FILES = {
  wasm: 'circuit.wasm',
  zkey: 'circuit.zkey',
  verificationKey: 'verification_key.json',
  r1cs: 'circuit.r1cs',
} as const;

export type BundleRole = keyof typeof BUNDLE_FILES;
export type BundleFileName = (typeof BUNDLE_FILES)[BundleRole];

const FILE_NAMES: readonly BundleFileName[] = Object.values(BUNDLE_FILES);

export interface BundleContribution {
  name: string;
  /** snarkjs's contribution hash (128 hex), as the contributor printed and published it. */
  hash: string;
}

export interface BundleBeacon {
  /** The beacon's contribution hash (128 hex), as `finalize` printed it. */
  hash: string;
  /** The public random value, hex. */
  generator: string;
  /** 2^iterations hash iterations. */
  iterations: number;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  /** The shape id (flexdev-v1-r4, ...); a ledger circuit id may add a .suffix to it. */
  circuitShape: CircuitId;
  r1csSha256: string;
  /** sha256 (hex) of every file but bundle.json. */
  files: Record<BundleFileName, string>;
  /** The organisations' contributions, oldest first; the beacon is apart. */
  contributions: BundleContribution[];
  beacon: BundleBeacon | null;
  /** canonicalVerificationKeyHash of verification_key.json: what the ledger records. */
  verificationKeyHash: string;
  toolVersions: ToolVersions;
  /** circuitSourceHash of the shape at publication: the edge's loader requires its own to be equal. */
  circuitSourceHash: string;
  constraints: number;
  /** The phase 1 file the chain was verified against. */
  ptau: { sha256: string; power: number };
  createdAt: string;
}

export interface CeremonyBundle {
  dir: string;
  manifest: BundleManifest;
  paths: Record<BundleRole, string>;
  /** verification_key.json as snarkjs wrote it. */
  verificationKey: Record<string, unknown>;
}

const MANIFEST_FIELDS = new Set([
  'format',
  'circuitShape',
  'r1csSha256',
  'files',
  'contributions',
  'beacon',
  'verificationKeyHash',
  'toolVersions',
  'circuitSourceHash',
  'constraints',
  'ptau',
  'createdAt',
]);

const SHA256 = /^[0-9a-f]{64}$/;
const CONTRIBUTION_HASH = /^[0-9a-f]{128}$/;

/** A refusal naming the bundle, the file (or field) and the rule. */
function refuse(dir: string, file: string, rule: string, code: 'ARTIFACTS_CORRUPT' | 'ARTIFACTS_MISSING' = 'ARTIFACTS_CORRUPT'): never {
  throw new CircuitError(code, `bundle ${dir}: ${file}: ${rule}`, { details: { dir, file, rule } });
}

function checkManifest(dir: string, value: unknown): BundleManifest {
  const at = (field: string) => `${BUNDLE_MANIFEST_FILE} ${field}`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) refuse(dir, BUNDLE_MANIFEST_FILE, 'must be a JSON object');
  const m = value as Record<string, unknown>;
  // The format first: a bundle of another version is refused as such, not field by field.
  if (m.format !== BUNDLE_FORMAT) refuse(dir, at('format'), `unknown format ${JSON.stringify(m.format)} (this tool reads ${BUNDLE_FORMAT})`);
  for (const field of Object.keys(m)) if (!MANIFEST_FIELDS.has(field)) refuse(dir, at(field), 'unknown field');
  if (!isCircuitId(m.circuitShape)) refuse(dir, at('circuitShape'), `unknown circuit shape ${JSON.stringify(m.circuitShape)} (known: ${CIRCUIT_IDS.join(', ')})`);
  const hex = (v: unknown, field: string, re = SHA256): string => {
    if (typeof v !== 'string' || !re.test(v)) refuse(dir, at(field), `must be ${re === SHA256 ? '64' : '128'} lowercase hex digits`);
    return v as string;
  };
  hex(m.r1csSha256, 'r1csSha256');
  hex(m.verificationKeyHash, 'verificationKeyHash');
  hex(m.circuitSourceHash, 'circuitSourceHash');
  const files = m.files as Record<string, unknown> | null;
  if (files === null || typeof files !== 'object' || Array.isArray(files)) refuse(dir, at('files'), 'must be an object { file name: sha256 }');
  for (const name of Object.keys(files as object)) if (!(FILE_NAMES as readonly string[]).includes(name)) refuse(dir, at(`files.${name}`), `not a bundle file (${FILE_NAMES.join(', ')})`);
  for (const name of FILE_NAMES) hex((files as Record<string, unknown>)[name], `files.${name}`);
  if ((files as Record<string, unknown>)[BUNDLE_FILES.r1cs] !== m.r1csSha256) refuse(dir, at('r1csSha256'), `must equal files.${BUNDLE_FILES.r1cs}`);
  if (!Array.isArray(m.contributions)) refuse(dir, at('contributions'), 'must be a list of { name, hash }');
  (m.contributions as unknown[]).forEach((c, i) => {
    const entry = c as Record<string, unknown> | null;
    if (entry === null || typeof entry !== 'object' || typeof entry.name !== 'string' || entry.name === '' || Object.keys(entry).some((k) => k !== 'name' && k !== 'hash')) {
      refuse(dir, at(`contributions[${i}]`), 'must be { name (non-empty), hash }');
    }
    hex(entry.hash, `contributions[${i}].hash`, CONTRIBUTION_HASH);
  });
  const names = new Set((m.contributions as BundleContribution[]).map((c) => c.name));
  if (names.size < 2) refuse(dir, at('contributions'), `contributions under at least two different names are required (found ${names.size}); the beacon does not count`);
  if (m.beacon !== null) {
    const b = m.beacon as Record<string, unknown> | undefined;
    if (b === undefined || typeof b !== 'object' || Array.isArray(b)) refuse(dir, at('beacon'), 'must be null or { hash, generator, iterations }');
    const beacon = b as Record<string, unknown>;
    hex(beacon.hash, 'beacon.hash', CONTRIBUTION_HASH);
    if (typeof beacon.generator !== 'string' || !/^([0-9a-f]{2})+$/.test(beacon.generator)) refuse(dir, at('beacon.generator'), 'must be lowercase hex');
    if (!Number.isInteger(beacon.iterations) || (beacon.iterations as number) < 1 || (beacon.iterations as number) > 63) refuse(dir, at('beacon.iterations'), 'must be an integer 1..63');
    if (Object.keys(beacon).some((k) => !['hash', 'generator', 'iterations'].includes(k))) refuse(dir, at('beacon'), 'unknown field (hash, generator, iterations)');
  }
  const tools = m.toolVersions as Record<string, unknown> | null;
  if (tools === null || typeof tools !== 'object' || !['circom2', 'circomlib', 'snarkjs'].every((t) => typeof tools[t] === 'string')) {
    refuse(dir, at('toolVersions'), 'must be { circom2, circomlib, snarkjs } versions');
  }
  if (!Number.isSafeInteger(m.constraints) || (m.constraints as number) < 1) refuse(dir, at('constraints'), 'must be a positive integer');
  const ptau = m.ptau as Record<string, unknown> | null;
  if (ptau === null || typeof ptau !== 'object') refuse(dir, at('ptau'), 'must be { sha256, power }');
  hex((ptau as Record<string, unknown>).sha256, 'ptau.sha256');
  if (!Number.isInteger((ptau as Record<string, unknown>).power)) refuse(dir, at('ptau.power'), 'must be an integer');
  if (typeof m.createdAt !== 'string' || Number.isNaN(Date.parse(m.createdAt))) refuse(dir, at('createdAt'), 'must be an ISO 8601 time');
  return m as unknown as BundleManifest;
}

/**
 * snarkjs's verification key of a zkey, exported on the single-threaded BN254 engine:
 * snarkjs 0.7.6 asks ffjavascript for the process-wide engine (globalThis.curve_bn128)
 * and would otherwise start worker threads that keep a command-line process alive. The
 * slot is lent for the whole call (the engine is looked up after reading the file) and
 * restored after; the callers are command lines with nothing else running meanwhile.
 */
export async function verificationKeyOfZkey(zkeyPath: string): Promise<Record<string, unknown>> {
  const slot = globalThis as { curve_bn128?: unknown };
  const previous = slot.curve_bn128;
  slot.curve_bn128 = await singleThreadCurve();
  try {
    return await snarkjs.zKey.exportVerificationKey(zkeyPath);
  } finally {
    slot.curve_bn128 = previous;
  }
}

/** The same JSON value, whatever the order of object keys. */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/** Reads a bundle directory and checks it (see the module comment); CircuitError ARTIFACTS_MISSING / ARTIFACTS_CORRUPT naming the file and the rule. */
export async function readBundle(bundleDir: string): Promise<CeremonyBundle> {
  const dir = path.resolve(bundleDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) refuse(dir, '.', 'no such directory', 'ARTIFACTS_MISSING');
  const manifestPath = path.join(dir, BUNDLE_MANIFEST_FILE);
  if (!existsSync(manifestPath)) refuse(dir, BUNDLE_MANIFEST_FILE, 'missing: not a ceremony bundle (written by `ceremony publish`)', 'ARTIFACTS_MISSING');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    refuse(dir, BUNDLE_MANIFEST_FILE, 'not valid JSON');
  }
  const manifest = checkManifest(dir, parsed);
  const paths = {} as Record<BundleRole, string>;
  for (const [role, name] of Object.entries(BUNDLE_FILES) as [BundleRole, BundleFileName][]) {
    const file = path.join(dir, name);
    // A symlink could point anywhere, and would be copied as whatever it points at later.
    if (!existsSync(file) || !lstatSync(file).isFile()) refuse(dir, name, 'missing (or not a regular file)', 'ARTIFACTS_MISSING');
    const actual = await sha256File(file);
    if (actual !== manifest.files[name]) refuse(dir, name, `sha256 ${actual} is not the ${manifest.files[name]} of ${BUNDLE_MANIFEST_FILE}: the file was changed or damaged`);
    paths[role] = file;
  }
  let verificationKey: Record<string, unknown>;
  try {
    verificationKey = JSON.parse(readFileSync(paths.verificationKey, 'utf8')) as Record<string, unknown>;
  } catch {
    refuse(dir, BUNDLE_FILES.verificationKey, 'not valid JSON');
  }
  try {
    await validateVerificationKey(verificationKey!, PUBLIC_SIGNAL_COUNT);
  } catch (error) {
    if (!(error instanceof CircuitError)) throw error;
    const d = error.details as { path?: unknown; rule?: unknown };
    refuse(dir, `${BUNDLE_FILES.verificationKey} ${String(d.path ?? '$')}`, String(d.rule ?? error.message));
  }
  const keyHash = canonicalVerificationKeyHash(verificationKey!);
  if (keyHash !== manifest.verificationKeyHash) {
    refuse(dir, BUNDLE_FILES.verificationKey, `canonical hash ${keyHash} is not ${BUNDLE_MANIFEST_FILE} verificationKeyHash ${manifest.verificationKeyHash}`);
  }
  let derived: Record<string, unknown>;
  try {
    derived = await verificationKeyOfZkey(paths.zkey);
  } catch (error) {
    refuse(dir, BUNDLE_FILES.zkey, `not a readable Groth16 zkey (snarkjs says: ${(error as Error).message})`);
  }
  if (!sameJson(derived!, verificationKey!)) refuse(dir, BUNDLE_FILES.verificationKey, `is not the verification key of ${BUNDLE_FILES.zkey}`);
  return { dir, manifest, paths, verificationKey: verificationKey! };
}

/**
 * Why this checkout cannot load the bundle's artifacts (the artifact loader keys them by
 * the shape's source hash), one sentence each; empty when it can.
 */
export function bundleCheckoutProblems(manifest: BundleManifest): string[] {
  const problems: string[] = [];
  const local = circuitSourceHash(manifest.circuitShape);
  if (local !== manifest.circuitSourceHash) {
    const tools = toolVersions();
    const differ = (Object.keys(tools) as (keyof ToolVersions)[]).filter((t) => tools[t] !== manifest.toolVersions[t]);
    problems.push(
      `the bundle was published from circuit source ${manifest.circuitSourceHash.slice(0, 12)}, this checkout compiles ${local.slice(0, 12)}` +
        (differ.length > 0 ? ` (tool versions differ: ${differ.map((t) => `${t} ${manifest.toolVersions[t]} vs ${tools[t]}`).join(', ')})` : ' (the circuit templates differ)') +
        ': install it from a checkout at the ceremony\'s release',
    );
  }
  return problems;
}

export interface BundleSource {
  circuitId: CircuitId;
  /** The files to copy, by role. */
  files: Record<BundleRole, string>;
  contributions: BundleContribution[];
  beacon: BundleBeacon | null;
  constraints: number;
  ptau: { sha256: string; power: number };
}

/**
 * Builds a directory beside `target` with `build(dir)` and only then puts it in target's
 * place, so nothing ever sees half a directory. No platform exchanges two directories
 * atomically: the old one is moved aside, the new one renamed in, then the old one
 * removed; on any failure the new one is removed and the old one put back.
 */
export async function replaceDirectory<T>(target: string, label: string, build: (dir: string) => Promise<T>): Promise<T> {
  const parent = path.dirname(target);
  mkdirSync(parent, { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = path.join(parent, `.${path.basename(target)}.${label}-${tag}`);
  const old = path.join(parent, `.${path.basename(target)}.old-${tag}`);
  mkdirSync(tmp);
  try {
    const result = await build(tmp);
    if (existsSync(target)) renameSync(target, old);
    renameSync(tmp, target);
    rmSync(old, { recursive: true, force: true });
    return result;
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(old) && !existsSync(target)) renameSync(old, target);
    throw error;
  }
}

/**
 * Writes a bundle directory `out` from `source`: into a temporary directory beside it,
 * checked with readBundle, then renamed into place, so `out` is never half written.
 * `out` must not exist, or (with `force`) must be an earlier bundle (holding bundle.json),
 * which is replaced; nothing else is ever deleted.
 */
export async function writeBundle(out: string, source: BundleSource, options: { force?: boolean } = {}): Promise<CeremonyBundle> {
  const target = path.resolve(out);
  if (existsSync(target)) {
    if (options.force !== true) throw new CircuitError('CEREMONY_FAILED', `${target} exists: give another output directory, or --force to replace the bundle there`, { details: { out: target } });
    if (!statSync(target).isDirectory() || !existsSync(path.join(target, BUNDLE_MANIFEST_FILE))) {
      throw new CircuitError('CEREMONY_FAILED', `${target} exists and is not a bundle (no ${BUNDLE_MANIFEST_FILE}): --force replaces only an earlier bundle`, { details: { out: target } });
    }
  }
  for (const file of Object.values(source.files)) {
    const resolved = path.resolve(file);
    if (resolved === target || resolved.startsWith(`${target}${path.sep}`)) {
      throw new CircuitError('CEREMONY_FAILED', `the output ${target} holds an input (${resolved}): write the bundle elsewhere`, { details: { out: target } });
    }
  }
  const checked = await replaceDirectory(target, 'tmp', async (tmp) => {
    const files = {} as Record<BundleFileName, string>;
    for (const [role, name] of Object.entries(BUNDLE_FILES) as [BundleRole, BundleFileName][]) {
      copyFileSync(source.files[role], path.join(tmp, name));
      files[name] = await sha256File(path.join(tmp, name));
    }
    const verificationKey = JSON.parse(readFileSync(path.join(tmp, BUNDLE_FILES.verificationKey), 'utf8')) as unknown;
    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT,
      circuitShape: source.circuitId,
      r1csSha256: files[BUNDLE_FILES.r1cs],
      files,
      contributions: source.contributions.map(({ name, hash }) => ({ name, hash })),
      beacon: source.beacon,
      verificationKeyHash: canonicalVerificationKeyHash(verificationKey),
      toolVersions: toolVersions(),
      circuitSourceHash: circuitSourceHash(source.circuitId),
      constraints: source.constraints,
      ptau: source.ptau,
      createdAt: new Date().toISOString(),
    };
    writeFileSync(path.join(tmp, BUNDLE_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    return readBundle(tmp);
  });
  const paths = Object.fromEntries(Object.entries(BUNDLE_FILES).map(([role, name]) => [role, path.join(target, name)])) as Record<BundleRole, string>;
  return { ...checked, dir: target, paths };
}
