/**
 * The one canonical form, and the one hash, of a Groth16 verification key: what an
 * organisation reviews before it approves a proposed key, and what it names when it does.
 *
 * snarkjs writes verification_key.json with `vk_alphabeta_12` (e(alpha, beta), which
 * verification never reads); @flexproof/circuits' validateVerificationKey returns the key
 * without it. The canonical form is the key without that field, so the raw file and the
 * normalised form of the same key have the same hash. The hash is SHA-256 (hex) of the
 * canonical form's canonical JSON (keys sorted, no whitespace): for a key already in
 * canonical form it is byte for byte the chaincode's verificationKeyHash (sha256 of its
 * stable JSON of the key as proposed), so a key proposed in canonical form is recorded on
 * the ledger under this hash.
 *
 * This checks the key's fields, not its points: that needs the curve
 * (validateVerificationKey of @flexproof/circuits, which `flexproof keys` runs first).
 */
import { createHash } from 'node:crypto';
import { canonicalJson, stableStringify } from './canonical-json';

/** The fields of a Groth16 key that verification reads: the canonical form keeps these. */
export const VERIFICATION_KEY_FIELDS = ['protocol', 'curve', 'nPublic', 'vk_alpha_1', 'vk_beta_2', 'vk_gamma_2', 'vk_delta_2', 'IC'] as const;

/** snarkjs's precomputed pairing: allowed in a key file, dropped from the canonical form. */
export const DERIVED_VERIFICATION_KEY_FIELDS = ['vk_alphabeta_12'] as const;

export class VerificationKeyFormError extends Error {
  override readonly name = 'VerificationKeyFormError';
  constructor(
    /** The field at fault, `$` for the whole key. */
    readonly field: string,
    readonly rule: string,
  ) {
    super(`${field === '$' ? 'verificationKey' : `verificationKey.${field}`}: ${rule}`);
  }
}

/** The key without its derived fields, fields in VERIFICATION_KEY_FIELDS order. */
export function canonicalVerificationKey(verificationKey: unknown): Record<string, unknown> {
  if (typeof verificationKey !== 'object' || verificationKey === null || Array.isArray(verificationKey)) {
    throw new VerificationKeyFormError('$', 'must be a JSON object (a snarkjs verification_key.json)');
  }
  const key = verificationKey as Record<string, unknown>;
  const known = new Set<string>([...VERIFICATION_KEY_FIELDS, ...DERIVED_VERIFICATION_KEY_FIELDS]);
  for (const field of Object.keys(key)) {
    if (!known.has(field)) throw new VerificationKeyFormError(field, `unknown field (a Groth16 key has ${[...known].join(', ')})`);
  }
  const out: Record<string, unknown> = {};
  for (const field of VERIFICATION_KEY_FIELDS) {
    if (!Object.prototype.hasOwnProperty.call(key, field) || key[field] === undefined) {
      throw new VerificationKeyFormError(field, 'is required');
    }
    out[field] = key[field];
  }
  return out;
}

/** sha256 (hex) of the canonical JSON of the canonical form: the key hash organisations approve. */
export function canonicalVerificationKeyHash(verificationKey: unknown): string {
  return createHash('sha256').update(canonicalJson(canonicalVerificationKey(verificationKey)), 'utf8').digest('hex');
}

/**
 * sha256 (hex) of the stable JSON (stableStringify) of a key exactly as given, with no
 * canonical form taken and no field checked: what a client computes to check that a
 * ledger record's keyHash is the hash of the key the record carries. The chaincode records
 * canonicalVerificationKeyHash of what it is proposed; for a key already in canonical form
 * (every key a record holds) the two are equal, on a raw snarkjs file (with
 * vk_alphabeta_12) they differ, and on what is not a key this one still answers a hash
 * where canonicalVerificationKeyHash throws (test/unit/protocol/verification-key-hash.test.ts).
 */
export function verificationKeyHash(verificationKey: unknown): string {
  return createHash('sha256').update(stableStringify(verificationKey), 'utf8').digest('hex');
}
