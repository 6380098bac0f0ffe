/**
 * One period's submission: witness input from the interval energies (import only for a v1
 * circuit; import and export for a v2 net energy circuit), Groth16 proof,
 * submission hash, and the SubmitPeriod payload signed with the site key. The result is
 * the exact JSON text sent to the gateway (and resent unchanged on every retry).
 */
import type { KeyObject } from 'node:crypto';
import {
  buildDeviationInput,
  buildNetDeviationInput,
  circuitShape,
  decodePublicSignals,
  deriveSalt,
  encodePublicSignals,
  submissionHash,
  type CircuitId,
  type DeviationProof,
} from '@flexproof/circuits';
import { EdgeError } from './errors';
import { ACTION_SUBMIT_PERIOD, signPayload, type LedgerTarget, type SubmitPeriodPayload } from './prosumer-signing';
import type { ProverPort } from './prover';

export interface PeriodProofParams {
  meterId: string;
  prosumerId: string;
  enrollmentId: string;
  /** The circuit id on the ledger (what the payload names). */
  circuitId: string;
  /** The shape proven with. */
  shape: CircuitId;
  periodIndex: number;
  /** Imported energy of each interval, Wh (a v1 circuit's readings). */
  readings: readonly bigint[];
  /** Exported energy of each interval, Wh: net energy (v2) circuits only; absent is all zero. */
  exportReadings?: readonly bigint[];
  prevFingerprint: string;
  requestProfile: readonly string[];
  commitmentSalt: string;
  requestCommitment: string;
  fingerprintSalt: bigint;
  privateKey: KeyObject;
  /** The channel and chaincode the signed payload names. */
  ledger: LedgerTarget;
  /**
   * Checks the (honest) proof before anything is signed: the caller verifies it against
   * the ledger's key. False: PROOF_NOT_VERIFIED, nothing signed.
   */
  verify?: (proof: DeviationProof) => Promise<boolean>;
  /** Demonstrations only: corrupt the proof's claimed deviation before signing. */
  tamper?: boolean;
}

export interface PeriodSubmission {
  body: string;
  submissionHash: string;
  newFingerprint: string;
  /** The deviation as proven (before any tampering). */
  deviationWh: string;
  tampered: boolean;
  provingMs: number;
}

/** The fingerprint salt of one period: derived from the site secret, so it can be recomputed and handed to an auditor. */
export function periodFingerprintSalt(siteSecretHex: string, meterId: string, enrollmentId: string, periodIndex: number): bigint {
  return deriveSalt(Buffer.from(siteSecretHex, 'hex'), `fingerprint/${meterId}/${enrollmentId}/${periodIndex}`);
}

export async function provePeriod(params: PeriodProofParams, prover: ProverPort): Promise<PeriodSubmission> {
  const common = {
    prevFingerprint: params.prevFingerprint,
    periodIndex: params.periodIndex,
    requestProfile: params.requestProfile,
    commitmentSalt: params.commitmentSalt,
    fingerprintSalt: params.fingerprintSalt,
    requestCommitment: params.requestCommitment,
  };
  // v1 keeps its own input builder (readings = import); v2 takes both registers and a signed profile.
  const input =
    circuitShape(params.shape).kind === 'net'
      ? buildNetDeviationInput({
          ...common,
          circuitId: params.shape,
          importWh: params.readings,
          ...(params.exportReadings !== undefined ? { exportWh: params.exportReadings } : {}),
        })
      : buildDeviationInput({ ...common, circuitId: params.shape, readings: params.readings });
  const started = process.hrtime.bigint();
  const proven = await prover.prove(params.shape, input);
  const provingMs = Number((process.hrtime.bigint() - started) / 1_000_000n);
  if (params.verify !== undefined && !(await params.verify(proven))) {
    throw new EdgeError('PROOF_NOT_VERIFIED', `the proof of period ${params.periodIndex} does not verify against the ledger's key: nothing signed`, {
      details: { enrollmentId: params.enrollmentId, periodIndex: params.periodIndex },
    });
  }
  const signals = decodePublicSignals(proven.publicSignals);
  const sent: DeviationProof = params.tamper ? tamperWith(proven) : proven;
  const hash = submissionHash(sent.proof, sent.publicSignals);
  const payload: SubmitPeriodPayload = {
    type: ACTION_SUBMIT_PERIOD,
    channel: params.ledger.channel,
    chaincode: params.ledger.chaincode,
    enrollmentId: params.enrollmentId,
    meterId: params.meterId,
    prosumerId: params.prosumerId,
    circuitId: params.circuitId,
    periodIndex: params.periodIndex,
    submissionHash: hash,
  };
  const signature = signPayload(payload, params.privateKey);
  return {
    body: JSON.stringify({ payload, signature, proof: sent.proof, publicSignals: sent.publicSignals }),
    submissionHash: hash,
    newFingerprint: signals.newFingerprint,
    deviationWh: signals.deviation,
    tampered: params.tamper === true,
    provingMs,
  };
}

/**
 * The tamper switch's corruption: the edge claims a smaller deviation than it proved
 * (0, or 1 when the true deviation is 0). The proof stays well-formed, so the chaincode
 * verifies it, finds it invalid, and excludes the prosumer.
 */
export function tamperWith(proof: DeviationProof): DeviationProof {
  const signals = decodePublicSignals(proof.publicSignals);
  const claimed = signals.deviation === '0' ? '1' : '0';
  return { proof: proof.proof, publicSignals: encodePublicSignals({ ...signals, deviation: claimed }) };
}
