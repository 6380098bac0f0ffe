// The auditor's audit of sealed documents (issue 12): with its own key it opens each
// period's document, recomputes the fingerprint from the ledger's previous link and finds
// exactly the period an insider altered, damaged, removed or moved, and no other.
import assert from 'node:assert/strict';
import { fingerprint } from '@flexproof/circuits';
import { sealPeriod } from '@flexproof/protocol';
import { auditPassed, auditSealedEnrollment, type EnrollmentAudit, type Verdict } from '@flexproof/auditor';
import { ENROLLMENT, flipByte, seal, sealedDay, type SealedDay, type StoredDocument } from './support/sealed-day';

function run(day: SealedDay, documents: StoredDocument[] = day.documents, privateKeyPem = day.auditor.privateKeyPem): Promise<EnrollmentAudit> {
  return auditSealedEnrollment({ enrollment: ENROLLMENT, ledgerPeriods: day.ledgerPeriods, documents, privateKeyPem, fingerprint });
}

function verdicts(audit: EnrollmentAudit): Map<number, Verdict> {
  return new Map(audit.periods.map((p) => [p.periodIndex, p.verdict]));
}

/** Every period has `expected` except those listed. */
function assertVerdicts(audit: EnrollmentAudit, expected: Verdict, except: Record<number, Verdict>): void {
  for (const [period, verdict] of verdicts(audit)) {
    assert.equal(verdict, except[period] ?? expected, `period ${period}`);
  }
  const summary: Record<Verdict, number> = { match: 0, mismatch: 0, unreadable: 0, missingData: 0, notVerified: 0 };
  for (const [, v] of verdicts(audit)) summary[v]++;
  assert.deepEqual(audit.summary, summary);
}

function replace(documents: StoredDocument[], periodIndex: number, change: (d: StoredDocument) => StoredDocument | undefined): StoredDocument[] {
  return documents.flatMap((d) => {
    if (d.periodIndex !== periodIndex) return [d];
    const out = change(structuredClone(d));
    return out === undefined ? [] : [out];
  });
}

describe('auditor: audit of sealed documents', () => {
  let day: SealedDay;
  before(async () => {
    day = await sealedDay({ missed: [20], unsettled: [22, 23], invalidProof: [21] });
  });

  it('an honest day: every verified period matches; missed, invalid and unsettled ones are notVerified', async () => {
    const audit = await run(day);
    assertVerdicts(audit, 'match', { 20: 'notVerified', 21: 'notVerified', 22: 'notVerified', 23: 'notVerified' });
    assert.equal(audit.summary.match, 20);
    assert.ok(auditPassed(audit));
    assert.equal(audit.enrollmentId, ENROLLMENT.enrollmentId);
    assert.equal(audit.meterId, ENROLLMENT.meterId);
    const p3 = audit.periods[3];
    assert.ok(p3?.ledgerFingerprint !== undefined && p3.recomputedFingerprint === p3.ledgerFingerprint);
    assert.deepEqual(
      audit.periods.filter((p) => p.verdict === 'notVerified').map((p) => p.outcome),
      ['missed', 'invalidProof', null, null],
    );
  });

  it('the prosumer key and the other auditor key give the same audit (each opens its own entry)', async () => {
    for (const key of [day.prosumer, day.otherAuditor]) {
      assert.equal((await run(day, day.documents, key.privateKeyPem)).summary.match, 20);
    }
  });

  it('one period’s readings altered and sealed again to the auditors: mismatch there and only there', async () => {
    const altered = [...(day.readings[5] ?? [])];
    altered[2] = String(Number(altered[2]) - 150); // 150 Wh less consumed than measured
    const jwe = await seal(5, altered, day.salts[5] ?? '', [day.prosumer, day.auditor, day.otherAuditor]);
    const audit = await run(day, replace(day.documents, 5, (d) => ({ ...d, jwe })));
    assertVerdicts(audit, 'match', { 5: 'mismatch', 20: 'notVerified', 21: 'notVerified', 22: 'notVerified', 23: 'notVerified' });
    const p5 = audit.periods[5];
    assert.ok(p5?.recomputedFingerprint !== undefined && p5.recomputedFingerprint !== p5.ledgerFingerprint);
    assert.ok(!auditPassed(audit));
  });

  it('the salt swapped for another period’s: mismatch there', async () => {
    const jwe = await seal(7, day.readings[7] ?? [], day.salts[8] ?? '', [day.auditor]);
    const audit = await run(day, replace(day.documents, 7, (d) => ({ ...d, jwe })));
    assert.equal(verdicts(audit).get(7), 'mismatch');
    assert.equal(audit.summary.mismatch, 1);
  });

  it('readings the circuit cannot take (out of range) sealed in: mismatch, reason FINGERPRINT_INPUT_INVALID', async () => {
    const jwe = await seal(6, ['99999999999999'], day.salts[6] ?? '', [day.auditor]);
    const audit = await run(day, replace(day.documents, 6, (d) => ({ ...d, jwe })));
    assert.equal(audit.periods[6]?.verdict, 'mismatch');
    assert.equal(audit.periods[6]?.reason, 'FINGERPRINT_INPUT_INVALID');
    assert.equal(audit.summary.mismatch, 1);
  });

  it('one ciphertext byte flipped: unreadable there and only there', async () => {
    const audit = await run(day, replace(day.documents, 8, (d) => ({ ...d, jwe: { ...d.jwe, ciphertext: flipByte(d.jwe.ciphertext) } })));
    assertVerdicts(audit, 'match', { 8: 'unreadable', 20: 'notVerified', 21: 'notVerified', 22: 'notVerified', 23: 'notVerified' });
    assert.equal(audit.periods[8]?.reason, 'UNREADABLE');
    assert.ok(!auditPassed(audit));
  });

  it('one document missing: missingData there', async () => {
    const audit = await run(day, replace(day.documents, 11, () => undefined));
    assertVerdicts(audit, 'match', { 11: 'missingData', 20: 'notVerified', 21: 'notVerified', 22: 'notVerified', 23: 'notVerified' });
    assert.equal(audit.periods[11]?.ledgerFingerprint, day.ledgerPeriods[11]?.result?.newFingerprint);
    assert.ok(!auditPassed(audit));
  });

  it('a document moved into another period’s place: unreadable (MISPLACED) there, the original still matches', async () => {
    const from = day.documents.find((d) => d.periodIndex === 14);
    assert.ok(from);
    const audit = await run(day, replace(day.documents, 15, (d) => ({ ...d, jwe: structuredClone(from.jwe) })));
    assertVerdicts(audit, 'match', { 15: 'unreadable', 20: 'notVerified', 21: 'notVerified', 22: 'notVerified', 23: 'notVerified' });
    assert.equal(audit.periods[15]?.reason, 'MISPLACED');
    assert.equal(audit.periods[15]?.field, 'jwe.protected.fpp');
  });

  it('a document of another enrollment in this one’s place: unreadable (MISPLACED)', async () => {
    // Same meter and period, sealed for another enrollment id.
    const jwe = await sealPeriod(
      { ...ENROLLMENT, enrollmentId: 'enr-audit-2', periodIndex: 4, readings: day.readings[4] ?? [], fingerprintSalt: day.salts[4] ?? '' },
      [{ publicKeyPem: day.auditor.publicKeyPem }],
    );
    const audit = await run(day, replace(day.documents, 4, (d) => ({ ...d, jwe })));
    assert.equal(audit.periods[4]?.verdict, 'unreadable');
    assert.equal(audit.periods[4]?.field, 'jwe.protected.fpe');
  });

  it('a document not sealed to this auditor: unreadable (NOT_A_RECIPIENT)', async () => {
    const jwe = await seal(2, day.readings[2] ?? [], day.salts[2] ?? '', [day.prosumer, day.otherAuditor]);
    const audit = await run(day, replace(day.documents, 2, (d) => ({ ...d, jwe })));
    assertVerdicts(audit, 'match', { 2: 'unreadable', 20: 'notVerified', 21: 'notVerified', 22: 'notVerified', 23: 'notVerified' });
    assert.equal(audit.periods[2]?.reason, 'NOT_A_RECIPIENT');
  });

  it('garbage where a document should be, and a second document for one period: unreadable', async () => {
    const garbage = replace(day.documents, 9, (d) => ({ ...d, jwe: 'not a jwe' as never }));
    const twice = [...day.documents, structuredClone(day.documents[10] as StoredDocument)];
    const a = await run(day, garbage);
    assert.equal(a.periods[9]?.verdict, 'unreadable');
    assert.equal(a.periods[9]?.reason, 'UNREADABLE');
    const b = await run(day, twice);
    assert.equal(b.periods[10]?.verdict, 'unreadable');
    assert.equal(b.periods[10]?.reason, 'DUPLICATE_DOCUMENT');
    assert.equal(b.summary.unreadable, 1);
  });

  it('several tamperings at once are each found at their own period', async () => {
    let docs = replace(day.documents, 1, (d) => ({ ...d, jwe: { ...d.jwe, tag: flipByte(d.jwe.tag) } }));
    docs = replace(docs, 12, () => undefined);
    const jwe = await seal(18, ['1', '2', '3', '4'], day.salts[18] ?? '', [day.auditor]);
    docs = replace(docs, 18, (d) => ({ ...d, jwe }));
    const audit = await run(day, docs);
    assertVerdicts(audit, 'match', {
      1: 'unreadable',
      12: 'missingData',
      18: 'mismatch',
      20: 'notVerified',
      21: 'notVerified',
      22: 'notVerified',
      23: 'notVerified',
    });
  });

  it('audit results never hold a reading or a salt', async () => {
    const audit = await run(day, replace(day.documents, 8, (d) => ({ ...d, jwe: { ...d.jwe, ciphertext: flipByte(d.jwe.ciphertext) } })));
    const text = JSON.stringify(audit);
    // Readings are short decimals that may occur inside a 77-digit fingerprint by chance:
    // they are looked for as JSON values; salts are long enough to look for anywhere.
    for (const reading of day.readings.flat()) {
      assert.ok(!text.includes(`"${reading}"`) && !text.includes(`:${reading},`) && !text.includes(`[${reading}`), 'a reading in the audit');
    }
    for (const salt of day.salts) assert.ok(!text.includes(salt), 'a salt in the audit');
  });

  it('a private key that is not a P-256 private key is refused once, before any document', async () => {
    await assert.rejects(run(day, day.documents, day.auditor.publicKeyPem), (e: unknown) => {
      const err = e as { code?: string; field?: string };
      return err.code === 'MALFORMED' && err.field === 'privateKeyPem';
    });
  });
});
