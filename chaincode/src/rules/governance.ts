import { ChaincodeError } from '../errors';
import type { GovernedKey } from '../model';

/**
 * Two-organisation governance of a key (verification keys by circuit id, auditor keys
 * by auditor id): one organisation proposes the key (or its retirement), the other
 * approves. An organisation never approves its own proposal, so no single organisation
 * can put a key in force or take one out. The approval names the key hash, so what
 * becomes active is what the approver reviewed. Ids are never reused: a retired id
 * stays retired, so an id never means two keys. `what` names the object in messages
 * ("circuit c1", "auditor a1").
 */

/** A new id only: an id that has (or had) a key is never proposed again. */
export function assertNewGovernedId(existing: GovernedKey | undefined, what: string): void {
  if (existing) {
    throw new ChaincodeError('CONFLICT', `${what} already has a key (${existing.status})`);
  }
}

export function approveGovernedKey<R extends GovernedKey>(record: R, what: string, keyHash: string, mspId: string, now: string): R {
  if (record.status !== 'proposed') {
    throw new ChaincodeError('CONFLICT', `${what} is ${record.status}, not proposed`);
  }
  if (record.proposedBy === mspId) {
    throw new ChaincodeError('FORBIDDEN', 'the proposing organisation cannot approve its own proposal');
  }
  if (record.keyHash !== keyHash) {
    throw new ChaincodeError('RULE_VIOLATION', 'keyHash does not match the proposed key');
  }
  return { ...record, status: 'active', approvedBy: mspId, approvedAt: now };
}

export function proposeGovernedRetirement<R extends GovernedKey>(record: R, what: string, mspId: string, now: string): R {
  if (record.status !== 'active') {
    throw new ChaincodeError('CONFLICT', `${what} is ${record.status}, not active`);
  }
  if (record.retirementProposedBy !== undefined) {
    throw new ChaincodeError('CONFLICT', `retirement of ${what} is already proposed`);
  }
  return { ...record, retirementProposedBy: mspId, retirementProposedAt: now };
}

export function approveGovernedRetirement<R extends GovernedKey>(record: R, what: string, mspId: string, now: string): R {
  if (record.status !== 'active' || record.retirementProposedBy === undefined) {
    throw new ChaincodeError('CONFLICT', `no retirement of ${what} is pending`);
  }
  if (record.retirementProposedBy === mspId) {
    throw new ChaincodeError('FORBIDDEN', 'the proposing organisation cannot approve its own proposal');
  }
  return { ...record, status: 'retired', retiredBy: mspId, retiredAt: now };
}
