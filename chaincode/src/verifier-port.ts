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

export interface ProofVerifier {
  /** Groth16 check; false only for a well-formed proof that does not verify; throws ProofInputError when malformed. */
  verify(verificationKey: unknown, proof: unknown, publicSignals: string[]): Promise<boolean>;
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
  decodePublicSignals(publicSignals: string[]): DecodedPublicSignals;
  submissionHash(proof: unknown, publicSignals: string[]): string;
  validateVerificationKey(vkey: unknown, expectedPublicSignals: number): Promise<unknown>;
}

/** Error codes of CircuitError that mean "malformed input", not "invalid proof". */
const MALFORMED_CODES = new Set([
  'PUBLIC_SIGNAL_COUNT',
  'PUBLIC_SIGNAL_NOT_CANONICAL',
  'PUBLIC_SIGNAL_OUT_OF_FIELD',
  'MALFORMED_PROOF',
  'MALFORMED_VERIFICATION_KEY',
  'MALFORMED_SUBMISSION',
]);

function translateCircuitError(err: unknown): never {
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error && err.name === 'CircuitError' && typeof code === 'string' && MALFORMED_CODES.has(code)) {
    throw new ProofInputError(code, err.message);
  }
  throw err;
}

let library: Promise<CircuitsLibrary> | undefined;

/** Loaded on first use, so chaincode start-up does not pay for snarkjs. */
function loadCircuits(): Promise<CircuitsLibrary> {
  library ??= import('@flexproof/circuits').then((m) => m as unknown as CircuitsLibrary);
  return library;
}

/** The production verifier: snarkjs Groth16 through @flexproof/circuits. */
export class CircuitsProofVerifier implements ProofVerifier {
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
