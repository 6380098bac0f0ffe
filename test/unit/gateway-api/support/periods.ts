/** Signed-period bodies and a hold on the fake ledger, for the coalescing tests. */
import type { SubmitPeriodInput, TransactionName } from '@flexproof/gateway-api';
import type { FakeLedgerForTests } from './fake-ledger';

/** The ledger the prosumer payloads are signed for (the gateway relays them untouched). */
export const LEDGER = { channel: 'flexchannel', chaincode: 'flexproof' };

/** A period submission as an edge sends it (the fake ledger checks none of the cryptography). */
export function periodInput(
  meter: { meterId: string; prosumerId: string },
  enrollmentId: string,
  periodIndex: number,
  submissionHash: string,
  newFingerprint = '111',
): SubmitPeriodInput {
  return {
    payload: {
      type: 'flexproof.submitPeriod.v2',
      ...LEDGER,
      enrollmentId,
      meterId: meter.meterId,
      prosumerId: meter.prosumerId,
      circuitId: 'flexdev-v1-r4',
      periodIndex,
      submissionHash,
    },
    signature: 'c2lnbmVkLWJ5LXRoZS1wcm9zdW1lcg==',
    proof: { pi_a: [], pi_b: [], pi_c: [] },
    publicSignals: [newFingerprint, '3', '0', '0', '42', String(periodIndex)],
  } as SubmitPeriodInput;
}

/** A 64-hex submissionHash distinct per (enrollment, period, variant). */
export function hashOf(enrollmentId: string, periodIndex: number, variant = 0): string {
  let h = 0;
  for (const c of `${enrollmentId}/${periodIndex}/${variant}`) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h.toString(16).padStart(8, '0').repeat(8);
}

interface Held {
  transaction: TransactionName;
  argument: unknown;
  release: () => void;
  fail: (err: unknown) => void;
}

/**
 * Holds the fake ledger's submissions that `which` selects (default: all) in flight until
 * the test releases them, so the coalescer's in-flight count is the test's to set.
 */
export class LedgerHold {
  readonly held: Held[] = [];

  constructor(ledger: FakeLedgerForTests, which: (transaction: TransactionName, argument: unknown, n: number) => boolean = () => true) {
    let n = 0;
    ledger.beforeSubmit = (transaction, argument) => {
      if (!which(transaction, argument, n++)) return Promise.resolve();
      return new Promise<void>((release, fail) => this.held.push({ transaction, argument, release, fail }));
    };
  }

  /** Releases the i-th held submission (it then runs on the fake ledger). */
  release(i: number): void {
    const h = this.held[i];
    if (!h) throw new Error(`LedgerHold: no held submission ${i}`);
    h.release();
  }
}

/** Resolves once the condition holds (polling every turn of the event loop), or fails after `ms`. */
export async function until(condition: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** The enrollment ids of each submission: [id] for SubmitPeriod, the items' ids for SubmitPeriods. */
export function submissionsOf(ledger: FakeLedgerForTests): { transaction: string; enrollments: string[]; periods: string[] }[] {
  return ledger.submitted
    .filter((s) => s.transaction.endsWith(':SubmitPeriod') || s.transaction.endsWith(':SubmitPeriods'))
    .map((s) => {
      const items = s.transaction.endsWith(':SubmitPeriods')
        ? ((s.argument as { items: SubmitPeriodInput[] }).items)
        : [s.argument as SubmitPeriodInput];
      return {
        transaction: s.transaction.slice(s.transaction.indexOf(':') + 1),
        enrollments: items.map((i) => i.payload.enrollmentId),
        periods: items.map((i) => `${i.payload.enrollmentId}/${i.payload.periodIndex}`),
      };
    });
}
