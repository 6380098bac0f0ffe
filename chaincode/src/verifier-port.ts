/**
 * The port through which the programs contract checks deviation proofs, and its default
 * adapter onto @flexproof/circuits. This is the only file that knows the circuits
 * library; tests inject a fake through the ProgramsContract constructor.
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

/** The agreed surface of @flexproof/circuits that this adapter uses. */
interface CircuitsLibrary {
  verifyDeviationProof(vkey: unknown, proof: unknown, publicSignals: string[]): Promise<boolean>;
  decodePublicSignals(publicSignals: string[]): DecodedPublicSignals;
  submissionHash(proof: unknown, publicSignals: string[]): string;
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
      return await lib.verifyDeviationProof(verificationKey, proof, publicSignals);
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
