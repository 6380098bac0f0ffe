/**
 * The two gateway routes an audit reads, with an auditor's bearer token:
 *   GET /v1/enrollments/:id                               the ledger's enrollment view
 *   GET /v1/meters/:meterId/sealed-periods?enrollmentId=  the stored (ciphertext) documents
 * A 503 or 429 (the gateway or its ledger is busy) is retried after its Retry-After, and a
 * connection failure after a growing backoff, a few times. Other answers are final.
 * The token is sent, never printed; answers are checked before the audit uses them.
 */
import type { LedgerPeriod } from './audit';

export type AuditGatewayErrorCode = 'CONNECTION' | 'HTTP' | 'BAD_ANSWER' | 'BAD_URL';

export class AuditGatewayError extends Error {
  override readonly name = 'AuditGatewayError';
  constructor(
    readonly code: AuditGatewayErrorCode,
    message: string,
    readonly status?: number,
    /** The gateway's error code (NOT_FOUND, UNAUTHORIZED, ...) when it gave one. */
    readonly gatewayCode?: string,
  ) {
    super(message);
  }
}

export interface EnrollmentLedgerView {
  enrollment: { enrollmentId: string; meterId: string; circuitId?: string; requestCommitment?: string };
  periods: LedgerPeriod[];
}

export interface StoredSealedPeriod {
  enrollmentId: string;
  periodIndex: number;
  jwe: unknown;
  contentHash?: string;
  uploadedAt?: string;
}

export interface AuditGatewayOptions {
  baseUrl: string;
  token: string;
  /** Tries per request, the first included (default 4). */
  attempts?: number;
  /** First backoff after a connection failure, doubled each time (default 500 ms). */
  backoffMs?: number;
  /** Longest wait a Retry-After may ask for (default 30 s). */
  maxRetryAfterMs?: number;
  /** Time limit of one request (default 30 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Where retries are reported (one line each). */
  notice?: (line: string) => void;
}

/** The gateway URL as an origin plus path prefix, refusing credentials in it (they go in the token file). */
export function parseGatewayUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AuditGatewayError('BAD_URL', 'gateway must be an http(s) URL such as http://127.0.0.1:8081');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AuditGatewayError('BAD_URL', 'gateway must be an http(s) URL such as http://127.0.0.1:8081');
  }
  if (url.username !== '' || url.password !== '') {
    throw new AuditGatewayError('BAD_URL', 'gateway URL must not hold credentials (the token goes in the token file)');
  }
  if (url.search !== '' || url.hash !== '') throw new AuditGatewayError('BAD_URL', 'gateway URL must not have a query or fragment');
  return url;
}

export class AuditGateway {
  readonly #base: URL;
  readonly #token: string;
  readonly #attempts: number;
  readonly #backoffMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #notice: (line: string) => void;

  constructor(options: AuditGatewayOptions) {
    this.#base = parseGatewayUrl(options.baseUrl);
    this.#token = options.token;
    this.#attempts = options.attempts ?? 4;
    this.#backoffMs = options.backoffMs ?? 500;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#fetch = options.fetch ?? fetch;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#notice = options.notice ?? (() => undefined);
  }

  async enrollmentView(enrollmentId: string): Promise<EnrollmentLedgerView> {
    const route = `/v1/enrollments/${encodeURIComponent(enrollmentId)}`;
    return readEnrollmentView(await this.#get(route), route, enrollmentId);
  }

  async sealedPeriods(meterId: string, enrollmentId: string): Promise<StoredSealedPeriod[]> {
    const route = `/v1/meters/${encodeURIComponent(meterId)}/sealed-periods?enrollmentId=${encodeURIComponent(enrollmentId)}`;
    return readSealedPeriods(await this.#get(route), route, meterId);
  }

  async #get(route: string): Promise<unknown> {
    const url = new URL(this.#base.pathname.replace(/\/+$/, '') + route, this.#base);
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.#attempts;
      let response: Response;
      try {
        response = await this.#fetch(url, {
          headers: { authorization: `Bearer ${this.#token}`, accept: 'application/json' },
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
      } catch (error) {
        const why = connectionReason(error);
        if (last) throw new AuditGatewayError('CONNECTION', `GET ${route}: cannot reach the gateway at ${this.#base.origin} (${why})`);
        const wait = this.#backoffMs * 2 ** (attempt - 1);
        this.#notice(`GET ${route}: ${why}; retrying in ${seconds(wait)} (attempt ${attempt + 1} of ${this.#attempts})`);
        await this.#sleep(wait);
        continue;
      }
      if ((response.status === 503 || response.status === 429) && !last) {
        const wait = this.#retryAfter(response.headers.get('retry-after'), attempt);
        await response.body?.cancel();
        this.#notice(`GET ${route}: the gateway answered ${response.status}; retrying in ${seconds(wait)} (attempt ${attempt + 1} of ${this.#attempts})`);
        await this.#sleep(wait);
        continue;
      }
      const text = await response.text();
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (!response.ok) {
        const err = isRecord(body) ? body : {};
        const gatewayCode = typeof err.code === 'string' ? err.code.slice(0, 64) : undefined;
        const message = typeof err.message === 'string' ? `: ${err.message.slice(0, 300)}` : '';
        throw new AuditGatewayError('HTTP', `GET ${route} answered ${response.status}${gatewayCode ? ` ${gatewayCode}` : ''}${message}`, response.status, gatewayCode);
      }
      if (body === undefined) throw new AuditGatewayError('BAD_ANSWER', `GET ${route} answered ${response.status} without a JSON body`);
      return body;
    }
  }

  #retryAfter(header: string | null, attempt: number): number {
    const asSeconds = header !== null && /^[0-9]{1,6}$/.test(header.trim()) ? Number(header.trim()) * 1000 : undefined;
    return Math.min(asSeconds ?? this.#backoffMs * 2 ** (attempt - 1), this.#maxRetryAfterMs);
  }
}

function readEnrollmentView(body: unknown, route: string, enrollmentId: string): EnrollmentLedgerView {
  const bad = (field: string, rule: string) => new AuditGatewayError('BAD_ANSWER', `GET ${route}: the answer's ${field} ${rule}`);
  if (!isRecord(body)) throw bad('body', 'must be an enrollment view object');
  const e = body.enrollment;
  if (!isRecord(e)) throw bad('enrollment', 'must be an object');
  if (e.enrollmentId !== enrollmentId) throw bad('enrollment.enrollmentId', 'must be the enrollment asked for');
  if (typeof e.meterId !== 'string' || e.meterId === '') throw bad('enrollment.meterId', 'must be a non-empty string');
  if (!Array.isArray(body.periods)) throw bad('periods', 'must be an array');
  const periods = (body.periods as unknown[]).map((p, i): LedgerPeriod => {
    if (!isRecord(p)) throw bad(`periods[${i}]`, 'must be an object');
    if (!Number.isInteger(p.periodIndex)) throw bad(`periods[${i}].periodIndex`, 'must be an integer');
    const r = p.result;
    if (r === null || r === undefined) return { periodIndex: p.periodIndex as number, result: null };
    if (!isRecord(r) || typeof r.outcome !== 'string') throw bad(`periods[${i}].result`, 'must be null or an object with an outcome');
    const result: NonNullable<LedgerPeriod['result']> = { outcome: r.outcome };
    for (const name of ['prevFingerprint', 'newFingerprint', 'deviationWh', 'direction'] as const) {
      const v = r[name];
      if (v === undefined) continue;
      if (typeof v !== 'string') throw bad(`periods[${i}].result.${name}`, 'must be a decimal string');
      result[name] = v;
    }
    return { periodIndex: p.periodIndex as number, result };
  });
  const terms: { circuitId?: string; requestCommitment?: string } = {};
  for (const name of ['circuitId', 'requestCommitment'] as const) {
    const v = e[name];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '') throw bad(`enrollment.${name}`, 'must be a non-empty string');
    terms[name] = v;
  }
  return { enrollment: { enrollmentId, meterId: e.meterId, ...terms }, periods };
}

function readSealedPeriods(body: unknown, route: string, meterId: string): StoredSealedPeriod[] {
  const bad = (field: string, rule: string) => new AuditGatewayError('BAD_ANSWER', `GET ${route}: the answer's ${field} ${rule}`);
  if (!isRecord(body)) throw bad('body', 'must be { meterId, periods }');
  if (body.meterId !== meterId) throw bad('meterId', 'must be the meter asked for');
  if (!Array.isArray(body.periods)) throw bad('periods', 'must be an array');
  return (body.periods as unknown[]).map((p, i): StoredSealedPeriod => {
    if (!isRecord(p)) throw bad(`periods[${i}]`, 'must be an object');
    if (typeof p.enrollmentId !== 'string') throw bad(`periods[${i}].enrollmentId`, 'must be a string');
    if (!Number.isInteger(p.periodIndex)) throw bad(`periods[${i}].periodIndex`, 'must be an integer');
    // The document itself is judged by the audit (a bad one is that period's verdict,
    // unreadable), not here: one altered document must not stop the whole audit.
    const out: StoredSealedPeriod = { enrollmentId: p.enrollmentId, periodIndex: p.periodIndex as number, jwe: p.jwe };
    if (typeof p.contentHash === 'string') out.contentHash = p.contentHash;
    if (typeof p.uploadedAt === 'string') out.uploadedAt = p.uploadedAt;
    return out;
  });
}

function connectionReason(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'no answer in time';
  // undici reports the socket error as the cause of "fetch failed".
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  return 'connection failed';
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 1000 ? 1 : 0)}s`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
