// The audit of a v2 (signed net energy) enrollment (issue 14): the sealed documents carry
// the import and the export energy of each interval, the fingerprints are chained by the
// v2 construction (both registers interleaved), and given the request profile the audit
// recomputes each hour's deviation and direction too. An altered export reading, sealed
// again by an insider, is found exactly where it is; so is a request that is not the
// enrollment's.
import assert from 'node:assert/strict';
import * as circuits from '@flexproof/circuits';
import { SMALL_CIRCUIT_ID, SMALL_NET_CIRCUIT_ID, fingerprintFor, periodDeviationFor, randomSalt } from '@flexproof/circuits';
import { generateSealingKeyPair, sealPeriod, type SealedPeriodJwe } from '@flexproof/protocol';
import {
  auditPassed,
  auditSealedEnrollment,
  circuitShapeOf,
  type AuditCircuits,
  type EnrollmentAudit,
  type LedgerPeriod,
} from '@flexproof/auditor';

const CIRCUIT_ID = `${SMALL_NET_CIRCUIT_ID}.ceremony-test`;
const ENROLLMENT = { enrollmentId: 'enr-net-1', meterId: 'meter-net-1', circuitId: CIRCUIT_ID };
const PERIODS = 24;

/** A solar household's request: consumption at night and in the evening, less export at noon (negative). */
const REQUEST = Array.from({ length: PERIODS }, (_, h) => String(h >= 10 && h <= 14 ? -1_500 - 100 * h : 600 + 10 * h));

interface NetDay {
  auditor: { privateKeyPem: string; publicKeyPem: string };
  ledgerPeriods: LedgerPeriod[];
  documents: { periodIndex: number; jwe: SealedPeriodJwe }[];
  imports: string[][];
  exports: string[][];
  salts: string[];
}

/** Import and export of an hour: exports at noon beyond the household's use (net negative), none at night. */
function intervals(h: number): { importWh: string[]; exportWh: string[] } {
  const solar = h >= 9 && h <= 15;
  return {
    importWh: [0, 1, 2, 3].map((k) => String(solar ? 40 + k : 150 + 3 * h + k)),
    exportWh: [0, 1, 2, 3].map((k) => String(solar ? 700 + 11 * k + h : 0)),
  };
}

async function netDay(): Promise<NetDay> {
  const auditor = generateSealingKeyPair();
  const ledgerPeriods: LedgerPeriod[] = [];
  const documents: NetDay['documents'] = [];
  const imports: string[][] = [];
  const exports: string[][] = [];
  const salts: string[] = [];
  let head = '0';
  for (let periodIndex = 0; periodIndex < PERIODS; periodIndex++) {
    const { importWh, exportWh } = intervals(periodIndex);
    const salt = randomSalt().toString();
    imports.push(importWh);
    exports.push(exportWh);
    salts.push(salt);
    documents.push({ periodIndex, jwe: await seal(periodIndex, importWh, exportWh, salt, auditor.publicKeyPem) });
    // What the v2 proof's public signals carry, as the chaincode records them.
    const next = fingerprintFor(SMALL_NET_CIRCUIT_ID, { prevFingerprint: head, fingerprintSalt: salt, periodIndex, importWh, exportWh }).toString();
    const { deviation, direction } = periodDeviationFor(SMALL_NET_CIRCUIT_ID, REQUEST, periodIndex, importWh, exportWh);
    ledgerPeriods.push({
      periodIndex,
      result: { outcome: 'verified', prevFingerprint: head, newFingerprint: next, deviationWh: deviation.toString(), direction: String(direction) },
    });
    head = next;
  }
  return { auditor, ledgerPeriods, documents, imports, exports, salts };
}

function seal(periodIndex: number, readings: string[], exportReadings: string[] | undefined, fingerprintSalt: string, publicKeyPem: string): Promise<SealedPeriodJwe> {
  const place = { meterId: ENROLLMENT.meterId, enrollmentId: ENROLLMENT.enrollmentId, periodIndex };
  return sealPeriod({ ...place, readings, ...(exportReadings ? { exportReadings } : {}), fingerprintSalt }, [{ publicKeyPem }]);
}

function audit(day: NetDay, options: { documents?: NetDay['documents']; request?: string[]; circuitId?: string } = {}): Promise<EnrollmentAudit> {
  return auditSealedEnrollment({
    enrollment: { ...ENROLLMENT, circuitId: options.circuitId ?? CIRCUIT_ID },
    ledgerPeriods: day.ledgerPeriods,
    documents: options.documents ?? day.documents,
    privateKeyPem: day.auditor.privateKeyPem,
    circuits: circuits as AuditCircuits,
    ...(options.request ? { request: { requestProfile: options.request } } : {}),
  });
}

describe('auditor: audit of a v2 (signed net energy) enrollment', () => {
  let day: NetDay;
  before(async () => {
    day = await netDay();
  });

  it('the day has exporting hours: net energy below zero and a request below zero at noon', () => {
    const net = (h: number) => day.imports[h]!.reduce((s, v) => s + BigInt(v), 0n) - day.exports[h]!.reduce((s, v) => s + BigInt(v), 0n);
    assert.ok(net(12) < 0n && net(3) > 0n);
    assert.ok(BigInt(REQUEST[12]!) < 0n);
  });

  it('an honest day: every period matches, fingerprints by the v2 construction over both registers', async () => {
    const result = await audit(day);
    assert.equal(result.summary.match, PERIODS);
    assert.ok(auditPassed(result));
    assert.equal(result.circuitId, CIRCUIT_ID);
    assert.equal(result.deviationsChecked, false);
    for (const p of result.periods) assert.equal(p.recomputedFingerprint, p.ledgerFingerprint);
  });

  it('with the request profile, each deviation and direction is recomputed and matches the ledger', async () => {
    const result = await audit(day, { request: REQUEST });
    assert.equal(result.summary.match, PERIODS);
    assert.equal(result.deviationsChecked, true);
    for (const p of result.periods) assert.equal(p.recomputedDeviationWh, day.ledgerPeriods[p.periodIndex]!.result!.deviationWh);
  });

  it('an export reading altered and sealed again is a mismatch at exactly that hour', async () => {
    const altered = [...day.exports[12]!];
    altered[2] = String(BigInt(altered[2]!) + 1n);
    const jwe = await seal(12, day.imports[12]!, altered, day.salts[12]!, day.auditor.publicKeyPem);
    const documents = day.documents.map((d) => (d.periodIndex === 12 ? { periodIndex: 12, jwe } : d));
    const result = await audit(day, { documents });
    assert.equal(result.periods[12]!.verdict, 'mismatch');
    assert.notEqual(result.periods[12]!.recomputedFingerprint, result.periods[12]!.ledgerFingerprint);
    assert.equal(result.summary.mismatch, 1);
    assert.equal(result.summary.match, PERIODS - 1);
    assert.equal(auditPassed(result), false);
  });

  it('the same net energy from other registers (import and export both raised) is still a mismatch', async () => {
    const imports = day.imports[11]!.map((v, i) => (i === 0 ? String(BigInt(v) + 50n) : v));
    const exports = day.exports[11]!.map((v, i) => (i === 0 ? String(BigInt(v) + 50n) : v));
    const jwe = await seal(11, imports, exports, day.salts[11]!, day.auditor.publicKeyPem);
    const result = await audit(day, { documents: day.documents.map((d) => (d.periodIndex === 11 ? { periodIndex: 11, jwe } : d)), request: REQUEST });
    assert.equal(result.periods[11]!.verdict, 'mismatch');
    assert.equal(result.summary.mismatch, 1);
  });

  it('the export readings dropped from a document (sealed again as if the meter had none) is a mismatch there', async () => {
    const jwe = await seal(13, day.imports[13]!, undefined, day.salts[13]!, day.auditor.publicKeyPem);
    const result = await audit(day, { documents: day.documents.map((d) => (d.periodIndex === 13 ? { periodIndex: 13, jwe } : d)) });
    assert.equal(result.periods[13]!.verdict, 'mismatch');
    assert.equal(result.summary.match, PERIODS - 1);
  });

  it('a request that is not the one proven against gives DEVIATION_MISMATCH where its hour differs, and nowhere else', async () => {
    const other = [...REQUEST];
    other[12] = String(BigInt(other[12]!) - 1n);
    const result = await audit(day, { request: other });
    assert.equal(result.periods[12]!.verdict, 'mismatch');
    assert.equal(result.periods[12]!.reason, 'DEVIATION_MISMATCH');
    assert.equal(result.periods[12]!.recomputedFingerprint, result.periods[12]!.ledgerFingerprint, 'the readings are the proven ones');
    assert.equal(result.summary.mismatch, 1);
  });

  it('a ledger deviation with the wrong direction is a DEVIATION_MISMATCH', async () => {
    const ledgerPeriods = day.ledgerPeriods.map((p) =>
      p.periodIndex === 5 && p.result ? { ...p, result: { ...p.result, direction: p.result.direction === '1' ? '0' : '1' } } : p,
    );
    const result = await auditSealedEnrollment({
      enrollment: ENROLLMENT,
      ledgerPeriods,
      documents: day.documents,
      privateKeyPem: day.auditor.privateKeyPem,
      circuits: circuits as AuditCircuits,
      request: { requestProfile: REQUEST },
    });
    assert.equal(result.periods[5]!.reason, 'DEVIATION_MISMATCH');
    assert.equal(result.summary.mismatch, 1);
  });

  it('audited as if it were a v1 enrollment, every hour with exports is refused as input (FINGERPRINT_INPUT_INVALID)', async () => {
    const result = await audit(day, { circuitId: `${SMALL_CIRCUIT_ID}.x` });
    for (const p of result.periods) {
      const exported = day.exports[p.periodIndex]!.some((v) => v !== '0');
      if (exported) assert.equal(p.reason, 'FINGERPRINT_INPUT_INVALID', `period ${p.periodIndex}`);
      // Hours without export are v1 data, but chained by another construction: no v1 fingerprint is the ledger's v2 one.
      assert.equal(p.verdict, 'mismatch', `period ${p.periodIndex}`);
    }
  });

  it('the legacy v1 fingerprint function refuses a document with exports rather than ignoring them', async () => {
    const result = await auditSealedEnrollment({
      enrollment: ENROLLMENT,
      ledgerPeriods: day.ledgerPeriods,
      documents: day.documents,
      privateKeyPem: day.auditor.privateKeyPem,
      fingerprint: circuits.fingerprint,
    });
    assert.equal(result.periods[12]!.reason, 'FINGERPRINT_INPUT_INVALID');
  });

  it('refuses what it cannot audit, before opening anything: circuits without a circuit id, a request without circuits', async () => {
    const base = { ledgerPeriods: day.ledgerPeriods, documents: day.documents, privateKeyPem: day.auditor.privateKeyPem };
    await assert.rejects(
      auditSealedEnrollment({ ...base, enrollment: { enrollmentId: ENROLLMENT.enrollmentId, meterId: ENROLLMENT.meterId }, circuits: circuits as AuditCircuits }),
      /enrollment\.circuitId/,
    );
    await assert.rejects(auditSealedEnrollment({ ...base, enrollment: ENROLLMENT, fingerprint: circuits.fingerprint, request: { requestProfile: REQUEST } }), /request/);
    await assert.rejects(auditSealedEnrollment({ ...base, enrollment: ENROLLMENT }), /circuits or fingerprint/);
  });

  it('reads the shape of a ledger circuit id as the edge does', () => {
    assert.equal(circuitShapeOf('flexnet-v2-r4.ceremony2'), 'flexnet-v2-r4');
    assert.equal(circuitShapeOf('flexdev-v1-r60'), 'flexdev-v1-r60');
  });
});
