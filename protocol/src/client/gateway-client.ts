/**
 * The typed client of a flexproof gateway's REST API, over Node's fetch:
 *
 * - GatewayClient: an organisation user (DSO, aggregator or auditor) with a bearer token;
 * - EdgeGatewayClient: an edge client (a prosumer site) signing each request with its
 *   meter's key for the gateway's organisation (edge request signature v2).
 *
 * Both run every call under the one retry policy of transport.ts and fail with a
 * GatewayError. Path segments are percent-encoded here; the gateway validates every field.
 */
import type { KeyObject } from 'node:crypto';
import { signEdgeRequest } from '../edge-request-signing';
import { GatewayError } from './gateway-error';
import { readEventStream } from './sse';
import { JsonText, Transport, type HttpCall, type TransportOptions } from './transport';
import type {
  AccountBalance,
  AuditorKeyList,
  AuditorKeyRecord,
  BurnInput,
  ClaimedPeriod,
  Compaction,
  CreateFlexRequestInput,
  EdgeAuditorKey,
  EdgeVerificationKey,
  EnrollmentList,
  EnrollmentRecord,
  EnrollmentView,
  EventFilter,
  FlexOfferRecord,
  FlexOrderRecord,
  FlexOrderView,
  FlexRequestRecord,
  FlexRequestView,
  GatewayEvent,
  MeterRecord,
  MintInput,
  OfferEnrollmentInput,
  PeriodSettlement,
  ProposeAuditorKeyInput,
  Readiness,
  Redemption,
  RegisterMeterInput,
  SealedPeriodDocuments,
  SealedUploadAnswer,
  StoredPeriods,
  SignedAction,
  SubmitFlexOfferInput,
  Submitted,
  SubmitPeriodBody,
  SupplyAudit,
  TokenMovement,
  TokenSupply,
  TokenTransfer,
  TransferInput,
  VerificationKeyList,
  VerificationKeyRecord,
} from './types';

/** Options of one write: the Idempotency-Key to send (default: one made for the call). */
export interface WriteOptions {
  idempotencyKey?: string;
}

const seg = encodeURIComponent;

abstract class BaseClient {
  protected readonly transport: Transport;

  constructor(options: TransportOptions) {
    this.transport = new Transport(options);
  }

  protected abstract headers(attempt: { method: string; pathWithQuery: string; body: string }): Record<string, string>;

  protected async get<T>(path: string): Promise<T> {
    return this.#checked<T>(await this.transport.json(this.#call({ method: 'GET', path })), `GET ${path}`);
  }

  /** A write whose answer is not a transaction's (the sealed-period store): no Idempotency-Key, the store deduplicates. */
  protected async put<T>(path: string, body: unknown): Promise<T> {
    return this.#checked<T>(await this.transport.json(this.#call({ method: 'PUT', path, body })), `PUT ${path}`);
  }

  protected post<T>(path: string, body: unknown, options: WriteOptions = {}): Promise<Submitted<T>> {
    return this.postAnswering<Submitted<T>>(path, body, options, '{ txId, result }', (a) => typeof a.txId === 'string' && a.result !== undefined);
  }

  /**
   * A transaction whose answer has a shape of its own (`shape`, for the error message).
   * A string body is JSON text, sent as it is (see SignedBody).
   */
  protected async postAnswering<T>(path: string, body: unknown, options: WriteOptions, shape: string, isAnswer: (answer: Record<string, unknown>) => boolean): Promise<T> {
    const route = `POST ${path}`;
    const sent = typeof body === 'string' ? new JsonText(body) : body;
    const answer = this.#checked<Record<string, unknown>>(
      await this.transport.json(this.#call({ method: 'POST', path, body: sent, write: true, idempotencyKey: options.idempotencyKey })),
      route,
    );
    if (!isAnswer(answer)) throw new GatewayError('unexpected', 200, 'BAD_ANSWER', `${route}: the answer is not ${shape}`);
    return answer as T;
  }

  #call(call: Omit<HttpCall, 'headers'>): HttpCall {
    return { ...call, headers: (attempt) => this.headers(attempt) };
  }

  #checked<T>(body: unknown, route: string): T {
    if (body === null || typeof body !== 'object') {
      throw new GatewayError('unexpected', 200, 'BAD_ANSWER', `${route}: the answer is not a JSON object`);
    }
    return body as T;
  }
}

export interface GatewayClientOptions extends TransportOptions {
  /** The user's bearer token (read from a file by the caller; never logged). */
  token: string;
}

/** An organisation user's client: every organisation route of the gateway. */
export class GatewayClient extends BaseClient {
  readonly #authorization: string;

  constructor(options: GatewayClientOptions) {
    super(options);
    if (!/^[\x21-\x7e]{1,512}$/.test(options.token)) {
      throw new TypeError('token: must be 1 to 512 printable ASCII characters without spaces');
    }
    this.#authorization = `Bearer ${options.token}`;
  }

  protected headers(): Record<string, string> {
    return { authorization: this.#authorization };
  }

  // ---- tokens -----------------------------------------------------------------------

  mint(input: MintInput, options?: WriteOptions): Promise<Submitted<TokenMovement>> {
    return this.post('/v1/tokens/mint', input, options);
  }
  burn(input: BurnInput, options?: WriteOptions): Promise<Submitted<TokenMovement>> {
    return this.post('/v1/tokens/burn', input, options);
  }
  transfer(input: TransferInput, options?: WriteOptions): Promise<Submitted<TokenTransfer>> {
    return this.post('/v1/tokens/transfer', input, options);
  }
  supply(): Promise<TokenSupply> {
    return this.get('/v1/tokens/supply');
  }
  supplyAudit(): Promise<SupplyAudit> {
    return this.get('/v1/tokens/supply-audit');
  }
  /**
   * Folds the delta records of one organisation account (or of every one and of the
   * supply) into their base records. A concurrent credit makes it contend (503, retried).
   */
  compactBalances(accountId?: string, options?: WriteOptions): Promise<Submitted<Compaction>> {
    return this.post('/v1/tokens/compact', accountId === undefined ? {} : { accountId }, options);
  }
  balance(accountId: string): Promise<AccountBalance> {
    return this.get(`/v1/accounts/${seg(accountId)}/balance`);
  }
  balances(accountIds?: readonly string[]): Promise<{ accounts: AccountBalance[] }> {
    return this.get(accountIds === undefined ? '/v1/accounts' : `/v1/accounts?ids=${seg(accountIds.join(','))}`);
  }

  // ---- meters -----------------------------------------------------------------------

  registerMeter(input: RegisterMeterInput, options?: WriteOptions): Promise<Submitted<MeterRecord>> {
    return this.post('/v1/meters', input, options);
  }
  suspendMeter(meterId: string, reason: string, options?: WriteOptions): Promise<Submitted<MeterRecord>> {
    return this.post(`/v1/meters/${seg(meterId)}/suspend`, { reason }, options);
  }
  reactivateMeter(meterId: string, reason: string, options?: WriteOptions): Promise<Submitted<MeterRecord>> {
    return this.post(`/v1/meters/${seg(meterId)}/reactivate`, { reason }, options);
  }
  meter(meterId: string): Promise<MeterRecord> {
    return this.get(`/v1/meters/${seg(meterId)}`);
  }

  // ---- market -----------------------------------------------------------------------

  createFlexRequest(input: CreateFlexRequestInput, options?: WriteOptions): Promise<Submitted<FlexRequestRecord>> {
    return this.post('/v1/flex-requests', input, options);
  }
  closeFlexRequest(requestId: string, options?: WriteOptions): Promise<Submitted<FlexRequestRecord>> {
    return this.post(`/v1/flex-requests/${seg(requestId)}/close`, undefined, options);
  }
  flexRequest(requestId: string): Promise<FlexRequestView> {
    return this.get(`/v1/flex-requests/${seg(requestId)}`);
  }
  submitFlexOffer(requestId: string, input: SubmitFlexOfferInput, options?: WriteOptions): Promise<Submitted<FlexOfferRecord>> {
    return this.post(`/v1/flex-requests/${seg(requestId)}/offers`, input, options);
  }
  acceptFlexOffer(offerId: string, orderId: string, options?: WriteOptions): Promise<Submitted<FlexOrderRecord>> {
    return this.post(`/v1/flex-offers/${seg(offerId)}/order`, { orderId }, options);
  }
  settleFlexOrder(orderId: string, options?: WriteOptions): Promise<Submitted<FlexOrderRecord>> {
    return this.post(`/v1/flex-orders/${seg(orderId)}/settle`, undefined, options);
  }
  flexOrder(orderId: string): Promise<FlexOrderView> {
    return this.get(`/v1/flex-orders/${seg(orderId)}`);
  }

  // ---- enrollments ------------------------------------------------------------------

  offerEnrollment(input: OfferEnrollmentInput, options?: WriteOptions): Promise<Submitted<EnrollmentRecord>> {
    return this.post('/v1/enrollments', input, options);
  }
  offerEnrollments(offers: readonly OfferEnrollmentInput[], options?: WriteOptions): Promise<Submitted<EnrollmentList>> {
    return this.post('/v1/enrollments/batch', { offers }, options);
  }
  fundEnrollment(enrollmentId: string, options?: WriteOptions): Promise<Submitted<EnrollmentRecord>> {
    return this.post(`/v1/enrollments/${seg(enrollmentId)}/fund`, undefined, options);
  }
  fundEnrollments(enrollmentIds: readonly string[], options?: WriteOptions): Promise<Submitted<EnrollmentList>> {
    return this.post('/v1/enrollments/deposits', { enrollmentIds }, options);
  }
  cancelEnrollment(enrollmentId: string, options?: WriteOptions): Promise<Submitted<EnrollmentRecord>> {
    return this.post(`/v1/enrollments/${seg(enrollmentId)}/cancel`, undefined, options);
  }
  claimMissedPeriod(enrollmentId: string, periodIndex: number, options?: WriteOptions): Promise<Submitted<ClaimedPeriod>> {
    return this.post(`/v1/enrollments/${seg(enrollmentId)}/periods/${periodIndex}/claim`, undefined, options);
  }
  closeEnrollment(enrollmentId: string, options?: WriteOptions): Promise<Submitted<EnrollmentRecord>> {
    return this.post(`/v1/enrollments/${seg(enrollmentId)}/close`, undefined, options);
  }
  enrollment(enrollmentId: string): Promise<EnrollmentView> {
    return this.get(`/v1/enrollments/${seg(enrollmentId)}`);
  }

  // ---- verification keys -------------------------------------------------------------

  /** Send the key in canonical form (canonicalVerificationKey) so the ledger's hash is the one reviewers compute. */
  proposeVerificationKey(circuitId: string, verificationKey: unknown, options?: WriteOptions): Promise<Submitted<VerificationKeyRecord>> {
    return this.post('/v1/verification-keys', { circuitId, verificationKey }, options);
  }
  approveVerificationKey(circuitId: string, keyHash: string, options?: WriteOptions): Promise<Submitted<VerificationKeyRecord>> {
    return this.post(`/v1/verification-keys/${seg(circuitId)}/approve`, { keyHash }, options);
  }
  proposeVerificationKeyRetirement(circuitId: string, options?: WriteOptions): Promise<Submitted<VerificationKeyRecord>> {
    return this.post(`/v1/verification-keys/${seg(circuitId)}/retire`, undefined, options);
  }
  approveVerificationKeyRetirement(circuitId: string, options?: WriteOptions): Promise<Submitted<VerificationKeyRecord>> {
    return this.post(`/v1/verification-keys/${seg(circuitId)}/retire/approve`, undefined, options);
  }
  /** Every key record without its key (verificationKey(circuitId) for the key). */
  verificationKeys(): Promise<VerificationKeyList> {
    return this.get('/v1/verification-keys');
  }
  verificationKey(circuitId: string): Promise<VerificationKeyRecord> {
    return this.get(`/v1/verification-keys/${seg(circuitId)}`);
  }

  // ---- auditor keys -------------------------------------------------------------------

  proposeAuditorKey(input: ProposeAuditorKeyInput, options?: WriteOptions): Promise<Submitted<AuditorKeyRecord>> {
    return this.post('/v1/auditor-keys', input, options);
  }
  approveAuditorKey(auditorId: string, keyHash: string, options?: WriteOptions): Promise<Submitted<AuditorKeyRecord>> {
    return this.post(`/v1/auditor-keys/${seg(auditorId)}/approve`, { keyHash }, options);
  }
  proposeAuditorKeyRetirement(auditorId: string, options?: WriteOptions): Promise<Submitted<AuditorKeyRecord>> {
    return this.post(`/v1/auditor-keys/${seg(auditorId)}/retire`, undefined, options);
  }
  approveAuditorKeyRetirement(auditorId: string, options?: WriteOptions): Promise<Submitted<AuditorKeyRecord>> {
    return this.post(`/v1/auditor-keys/${seg(auditorId)}/retire/approve`, undefined, options);
  }
  auditorKeys(): Promise<AuditorKeyList> {
    return this.get('/v1/auditor-keys');
  }
  auditorKey(auditorId: string): Promise<AuditorKeyRecord> {
    return this.get(`/v1/auditor-keys/${seg(auditorId)}`);
  }

  // ---- sealed periods (the off-chain store) ---------------------------------------------

  /** Auditors: a meter's sealed documents of one enrollment (ciphertext, to open with the auditor's own key). */
  sealedPeriods(meterId: string, enrollmentId: string): Promise<SealedPeriodDocuments> {
    return this.get(`/v1/meters/${seg(meterId)}/sealed-periods?enrollmentId=${seg(enrollmentId)}`);
  }
  /** Which periods of an enrollment have a sealed document, with its content hash (no document). */
  storedPeriods(enrollmentId: string): Promise<StoredPeriods> {
    return this.get(`/v1/enrollments/${seg(enrollmentId)}/stored-periods`);
  }

  // ---- health ---------------------------------------------------------------------------

  /** GET /readyz: the ledger and the store both answer. Not ready is a 503, so the retry policy waits for readiness. */
  ready(): Promise<Readiness> {
    return this.get('/readyz');
  }

  // ---- events -------------------------------------------------------------------------

  /**
   * The chaincode events, as the gateway streams them: `ready` first, then one per event,
   * until `signal` aborts or the gateway ends the stream (an `error` event from the gateway
   * ends it with a GatewayError, kind unavailable). Opening the stream follows the retry
   * policy; a stream that breaks later is not reopened here (resume with `fromBlock`).
   */
  async *events(filter: EventFilter = {}, signal?: AbortSignal): AsyncGenerator<GatewayEvent> {
    const query = new URLSearchParams();
    if (filter.enrollmentId !== undefined) query.set('enrollmentId', filter.enrollmentId);
    if (filter.meterId !== undefined) query.set('meterId', filter.meterId);
    if (filter.fromBlock !== undefined) query.set('fromBlock', filter.fromBlock);
    const path = `/v1/events${query.size > 0 ? `?${query.toString()}` : ''}`;
    const response = await this.transport.open({
      method: 'GET',
      path,
      accept: 'text/event-stream',
      headers: () => this.headers(),
      signal,
      streaming: true,
    });
    if (!response.body) throw new GatewayError('unexpected', response.status, 'BAD_ANSWER', `GET ${path}: the answer has no body`);
    try {
      for await (const event of readEventStream(response.body)) {
        if (event.event === 'error') {
          const d = (event.data ?? {}) as { code?: unknown; message?: unknown };
          const code = typeof d.code === 'string' ? d.code : 'STREAM_ERROR';
          throw new GatewayError('unavailable', 200, code, `GET ${path}: the event stream ended with ${code}${typeof d.message === 'string' ? `: ${d.message}` : ''}`);
        }
        yield event;
      }
    } catch (error) {
      if (signal?.aborted) return;
      if (error instanceof GatewayError) throw error;
      throw new GatewayError('unavailable', 200, 'CONNECTION', `GET ${path}: the event stream broke (${error instanceof Error ? error.message : String(error)})`);
    }
  }
}

export interface EdgeGatewayClientOptions extends TransportOptions {
  meterId: string;
  /** The meter's private key (the one whose public key the DSO registered). */
  privateKey: KeyObject;
  /** MSP id of the organisation whose gateway this is: the signature names it. */
  gatewayMspId: string;
}

/**
 * A signed body (AcceptEnrollment, SubmitPeriod, Withdraw): the object, or its JSON text
 * as kept by the caller, sent byte for byte (a site resends the very bytes it stored).
 */
export type SignedBody<T> = T | string;

/** An edge client's calls, each signed with the meter's key. */
export class EdgeGatewayClient extends BaseClient {
  readonly #meterId: string;
  readonly #privateKey: KeyObject;
  readonly #gatewayMspId: string;

  constructor(options: EdgeGatewayClientOptions) {
    super(options);
    if (options.privateKey.type !== 'private') throw new TypeError('privateKey: must be a private key');
    this.#meterId = options.meterId;
    this.#privateKey = options.privateKey;
    this.#gatewayMspId = options.gatewayMspId;
    // Fail at construction, not at the first request, for an MSP id that cannot be signed.
    signEdgeRequest({ gatewayMspId: options.gatewayMspId, method: 'GET', pathWithQuery: '/' }, options.meterId, options.privateKey);
  }

  protected headers(attempt: { method: string; pathWithQuery: string; body: string }): Record<string, string> {
    return signEdgeRequest({ gatewayMspId: this.#gatewayMspId, ...attempt }, this.#meterId, this.#privateKey);
  }

  get meterId(): string {
    return this.#meterId;
  }

  ownMeter(): Promise<MeterRecord> {
    return this.get(`/v1/edge/meters/${seg(this.#meterId)}`);
  }
  enrollment(enrollmentId: string): Promise<EnrollmentView> {
    return this.get(`/v1/edge/enrollments/${seg(enrollmentId)}`);
  }
  /** The key of the circuit of one of this meter's enrollments. */
  enrollmentVerificationKey(enrollmentId: string): Promise<EdgeVerificationKey> {
    return this.get(`/v1/edge/enrollments/${seg(enrollmentId)}/verification-key`);
  }
  /**
   * The key the ledger holds for a circuit id, before any enrollment names it (installing
   * a ceremony bundle at a site: compare keyHash with the bundle's canonical key hash).
   */
  verificationKeyFor(circuitId: string): Promise<EdgeVerificationKey> {
    return this.get(`/v1/edge/verification-keys/${seg(circuitId)}`);
  }
  activeAuditorKeys(): Promise<{ keys: EdgeAuditorKey[] }> {
    return this.get('/v1/edge/auditor-keys');
  }
  acceptEnrollment(enrollmentId: string, body: SignedBody<SignedAction>): Promise<Submitted<EnrollmentRecord>> {
    return this.post(`/v1/edge/enrollments/${seg(enrollmentId)}/accept`, body);
  }
  /** Settles the period once; the identical body again answers the recorded outcome (`replayed`). */
  submitPeriod(enrollmentId: string, periodIndex: number, body: SignedBody<SubmitPeriodBody>): Promise<PeriodSettlement> {
    return this.postAnswering(`/v1/edge/enrollments/${seg(enrollmentId)}/periods/${periodIndex}`, body, {}, '{ outcome, txId, ... }', (a) => typeof a.outcome === 'string' && typeof a.txId === 'string');
  }
  withdraw(body: SignedBody<SignedAction>): Promise<Submitted<Redemption>> {
    return this.post('/v1/edge/withdrawals', body);
  }
  /**
   * Stores a period's sealed document (ciphertext) once: 'created', or 'unchanged' for the
   * very document stored; another document for the period is refused (409 CONFLICT).
   */
  uploadSealedPeriod(enrollmentId: string, periodIndex: number, jwe: unknown): Promise<SealedUploadAnswer> {
    return this.put(`/v1/edge/meters/${seg(this.#meterId)}/periods/${periodIndex}/sealed?enrollmentId=${seg(enrollmentId)}`, { jwe });
  }
  /** This meter's sealed documents of one enrollment, as stored. */
  sealedPeriods(enrollmentId: string): Promise<SealedPeriodDocuments> {
    return this.get(`/v1/edge/meters/${seg(this.#meterId)}/sealed-periods?enrollmentId=${seg(enrollmentId)}`);
  }
}
