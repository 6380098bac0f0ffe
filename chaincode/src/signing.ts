/**
 * Prosumer signatures: what a prosumer signs and how the chaincode checks it. This file
 * has no Fabric import, so the edge client and the tests sign exactly the bytes the
 * chaincode verifies (import from `@flexproof/chaincode`).
 *
 * The signed bytes are the canonical encoding of the payload: UTF-8 of its JSON with
 * keys sorted at every level (stable-json.ts). Every payload names its action type
 * (domain separation) and the meter and prosumer; replays are refused by a nonce
 * strictly above the last one accepted (accept, withdraw) or by the period index, which
 * settles once (submit). Signatures are base64: ECDSA P-256 over SHA-256 in DER
 * encoding, or Ed25519.
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { stableStringify } from './stable-json';
import type { ProsumerKeyType } from './model';

export const ACTION_ACCEPT_ENROLLMENT = 'flexproof.acceptEnrollment.v1';
export const ACTION_SUBMIT_PERIOD = 'flexproof.submitPeriod.v1';
export const ACTION_WITHDRAW = 'flexproof.withdraw.v1';

/** The enrollment terms a prosumer agrees to; every field must equal the ledger's. */
export interface EnrollmentTerms {
  enrollmentId: string;
  orderId: string;
  meterId: string;
  prosumerId: string;
  circuitId: string;
  requestCommitment: string;
  reward: string;
  ratePerWh: string;
  toleranceWh: string;
  flexWh: string[];
  startTime: string;
  periodSeconds: number;
  graceSeconds: number;
}

export interface AcceptEnrollmentPayload extends EnrollmentTerms {
  type: typeof ACTION_ACCEPT_ENROLLMENT;
  nonce: string;
}

export interface SubmitPeriodPayload {
  type: typeof ACTION_SUBMIT_PERIOD;
  enrollmentId: string;
  meterId: string;
  prosumerId: string;
  circuitId: string;
  periodIndex: number;
  /** `submissionHash(proof, publicSignals)` of @flexproof/circuits: binds the signature to the proof. */
  submissionHash: string;
}

export interface WithdrawPayload {
  type: typeof ACTION_WITHDRAW;
  meterId: string;
  prosumerId: string;
  amount: string;
  nonce: string;
}

export type ProsumerPayload = AcceptEnrollmentPayload | SubmitPeriodPayload | WithdrawPayload;

/** A prosumer action as a transaction carries it. */
export interface SignedAction<P extends ProsumerPayload = ProsumerPayload> {
  payload: P;
  signature: string;
}

/** The exact bytes a prosumer signs. */
export function canonicalEncoding(payload: unknown): Buffer {
  return Buffer.from(stableStringify(payload), 'utf8');
}

/** The terms of an enrollment record, as the prosumer signs them. */
export function enrollmentTerms(e: EnrollmentTerms): EnrollmentTerms {
  return {
    enrollmentId: e.enrollmentId,
    orderId: e.orderId,
    meterId: e.meterId,
    prosumerId: e.prosumerId,
    circuitId: e.circuitId,
    requestCommitment: e.requestCommitment,
    reward: e.reward,
    ratePerWh: e.ratePerWh,
    toleranceWh: e.toleranceWh,
    flexWh: [...e.flexWh],
    startTime: e.startTime,
    periodSeconds: e.periodSeconds,
    graceSeconds: e.graceSeconds,
  };
}

/** Which kind of prosumer key a PEM holds; undefined if it is not an accepted key. */
export function prosumerKeyType(publicKeyPem: string): ProsumerKeyType | undefined {
  let key: KeyObject;
  try {
    key = createPublicKey(publicKeyPem);
  } catch {
    return undefined;
  }
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ec-p256';
  return undefined;
}

/** Signs a payload with a prosumer's private key (PEM or KeyObject); returns base64. */
export function signPayload(payload: ProsumerPayload, privateKey: KeyObject | string): string {
  const data = canonicalEncoding(payload);
  const algorithm = keyAlgorithm(privateKey);
  return sign(algorithm, data, privateKey).toString('base64');
}

/** True if `signature` (base64) is the key's signature over the payload's canonical encoding. */
export function verifyPayloadSignature(payload: unknown, signature: string, publicKeyPem: string): boolean {
  try {
    const key = createPublicKey(publicKeyPem);
    const sig = Buffer.from(signature, 'base64');
    if (sig.length === 0 || sig.toString('base64') !== signature) return false;
    return verify(keyAlgorithm(key), canonicalEncoding(payload), key, sig);
  } catch {
    return false;
  }
}

function keyAlgorithm(key: KeyObject | string): string | null {
  const type = typeof key === 'string' ? inferType(key) : key.asymmetricKeyType;
  return type === 'ed25519' ? null : 'sha256';
}

function inferType(pem: string): string | undefined {
  try {
    // createPublicKey also accepts a private key PEM and derives its public half.
    return createPublicKey(pem).asymmetricKeyType;
  } catch {
    return undefined;
  }
}
