/**
 * FakeGateway: a GatewayPort that behaves like the gateway in front of the chaincode,
 * in memory. It checks the prosumer signature and the ledger the payload names, the
 * order of periods and the chain head, settles each period once (identical resubmission
 * returns the recorded outcome, another body is a 409), serves the ledger's verification
 * key record (which a test may make lie), verifies proofs with the real verifier against
 * that key when asked, and can be taken down (503 with Retry-After) to simulate an outage,
 * wholly (`down`) or for some operations (`downOps`).
 * As the store behind the gateway it keeps sealed period documents (shape-checked like the
 * gateway, never opened: 'created', 'unchanged', 409 for another document) and serves the
 * ledger's auditor keys (`auditorKeys`; `addAuditor` makes a real one, or one that lies).
 */
import {
  DEFAULT_LEDGER_TARGET,
  checkSealedShape,
  generateSealingKeyPair,
  sealedContentHash,
  sealingKeyHash,
  verificationKeyHash,
  verifyPayloadSignature,
  type EnrollmentTerms,
  type LedgerTarget,
  type SealedPeriodJwe,
} from '@flexproof/protocol';
import {
  decodePublicSignals,
  submissionHash,
  verifyDeviationProof,
  type VerificationKey,
} from '@flexproof/circuits';
import {
  GatewayError,
  type AuditorKeyEntry,
  type EnrollmentView,
  type GatewayPort,
  type LedgerVerificationKey,
  type PeriodOutcome,
  type StoredSealedPeriod,
} from '@flexproof/edge-client';

export interface StoredDocument extends StoredSealedPeriod {
  meterId: string;
  jwe: SealedPeriodJwe;
}

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

export interface FakeGatewayOptions {
  /** The key the fake ledger holds for the circuit (the record's keyHash is computed from it). */
  ledgerKey: VerificationKey;
  circuitId: string;
  /** Verify every proof against the ledger key, as the chaincode does (invalid: excluded). */
  verifyProofs?: boolean;
  ledger?: LedgerTarget;
}

export class FakeGateway implements GatewayPort {
  down = false;
  /** Operations answered 503 while the others work: get, accept, submit, upload, key, withdraw, auditor-keys, sealed-get. */
  readonly downOps = new Set<string>();
  /** What GET .../verification-key answers; a test may replace it to lie. */
  keyRecord: LedgerVerificationKey;
  readonly withdrawals: Record<string, unknown>[] = [];
  readonly #verifyProofs: boolean;
  readonly #ledger: LedgerTarget;
  readonly enrollments = new Map<string, { e: FakeEnrollment; results: (RecordedResult | null)[] }>();
  /** Every call, in order, for assertions. */
  readonly calls: { op: string; enrollmentId?: string; periodIndex?: number; ok: boolean; status?: number }[] = [];
  readonly bodies = new Map<string, string[]>();
  /** The store: sealed documents by `meterId/enrollmentId/periodIndex`. */
  readonly uploads = new Map<string, StoredDocument>();
  /** The JSON text of every PUT .../sealed body (what HttpGateway sends: `{ jwe }`), in order. */
  readonly uploadBodies: string[] = [];
  /** What GET /v1/edge/auditor-keys answers (the ledger's active auditor keys, as the gateway relays them). */
  auditorKeys: AuditorKeyEntry[] = [];
  /** Accept payloads that passed the checks, in order. */
  readonly accepted: Record<string, unknown>[] = [];
  #tx = 0;

  constructor(
    private readonly publicKeyPem: string,
    options: FakeGatewayOptions,
  ) {
    this.keyRecord = { circuitId: options.circuitId, status: 'active', keyHash: verificationKeyHash(options.ledgerKey), verificationKey: options.ledgerKey };
    this.#verifyProofs = options.verifyProofs === true;
    this.#ledger = options.ledger ?? DEFAULT_LEDGER_TARGET;
  }

  addEnrollment(e: FakeEnrollment): void {
    this.enrollments.set(e.enrollmentId, { e, results: new Array<RecordedResult | null>(24).fill(null) });
  }

  #unavailable(op: string, extra: Record<string, unknown> = {}): void {
    if (!this.down && !this.downOps.has(op)) return;
    this.calls.push({ op, ok: false, status: 503, ...extra });
    throw new GatewayError({ status: 503, code: 'LEDGER_UNAVAILABLE', message: 'the peer is down', retryable: true, retryAfterMs: 0 });
  }

  #refuse(op: string, status: number, code: string, message: string, extra: Record<string, unknown> = {}): never {
    this.calls.push({ op, ok: false, status, ...extra });
    throw new GatewayError({ status, code, message, retryable: false });
  }

  /** As the chaincode: a payload signed for another channel or chaincode is refused. */
  #checkLedger(op: string, payload: Record<string, unknown>, extra: Record<string, unknown>): void {
    if (payload.channel !== this.#ledger.channel) this.#refuse(op, 401, 'BAD_SIGNATURE', `payload.channel: signed for channel ${String(payload.channel)}`, extra);
    if (payload.chaincode !== this.#ledger.chaincode) this.#refuse(op, 401, 'BAD_SIGNATURE', `payload.chaincode: signed for chaincode ${String(payload.chaincode)}`, extra);
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
    this.#checkLedger('accept', payload, { enrollmentId });
    if (payload.type !== 'flexproof.acceptEnrollment.v2') this.#refuse('accept', 401, 'BAD_SIGNATURE', 'payload.type', { enrollmentId });
    if (found.e.status !== 'offered') this.#refuse('accept', 422, 'RULE_VIOLATION', `enrollment is ${found.e.status}`, { enrollmentId });
    // The chaincode compares every signed term with its record.
    for (const [k, v] of Object.entries(found.e)) {
      if (k === 'status' || k === 'chainHead') continue;
      if (JSON.stringify(payload[k]) !== JSON.stringify(v)) this.#refuse('accept', 422, 'RULE_VIOLATION', `payload.${k}: differs from the offer`, { enrollmentId });
    }
    this.accepted.push(payload);
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
    this.#checkLedger('submit', payload, at);
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
    const valid = this.#verifyProofs ? await verifyDeviationProof(this.keyRecord.verificationKey, proof, publicSignals).catch(() => false) : true;
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

  async uploadSealedPeriod(meterId: string, enrollmentId: string, periodIndex: number, jwe: SealedPeriodJwe): Promise<{ stored: 'created' | 'unchanged' }> {
    this.#unavailable('upload', { enrollmentId, periodIndex });
    const at = { enrollmentId, periodIndex };
    this.uploadBodies.push(JSON.stringify({ jwe }));
    let checked: SealedPeriodJwe;
    try {
      // As the gateway: the shape and the place in the protected header, no key, no decryption.
      checked = checkSealedShape(jwe, { meterId, enrollmentId, periodIndex });
    } catch (error) {
      this.#refuse('upload', 400, 'BAD_INPUT', (error as Error).message, at);
    }
    const key = `${meterId}/${enrollmentId}/${periodIndex}`;
    const contentHash = sealedContentHash(checked);
    const previous = this.uploads.get(key);
    if (previous) {
      if (previous.contentHash !== contentHash) this.#refuse('upload', 409, 'CONFLICT', 'another document is stored for this period', at);
      this.calls.push({ op: 'upload', ...at, ok: true });
      return { stored: 'unchanged' };
    }
    this.uploads.set(key, { meterId, enrollmentId, periodIndex, jwe: checked, contentHash, uploadedAt: new Date().toISOString() });
    this.calls.push({ op: 'upload', ...at, ok: true });
    return { stored: 'created' };
  }

  async getAuditorKeys(): Promise<{ keys: AuditorKeyEntry[] }> {
    this.#unavailable('auditor-keys');
    this.calls.push({ op: 'auditor-keys', ok: true });
    return { keys: structuredClone(this.auditorKeys) };
  }

  async getSealedPeriods(meterId: string, enrollmentId: string): Promise<{ meterId: string; periods: StoredSealedPeriod[] }> {
    this.#unavailable('sealed-get', { enrollmentId });
    this.calls.push({ op: 'sealed-get', enrollmentId, ok: true });
    const periods = [...this.uploads.values()]
      .filter((d) => d.meterId === meterId && d.enrollmentId === enrollmentId)
      .sort((a, b) => a.periodIndex - b.periodIndex)
      .map(({ enrollmentId: e, periodIndex, jwe, contentHash, uploadedAt }) => ({ enrollmentId: e, periodIndex, jwe: structuredClone(jwe), contentHash, uploadedAt }));
    return { meterId, periods };
  }

  /**
   * Lists an active auditor key (a fresh P-256 pair) and returns its private key PEM.
   * `lie`: the record's keyHash is not the hash of its key (a gateway that swapped the key).
   */
  addAuditor(auditorId: string, options: { lie?: boolean } = {}): { privateKeyPem: string; publicKeyPem: string; keyHash: string } {
    const pair = generateSealingKeyPair();
    const keyHash = options.lie ? sealingKeyHash(generateSealingKeyPair().publicKeyPem) : sealingKeyHash(pair.publicKeyPem);
    this.auditorKeys.push({ auditorId, publicKeyPem: pair.publicKeyPem, keyHash, status: 'active' });
    return { ...pair, keyHash };
  }

  async getVerificationKey(enrollmentId: string): Promise<LedgerVerificationKey> {
    this.#unavailable('key', { enrollmentId });
    this.#get(enrollmentId, 'key');
    this.calls.push({ op: 'key', enrollmentId, ok: true });
    return structuredClone(this.keyRecord);
  }

  async withdraw(body: string): Promise<unknown> {
    this.#unavailable('withdraw');
    const { payload, signature } = JSON.parse(body) as { payload: Record<string, unknown>; signature: string };
    if (!verifyPayloadSignature(payload, signature, this.publicKeyPem)) this.#refuse('withdraw', 401, 'BAD_SIGNATURE', 'bad signature');
    this.#checkLedger('withdraw', payload, {});
    this.withdrawals.push(payload);
    this.calls.push({ op: 'withdraw', ok: true });
    return { txId: this.#nextTx() };
  }

  /** Signed actions that reached the fake and passed its checks (accept, submit, withdraw). */
  signedActions(): number {
    return this.accepted.length + this.withdrawals.length + this.calls.filter((c) => c.op === 'submit' && c.ok).length;
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
