/**
 * A FAKE proof verifier for contract tests: no cryptography. A "proof" is
 * `{ fake: 'valid' }` or `{ fake: 'invalid' }`; anything else is malformed. Public
 * signals are six decimal strings in the circuit's order. It records the verification
 * key it was given, so tests can show the key comes from the ledger.
 */
import { createHash } from 'node:crypto';
import { ProofInputError, stableStringify, type DecodedPublicSignals, type ProofVerifier } from './chaincode';

export const FAKE_SIGNAL_COUNT = 6;

export class FakeProofVerifier implements ProofVerifier {
  readonly keysSeen: unknown[] = [];

  async verify(verificationKey: unknown, proof: unknown, publicSignals: string[]): Promise<boolean> {
    await this.decodePublicSignals(publicSignals);
    const fake = (proof as { fake?: unknown }).fake;
    if (fake !== 'valid' && fake !== 'invalid') throw new ProofInputError('MALFORMED_PROOF', 'not a fake proof');
    this.keysSeen.push(verificationKey);
    return fake === 'valid';
  }

  async decodePublicSignals(s: string[]): Promise<DecodedPublicSignals> {
    if (s.length !== FAKE_SIGNAL_COUNT) throw new ProofInputError('PUBLIC_SIGNAL_COUNT', `expected 6, got ${s.length}`);
    const [newFingerprint, deviation, direction, prevFingerprint, requestCommitment, periodIndex] = s as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    return { newFingerprint, deviation, direction, prevFingerprint, requestCommitment, periodIndex };
  }

  async submissionHash(proof: unknown, publicSignals: string[]): Promise<string> {
    return createHash('sha256').update(stableStringify({ proof, publicSignals })).digest('hex');
  }
}
