/**
 * FakeGateway: a GatewayPort that behaves like the gateway in front of the chaincode,
 * in memory. It checks the prosumer signature, the order of periods and the chain head,
 * settles each period once (identical resubmission returns the recorded outcome, another
 * body is a 409), verifies proofs with the real verifier when given a verification key,
 * and can be taken down (503 with Retry-After) to simulate an outage.
 */
import {
  decodePublicSignals,
  submissionHash,
  verifyDeviationProof,
  type VerificationKey,
} from '@flexproof/circuits';
import { verifyPayloadSignature } from '@flexproof/chaincode/client';
import type { EnrollmentTerms } from '@flexproof/chaincode/client';
import {
  GatewayError,
  type EnrollmentView,
  type GatewayPort,
  type PeriodOutcome,
  type ReadingsUpload,
} from '../../../../edge-client/src/gateway-port';

/** An enrollment as the fake ledger keeps it: the signed terms plus status and chain head. */
export interface FakeEnrollment extends EnrollmentTerms {
  status: string;
  chainHead: string;
}

export interface RecordedResult {
  outcome: 'verified' | 'invalidProof' | 'missed';
  submissionHash: string;
  newFingerprint?: string;
  deviationWh?: string;
  txId: string;
}

export class FakeGateway implements GatewayPort {
  down = false;
  readonly enrollments = new Map<string, { e: FakeEnrollment; results: (RecordedResult | null)[] }>();
  /** Every call, in order, for assertions. */
  readonly calls: { op: string; enrollmentId?: string; periodIndex?: number; ok: boolean; status?: number }[] = [];
  readonly bodies = new Map<string, string[]>();
  readonly uploads = new Map<string, ReadingsUpload>();
  #tx = 0;

  constructor(
    private readonly publicKeyPem: string,
    private readonly verificationKey?: VerificationKey,
  ) {}

  addEnrollment(e: FakeEnrollment): void {
    this.enrollments.set(e.enrollmentId, { e, results: new Array<RecordedResult | null>(24).fill(null) });
  }

  #unavailable(op: string, extra: Record<string, unknown> = {}): void {
    if (!this.down) return;
    this.calls.push({ op, ok: false, status: 503, ...extra });
    throw new GatewayError({ status: 503, code: 'LEDGER_UNAVAILABLE', message: 'the peer is down', retryable: true, retryAfterMs: 0 });
  }

  #refuse(op: string, status: number, code: string, message: string, extra: Record<string, unknown> = {}): never {
    this.calls.push({ op, ok: false, status, ...extra });
    throw new GatewayError({ status, code, message, retryable: false });
  }

  #get(enrollmentId: string, op: string) {
    const found = this.enrollments.get(enrollmentId);
    if (!found) this.#refuse(op, 404, 'NOT_FOUND', `enrollment ${enrollmentId} does not exist`, { enrollmentId });
    return found;
  }

  async getEnrollment(enrollmentId: string): Promise<EnrollmentView> {
    this.#unavailable('get', { enrollmentId });
    const { e, results } = this.#get(enrollmentId, 'get');
    this.calls.push({ op: 'get', enrollmentId, ok: true });
    return {
      enrollment: { ...e, flexWh: [...e.flexWh] },
      periods: results.map((result, periodIndex) => ({ periodIndex, result: result ? { ...result } : null })),
    };
  }

  async acceptEnrollment(enrollmentId: string, body: string): Promise<unknown> {
    this.#unavailable('accept', { enrollmentId });
    const found = this.#get(enrollmentId, 'accept');
    const { payload, signature } = JSON.parse(body) as { payload: Record<string, unknown>; signature: string };
    if (!verifyPayloadSignature(payload, signature, this.publicKeyPem)) this.#refuse('accept', 401, 'BAD_SIGNATURE', 'bad signature', { enrollmentId });
    if (payload.requestCommitment !== found.e.requestCommitment) this.#refuse('accept', 422, 'RULE_VIOLATION', 'terms differ', { enrollmentId });
    // The aggregator deposits at once in this fake.
    found.e.status = 'active';
    this.calls.push({ op: 'accept', enrollmentId, ok: true });
    return { txId: this.#nextTx() };
  }

  async submitPeriod(enrollmentId: string, periodIndex: number, body: string): Promise<PeriodOutcome> {
    this.#unavailable('submit', { enrollmentId, periodIndex });
    const key = `${enrollmentId}/${periodIndex}`;
    this.bodies.set(key, [...(this.bodies.get(key) ?? []), body]);
    const found = this.#get(enrollmentId, 'submit');
    const { payload, signature, proof, publicSignals } = JSON.parse(body) as {
      payload: { periodIndex: number; submissionHash: string } & Record<string, unknown>;
      signature: string;
      proof: unknown;
      publicSignals: string[];
    };
    const at = { enrollmentId, periodIndex };
    if (!verifyPayloadSignature(payload, signature, this.publicKeyPem)) this.#refuse('submit', 401, 'BAD_SIGNATURE', 'bad signature', at);
    if (submissionHash(proof, publicSignals) !== payload.submissionHash) this.#refuse('submit', 401, 'BAD_SIGNATURE', 'hash does not cover the proof', at);
    const recorded = found.results[periodIndex];
    if (recorded) {
      if (recorded.submissionHash !== payload.submissionHash) this.#refuse('submit', 409, 'CONFLICT', 'settled by another submission', at);
      this.calls.push({ op: 'submit', ...at, ok: true });
      return { outcome: recorded.outcome, enrollmentId, periodIndex, txId: recorded.txId, replayed: true };
    }
    if (found.e.status === 'excluded') this.#refuse('submit', 422, 'EXCLUDED', 'excluded', at);
    if (found.e.status !== 'active') this.#refuse('submit', 422, 'RULE_VIOLATION', 'enrollment not active', at);
    const next = found.results.findIndex((r) => r === null);
    if (next !== periodIndex) this.#refuse('submit', 422, 'RULE_VIOLATION', `period ${next} must be settled first`, at);
    const signals = decodePublicSignals(publicSignals);
    if (signals.prevFingerprint !== found.e.chainHead) this.#refuse('submit', 409, 'CONFLICT', 'prevFingerprint is not the chain head', at);
    const valid = this.verificationKey ? await verifyDeviationProof(this.verificationKey, proof, publicSignals) : true;
    const txId = this.#nextTx();
    if (!valid) {
      found.results[periodIndex] = { outcome: 'invalidProof', submissionHash: payload.submissionHash, txId };
      found.e.status = 'excluded';
    } else {
      found.results[periodIndex] = {
        outcome: 'verified',
        submissionHash: payload.submissionHash,
        newFingerprint: signals.newFingerprint,
        deviationWh: signals.deviation,
        txId,
      };
      found.e.chainHead = signals.newFingerprint;
    }
    this.calls.push({ op: 'submit', ...at, ok: true });
    return { outcome: valid ? 'verified' : 'invalidProof', enrollmentId, periodIndex, txId, replayed: false };
  }

  async uploadReadings(meterId: string, enrollmentId: string, periodIndex: number, upload: ReadingsUpload): Promise<void> {
    this.#unavailable('upload', { enrollmentId, periodIndex });
    const key = `${meterId}/${enrollmentId}/${periodIndex}`;
    const previous = this.uploads.get(key);
    if (previous && JSON.stringify(previous) !== JSON.stringify(upload)) this.#refuse('upload', 409, 'CONFLICT', 'different readings', { enrollmentId, periodIndex });
    this.uploads.set(key, upload);
    this.calls.push({ op: 'upload', enrollmentId, periodIndex, ok: true });
  }

  /** The aggregator claims period p as missed (as after its deadline): the chain head does not move. */
  missPeriod(enrollmentId: string, periodIndex: number): void {
    const found = this.enrollments.get(enrollmentId);
    if (found) found.results[periodIndex] = { outcome: 'missed', submissionHash: '', txId: this.#nextTx() };
  }

  /** Submissions that reached the fake (accepted or refused), in order. */
  submitted(): { periodIndex: number; ok: boolean; status?: number }[] {
    return this.calls.filter((c) => c.op === 'submit').map((c) => ({ periodIndex: c.periodIndex ?? -1, ok: c.ok, ...(c.status !== undefined ? { status: c.status } : {}) }));
  }

  #nextTx(): string {
    this.#tx++;
    return `tx${String(this.#tx).padStart(4, '0')}`;
  }
}
