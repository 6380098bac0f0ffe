/**
 * The gateway's edge API, as a GatewayPort, over the protocol's typed client
 * (EdgeGatewayClient: requests signed with the site key, paths encoded, answers and
 * failures read in one place). What is the edge's own is the mapping of a failure to
 * the edge's GatewayError, which failover-gateway.ts and the pipeline decide on:
 *
 *   retryable      no answer, a timeout, a 503, 408, 429, any other 5xx or an answer that is
 *                  not the route's JSON: this gateway cannot help now; try another one, or
 *                  this one later with the same body
 *   not retryable  any other 4xx: the gateway (or the ledger) refused the request as sent
 *
 * One attempt per call: the retrying is done above, by the failover to the next gateway
 * and the pipeline's backoff (which honours the gateway's Retry-After, passed on as
 * retryAfterMs). Retrying inside would keep a site waiting on a gateway that is down
 * while the other organisation's answers.
 */
import type { KeyObject } from 'node:crypto';
import { EdgeGatewayClient, GatewayError as ClientError, parseGatewayUrl, type SealedPeriodJwe } from '@flexproof/protocol';
import {
  GatewayError,
  isRetryableStatus,
  type EnrollmentView,
  type GatewayPort,
  type LedgerVerificationKey,
  type AuditorKeyEntry,
  type PeriodOutcome,
  type StoredSealedPeriod,
} from './gateway-port';

export interface HttpGatewayOptions {
  baseUrl: string;
  meterId: string;
  privateKey: KeyObject;
  /** MSP id of the organisation whose gateway `baseUrl` is: every request signature names it. */
  gatewayMspId: string;
  /** Per request; a timeout is retryable. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class HttpGateway implements GatewayPort {
  readonly #meterId: string;
  readonly #client: EdgeGatewayClient | GatewayError;

  constructor(options: HttpGatewayOptions) {
    const timeoutMs = options.timeoutMs ?? 30_000;
    this.#meterId = options.meterId;
    try {
      parseGatewayUrl(options.baseUrl);
    } catch (error) {
      // A URL the client cannot use (e.g. one with credentials, which fetch refuses) makes
      // this one gateway unusable, not the site: its calls fail as unreachable, so the
      // failover moves on to the next gateway. The message names the rule, never the URL.
      this.#client = new GatewayError({ code: 'UNREACHABLE', message: `this gateway cannot be called: ${(error as Error).message}`, retryable: true, cause: error });
      return;
    }
    this.#client = new EdgeGatewayClient({
      baseUrl: options.baseUrl,
      meterId: options.meterId,
      privateKey: options.privateKey,
      gatewayMspId: options.gatewayMspId,
      retry: { maxAttempts: 1, attemptTimeoutMs: timeoutMs },
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
  }

  getEnrollment(enrollmentId: string): Promise<EnrollmentView> {
    return edge(() => this.#usable().enrollment(enrollmentId));
  }

  acceptEnrollment(enrollmentId: string, body: string): Promise<unknown> {
    return edge(() => this.#usable().acceptEnrollment(enrollmentId, body));
  }

  submitPeriod(enrollmentId: string, periodIndex: number, body: string): Promise<PeriodOutcome> {
    return edge(() => this.#usable().submitPeriod(enrollmentId, periodIndex, body));
  }

  async uploadSealedPeriod(meterId: string, enrollmentId: string, periodIndex: number, jwe: SealedPeriodJwe): Promise<{ stored: 'created' | 'unchanged' }> {
    this.#ownMeter(meterId);
    const answer = await edge(() => this.#usable().uploadSealedPeriod(enrollmentId, periodIndex, jwe));
    return { stored: answer.stored === 'unchanged' ? 'unchanged' : 'created' };
  }

  getAuditorKeys(): Promise<{ keys: AuditorKeyEntry[] }> {
    return edge(() => this.#usable().activeAuditorKeys());
  }

  async getSealedPeriods(meterId: string, enrollmentId: string): Promise<{ meterId: string; periods: StoredSealedPeriod[] }> {
    this.#ownMeter(meterId);
    return edge(() => this.#usable().sealedPeriods(enrollmentId));
  }

  getVerificationKey(enrollmentId: string): Promise<LedgerVerificationKey> {
    return edge(() => this.#usable().enrollmentVerificationKey(enrollmentId));
  }

  withdraw(body: string): Promise<unknown> {
    return edge(() => this.#usable().withdraw(body));
  }

  #usable(): EdgeGatewayClient {
    if (this.#client instanceof GatewayError) throw this.#client;
    return this.#client;
  }

  /** The routes serve the signing meter's own data only: another meter id is a caller's bug, refused before sending. */
  #ownMeter(meterId: string): void {
    if (meterId !== this.#meterId) {
      throw new GatewayError({ code: 'FORBIDDEN', message: `this gateway client signs for meter ${this.#meterId}, not ${meterId}`, retryable: false });
    }
  }
}

/** The call's answer, or its failure as the edge's GatewayError. */
async function edge<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw error instanceof ClientError ? toEdgeError(error) : error;
  }
}

function toEdgeError(error: ClientError): GatewayError {
  return new GatewayError({
    ...(error.status > 0 ? { status: error.status } : {}),
    code: error.code === 'CONNECTION' ? 'UNREACHABLE' : error.code,
    message: error.message,
    retryable: error.kind !== 'refused' || isRetryableStatus(error.status),
    ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    ...(error.txId !== undefined ? { txId: error.txId } : {}),
    cause: error,
  });
}
