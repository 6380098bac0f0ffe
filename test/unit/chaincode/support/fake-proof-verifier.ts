/**
 * A FAKE proof verifier for contract tests: no cryptography. A "proof" is
 * `{ fake: 'valid' }` or `{ fake: 'invalid' }`; anything else is malformed. Public
 * signals are six decimal strings in the circuit's order. It records the verification
 * key it was given, so tests can show the key comes from the ledger.
 */
import { createHash } from 'node:crypto';
import { stableStringify } from '@flexproof/protocol';
import {
  ProofInputError,
  type DecodedPublicSignals,
  type ProofBatchItem,
  type ProofBatchVerdict,
  type ProofVerifier,
} from './chaincode';

export const FAKE_SIGNAL_COUNT = 6;

export class FakeProofVerifier implements ProofVerifier {
  readonly keysSeen: unknown[] = [];
  /** Every verifyBatch call: how many items, the seed and the cache key it was given. */
  readonly batches: { size: number; seed: string; cacheKey: string | undefined; verificationKey: unknown }[] = [];
  /** Single verify calls (SubmitPeriod, or a batch item verified alone). */
  singleCalls = 0;

  async verifyBatch(verificationKey: unknown, items: readonly ProofBatchItem[], seed: string, cacheKey?: string): Promise<ProofBatchVerdict[]> {
    this.batches.push({ size: items.length, seed, cacheKey, verificationKey });
    const out: ProofBatchVerdict[] = [];
    for (const item of items) {
      try {
        out.push((await this.check(item.proof, item.publicSignals)) ? 'valid' : 'invalid');
      } catch (err) {
        if (!(err instanceof ProofInputError)) throw err;
        out.push(err);
      }
    }
    return out;
  }

  async verify(verificationKey: unknown, proof: unknown, publicSignals: string[]): Promise<boolean> {
    this.singleCalls += 1;
    const valid = await this.check(proof, publicSignals);
    this.keysSeen.push(verificationKey);
    return valid;
  }

  private async check(proof: unknown, publicSignals: string[]): Promise<boolean> {
    await this.decodePublicSignals(publicSignals);
    const fake = (proof as { fake?: unknown }).fake;
    if (fake !== 'valid' && fake !== 'invalid') throw new ProofInputError('MALFORMED_PROOF', 'not a fake proof');
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
