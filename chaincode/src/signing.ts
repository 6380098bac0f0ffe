/**
 * Prosumer signatures: what a prosumer signs and how the chaincode checks it. This file
 * has no Fabric import, so the edge client and the tests sign exactly the bytes the
 * chaincode verifies (import from `@flexproof/chaincode`).
 *
 * The signed bytes are the canonical encoding of the payload: UTF-8 of its JSON with
 * keys sorted at every level (stable-json.ts). Every payload names its action type
 * (domain separation), the ledger it is for (channel and chaincode name, so a signature
 * means nothing on another channel or network) and the meter and prosumer; replays are
 * refused by a nonce strictly above the last one accepted (accept, withdraw, authorise a
 * meter) or by the period index, which settles once (submit). Signatures are base64:
 * ECDSA P-256 over SHA-256 in DER encoding, or Ed25519.
 *
 * It also names sealing keys (`sealingKeyHash`), the auditor and prosumer keys raw
 * period data is encrypted to, so the edge, the auditor and the chaincode hash alike.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { stableStringify } from './stable-json';
import type { ProsumerKeyType } from './model';

// v2: the payloads name the channel and chaincode (v1 payloads did not, and are refused).
export const ACTION_ACCEPT_ENROLLMENT = 'flexproof.acceptEnrollment.v2';
export const ACTION_SUBMIT_PERIOD = 'flexproof.submitPeriod.v2';
export const ACTION_WITHDRAW = 'flexproof.withdraw.v2';
export const ACTION_AUTHORIZE_METER = 'flexproof.authorizeMeter.v2';

/** The ledger a signed payload is for: the Fabric channel and the chaincode's name on it. */
export interface LedgerTarget {
  channel: string;
  chaincode: string;
}

/** The channel and chaincode of the flexproof networks (dev, test, demo). */
export const DEFAULT_LEDGER_TARGET: Readonly<LedgerTarget> = Object.freeze({ channel: 'flexchannel', chaincode: 'flexproof' });

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

export interface AcceptEnrollmentPayload extends EnrollmentTerms, LedgerTarget {
  type: typeof ACTION_ACCEPT_ENROLLMENT;
  nonce: string;
}

export interface SubmitPeriodPayload extends LedgerTarget {
  type: typeof ACTION_SUBMIT_PERIOD;
  enrollmentId: string;
  meterId: string;
  prosumerId: string;
  circuitId: string;
  periodIndex: number;
  /** `submissionHash(proof, publicSignals)` of @flexproof/circuits: binds the signature to the proof. */
  submissionHash: string;
}

export interface WithdrawPayload extends LedgerTarget {
  type: typeof ACTION_WITHDRAW;
  meterId: string;
  prosumerId: string;
  amount: string;
  nonce: string;
}

/**
 * A prosumer's consent to a further meter under its id with another key: signed by the
 * key the prosumer id is bound to (its first meter's), naming the new meter and its key.
 * The nonce is the prosumer's (not a meter's): above the last one its record accepted.
 */
export interface AuthorizeMeterPayload extends LedgerTarget {
  type: typeof ACTION_AUTHORIZE_METER;
  prosumerId: string;
  meterId: string;
  /** SPKI PEM of the new meter's key. */
  publicKeyPem: string;
  nonce: string;
}

export type ProsumerPayload = AcceptEnrollmentPayload | SubmitPeriodPayload | WithdrawPayload | AuthorizeMeterPayload;

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
  // createPublicKey also derives the public half of a private key: refuse those, so a
  // private key sent by mistake is never stored on the ledger.
  if (isPrivateKey(publicKeyPem)) return undefined;
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

/**
 * True if both PEMs hold the same public key (compared as SPKI DER, so line breaks and
 * armour do not matter); false if either is not a public key.
 */
export function samePublicKey(aPem: string, bPem: string): boolean {
  if (isPrivateKey(aPem) || isPrivateKey(bPem)) return false;
  try {
    const a = createPublicKey(aPem).export({ type: 'spki', format: 'der' });
    const b = createPublicKey(bPem).export({ type: 'spki', format: 'der' });
    return a.equals(b);
  } catch {
    return false;
  }
}

// ---- sealing keys (issue 12) ---------------------------------------------------
//
// Raw period data is sealed (JWE, ECDH-ES+A256KW) to the prosumer's own sealing key and
// to every active auditor key. Those are EC P-256 public keys in SPKI PEM, named by
// `sealingKeyHash`: the ledger's auditor records carry it, the JWE recipient entries use
// it as `kid`, and the edge recomputes it from the PEM before sealing to a key.

const SPKI_PEM = /^-----BEGIN PUBLIC KEY-----\r?\n((?:[A-Za-z0-9+/=]+\r?\n)+)-----END PUBLIC KEY-----$/;

/**
 * The DER SPKI of an EC P-256 public key given as one SPKI PEM block, or undefined.
 * Strict on purpose, so one key has one text and one hash: a private key (in any
 * armour) is refused rather than reduced to its public half, and so are certificates,
 * other curves and key types, explicit curve parameters, compressed points and bytes
 * after the key (node:crypto would otherwise accept several of these silently).
 */
function sealingKeyDer(publicKeyPem: string): Buffer | undefined {
  const match = SPKI_PEM.exec(publicKeyPem.trim());
  if (!match?.[1]) return undefined;
  const base64 = match[1].replace(/\r?\n/g, '');
  const der = Buffer.from(base64, 'base64');
  if (der.length === 0 || der.toString('base64') !== base64) return undefined;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return undefined;
  // Rebuilt from the bare coordinates, the DER is the named-curve, uncompressed form;
  // anything else (trailing bytes, compressed point) differs from it.
  const canonical = createPublicKey({ key: key.export({ format: 'jwk' }), format: 'jwk' }).export({ type: 'spki', format: 'der' });
  return canonical.equals(der) ? canonical : undefined;
}

/**
 * The canonical SPKI PEM (as node:crypto exports it: LF line breaks, 64 columns, final
 * newline) of an EC P-256 public key, or undefined if `publicKeyPem` is not exactly one
 * (see sealingKeyDer for what is refused).
 */
export function canonicalSealingKeyPem(publicKeyPem: string): string | undefined {
  const der = sealingKeyDer(publicKeyPem);
  return der && createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * Key hash of a sealing or auditor public key: sha256 (hex) of its DER SPKI bytes. Throws
 * a TypeError if `publicKeyPem` is not an EC P-256 public key in SPKI PEM (the message
 * never holds the input, which may be a private key sent by mistake).
 */
export function sealingKeyHash(publicKeyPem: string): string {
  const der = sealingKeyDer(publicKeyPem);
  if (!der) throw new TypeError('publicKeyPem: must be an EC P-256 public key in SPKI PEM');
  return createHash('sha256').update(der).digest('hex');
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

function isPrivateKey(pem: string): boolean {
  try {
    createPrivateKey(pem);
    return true;
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
