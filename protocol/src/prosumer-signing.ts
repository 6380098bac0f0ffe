/**
 * Prosumer signatures: what a prosumer signs and how the chaincode checks it. The edge,
 * the tests and the chaincode all use this one module, so the edge signs exactly the
 * bytes the chaincode verifies.
 *
 * The signed bytes are the canonical encoding of the payload: UTF-8 of its sorted-key JSON
 * (stableStringify, the chaincode's; canonical-json.ts says how it differs from
 * canonicalJson, and why payloads are unaffected). Every payload names its action type
 * (domain separation), the ledger it is for (channel and chaincode name, so a signature
 * means nothing on another channel or network) and the meter and prosumer; replays are
 * refused by a nonce strictly above the last one accepted (accept, withdraw, authorise a
 * meter) or by the period index, which settles once (submit). Signatures are base64:
 * ECDSA P-256 over SHA-256 in DER encoding, or Ed25519.
 *
 * The payload shapes are the schemas' (schemas/inputs.ts), which the chaincode validates
 * before it checks a signature.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { stableStringify } from './canonical-json';
import { PROSUMER_ACTIONS } from './schemas/primitives';
import type { AcceptEnrollmentPayload, AuthorizeMeterPayload, SubmitPeriodPayload, WithdrawPayload } from './schemas/inputs';
import type { EnrollmentTerms, ProsumerKeyType } from './schemas/records';

// v2: the payloads name the channel and chaincode (v1 payloads did not, and are refused).
export const ACTION_ACCEPT_ENROLLMENT = PROSUMER_ACTIONS.acceptEnrollment;
export const ACTION_SUBMIT_PERIOD = PROSUMER_ACTIONS.submitPeriod;
export const ACTION_WITHDRAW = PROSUMER_ACTIONS.withdraw;
export const ACTION_AUTHORIZE_METER = PROSUMER_ACTIONS.authorizeMeter;

/** The ledger a signed payload is for: the Fabric channel and the chaincode's name on it. */
export interface LedgerTarget {
  channel: string;
  chaincode: string;
}

/** The channel and chaincode of the flexproof networks (dev, test, demo). */
export const DEFAULT_LEDGER_TARGET: Readonly<LedgerTarget> = Object.freeze({ channel: 'flexchannel', chaincode: 'flexproof' });

export type ProsumerPayload = AcceptEnrollmentPayload | SubmitPeriodPayload | WithdrawPayload | AuthorizeMeterPayload;

/**
 * A prosumer action as a transaction carries it. (Named apart from the gateway client's
 * SignedAction, which relays a payload it never reads.)
 */
export interface SignedProsumerAction<P extends ProsumerPayload = ProsumerPayload> {
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

/** Signs a payload with a prosumer's private key (PEM or KeyObject); returns base64. */
export function signPayload(payload: ProsumerPayload, privateKey: KeyObject | string): string {
  const data = canonicalEncoding(payload);
  const algorithm = keyAlgorithm(privateKey);
  return sign(algorithm, data, privateKey).toString('base64');
}

/** True if `signature` (base64) is the key's signature over the payload's canonical encoding. */
export function verifyPayloadSignature(payload: unknown, signature: string, publicKey: string | KeyObject): boolean {
  try {
    // A parsed key is taken as it is: the chaincode keeps meters' keys parsed (parsing a PEM costs as much as the check).
    const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
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
