import { ChaincodeError } from '../errors';
import type { AuditorKeyRecord } from '../model';
import { approveGovernedKey, approveGovernedRetirement, assertNewGovernedId, proposeGovernedRetirement } from './governance';

/**
 * Auditor keys (issue 12, T9): the public keys every edge seals raw period data to, under
 * the same two-organisation governance as verification keys (governance.ts). Because an
 * active auditor key can read every prosumer's readings from then on, neither
 * organisation alone may add one, nor retire one the other relies on. Auditor
 * ids are never reused, and a key is never registered under a second id: its hash is the
 * `kid` of its JWE recipient entry, which must name one auditor.
 */

export interface AuditorKeyProposal {
  auditorId: string;
  /** Canonical SPKI PEM (canonicalSealingKeyPem). */
  publicKeyPem: string;
  /** sealingKeyHash(publicKeyPem). */
  keyHash: string;
  description?: string;
}

/**
 * A new auditor id with a key no other id holds (`keyHolder`: the auditor id already
 * registered with this key hash, in any status, if any).
 */
export function proposeAuditorKey(
  existing: AuditorKeyRecord | undefined,
  keyHolder: string | undefined,
  proposal: AuditorKeyProposal,
  mspId: string,
  now: string,
): AuditorKeyRecord {
  assertNewGovernedId(existing, `auditor ${proposal.auditorId}`);
  if (keyHolder !== undefined) {
    throw new ChaincodeError('CONFLICT', `publicKeyPem: this key is already registered for auditor ${keyHolder}`);
  }
  const { auditorId, publicKeyPem, keyHash, description } = proposal;
  return {
    auditorId,
    publicKeyPem,
    keyHash,
    ...(description === undefined ? {} : { description }),
    status: 'proposed',
    proposedBy: mspId,
    proposedAt: now,
  };
}

export function approveAuditorKey(record: AuditorKeyRecord, keyHash: string, mspId: string, now: string): AuditorKeyRecord {
  return approveGovernedKey(record, `auditor ${record.auditorId}`, keyHash, mspId, now);
}

export function proposeAuditorKeyRetirement(record: AuditorKeyRecord, mspId: string, now: string): AuditorKeyRecord {
  return proposeGovernedRetirement(record, `auditor ${record.auditorId}`, mspId, now);
}

/**
 * Once retired, edges stop sealing new periods to the key; documents already sealed to
 * it stay readable by whoever holds its private key (encryption cannot be taken back).
 */
export function approveAuditorKeyRetirement(record: AuditorKeyRecord, mspId: string, now: string): AuditorKeyRecord {
  return approveGovernedRetirement(record, `auditor ${record.auditorId}`, mspId, now);
}
