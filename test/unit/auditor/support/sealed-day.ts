// A day of one enrollment as the audit sees it: 24 periods sealed with the real library to
// the prosumer and two auditors, and the ledger's view of them with fingerprints chained
// by @flexproof/circuits' `fingerprint`, exactly as the edge and the chaincode make them.
import { fingerprint, randomSalt } from '@flexproof/circuits';
import { generateSealingKeyPair, sealPeriod, type SealedPeriodJwe } from '@flexproof/protocol';
import type { LedgerPeriod } from '@flexproof/auditor';

export const ENROLLMENT = { enrollmentId: 'enr-audit-1', meterId: 'meter-audit-1' };

export interface KeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface StoredDocument {
  enrollmentId: string;
  periodIndex: number;
  jwe: SealedPeriodJwe;
}

export interface SealedDay {
  prosumer: KeyPair;
  auditor: KeyPair;
  otherAuditor: KeyPair;
  ledgerPeriods: LedgerPeriod[];
  documents: StoredDocument[];
  /** What each period's document holds (for re-sealing altered copies). */
  readings: string[][];
  salts: string[];
}

/**
 * Periods in `missed` settle as missed (no document, no fingerprint); periods in
 * `unsettled` have no result yet. Every other period is verified, its fingerprint chained
 * from the last verified one.
 */
export async function sealedDay(options: { missed?: number[]; unsettled?: number[]; invalidProof?: number[] } = {}): Promise<SealedDay> {
  const prosumer = generateSealingKeyPair();
  const auditor = generateSealingKeyPair();
  const otherAuditor = generateSealingKeyPair();
  const ledgerPeriods: LedgerPeriod[] = [];
  const documents: StoredDocument[] = [];
  const readings: string[][] = [];
  const salts: string[] = [];
  let head = '0';
  for (let periodIndex = 0; periodIndex < 24; periodIndex++) {
    const values = [0, 1, 2, 3].map((k) => String(200_000 + periodIndex * 1_000 + k * 37));
    const salt = randomSalt().toString();
    readings.push(values);
    salts.push(salt);
    if (options.unsettled?.includes(periodIndex)) {
      ledgerPeriods.push({ periodIndex, result: null });
      continue;
    }
    if (options.missed?.includes(periodIndex)) {
      ledgerPeriods.push({ periodIndex, result: { outcome: 'missed' } });
      continue;
    }
    documents.push({ ...ENROLLMENT, periodIndex, jwe: await seal(periodIndex, values, salt, [prosumer, auditor, otherAuditor]) });
    if (options.invalidProof?.includes(periodIndex)) {
      ledgerPeriods.push({ periodIndex, result: { outcome: 'invalidProof' } });
      continue;
    }
    const next = fingerprint(head, salt, periodIndex, values).toString();
    ledgerPeriods.push({ periodIndex, result: { outcome: 'verified', prevFingerprint: head, newFingerprint: next } });
    head = next;
  }
  return { prosumer, auditor, otherAuditor, ledgerPeriods, documents, readings, salts };
}

export function seal(periodIndex: number, readings: string[], fingerprintSalt: string, keys: KeyPair[]): Promise<SealedPeriodJwe> {
  return sealPeriod(
    { ...ENROLLMENT, periodIndex, readings, fingerprintSalt },
    keys.map((k) => ({ publicKeyPem: k.publicKeyPem })),
  );
}

/** One bit of the middle byte of a base64url member flipped. */
export function flipByte(b64url: string): string {
  const bytes = Buffer.from(b64url, 'base64url');
  const at = Math.floor(bytes.length / 2);
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  return bytes.toString('base64url');
}
