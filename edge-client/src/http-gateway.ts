/** The gateway's edge API over HTTP(S) with Node's fetch, every request signed with the site key. */
import type { KeyObject } from 'node:crypto';
import type { SealedPeriodJwe } from '@flexproof/protocol';
import { edgeRequestHeaders } from './edge-request-signing';
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
  readonly #baseUrl: string;
  readonly #meterId: string;
  readonly #privateKey: KeyObject;
  readonly #gatewayMspId: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: HttpGatewayOptions) {
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#meterId = options.meterId;
    this.#privateKey = options.privateKey;
    this.#gatewayMspId = options.gatewayMspId;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#fetch = options.fetch ?? fetch;
  }

  async getEnrollment(enrollmentId: string): Promise<EnrollmentView> {
    return (await this.#call('GET', `/v1/edge/enrollments/${enc(enrollmentId)}`)) as EnrollmentView;
  }

  async acceptEnrollment(enrollmentId: string, body: string): Promise<unknown> {
    return this.#call('POST', `/v1/edge/enrollments/${enc(enrollmentId)}/accept`, body);
  }

  async submitPeriod(enrollmentId: string, periodIndex: number, body: string): Promise<PeriodOutcome> {
    return (await this.#call('POST', `/v1/edge/enrollments/${enc(enrollmentId)}/periods/${periodIndex}`, body)) as PeriodOutcome;
  }

  async uploadSealedPeriod(meterId: string, enrollmentId: string, periodIndex: number, jwe: SealedPeriodJwe): Promise<{ stored: 'created' | 'unchanged' }> {
    const body = JSON.stringify({ jwe });
    const answer = (await this.#call('PUT', `/v1/edge/meters/${enc(meterId)}/periods/${periodIndex}/sealed?enrollmentId=${enc(enrollmentId)}`, body)) as
      | { stored?: unknown }
      | undefined;
    return { stored: answer?.stored === 'unchanged' ? 'unchanged' : 'created' };
  }

  async getAuditorKeys(): Promise<{ keys: AuditorKeyEntry[] }> {
    return (await this.#call('GET', '/v1/edge/auditor-keys')) as { keys: AuditorKeyEntry[] };
  }

  async getSealedPeriods(meterId: string, enrollmentId: string): Promise<{ meterId: string; periods: StoredSealedPeriod[] }> {
    return (await this.#call('GET', `/v1/edge/meters/${enc(meterId)}/sealed-periods?enrollmentId=${enc(enrollmentId)}`)) as {
      meterId: string;
      periods: StoredSealedPeriod[];
    };
  }

  async getVerificationKey(enrollmentId: string): Promise<LedgerVerificationKey> {
    return (await this.#call('GET', `/v1/edge/enrollments/${enc(enrollmentId)}/verification-key`)) as LedgerVerificationKey;
  }

  async withdraw(body: string): Promise<unknown> {
    return this.#call('POST', '/v1/edge/withdrawals', body);
  }

  async #call(method: string, pathWithQuery: string, body?: string): Promise<unknown> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...edgeRequestHeaders({ method, pathWithQuery, body: body ?? '' }, this.#meterId, this.#privateKey, { gatewayMspId: this.#gatewayMspId }),
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.#fetch(`${this.#baseUrl}${pathWithQuery}`, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (cause) {
      const timedOut = (cause as Error).name === 'TimeoutError';
      throw new GatewayError({
        code: timedOut ? 'TIMEOUT' : 'UNREACHABLE',
        message: timedOut ? `gateway did not answer ${method} in ${this.#timeoutMs} ms` : `gateway unreachable (${networkCause(cause)})`,
        retryable: true,
        cause,
      });
    }
    const text = await response.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (response.ok) return parsed;
    const error = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { code?: unknown; message?: unknown; txId?: unknown };
    const retryAfterHeader = response.headers.get('retry-after');
    const retryAfter = retryAfterHeader === null ? Number.NaN : Number(retryAfterHeader);
    throw new GatewayError({
      status: response.status,
      code: typeof error.code === 'string' ? error.code : `HTTP_${response.status}`,
      message: typeof error.message === 'string' ? error.message : `gateway answered ${response.status}`,
      retryable: isRetryableStatus(response.status),
      ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
      ...(typeof error.txId === 'string' ? { txId: error.txId } : {}),
    });
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function networkCause(cause: unknown): string {
  const inner = (cause as { cause?: { code?: unknown } }).cause;
  return typeof inner?.code === 'string' ? inner.code : (cause as Error).message;
}
