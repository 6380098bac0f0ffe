// The edge pipeline's decisions, branch by branch, each with the smallest state that
// leads to it: no prover, gateway, file or clock (pipeline-decisions.ts is pure). The
// node-level tests (edge-node, net-pipeline, sealed-upload) show the runner performs them.
import assert from 'node:assert/strict';
import {
  GatewayError,
  PERIOD_COUNT,
  periodDeadlineMs,
  periodEndMs,
  pipelineDecisions,
  type EnrollmentConfig,
  type EnrollmentState,
  type EnrollmentView,
  type PeriodRecord,
  type PeriodStatus,
  type PeriodTiming,
} from '@flexproof/edge-client';

const {
  AFTER_EARLIER_DEADLINE_MS,
  DEFAULT_PROOF_ESTIMATE_MS,
  GENESIS_FINGERPRINT,
  KEY_HOLDS,
  LEFT_FOR_CLAIM,
  RECENT_PROOFS,
  SUBMIT_ALLOWANCE_MS,
  MAX_READING,
  OFFER_HOLDS,
  afterAccepted,
  callFailure,
  chainHeadBefore,
  closedPeriod,
  decideClose,
  decideConflict,
  decideOnLedgerView,
  decideSubmit,
  decideUpload,
  firstPending,
  holdChanged,
  holdToClear,
  isDue,
  judgeStoredDocument,
  keyHeldOnStart,
  nextBackoff,
  nextUnclosedPeriod,
  nextWakeMs,
  proofEstimateMs,
  proofFailure,
  provingMarginMs,
  readLedgerDue,
  readingsUploadable,
  reproveOrLeave,
  readingOutOfRange,
  recheckHeldKey,
  rejectionExcludes,
  retryFloorMs,
  sameValues,
  sendKeyCheck,
  settlementExcludes,
  stepSkipped,
  sendableFromMs,
  submitFailure,
  tooLateToProve,
  tooLateToSend,
  unverifiedProof,
  uploadFailure,
  verifyBeforeSending,
} = pipelineDecisions;
type Backoff = pipelineDecisions.Backoff;
type LedgerAction = pipelineDecisions.LedgerAction;
type OfferTerms = pipelineDecisions.OfferTerms;
type PipelineSnapshot = pipelineDecisions.PipelineSnapshot;

const T0 = Date.parse('2026-06-01T00:00:00Z');
const HOUR = 3_600_000;
const timing: PeriodTiming = { startMs: T0, periodSeconds: 3600, graceSeconds: 900, intervalsPerPeriod: 4 };
const RETRY = { initialMs: 100, maxMs: 400 };

function record(periodIndex: number, status: PeriodStatus, extra: Partial<PeriodRecord> = {}): PeriodRecord {
  return {
    periodIndex,
    status,
    messageCount: 4,
    readings: ['1', '2', '3', '4'],
    prevFingerprint: periodIndex === 0 ? GENESIS_FINGERPRINT : `fp${periodIndex - 1}`,
    newFingerprint: `fp${periodIndex}`,
    deviationWh: '0',
    submissionHash: `sh${periodIndex}`,
    body: '{}',
    provingMs: 1,
    provenAt: new Date(T0).toISOString(),
    attempts: 0,
    ...extra,
  };
}

function enrollment(records: PeriodRecord[], extra: Partial<EnrollmentState> = {}): EnrollmentState {
  return { enrollmentId: 'enr-1', periods: Object.fromEntries(records.map((r) => [String(r.periodIndex), r])), ...extra };
}

function snapshot(over: Partial<PipelineSnapshot> = {}): PipelineSnapshot {
  return {
    timing,
    closeDelayMs: 0,
    enrollment: enrollment([]),
    ledgerStatus: 'active',
    termsMismatch: false,
    keyHeld: false,
    backoff: new Map(),
    uploadBlocked: new Set(),
    now: T0,
    ...over,
  };
}

const backoffs = (entries: Record<string, number>): Map<string, Backoff> => new Map(Object.entries(entries).map(([k, notBefore]) => [k, { attempts: 1, notBefore }]));

describe('edge-client: pipeline decisions (pure core)', () => {
  describe('the step', () => {
    it('does nothing for an excluded enrollment or one whose terms differ from the config, else runs', () => {
      assert.equal(stepSkipped(snapshot({ enrollment: enrollment([], { excludedAt: 'x' }) })), 'excluded');
      assert.equal(stepSkipped(snapshot({ termsMismatch: true })), 'terms-mismatch');
      assert.equal(stepSkipped(snapshot()), undefined);
    });

    it('checks a held key again only when its retry is due', () => {
      assert.equal(recheckHeldKey(snapshot({ keyHeld: true })), true);
      assert.equal(recheckHeldKey(snapshot({ keyHeld: true, backoff: backoffs({ key: T0 + 1 }) })), false);
      assert.equal(recheckHeldKey(snapshot({ keyHeld: true, backoff: backoffs({ key: T0 }) })), true, 'due exactly at notBefore');
      assert.equal(recheckHeldKey(snapshot({ keyHeld: false })), false);
    });

    it('after a restart, a key hold stands; another hold does not stop proving', () => {
      for (const code of KEY_HOLDS) assert.equal(keyHeldOnStart({ code }), true, code);
      for (const code of OFFER_HOLDS) assert.equal(keyHeldOnStart({ code }), false, code);
      assert.equal(keyHeldOnStart({ code: 'TERMS_MISMATCH' }), false);
      assert.equal(keyHeldOnStart(undefined), false);
    });

    it('wakes at the next period close (plus the close delay) or the earliest retry, never before now', () => {
      const one = enrollment([record(0, 'settled')]);
      assert.equal(nextWakeMs(snapshot({ enrollment: one, closeDelayMs: 5000 })), periodEndMs(timing, 1) + 5000);
      assert.equal(nextWakeMs(snapshot({ enrollment: one, backoff: backoffs({ 'submit/0': T0 + 10 }) })), T0 + 10);
      assert.equal(nextWakeMs(snapshot({ enrollment: one, backoff: backoffs({ 'submit/0': T0 - 10 }) })), T0, 'an overdue retry wakes now');
      const day = enrollment(Array.from({ length: PERIOD_COUNT }, (_, p) => record(p, 'settled')));
      assert.equal(nextWakeMs(snapshot({ enrollment: day })), Number.POSITIVE_INFINITY);
      assert.equal(nextWakeMs(snapshot({ enrollment: day, backoff: backoffs({ 'upload/3': T0 + 7 }) })), T0 + 7);
    });
  });

  describe('the chain and the order of periods', () => {
    it('the next period to close is the first without a record', () => {
      assert.equal(nextUnclosedPeriod(enrollment([])), 0);
      assert.equal(nextUnclosedPeriod(enrollment([record(0, 'settled'), record(2, 'proven')])), 1);
      assert.equal(nextUnclosedPeriod(enrollment(Array.from({ length: PERIOD_COUNT }, (_, p) => record(p, 'failed')))), undefined);
    });

    it('the chain head before a period is the latest verified or still pending fingerprint, else genesis', () => {
      assert.equal(chainHeadBefore(enrollment([]), 0), GENESIS_FINGERPRINT);
      assert.equal(chainHeadBefore(enrollment([record(0, 'settled', { outcome: 'verified' })]), 1), 'fp0');
      assert.equal(chainHeadBefore(enrollment([record(0, 'proven')]), 1), 'fp0', 'a proven period is assumed verified');
      assert.equal(chainHeadBefore(enrollment([record(0, 'submitted')]), 1), 'fp0');
      const notMoving = [record(0, 'settled', { outcome: 'verified' }), record(1, 'settled', { outcome: 'invalidProof' }), record(2, 'rejected'), record(3, 'failed')];
      assert.equal(chainHeadBefore(enrollment(notMoving), 4), 'fp0', 'settled otherwise, rejected and failed periods do not move the head');
      assert.equal(chainHeadBefore(enrollment([record(0, 'settled', { outcome: 'verified' }), record(2, 'proven')]), 2), 'fp0', 'only earlier periods count');
    });

    it('the first pending period is the lowest proven or submitted one, and a gap stops the search', () => {
      assert.equal(firstPending(enrollment([])), undefined);
      assert.equal(firstPending(enrollment([record(0, 'settled'), record(1, 'rejected'), record(2, 'submitted'), record(3, 'proven')]))?.periodIndex, 2);
      assert.equal(firstPending(enrollment([record(0, 'settled'), record(2, 'proven')])), undefined, 'period 1 is not closed yet');
    });
  });

  describe('closing and proving', () => {
    const ended = periodEndMs(timing, 0);

    it('waits for the end of the period plus the close delay', () => {
      assert.deepEqual(decideClose(snapshot({ now: ended - 1 }), false), { kind: 'wait', reason: 'not-ended' });
      assert.deepEqual(decideClose(snapshot({ now: ended + 999, closeDelayMs: 1000 }), false), { kind: 'wait', reason: 'not-ended' });
      assert.equal(decideClose(snapshot({ now: ended + 1000, closeDelayMs: 1000 }), true).kind, 'prove');
    });

    it('checks the ledger key before the first proof of a round, then proves on the chain head', () => {
      assert.deepEqual(decideClose(snapshot({ now: ended }), false), { kind: 'check-key' });
      assert.deepEqual(decideClose(snapshot({ now: ended }), true), { kind: 'prove', periodIndex: 0, prevFingerprint: GENESIS_FINGERPRINT, tamper: false });
    });

    it('proves on (against its own key) while the key check backs off; proves nothing while the key is held', () => {
      assert.equal(decideClose(snapshot({ now: ended, backoff: backoffs({ key: ended + 1 }) }), false).kind, 'prove');
      assert.deepEqual(decideClose(snapshot({ now: ended, keyHeld: true }), true), { kind: 'wait', reason: 'key-held' });
    });

    it('closes periods in order, each on the head its predecessors leave', () => {
      const s = snapshot({ now: periodEndMs(timing, 2), enrollment: enrollment([record(0, 'settled', { outcome: 'verified' }), record(1, 'failed')]) });
      assert.deepEqual(decideClose(s, true), { kind: 'prove', periodIndex: 2, prevFingerprint: 'fp0', tamper: false });
      assert.deepEqual(decideClose(snapshot({ now: periodEndMs(timing, 1) - 1, enrollment: enrollment([record(0, 'proven')]) }), true), { kind: 'wait', reason: 'not-ended' });
    });

    it('has nothing to close once every period of the day is recorded', () => {
      const day = enrollment(Array.from({ length: PERIOD_COUNT }, (_, p) => record(p, 'settled')));
      assert.deepEqual(decideClose(snapshot({ enrollment: day, now: periodEndMs(timing, PERIOD_COUNT) }), true), { kind: 'wait', reason: 'day-over' });
    });

    it('the tamper switch corrupts exactly its period (the demonstration)', () => {
      const at = (p: number) => decideClose(snapshot({ tamperPeriod: 1, now: periodEndMs(timing, p), enrollment: enrollment(p === 1 ? [record(0, 'proven')] : []) }), true);
      assert.equal((at(0) as { tamper: boolean }).tamper, false);
      assert.equal((at(1) as { tamper: boolean }).tamper, true);
    });

    it('the proof estimate: the longest of the latest timed proofs, the default before any; the margin adds the submission allowance', () => {
      assert.equal(proofEstimateMs(enrollment([])), DEFAULT_PROOF_ESTIMATE_MS);
      assert.equal(proofEstimateMs(enrollment([record(0, 'failed', { provingMs: 0 })])), DEFAULT_PROOF_ESTIMATE_MS, 'a period not proven is not timed');
      assert.equal(proofEstimateMs(enrollment([record(0, 'settled', { provingMs: 1500 }), record(1, 'settled', { provingMs: 900 })])), 1500);
      // Only the latest RECENT_PROOFS count: a slow proof long ago no longer does, a slow one now does at once.
      const old = [record(0, 'settled', { provingMs: 9000 }), ...[1, 2, 3].map((p) => record(p, 'settled', { provingMs: 1000 + p }))];
      assert.equal(RECENT_PROOFS, 3);
      assert.equal(proofEstimateMs(enrollment(old)), 1003);
      assert.equal(proofEstimateMs(enrollment([...old, record(4, 'rejected', { provingMs: 0 }), record(5, 'settled', { provingMs: 4000 })])), 4000);
      assert.equal(provingMarginMs(enrollment([record(0, 'settled', { provingMs: 1500 })])), 1500 + SUBMIT_ALLOWANCE_MS);
    });

    it('skips, without proving, an ended period whose proof could no longer land before its deadline; the head stays', () => {
      const timed = enrollment([record(0, 'settled', { outcome: 'verified', provingMs: 2000 })]);
      const margin = 2000 + SUBMIT_ALLOWANCE_MS;
      const lastChance = periodDeadlineMs(timing, 1) - margin;
      assert.deepEqual(decideClose(snapshot({ now: lastChance, enrollment: timed }), true), { kind: 'prove', periodIndex: 1, prevFingerprint: 'fp0', tamper: false }, 'exactly the margin left: proven');
      assert.deepEqual(decideClose(snapshot({ now: lastChance + 1, enrollment: timed }), true), { kind: 'skip', periodIndex: 1, prevFingerprint: 'fp0', marginMs: margin });
      assert.deepEqual(decideClose(snapshot({ now: lastChance + 1, enrollment: timed }), false), { kind: 'skip', periodIndex: 1, prevFingerprint: 'fp0', marginMs: margin }, 'no key check needed to skip');
      // The step began in time, but proving the previous period ran past the last chance (the clock read again).
      assert.equal(decideClose(snapshot({ now: lastChance - 10, enrollment: timed }), true, lastChance + 1).kind, 'skip');
      assert.equal(tooLateToProve(snapshot({ enrollment: timed }), 1, lastChance), false);
      assert.equal(tooLateToProve(snapshot({ enrollment: timed }), 1, lastChance + 1), true);
      // Before any proof the default estimate counts.
      const untimed = periodDeadlineMs(timing, 0) - DEFAULT_PROOF_ESTIMATE_MS - SUBMIT_ALLOWANCE_MS;
      assert.equal(decideClose(snapshot({ now: untimed }), true).kind, 'prove');
      assert.equal(decideClose(snapshot({ now: untimed + 1 }), true).kind, 'skip');
      // A held key still holds everything; a period not ended is still waited for.
      assert.deepEqual(decideClose(snapshot({ now: lastChance + 1, enrollment: timed, keyHeld: true }), true), { kind: 'wait', reason: 'key-held' });
    });

    it('after a long outage of the edge itself: the periods past their last chance are skipped in order, the rest proven, each on the real head', () => {
      // Off from the start; back two hours after period 5 ended (a 15-minute grace).
      const back = periodEndMs(timing, 5) + 10 * 60_000;
      let e = enrollment([]);
      const seen: string[] = [];
      for (let i = 0; i < 8; i++) {
        const d = decideClose(snapshot({ now: back, enrollment: e }), true);
        if (d.kind === 'wait') break;
        assert.ok(d.kind === 'skip' || d.kind === 'prove');
        seen.push(`${d.periodIndex}:${d.kind}:${d.prevFingerprint}`);
        const r = d.kind === 'skip'
          ? record(d.periodIndex, 'rejected', { prevFingerprint: d.prevFingerprint, newFingerprint: '', provingMs: 0, lastError: { code: LEFT_FOR_CLAIM, message: 'm', at: 'x' } })
          : record(d.periodIndex, 'proven', { prevFingerprint: d.prevFingerprint, provingMs: 1000 });
        e = enrollment([...Object.values(e.periods), r]);
      }
      // Period 5 (deadline end + 15 min) is still inside it less the default margin; 0-4 are not; 6 has not ended.
      assert.deepEqual(seen, ['0:skip:0', '1:skip:0', '2:skip:0', '3:skip:0', '4:skip:0', '5:prove:0'].map((x) => x.replace(/:0$/, `:${GENESIS_FINGERPRINT}`)));
    });

    it("a closed period's energies come from the readings, opening at the previous period's close; a v1 circuit records no export", () => {
      const Q = HOUR / 4;
      const readings = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => ({ ts: T0 + i * Q, importWh: 1000n + 250n * BigInt(i), exportWh: 500n + 100n * BigInt(i) }));
      const v1 = closedPeriod({ readings, messageCount: 5, timing, periodIndex: 0, previous: undefined, net: false }, 'at');
      assert.deepEqual(v1.importWh, [250n, 250n, 250n, 250n]);
      assert.deepEqual(v1.exportWh, [100n, 100n, 100n, 100n], 'measured, but not recorded');
      assert.deepEqual(v1.base, { periodIndex: 0, messageCount: 5, readings: ['250', '250', '250', '250'], openingRegisterWh: '1000', closingRegisterWh: '2000', provenAt: 'at', attempts: 0 });
      const net = closedPeriod({ readings, messageCount: 5, timing, periodIndex: 0, previous: undefined, net: true }, 'at');
      assert.deepEqual(net.base.exportReadings, ['100', '100', '100', '100']);
      assert.equal(net.base.openingExportRegisterWh, '500');
      assert.equal(net.base.closingExportRegisterWh, '900');
      const previous = record(0, 'settled', { closingRegisterWh: '1900', closingExportRegisterWh: '850' });
      const next = closedPeriod({ readings, messageCount: 4, timing, periodIndex: 1, previous, net: true }, 'at');
      assert.equal(next.base.openingRegisterWh, '1900', "opens at the previous period's closing register");
      assert.equal(next.base.openingExportRegisterWh, '850');
      assert.equal(next.importWh[0], 2250n - 1900n);
      assert.equal(next.base.closingRegisterWh, '3000');
    });

    it('refuses an interval energy above the circuit limit (import always; export only for a net circuit)', () => {
      assert.equal(readingOutOfRange([MAX_READING], [], false), undefined, 'the limit itself is allowed');
      assert.equal(readingOutOfRange([MAX_READING + 1n], [], false), 'import');
      assert.equal(readingOutOfRange([1n], [MAX_READING + 1n], true), 'export');
      assert.equal(readingOutOfRange([1n], [MAX_READING + 1n], false), undefined, 'a v1 circuit does not prove the export register');
      assert.equal(readingOutOfRange([MAX_READING + 1n], [MAX_READING + 1n], true), 'import');
    });

    it('a proof that does not verify holds for the key; any other failure is recorded', () => {
      assert.equal(proofFailure('PROOF_NOT_VERIFIED'), 'hold-for-key');
      assert.equal(proofFailure('ARTIFACTS_MISSING'), 'record-failed');
      assert.equal(proofFailure(undefined), 'record-failed');
    });
  });

  describe('the ledger status and acceptance', () => {
    const config: EnrollmentConfig = {
      enrollmentId: 'enr-1',
      circuitId: 'flexdev-v1-r4',
      shape: 'flexdev-v1-r4' as EnrollmentConfig['shape'],
      startTime: new Date(T0).toISOString(),
      periodSeconds: 3600,
      graceSeconds: 900,
      requestProfile: [],
      commitmentSalt: '1',
      requestCommitment: '42',
      acceptPolicy: { orderId: 'order-1', minReward: '2400', maxRatePerWh: '1', minToleranceWh: '10', maxFlexWh: new Array<string>(24).fill('100') },
    };
    const site = { meterId: 'meter-17', prosumerId: 'prosumer-17' };
    const terms = (over: Partial<OfferTerms> = {}): OfferTerms => ({ site, config, autoAccept: true, ...over });
    const view = (status: string, over: Record<string, unknown> = {}): EnrollmentView => ({
      enrollment: {
        enrollmentId: 'enr-1',
        orderId: 'order-1',
        meterId: 'meter-17',
        prosumerId: 'prosumer-17',
        circuitId: 'flexdev-v1-r4',
        requestCommitment: '42',
        reward: '2400',
        ratePerWh: '1',
        toleranceWh: '10',
        flexWh: new Array<string>(24).fill('100'),
        startTime: new Date(T0).toISOString(),
        periodSeconds: 3600,
        graceSeconds: 900,
        status,
        ...over,
      },
    });
    const kinds = (actions: LedgerAction[]): string[] => actions.map((a) => a.kind);

    it('reads the ledger until it is active, at the poll pace', () => {
      assert.equal(readLedgerDue(snapshot({ ledgerStatus: undefined })), true);
      assert.equal(readLedgerDue(snapshot({ ledgerStatus: 'accepted', backoff: backoffs({ ledger: T0 + 1 }) })), false);
      assert.equal(readLedgerDue(snapshot({ ledgerStatus: 'accepted', backoff: backoffs({ ledger: T0 }) })), true);
      assert.equal(readLedgerDue(snapshot({ ledgerStatus: 'active' })), false);
    });

    it('a commitment that differs from the config stops everything, naming the term (whatever the status)', () => {
      const actions = decideOnLedgerView(snapshot(), view('active', { graceSeconds: 60 }), terms());
      assert.equal(actions.length, 1);
      const [only] = actions;
      assert.equal(only?.kind, 'terms-mismatch');
      assert.deepEqual(only?.kind === 'terms-mismatch' && only.refusals.map((r) => r.term), ['graceSeconds']);
      assert.deepEqual(kinds(decideOnLedgerView(snapshot(), view('offered', { meterId: 'meter-99' }), terms())), ['terms-mismatch']);
    });

    it('an offer with autoAccept off is held for a person and polled', () => {
      const actions = decideOnLedgerView(snapshot({ ledgerStatus: undefined }), view('offered'), terms({ autoAccept: false }));
      assert.deepEqual(kinds(actions), ['set-ledger-status', 'hold', 'poll-ledger']);
      const hold = actions[1];
      assert.ok(hold?.kind === 'hold');
      assert.equal(hold.hold.code, 'AUTO_ACCEPT_OFF');
      assert.match(hold.hold.message, /flexproof-edge accept --enrollment enr-1/);
    });

    it('an offer outside the policy is refused, naming each term; one the policy does not cover waits for a person', () => {
      const outside = decideOnLedgerView(snapshot(), view('offered', { reward: '2399' }), terms());
      assert.deepEqual(kinds(outside), ['set-ledger-status', 'hold', 'poll-ledger']);
      assert.ok(outside[1]?.kind === 'hold');
      assert.equal(outside[1].hold.code, 'OFFER_OUTSIDE_POLICY');
      assert.deepEqual(outside[1].hold.terms, ['reward']);
      assert.equal(outside[1].level, 'error');

      const partial = decideOnLedgerView(snapshot(), view('offered'), terms({ config: { ...config, acceptPolicy: { orderId: 'order-1' } } }));
      assert.ok(partial[1]?.kind === 'hold');
      assert.equal(partial[1].hold.code, 'NO_ACCEPT_POLICY');
      assert.deepEqual(partial[1].hold.terms, ['minReward', 'maxRatePerWh', 'minToleranceWh', 'maxFlexWh']);
    });

    it('an offer within the policy is accepted when the key check is due, else it waits without polling', () => {
      assert.deepEqual(decideOnLedgerView(snapshot(), view('offered'), terms()), [{ kind: 'set-ledger-status', status: 'offered' }, { kind: 'accept' }]);
      assert.deepEqual(decideOnLedgerView(snapshot({ backoff: backoffs({ key: T0 + 1 }) }), view('offered'), terms()), [{ kind: 'set-ledger-status', status: 'offered' }]);
    });

    it('accepted: clears the offer holds, records the acceptance once, logs the wait once and polls', () => {
      const first = decideOnLedgerView(snapshot({ ledgerStatus: 'offered' }), view('accepted'), terms());
      assert.deepEqual(first, [
        { kind: 'set-ledger-status', status: 'accepted' },
        { kind: 'clear-hold', codes: OFFER_HOLDS },
        { kind: 'mark-accepted' },
        { kind: 'log-waiting', status: 'accepted' },
        { kind: 'poll-ledger' },
      ]);
      const again = decideOnLedgerView(snapshot({ ledgerStatus: 'accepted', enrollment: enrollment([], { acceptedAt: 'x' }) }), view('accepted'), terms());
      assert.deepEqual(kinds(again), ['set-ledger-status', 'clear-hold', 'poll-ledger']);
    });

    it('active: stops polling; excluded: records the exclusion and keeps polling', () => {
      assert.deepEqual(kinds(decideOnLedgerView(snapshot({ ledgerStatus: undefined }), view('active'), terms())), ['set-ledger-status', 'clear-hold', 'mark-accepted', 'ledger-active']);
      const excluded = decideOnLedgerView(snapshot({ ledgerStatus: undefined, enrollment: enrollment([], { acceptedAt: 'x' }) }), view('excluded'), terms());
      assert.deepEqual(kinds(excluded), ['set-ledger-status', 'clear-hold', 'mark-excluded', 'log-waiting', 'poll-ledger']);
    });

    it('after AcceptEnrollment went through: accepted, holds cleared, recorded, polled', () => {
      assert.deepEqual(kinds(afterAccepted(snapshot())), ['set-ledger-status', 'clear-hold', 'mark-accepted', 'poll-ledger']);
      assert.deepEqual(kinds(afterAccepted(snapshot({ enrollment: enrollment([], { acceptedAt: 'x' }) }))), ['set-ledger-status', 'clear-hold', 'poll-ledger']);
    });

    it('a hold is written (and logged) only when it changes; only the named codes are cleared', () => {
      assert.equal(holdChanged(undefined, { code: 'AUTO_ACCEPT_OFF', message: 'm' }), true);
      assert.equal(holdChanged({ code: 'AUTO_ACCEPT_OFF', message: 'm' }, { code: 'AUTO_ACCEPT_OFF', message: 'm' }), false);
      assert.equal(holdChanged({ code: 'AUTO_ACCEPT_OFF', message: 'm' }, { code: 'AUTO_ACCEPT_OFF', message: 'n' }), true);
      assert.equal(holdChanged({ code: 'AUTO_ACCEPT_OFF', message: 'm' }, { code: 'NO_ACCEPT_POLICY', message: 'm' }), true);
      assert.equal(holdToClear({ code: 'AUTO_ACCEPT_OFF' }, OFFER_HOLDS), 'AUTO_ACCEPT_OFF');
      assert.equal(holdToClear({ code: 'LEDGER_KEY_MISMATCH' }, OFFER_HOLDS), undefined);
      assert.equal(holdToClear(undefined, KEY_HOLDS), undefined);
    });
  });

  describe('submitting', () => {
    const sendable = periodEndMs(timing, 0);
    const deadline0 = periodDeadlineMs(timing, 0);

    it('nothing to send: no pending period, a gap before it, the key held, excluded, or terms mismatched', () => {
      assert.deepEqual(decideSubmit(snapshot({ now: sendable }), sendable), { kind: 'none', reason: 'nothing-pending' });
      assert.equal((decideSubmit(snapshot({ now: sendable, enrollment: enrollment([record(1, 'proven')]) }), sendable) as { reason: string }).reason, 'nothing-pending');
      const pending = enrollment([record(0, 'proven')]);
      assert.deepEqual(decideSubmit(snapshot({ now: sendable, enrollment: pending, keyHeld: true }), sendable), { kind: 'none', reason: 'key-held' });
      assert.deepEqual(decideSubmit(snapshot({ now: sendable, enrollment: enrollment([record(0, 'proven')], { excludedAt: 'x' }) }), sendable), { kind: 'none', reason: 'excluded' });
      assert.deepEqual(decideSubmit(snapshot({ now: sendable, enrollment: pending, termsMismatch: true }), sendable), { kind: 'none', reason: 'terms-mismatch' });
    });

    it('sends the lowest pending period once every earlier one is resolved', () => {
      const e = enrollment([record(0, 'settled', { outcome: 'verified' }), record(1, 'rejected'), record(2, 'proven', { prevFingerprint: 'fp0' }), record(3, 'proven', { prevFingerprint: 'fp2' })]);
      const now = periodEndMs(timing, 2);
      assert.deepEqual(decideSubmit(snapshot({ now, enrollment: e }), now), { kind: 'send', periodIndex: 2 });
    });

    it('a period the edge left unsettled holds later ones until just after its deadline, as the ledger would', () => {
      // A grace longer than a period: period 1's deadline falls after period 2 ends.
      const long: PeriodTiming = { ...timing, graceSeconds: 2 * 3600 };
      const left = record(1, 'rejected', { lastError: { code: LEFT_FOR_CLAIM, message: 'left for the claim', at: 'x' } });
      const e = enrollment([record(0, 'settled', { outcome: 'verified' }), left, record(2, 'proven', { prevFingerprint: 'fp0' })]);
      const from = periodDeadlineMs(long, 1) + AFTER_EARLIER_DEADLINE_MS;
      const end2 = periodEndMs(long, 2);
      assert.equal(sendableFromMs(e, long, 2), from);
      assert.deepEqual(decideSubmit(snapshot({ timing: long, now: end2, enrollment: e }), end2), { kind: 'wait', periodIndex: 2, untilMs: from });
      assert.deepEqual(decideSubmit(snapshot({ timing: long, now: from - 1, enrollment: e }), from - 1), { kind: 'wait', periodIndex: 2, untilMs: from });
      assert.deepEqual(decideSubmit(snapshot({ timing: long, now: from, enrollment: e }), from), { kind: 'send', periodIndex: 2 });
      // An unprovable period holds it the same way; a claimed (settled) one does not.
      const failed = enrollment([record(0, 'settled', { outcome: 'verified' }), record(1, 'failed'), record(2, 'proven', { prevFingerprint: 'fp0' })]);
      assert.equal(decideSubmit(snapshot({ timing: long, now: end2, enrollment: failed }), end2).kind, 'wait');
      const claimed = enrollment([record(0, 'settled', { outcome: 'verified' }), record(1, 'settled', { outcome: 'missed' }), record(2, 'proven', { prevFingerprint: 'fp0' })]);
      assert.equal(sendableFromMs(claimed, long, 2), undefined);
      assert.deepEqual(decideSubmit(snapshot({ timing: long, now: end2, enrollment: claimed }), end2), { kind: 'send', periodIndex: 2 });
      // Too late for itself by then: left for the claim too, rather than waited for.
      const late = periodDeadlineMs(long, 2) - SUBMIT_ALLOWANCE_MS + 1;
      assert.deepEqual(decideSubmit(snapshot({ timing: long, now: late, enrollment: e }), late), { kind: 'expire', periodIndex: 2, reason: 'send' });
    });

    it('before the ledger is active a period waits, up to its deadline; after it, it is sent for the ledger to answer', () => {
      const e = enrollment([record(0, 'submitted', { firstSentAt: 'x' })]);
      assert.deepEqual(decideSubmit(snapshot({ ledgerStatus: 'accepted', now: deadline0, enrollment: e }), deadline0), { kind: 'none', reason: 'not-active' });
      assert.deepEqual(decideSubmit(snapshot({ ledgerStatus: undefined, now: deadline0 + 1, enrollment: e }), deadline0 + 1), { kind: 'send', periodIndex: 0 });
    });

    it('the catch-up rule: a proven period never sent that could no longer land before its deadline is marked expired, not sent', () => {
      const e = enrollment([record(0, 'proven')]);
      const lastSend = deadline0 - SUBMIT_ALLOWANCE_MS;
      assert.deepEqual(decideSubmit(snapshot({ now: deadline0 + 1, enrollment: e }), deadline0 + 1), { kind: 'expire', periodIndex: 0, reason: 'send' });
      assert.deepEqual(decideSubmit(snapshot({ now: lastSend, enrollment: e }), lastSend), { kind: 'send', periodIndex: 0 }, 'with the submission allowance left it is still sent');
      assert.deepEqual(decideSubmit(snapshot({ now: lastSend + 1, enrollment: e }), lastSend + 1), { kind: 'expire', periodIndex: 0, reason: 'send' }, 'less than that left: not sent');
      assert.equal(tooLateToSend(timing, 0, lastSend), false);
      assert.equal(tooLateToSend(timing, 0, lastSend + 1), true);
      // The step began before the deadline but proving the previous period ran past it.
      assert.deepEqual(decideSubmit(snapshot({ now: deadline0 - 10, enrollment: e }), deadline0 + 1), { kind: 'expire', periodIndex: 0, reason: 'send' });
      const sentOnce = enrollment([record(0, 'submitted', { firstSentAt: 'x' })]);
      assert.deepEqual(decideSubmit(snapshot({ now: deadline0 + 1, enrollment: sentOnce }), deadline0 + 1), { kind: 'send', periodIndex: 0 }, 'a period sent before its deadline is resent, its answer is owed');
      // Expiring period 0 resolves it: the next decision moves to period 1, sent once the
      // ledger's clock, too, is past period 0's deadline.
      const afterExpiry = enrollment([record(0, 'rejected'), record(1, 'proven', { prevFingerprint: GENESIS_FINGERPRINT })]);
      const from = deadline0 + AFTER_EARLIER_DEADLINE_MS;
      assert.deepEqual(decideSubmit(snapshot({ now: deadline0 + 1, enrollment: afterExpiry }), deadline0 + 1), { kind: 'wait', periodIndex: 1, untilMs: from });
      assert.deepEqual(decideSubmit(snapshot({ now: from, enrollment: afterExpiry }), from), { kind: 'send', periodIndex: 1 });
      const refusedLate = enrollment([record(0, 'rejected', { lastError: { code: 'DEADLINE_PASSED', message: 'm', at: 'x' } }), record(1, 'proven', { prevFingerprint: GENESIS_FINGERPRINT })]);
      assert.deepEqual(decideSubmit(snapshot({ now: deadline0 - 10, enrollment: refusedLate }), deadline0 - 10), { kind: 'send', periodIndex: 1 }, 'the ledger said period 0 is past its deadline');
    });

    it('a period never sent, proven on a head that moved, is proven again on the real head; one sent already is resent as it is', () => {
      const moved = enrollment([record(0, 'rejected'), record(1, 'proven', { prevFingerprint: 'fp0' })]);
      const now = periodEndMs(timing, 1);
      assert.deepEqual(decideSubmit(snapshot({ now, enrollment: moved }), now), { kind: 'reprove', periodIndex: 1, prevFingerprint: GENESIS_FINGERPRINT });
      const sent = enrollment([record(0, 'rejected'), record(1, 'submitted', { prevFingerprint: 'fp0', firstSentAt: 'x' })]);
      assert.deepEqual(decideSubmit(snapshot({ now, enrollment: sent }), now), { kind: 'send', periodIndex: 1 });
    });

    it('a period that must be proven again is left for the claim when the new proof could not land in time', () => {
      const moved = enrollment([record(0, 'rejected', { provingMs: 0 }), record(1, 'proven', { prevFingerprint: 'fp0', provingMs: 2500 })]);
      const lastChance = periodDeadlineMs(timing, 1) - 2500 - SUBMIT_ALLOWANCE_MS;
      assert.deepEqual(decideSubmit(snapshot({ now: lastChance, enrollment: moved }), lastChance), { kind: 'reprove', periodIndex: 1, prevFingerprint: GENESIS_FINGERPRINT });
      assert.deepEqual(decideSubmit(snapshot({ now: lastChance, enrollment: moved }), lastChance + 1), { kind: 'expire', periodIndex: 1, reason: 'reprove' });
      assert.equal(reproveOrLeave(snapshot({ enrollment: moved }), 1, lastChance), 'reprove');
      assert.equal(reproveOrLeave(snapshot({ enrollment: moved }), 1, lastChance + 1), 'leave');
      // Its own stored proof needs no new proof: sendable until the submission allowance.
      const onHead = enrollment([record(0, 'rejected'), record(1, 'proven', { prevFingerprint: GENESIS_FINGERPRINT, provingMs: 2500 })]);
      assert.deepEqual(decideSubmit(snapshot({ now: lastChance + 1, enrollment: onHead }), lastChance + 1), { kind: 'send', periodIndex: 1 });
    });

    it('after a 24-hour outage of the gateways, with every period proven on the way: the late ones expire, the rest go in order, re-proven on the real head', () => {
      // Six-hour grace: back at the end of the day, periods 18-23 are still inside their deadline.
      const t: PeriodTiming = { ...timing, graceSeconds: 6 * 3600 };
      const back = periodEndMs(t, 23) + 60_000;
      let e = enrollment(Array.from({ length: PERIOD_COUNT }, (_, p) => record(p, 'proven', { provingMs: 2000 })));
      const seen: string[] = [];
      for (let i = 0; i < 60; i++) {
        const d = decideSubmit(snapshot({ timing: t, now: back, enrollment: e }), back);
        if (d.kind === 'none') break;
        const r = e.periods[String(d.periodIndex)]!;
        if (d.kind === 'expire') {
          seen.push(`${d.periodIndex}:expire`);
          e = enrollment([...Object.values(e.periods).filter((x) => x.periodIndex !== d.periodIndex), { ...r, status: 'rejected', lastError: { code: LEFT_FOR_CLAIM, message: 'm', at: 'x' } }]);
        } else if (d.kind === 'reprove') {
          seen.push(`${d.periodIndex}:reprove`);
          e = enrollment([...Object.values(e.periods).filter((x) => x.periodIndex !== d.periodIndex), { ...r, prevFingerprint: d.prevFingerprint, newFingerprint: `new${d.periodIndex}` }]);
        } else {
          seen.push(`${d.periodIndex}:send`);
          e = enrollment([...Object.values(e.periods).filter((x) => x.periodIndex !== d.periodIndex), { ...r, status: 'settled', outcome: 'verified' }]);
        }
      }
      const expected = [
        ...Array.from({ length: 18 }, (_, p) => `${p}:expire`),
        '18:reprove', '18:send',
        ...[19, 20, 21, 22, 23].flatMap((p) => [`${p}:reprove`, `${p}:send`]),
      ];
      assert.deepEqual(seen, expected);
      assert.equal(e.periods['18']?.prevFingerprint, GENESIS_FINGERPRINT, 'the first period sent chains on the head the expired ones never moved');
      assert.equal(e.periods['19']?.prevFingerprint, 'new18');
    });

    it('retries after an unavailable gateway at the backoff pace, and a refusal at the slowest pace', () => {
      const e = enrollment([record(0, 'submitted', { firstSentAt: 'x' })]);
      const failed = nextBackoff(undefined, RETRY, sendable, { jitter: 0.5 });
      assert.equal(failed.delayMs, 100);
      const backoff = new Map([['submit/0', failed.backoff]]);
      assert.deepEqual(decideSubmit(snapshot({ now: sendable + 99, enrollment: e, backoff }), sendable + 99), { kind: 'none', reason: 'backing-off' });
      assert.deepEqual(decideSubmit(snapshot({ now: sendable + 100, enrollment: e, backoff }), sendable + 100), { kind: 'send', periodIndex: 0 });
      assert.equal(retryFloorMs({ final: false, retryAfterMs: 250 }, RETRY), 250, "a 503's Retry-After is the floor");
      assert.equal(retryFloorMs({ final: false }, RETRY), undefined);
      assert.equal(retryFloorMs({ final: true, status: 403, code: 'FORBIDDEN' }, RETRY), RETRY.maxMs);
    });

    it('before sending: the key check when due, then verification unless the proof is the tamper demonstration', () => {
      assert.equal(sendKeyCheck(snapshot()), 'check');
      assert.equal(sendKeyCheck(snapshot({ backoff: backoffs({ key: T0 + 1 }) })), 'wait');
      assert.equal(verifyBeforeSending(record(0, 'proven')), true);
      assert.equal(verifyBeforeSending(record(0, 'proven', { tampered: true })), false);
    });

    it('a stored proof that does not verify is proven again if never sent, else the enrollment is held', () => {
      assert.deepEqual(unverifiedProof(record(2, 'proven', { prevFingerprint: 'fp1' })), { kind: 'reprove', prevFingerprint: 'fp1' });
      assert.deepEqual(unverifiedProof(record(2, 'submitted', { firstSentAt: 'x' })), { kind: 'hold-for-key' });
    });

    it('a failed submission: 409 is looked into, another final answer rejects, an outage or a non-gateway error retries', () => {
      assert.equal(submitFailure({ final: true, status: 409, code: 'CONFLICT' }), 'conflict');
      assert.equal(submitFailure({ final: true, status: 422, code: 'RULE_VIOLATION' }), 'rejected');
      assert.equal(submitFailure({ final: true, status: 403, code: 'EXCLUDED' }), 'rejected');
      assert.equal(submitFailure({ final: false, status: 503, code: 'UNAVAILABLE', retryAfterMs: 1000 }), 'retry');
      assert.equal(submitFailure({ final: false }), 'retry');
    });

    it('only a gateway error that is not retryable is a final answer; its status, code and Retry-After are kept', () => {
      assert.deepEqual(callFailure(new GatewayError({ status: 409, code: 'CONFLICT', message: 'm', retryable: false })), { final: true, status: 409, code: 'CONFLICT' });
      assert.deepEqual(callFailure(new GatewayError({ status: 503, code: 'UNAVAILABLE', message: 'm', retryable: true, retryAfterMs: 2000 })), { final: false, status: 503, code: 'UNAVAILABLE', retryAfterMs: 2000 });
      assert.deepEqual(callFailure(new GatewayError({ code: 'NETWORK', message: 'm', retryable: true })), { final: false, code: 'NETWORK' });
      assert.deepEqual(callFailure(new Error('ECONNRESET')), { final: false }, 'anything else is an outage');
    });

    it('409: the ledger result of this body settles it; another submission’s result stands; a moved head re-proves; else rejected', () => {
      const r = record(1, 'submitted', { prevFingerprint: 'fp0', submissionHash: 'mine' });
      const withResult = (result: Record<string, unknown>): EnrollmentView => ({
        enrollment: { status: 'active', chainHead: 'fp0' } as EnrollmentView['enrollment'],
        periods: [
          { periodIndex: 0, result: null },
          { periodIndex: 1, result: { outcome: 'verified', ...result } },
        ],
      });
      assert.deepEqual(decideConflict(r, withResult({ submissionHash: 'mine', txId: 't1' })), { kind: 'settled', outcome: 'verified', txId: 't1' });
      assert.deepEqual(decideConflict(r, withResult({ submissionHash: 'other', txId: 't2', newFingerprint: 'theirs' })), { kind: 'settled-by-another', outcome: 'verified', txId: 't2', newFingerprint: 'theirs' });
      assert.deepEqual(decideConflict(r, withResult({ submissionHash: 'other' })), { kind: 'settled-by-another', outcome: 'verified' });
      const noResult = (chainHead?: string): EnrollmentView => ({ enrollment: { status: 'active', ...(chainHead !== undefined ? { chainHead } : {}) } as EnrollmentView['enrollment'], periods: [{ periodIndex: 1, result: null }] });
      assert.deepEqual(decideConflict(r, noResult('fpX')), { kind: 'reprove', prevFingerprint: 'fpX' });
      assert.deepEqual(decideConflict(r, noResult('fp0')), { kind: 'rejected' });
      assert.deepEqual(decideConflict(r, noResult()), { kind: 'rejected' });
    });

    it('exclusion: an invalid proof on the ledger or an EXCLUDED refusal excludes the site, and then nothing is sent', () => {
      assert.equal(settlementExcludes('invalidProof'), true);
      assert.equal(settlementExcludes('verified'), false);
      assert.equal(settlementExcludes('deviation'), false);
      assert.equal(rejectionExcludes('EXCLUDED'), true);
      assert.equal(rejectionExcludes('RULE_VIOLATION'), false);
      assert.equal(rejectionExcludes(undefined), false);
    });
  });

  describe('uploading sealed readings', () => {
    const settled = (p: number, extra: Partial<PeriodRecord> = {}) => record(p, 'settled', { outcome: 'verified', ...extra });

    it('uploads settled verified and invalidProof periods in order, sealing first when there is no document yet', () => {
      assert.deepEqual(decideUpload(snapshot({ enrollment: enrollment([settled(0)]) }), 0), { kind: 'upload', periodIndex: 0, seal: true });
      const sealed = { jwe: {} as never, contentHash: 'h', recipients: [], sealedAt: 'x' };
      assert.deepEqual(decideUpload(snapshot({ enrollment: enrollment([settled(0, { sealed })]) }), 0), { kind: 'upload', periodIndex: 0, seal: false });
      assert.deepEqual(decideUpload(snapshot({ enrollment: enrollment([settled(0, { outcome: 'invalidProof' })]) }), 0), { kind: 'upload', periodIndex: 0, seal: true });
    });

    it('uploads the readings of periods left for the claim, refused, or claimed by the aggregator too: every closed period but an unprovable one', () => {
      const left = record(0, 'rejected', { lastError: { code: LEFT_FOR_CLAIM, message: 'm', at: 'x' } });
      assert.deepEqual(decideUpload(snapshot({ enrollment: enrollment([left]) }), 0), { kind: 'upload', periodIndex: 0, seal: true });
      assert.deepEqual(decideUpload(snapshot({ enrollment: enrollment([settled(0, { outcome: 'missed' })]) }), 0), { kind: 'upload', periodIndex: 0, seal: true });
      assert.deepEqual(decideUpload(snapshot({ enrollment: enrollment([record(0, 'failed'), record(1, 'proven'), record(2, 'submitted'), { ...left, periodIndex: 3 }]) }), 0), { kind: 'upload', periodIndex: 3, seal: true });
      assert.equal(readingsUploadable(record(0, 'rejected')), true);
      assert.equal(readingsUploadable(record(0, 'failed')), false);
      assert.equal(readingsUploadable(record(0, 'proven')), false);
      assert.equal(readingsUploadable(record(0, 'submitted')), false);
      assert.equal(readingsUploadable(settled(0, { outcome: 'deviation' })), false, 'an outcome the ledger does not give');
    });

    it('passes over periods not final, uploaded, blocked in this run or with another outcome; stops at an unclosed one', () => {
      const e = enrollment([
        record(0, 'failed'),
        settled(1, { readingsUploaded: true }),
        settled(2),
        settled(3, { outcome: 'deviation' }),
        record(4, 'proven'),
        settled(5),
        settled(7),
      ]);
      assert.deepEqual(decideUpload(snapshot({ enrollment: e, uploadBlocked: new Set([2]) }), 0), { kind: 'upload', periodIndex: 5, seal: true });
      assert.deepEqual(decideUpload(snapshot({ enrollment: e }), 0), { kind: 'upload', periodIndex: 2, seal: true });
      assert.deepEqual(decideUpload(snapshot({ enrollment: e }), 6), { kind: 'stop', reason: 'unclosed-period' }, 'period 6 has no record: 7 waits');
      assert.deepEqual(decideUpload(snapshot({ enrollment: enrollment(Array.from({ length: PERIOD_COUNT }, (_, p) => settled(p, { readingsUploaded: true }))) }), 0), { kind: 'stop', reason: 'day-over' });
    });

    it('stops the round when the upload retry or (for sealing) the auditor key list backs off', () => {
      const e = enrollment([settled(0)]);
      assert.deepEqual(decideUpload(snapshot({ enrollment: e, backoff: backoffs({ 'upload/0': T0 + 1 }) }), 0), { kind: 'stop', reason: 'backing-off' });
      assert.deepEqual(decideUpload(snapshot({ enrollment: e, backoff: backoffs({ 'auditor-keys': T0 + 1 }) }), 0), { kind: 'stop', reason: 'auditor-keys-backing-off' });
      const sealed = enrollment([settled(0, { sealed: { jwe: {} as never, contentHash: 'h', recipients: [], sealedAt: 'x' } })]);
      assert.equal(decideUpload(snapshot({ enrollment: sealed, backoff: backoffs({ 'auditor-keys': T0 + 1 }) }), 0).kind, 'upload', 'a sealed document needs no auditor keys');
    });

    it('a failed upload: 409 is looked into, another final answer blocks, an outage retries', () => {
      assert.equal(uploadFailure({ final: true, status: 409 }), 'store-conflict');
      assert.equal(uploadFailure({ final: true, status: 413 }), 'blocked');
      assert.equal(uploadFailure({ final: false, status: 503 }), 'retry');
    });

    it("409: the store's document counts as this site's only if it opens with its key and holds the same readings and salt", () => {
      const own = { readings: ['1', '2'], fingerprintSalt: 's' };
      assert.deepEqual(judgeStoredDocument({ kind: 'opened', fingerprintSalt: 's', readings: ['1', '2'] }, own), { kind: 'stored' });
      assert.equal(judgeStoredDocument({ kind: 'opened', fingerprintSalt: 's', readings: ['1', '3'] }, own).kind, 'blocked');
      assert.equal(judgeStoredDocument({ kind: 'opened', fingerprintSalt: 't', readings: ['1', '2'] }, own).kind, 'blocked');
      assert.equal(judgeStoredDocument({ kind: 'opened', fingerprintSalt: 's', readings: ['1', '2'], exportReadings: ['0', '0'] }, own).kind, 'blocked', 'exports where the site has none');
      assert.deepEqual(judgeStoredDocument({ kind: 'opened', fingerprintSalt: 's', readings: ['1'], exportReadings: ['5'] }, { readings: ['1'], exportReadings: ['5'], fingerprintSalt: 's' }), { kind: 'stored' });
      const absent = judgeStoredDocument({ kind: 'absent' }, own);
      assert.ok(absent.kind === 'blocked' && /lists none/.test(absent.reason));
      const unopenable = judgeStoredDocument({ kind: 'unopenable', code: 'NOT_A_RECIPIENT' }, own);
      assert.ok(unopenable.kind === 'blocked' && unopenable.reason.includes('NOT_A_RECIPIENT'));
      assert.equal(sameValues(undefined, undefined), true);
      assert.equal(sameValues(['1'], ['1', '2']), false);
    });
  });

  describe('retry pacing', () => {
    it('a poll waits a fixed interval (5 s within the retry bounds) and counts no attempt', () => {
      assert.deepEqual(nextBackoff({ attempts: 3, notBefore: 0 }, RETRY, T0, { steady: true, jitter: 0.9 }), { backoff: { attempts: 0, notBefore: T0 + 400 }, delayMs: 400 });
      assert.equal(nextBackoff(undefined, { initialMs: 100, maxMs: 60_000 }, T0, { steady: true, jitter: 0 }).delayMs, 5000);
      assert.equal(nextBackoff(undefined, { initialMs: 8000, maxMs: 60_000 }, T0, { steady: true, jitter: 0 }).delayMs, 8000);
    });

    it('a failure doubles the wait from initialMs, jittered ±20 %, at least Retry-After, at most maxMs', () => {
      const wide = { initialMs: 100, maxMs: 10_000 };
      let previous: Backoff | undefined;
      const delays: number[] = [];
      for (let i = 0; i < 8; i++) {
        const next = nextBackoff(previous, wide, T0, { jitter: 0.5 });
        delays.push(next.delayMs);
        assert.equal(next.backoff.attempts, i + 1);
        assert.equal(next.backoff.notBefore, T0 + next.delayMs);
        previous = next.backoff;
      }
      assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 10_000]);
      assert.equal(nextBackoff(undefined, wide, T0, { jitter: 0 }).delayMs, 80);
      assert.equal(nextBackoff(undefined, wide, T0, { jitter: 0.999 }).delayMs, 120);
      assert.equal(nextBackoff(undefined, wide, T0, { jitter: 0.5, retryAfterMs: 3000 }).delayMs, 3000);
      assert.equal(nextBackoff(undefined, wide, T0, { jitter: 0.5, retryAfterMs: 99_000 }).delayMs, 10_000, 'Retry-After is capped at maxMs');
      assert.equal(nextBackoff({ attempts: 1000, notBefore: 0 }, wide, T0, { jitter: 0.5 }).delayMs, 10_000, 'no overflow after many attempts');
    });

    it('an operation is due with no backoff, or at and after its notBefore', () => {
      assert.equal(isDue(new Map(), 'ledger', T0), true);
      assert.equal(isDue(backoffs({ ledger: T0 + 1 }), 'ledger', T0), false);
      assert.equal(isDue(backoffs({ ledger: T0 + 1 }), 'ledger', T0 + 1), true);
      assert.equal(isDue(backoffs({ ledger: T0 + 1 }), 'key', T0), true, 'each operation has its own schedule');
    });
  });

  describe('the tamper demonstration, end to end through the decisions', () => {
    it('proves period 0 corrupted, sends it unverified, is excluded on invalidProof, sends nothing more, still uploads the evidence', () => {
      const close = decideClose(snapshot({ tamperPeriod: 0, now: periodEndMs(timing, 0) }), true);
      assert.deepEqual(close, { kind: 'prove', periodIndex: 0, prevFingerprint: GENESIS_FINGERPRINT, tamper: true });
      const proven = record(0, 'proven', { tampered: true });
      const now = periodEndMs(timing, 0) + 1000;
      assert.deepEqual(decideSubmit(snapshot({ now, enrollment: enrollment([proven, record(1, 'proven', { prevFingerprint: 'fp0' })]) }), now), { kind: 'send', periodIndex: 0 });
      assert.equal(verifyBeforeSending(proven), false);
      assert.equal(settlementExcludes('invalidProof'), true);
      const excluded = enrollment([{ ...proven, status: 'settled', outcome: 'invalidProof' }, record(1, 'proven', { prevFingerprint: 'fp0' })], { excludedAt: 'x' });
      assert.deepEqual(decideSubmit(snapshot({ now, enrollment: excluded }), now), { kind: 'none', reason: 'excluded' });
      assert.deepEqual(decideUpload(snapshot({ now, enrollment: excluded }), 0), { kind: 'upload', periodIndex: 0, seal: true });
      assert.equal(stepSkipped(snapshot({ enrollment: excluded })), 'excluded', 'the steps after that do nothing');
    });
  });
});
