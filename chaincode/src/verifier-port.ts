/**
 * The ports through which the programs contract checks deviation proofs and the
 * verifiers contract checks proposed keys, and their default adapters onto
 * @flexproof/circuits. This is the only file that knows the circuits library; tests
 * inject a fake proof verifier through the ProgramsContract constructor.
 */

/** Public signals of the deviation circuit, by meaning (decimal strings). */
export interface DecodedPublicSignals {
  newFingerprint: string;
  deviation: string;
  direction: string;
  prevFingerprint: string;
  requestCommitment: string;
  periodIndex: string;
}

/**
 * Structurally malformed proof, public signals or key (wrong count, non-canonical or
 * out-of-field signal, bad shape). The contract answers BAD_INPUT and changes nothing;
 * only a well-formed proof that fails the pairing check is an invalid proof.
 */
export class ProofInputError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ProofInputError';
  }
}

/** One proof of a batch and its public signals, as a submission carries them. */
export interface ProofBatchItem {
  proof: unknown;
  publicSignals: string[];
}

/** What `verify` would say of one batch item: resolve true ('valid') or false ('invalid'), or throw (the ProofInputError). */
export type ProofBatchVerdict = 'valid' | 'invalid' | ProofInputError;

export interface ProofVerifier {
  /** Groth16 check; false only for a well-formed proof that does not verify; throws ProofInputError when malformed. */
  verify(verificationKey: unknown, proof: unknown, publicSignals: string[]): Promise<boolean>;
  /**
   * Checks many proofs under one key at once; one verdict per item, in order, each the
   * verdict `verify` would give. `seed` (the transaction id) and the items fix the
   * random coefficients, so every endorser computes the same. `cacheKey` names the key
   * (circuit id and key hash) for a cache of its prepared form.
   */
  verifyBatch(
    verificationKey: unknown,
    items: readonly ProofBatchItem[],
    seed: string,
    cacheKey?: string,
  ): Promise<ProofBatchVerdict[]>;
  /** Names the public signals; throws ProofInputError when malformed. */
  decodePublicSignals(publicSignals: string[]): Promise<DecodedPublicSignals>;
  /** Hex sha256 of the canonical serialisation of proof and signals: what the prosumer signs. */
  submissionHash(proof: unknown, publicSignals: string[]): Promise<string>;
}

/** A proposed verification key that cannot be the key of the deviation circuit; `path` names the field. */
export class VerificationKeyError extends Error {
  constructor(
    readonly path: string,
    readonly rule: string,
  ) {
    super(`${path}: ${rule}`);
    this.name = 'VerificationKeyError';
  }
}

export interface VerificationKeyValidator {
  /**
   * Resolves when the key is a well-formed Groth16 key over BN254 for the deviation
   * circuit's public signals (points on the curve, G2 points in the subgroup, IC of the
   * right length); rejects with VerificationKeyError otherwise.
   */
  validate(verificationKey: unknown): Promise<void>;
}

/** The agreed surface of @flexproof/circuits that these adapters use. */
interface CircuitsLibrary {
  PUBLIC_SIGNAL_COUNT: number;
  verifyDeviationProofPrepared(vkey: unknown, proof: unknown, publicSignals: string[]): Promise<boolean>;
  prepareVerificationKey(vkey: unknown): Promise<PreparedKey>;
  verifyBatchDetailed(prepared: PreparedKey, items: readonly ProofBatchItem[], seed: string): Promise<CircuitsBatchVerdict[]>;
  decodePublicSignals(publicSignals: string[]): DecodedPublicSignals;
  submissionHash(proof: unknown, publicSignals: string[]): string;
  validateVerificationKey(vkey: unknown, expectedPublicSignals: number): Promise<unknown>;
}

/** @flexproof/circuits' PreparedVerificationKey, opaque here. */
interface PreparedKey {
  readonly keyHash: string;
}

/** @flexproof/circuits' BatchVerdict. */
type CircuitsBatchVerdict = { status: 'valid' } | { status: 'invalid' } | { status: 'malformed'; error: unknown };

/** Error codes of CircuitError that mean "malformed input", not "invalid proof". */
const MALFORMED_CODES = new Set([
  'PUBLIC_SIGNAL_COUNT',
  'PUBLIC_SIGNAL_NOT_CANONICAL',
  'PUBLIC_SIGNAL_OUT_OF_FIELD',
  'MALFORMED_PROOF',
  'MALFORMED_VERIFICATION_KEY',
  'MALFORMED_SUBMISSION',
]);

/** The ProofInputError for a CircuitError that means malformed input; undefined for anything else. */
function asProofInputError(err: unknown): ProofInputError | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error && err.name === 'CircuitError' && typeof code === 'string' && MALFORMED_CODES.has(code)) {
    return new ProofInputError(code, err.message);
  }
  return undefined;
}

function translateCircuitError(err: unknown): never {
  throw asProofInputError(err) ?? err;
}

/**
 * A chaincode process verifies under a handful of registered keys; the bound only stops
 * ever new keys (a new key per circuit id and hash) from growing memory.
 */
const PREPARED_CACHE_LIMIT = 16;

let library: Promise<CircuitsLibrary> | undefined;

/** Loaded on first use, so chaincode start-up does not pay for snarkjs. */
function loadCircuits(): Promise<CircuitsLibrary> {
  library ??= import('@flexproof/circuits').then((m) => m as unknown as CircuitsLibrary);
  return library;
}

/** The production verifier: snarkjs Groth16 through @flexproof/circuits. */
export class CircuitsProofVerifier implements ProofVerifier {
  /** Prepared keys by (circuit id, key hash): preparing costs about as much as verifying a proof. */
  private readonly prepared = new Map<string, Promise<PreparedKey>>();

  async verifyBatch(
    verificationKey: unknown,
    items: readonly ProofBatchItem[],
    seed: string,
    cacheKey?: string,
  ): Promise<ProofBatchVerdict[]> {
    const lib = await loadCircuits();
    let prepared: PreparedKey;
    try {
      prepared = await this.preparedKey(lib, verificationKey, cacheKey);
    } catch (err) {
      // What verify would throw for each item, under this key.
      const malformed = asProofInputError(err);
      if (malformed) return items.map(() => malformed);
      throw err;
    }
    const verdicts = await lib.verifyBatchDetailed(prepared, items, seed);
    return verdicts.map((v) => {
      if (v.status !== 'malformed') return v.status;
      const malformed = asProofInputError(v.error);
      if (!malformed) throw v.error;
      return malformed;
    });
  }

  private preparedKey(lib: CircuitsLibrary, verificationKey: unknown, cacheKey: string | undefined): Promise<PreparedKey> {
    if (cacheKey === undefined) return lib.prepareVerificationKey(verificationKey);
    let entry = this.prepared.get(cacheKey);
    if (!entry) {
      if (this.prepared.size >= PREPARED_CACHE_LIMIT) this.prepared.clear();
      entry = lib.prepareVerificationKey(verificationKey);
      this.prepared.set(cacheKey, entry);
      const built = entry;
      built.catch(() => {
        if (this.prepared.get(cacheKey) === built) this.prepared.delete(cacheKey);
      });
    }
    return entry;
  }

  async verify(verificationKey: unknown, proof: unknown, publicSignals: string[]): Promise<boolean> {
    const lib = await loadCircuits();
    try {
      // The prepared form caches what a key never changes (its G2 points, e(alpha, beta)): 1.7x, same verdicts.
      return await lib.verifyDeviationProofPrepared(verificationKey, proof, publicSignals);
    } catch (err) {
      translateCircuitError(err);
    }
  }

  async decodePublicSignals(publicSignals: string[]): Promise<DecodedPublicSignals> {
    const lib = await loadCircuits();
    try {
      return lib.decodePublicSignals(publicSignals);
    } catch (err) {
      translateCircuitError(err);
    }
  }

  async submissionHash(proof: unknown, publicSignals: string[]): Promise<string> {
    const lib = await loadCircuits();
    try {
      return lib.submissionHash(proof, publicSignals);
    } catch (err) {
      translateCircuitError(err);
    }
  }
}

/** The production key validator: validateVerificationKey of @flexproof/circuits, on snarkjs's curve. */
export class CircuitsVerificationKeyValidator implements VerificationKeyValidator {
  async validate(verificationKey: unknown): Promise<void> {
    const lib = await loadCircuits();
    try {
      await lib.validateVerificationKey(verificationKey, lib.PUBLIC_SIGNAL_COUNT);
    } catch (err) {
      const e = err as { name?: unknown; code?: unknown; details?: { path?: unknown; rule?: unknown } } | null;
      if (e?.name === 'CircuitError' && e.code === 'MALFORMED_VERIFICATION_KEY') {
        const path = typeof e.details?.path === 'string' ? e.details.path : '$';
        const rule = typeof e.details?.rule === 'string' ? e.details.rule : 'malformed';
        throw new VerificationKeyError(path, rule);
      }
      throw err;
    }
  }
}
