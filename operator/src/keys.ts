/**
 * Verification keys as an operator reviews them: a local file checked as the chaincode
 * will check it (shape, points on the curve, G2 subgroup, IC length: circuits'
 * validateVerificationKey) and hashed in the one canonical form (@flexproof/protocol's
 * canonicalVerificationKeyHash), beside what the ledger holds for a circuit id.
 */
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { BundleManifest } from '@flexproof/circuits';
import { canonicalVerificationKey, canonicalVerificationKeyHash, type VerificationKeyRecord } from '@flexproof/protocol';
import { errnoCode } from './config';
import { CheckRefused, UsageError } from './usage-error';

export interface LocalKey {
  file: string;
  /** How the file was written: snarkjs's export (with vk_alphabeta_12), or already canonical. */
  form: 'snarkjs' | 'canonical';
  /** The key as `keys propose` sends it. */
  canonical: Record<string, unknown>;
  keyHash: string;
  /** When the key came from a ceremony bundle: its manifest (shape, contributions, beacon). */
  bundle?: BundleManifest;
}

/**
 * The key of a ceremony bundle directory (`ceremony publish`), after the bundle's full
 * integrity check (every file's sha256, the key derived again from the zkey, its points,
 * its canonical hash equal to bundle.json's verificationKeyHash). CheckRefused naming the
 * file and the rule otherwise.
 */
export async function readBundleKey(dir: string, cwd: string): Promise<LocalKey> {
  const full = path.resolve(cwd, dir);
  const circuits = await import('@flexproof/circuits');
  let bundle;
  try {
    bundle = await circuits.readBundle(full);
  } catch (error) {
    const e = error as { name?: unknown; code?: unknown; message?: unknown };
    if (e?.name === 'CircuitError' && (e.code === 'ARTIFACTS_CORRUPT' || e.code === 'ARTIFACTS_MISSING')) {
      throw new CheckRefused(`${String(e.message)} (nothing was sent)`);
    }
    throw error;
  }
  return {
    file: path.join(dir, circuits.BUNDLE_FILES.verificationKey),
    form: 'snarkjs',
    canonical: canonicalVerificationKey(bundle.verificationKey),
    keyHash: bundle.manifest.verificationKeyHash,
    bundle: bundle.manifest,
  };
}

/** A key file, or a bundle directory (whichever PATH is). */
export async function readKeyOrBundle(file: string, cwd: string): Promise<LocalKey> {
  let isDir = false;
  try {
    isDir = statSync(path.resolve(cwd, file)).isDirectory();
  } catch {
    // readLocalKey names the unreadable file.
  }
  return isDir ? readBundleKey(file, cwd) : readLocalKey(file, cwd);
}

/**
 * A ledger circuit id for a bundle's key: the bundle's shape, or the shape with a
 * .suffix (flexdev-v1-r4.ceremony2), as edge configs and the artifact cache resolve ids.
 */
export function circuitIdProblem(circuitId: string, bundle: BundleManifest): string | undefined {
  if (circuitId === bundle.circuitShape || circuitId.startsWith(`${bundle.circuitShape}.`)) return undefined;
  return `--circuit ${circuitId}: the bundle is of shape ${bundle.circuitShape}: the circuit id must be ${bundle.circuitShape} or ${bundle.circuitShape}.<suffix>`;
}

/** Reads and checks a verification_key.json; CheckRefused naming the field and rule when the ledger would refuse it. */
export async function readLocalKey(file: string, cwd: string): Promise<LocalKey> {
  const full = path.resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (error) {
    throw new UsageError(`${file}: cannot read it (${errnoCode(error)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${file}: not valid JSON (expected a snarkjs verification_key.json)`);
  }
  // Loaded here, not at start-up: only the keys commands need the curve (snarkjs).
  const circuits = await import('@flexproof/circuits');
  let validated: unknown;
  try {
    validated = await circuits.validateVerificationKey(parsed, circuits.PUBLIC_SIGNAL_COUNT);
  } catch (error) {
    const e = error as { name?: unknown; code?: unknown; details?: { path?: unknown; rule?: unknown } } | null;
    if (e?.name === 'CircuitError' && e.code === 'MALFORMED_VERIFICATION_KEY') {
      const at = typeof e.details?.path === 'string' && e.details.path !== '$' ? `verificationKey.${e.details.path}` : 'verificationKey';
      const rule = typeof e.details?.rule === 'string' ? e.details.rule : 'malformed';
      throw new CheckRefused(`${file}: ${at}: ${rule} (the ledger refuses this key; nothing was sent)`);
    }
    throw error;
  }
  const isSnarkjs = typeof parsed === 'object' && parsed !== null && 'vk_alphabeta_12' in parsed;
  return {
    file,
    form: isSnarkjs ? 'snarkjs' : 'canonical',
    canonical: canonicalVerificationKey(validated),
    keyHash: canonicalVerificationKeyHash(validated),
  };
}

export interface KeyReview {
  circuitId: string;
  status: string;
  proposedBy: string | null;
  /** The hash the ledger recorded at the proposal (what an approval must name). */
  ledgerKeyHash: string;
  /** The canonical hash of the key the ledger holds, recomputed here. */
  ledgerKeyCanonicalHash: string | null;
  file: string;
  localKeyHash: string;
  matches: boolean;
  /** Why it does not match, one sentence each. */
  problems: string[];
}

/** The ledger's record beside a local key: they match only if all three hashes are one. */
export function reviewKey(record: VerificationKeyRecord, local: LocalKey): KeyReview {
  const problems: string[] = [];
  let ledgerKeyCanonicalHash: string | null = null;
  if (record.verificationKey === undefined) {
    problems.push('the ledger record holds no key to compare');
  } else {
    try {
      ledgerKeyCanonicalHash = canonicalVerificationKeyHash(record.verificationKey);
    } catch (error) {
      problems.push(`the key on the ledger is not a Groth16 key in any form this tool knows (${(error as Error).message})`);
    }
  }
  if (local.keyHash !== record.keyHash) {
    problems.push(`${local.file} hashes to ${local.keyHash}, the proposal's keyHash is ${record.keyHash}`);
  }
  if (ledgerKeyCanonicalHash !== null && ledgerKeyCanonicalHash !== record.keyHash) {
    problems.push(
      `the proposal's keyHash is not the canonical hash of the key it holds (${ledgerKeyCanonicalHash}): it was proposed in another form (e.g. snarkjs's file with vk_alphabeta_12) rather than with \`flexproof keys propose\`; such a proposal cannot be reviewed by hash: have it proposed again under a new circuit id`,
    );
  }
  return {
    circuitId: record.circuitId,
    status: record.status,
    proposedBy: typeof record.proposedBy === 'string' ? record.proposedBy : null,
    ledgerKeyHash: record.keyHash,
    ledgerKeyCanonicalHash,
    file: local.file,
    localKeyHash: local.keyHash,
    matches: problems.length === 0,
    problems,
  };
}
