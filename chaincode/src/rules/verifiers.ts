import { ChaincodeError } from '../errors';
import type { EnrollmentStatus, VerificationKey, VerificationKeyRecord } from '../model';
import { approveGovernedKey, approveGovernedRetirement, assertNewGovernedId, proposeGovernedRetirement } from './governance';

/**
 * Two-organisation governance of verification keys (the rules in governance.ts): one
 * organisation proposes a key (or its retirement), the other approves. An organisation
 * never approves its own proposal. Circuit ids are never reused: a retired id stays retired.
 */

export function proposeKey(
  existing: VerificationKeyRecord | undefined,
  circuitId: string,
  verificationKey: VerificationKey,
  keyHash: string,
  mspId: string,
  now: string,
): VerificationKeyRecord {
  assertNewGovernedId(existing, `circuit ${circuitId}`);
  return { circuitId, verificationKey, keyHash, status: 'proposed', proposedBy: mspId, proposedAt: now };
}

export function approveKey(
  record: VerificationKeyRecord,
  keyHash: string,
  mspId: string,
  now: string,
): VerificationKeyRecord {
  return approveGovernedKey(record, `circuit ${record.circuitId}`, keyHash, mspId, now);
}

export function proposeRetirement(record: VerificationKeyRecord, mspId: string, now: string): VerificationKeyRecord {
  return proposeGovernedRetirement(record, `circuit ${record.circuitId}`, mspId, now);
}

export function approveRetirement(record: VerificationKeyRecord, mspId: string, now: string): VerificationKeyRecord {
  return approveGovernedRetirement(record, `circuit ${record.circuitId}`, mspId, now);
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
