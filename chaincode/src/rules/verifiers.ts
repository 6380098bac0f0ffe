import { createHash } from 'node:crypto';
import { ChaincodeError } from '../errors';
import type { EnrollmentStatus, VerificationKeyRecord } from '../model';
import { stableStringify } from '../stable-json';

/**
 * Two-organisation governance of verification keys: one organisation proposes a key
 * (or its retirement), the other approves. An organisation never approves its own
 * proposal. Circuit ids are never reused: a retired id stays retired.
 */

/** sha256 (hex) of the key's stable JSON: the approving organisation names what it reviewed. */
export function verificationKeyHash(verificationKey: unknown): string {
  return createHash('sha256').update(stableStringify(verificationKey), 'utf8').digest('hex');
}

export function proposeKey(
  existing: VerificationKeyRecord | undefined,
  circuitId: string,
  verificationKey: unknown,
  keyHash: string,
  mspId: string,
  now: string,
): VerificationKeyRecord {
  if (existing) {
    throw new ChaincodeError('CONFLICT', `circuit ${circuitId} already has a key (${existing.status})`);
  }
  return { circuitId, verificationKey, keyHash, status: 'proposed', proposedBy: mspId, proposedAt: now };
}

export function approveKey(
  record: VerificationKeyRecord,
  keyHash: string,
  mspId: string,
  now: string,
): VerificationKeyRecord {
  if (record.status !== 'proposed') {
    throw new ChaincodeError('CONFLICT', `circuit ${record.circuitId} is ${record.status}, not proposed`);
  }
  if (record.proposedBy === mspId) {
    throw new ChaincodeError('FORBIDDEN', 'the proposing organisation cannot approve its own proposal');
  }
  if (record.keyHash !== keyHash) {
    throw new ChaincodeError('RULE_VIOLATION', 'keyHash does not match the proposed key');
  }
  return { ...record, status: 'active', approvedBy: mspId, approvedAt: now };
}

export function proposeRetirement(record: VerificationKeyRecord, mspId: string, now: string): VerificationKeyRecord {
  if (record.status !== 'active') {
    throw new ChaincodeError('CONFLICT', `circuit ${record.circuitId} is ${record.status}, not active`);
  }
  if (record.retirementProposedBy !== undefined) {
    throw new ChaincodeError('CONFLICT', `retirement of ${record.circuitId} is already proposed`);
  }
  return { ...record, retirementProposedBy: mspId, retirementProposedAt: now };
}

export function approveRetirement(record: VerificationKeyRecord, mspId: string, now: string): VerificationKeyRecord {
  if (record.status !== 'active' || record.retirementProposedBy === undefined) {
    throw new ChaincodeError('CONFLICT', `no retirement of ${record.circuitId} is pending`);
  }
  if (record.retirementProposedBy === mspId) {
    throw new ChaincodeError('FORBIDDEN', 'the proposing organisation cannot approve its own proposal');
  }
  return { ...record, status: 'retired', retiredBy: mspId, retiredAt: now };
}

/** A submission may use a circuit only while its key is active. */
export function assertKeyActive(record: VerificationKeyRecord | undefined, circuitId: string): VerificationKeyRecord {
  if (!record || record.status !== 'active') {
    throw new ChaincodeError('RULE_VIOLATION', `circuit ${circuitId} has no active verification key`);
  }
  return record;
}

/** Enrollment states in which an enrollment still needs its circuit's key. */
export const LIVE_ENROLLMENT_STATES: readonly EnrollmentStatus[] = ['offered', 'accepted', 'active'];

export function isLiveEnrollment(status: EnrollmentStatus): boolean {
  return LIVE_ENROLLMENT_STATES.includes(status);
}

/**
 * A key cannot be retired under live enrollments (offered, accepted or active): a
 * retired key refuses every submission while missed-period claims still work, so the
 * aggregator would collect the rest of the escrow. We refuse the retirement rather than
 * let periods after it close without penalty: the key is the prosumer's only way to be
 * paid, and a key that must go (a broken set-up) is replaced by a new circuit id for new
 * enrollments while the live ones finish.
 */
export function assertNoLiveEnrollments(circuitId: string, liveEnrollments: number): void {
  if (liveEnrollments > 0) {
    throw new ChaincodeError(
      'RULE_VIOLATION',
      `circuit ${circuitId}: ${liveEnrollments} live enrollment(s) (offered, accepted or active) use its key; retire it once they are closed or cancelled`,
    );
  }
}
