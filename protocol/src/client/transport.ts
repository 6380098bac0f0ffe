/**
 * One HTTP exchange with a gateway under the one retry policy of every flexproof client:
 *
 * - 503 (the gateway or its ledger is busy or down) is retried after its Retry-After
 *   (seconds), or after a growing backoff when it gives none;
 * - a lost connection, a refused connection or a timeout is retried after a growing backoff;
 * - nothing else is retried: a 4xx will not change by asking again, and a 500 or 502 is
 *   a fault to look at, not to hammer;
 * - retries stop at a deadline counted from the first attempt (or after `maxAttempts`): a
 *   wait that would end past it is not started, and the call fails as `unavailable` with
 *   the last reason and, after a 503, the wait the gateway asked for (`retryAfterMs`), for
 *   a caller that retries on its own schedule (the edge fails over to another gateway).
 *
 * A write carries an Idempotency-Key made once per logical call and sent unchanged on
 * every retry, so a retry of a transaction that did commit returns its first outcome
 * instead of running it twice. A signed (edge) request is signed afresh per attempt: each
 * attempt needs its own nonce and timestamp.
 */
import { randomUUID } from 'node:crypto';
import { GatewayError } from './gateway-error';

export interface RetryPolicy {
  /** Total time for one call, retries included, ms (default 60 s). */
  deadlineMs: number;
  /** First backoff, doubled per retry, ms (default 250 ms). */
  backoffMs: number;
  /** Longest backoff, ms (default 5 s). */
  maxBackoffMs: number;
  /** Longest wait a Retry-After may ask for, ms (default 30 s). */
  maxRetryAfterMs: number;
  /** Time limit of one attempt, ms (default 30 s). */
  attemptTimeoutMs: number;
  /** Most attempts of one call, the first included (default: as many as the deadline allows). */
  maxAttempts: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  deadlineMs: 60_000,
  backoffMs: 250,
  maxBackoffMs: 5_000,
  maxRetryAfterMs: 30_000,
  attemptTimeoutMs: 30_000,
  maxAttempts: Number.POSITIVE_INFINITY,
});

export interface TransportOptions {
  /** The gateway, e.g. http://127.0.0.1:8081 (a path prefix is kept). */
  baseUrl: string;
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Told of each retry, one line (what failed, how long until the next attempt). */
  onRetry?: (line: string) => void;
}

export interface HttpCall {
  method: 'GET' | 'POST' | 'PUT';
  /** Path under the base URL with its query, e.g. `/v1/meters/m1`. */
  path: string;
  /** Sent as JSON: a value to serialise, or JSON text sent byte for byte (JsonText). */
  body?: unknown;
  /** A transaction: gets an Idempotency-Key (this one, or one made for the call). */
  write?: boolean;
  idempotencyKey?: string;
  /** Headers of one attempt (authorization, or an edge signature over this attempt's bytes). */
  headers: (attempt: { method: string; pathWithQuery: string; body: string }) => Record<string, string>;
  accept?: string;
  /** Aborts the call (and its waits) from outside. */
  signal?: AbortSignal;
  /** A stream (server-sent events): the attempt's time limit ends when the answer's headers arrive. */
  streaming?: boolean;
}

/** A gateway URL as an origin plus optional path prefix; credentials, query and fragment refused. */
export function parseGatewayUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError('gatewayUrl: must be an http(s) URL such as http://127.0.0.1:8081');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('gatewayUrl: must be an http(s) URL such as http://127.0.0.1:8081');
  if (url.username !== '' || url.password !== '') throw new TypeError('gatewayUrl: must not hold credentials (the token goes in the token file)');
  if (url.search !== '' || url.hash !== '') throw new TypeError('gatewayUrl: must not have a query or fragment');
  return url;
}

export class Transport {
  readonly #base: URL;
  readonly #policy: RetryPolicy;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #now: () => number;
  readonly #onRetry: (line: string) => void;

  constructor(options: TransportOptions) {
    this.#base = parseGatewayUrl(options.baseUrl);
    this.#policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    if (!(this.#policy.maxAttempts >= 1)) throw new TypeError('retry.maxAttempts: must be at least 1');
    this.#fetch = options.fetch ?? fetch;
    this.#sleep = options.sleep ?? abortableSleep;
    this.#now = options.now ?? Date.now;
    this.#onRetry = options.onRetry ?? (() => undefined);
  }

  get origin(): string {
    return this.#base.origin;
  }

  /** The answer's JSON body (undefined for an empty one); throws GatewayError. */
  async json(call: HttpCall): Promise<unknown> {
    const response = await this.open(call);
    const text = await response.text();
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new GatewayError('unexpected', response.status, 'BAD_ANSWER', `${call.method} ${call.path} answered ${response.status} with a body that is not JSON`);
    }
  }

  /** The successful (2xx) response, body unread, after the retry policy; throws GatewayError. */
  async open(call: HttpCall): Promise<Response> {
    const url = new URL(this.#base.pathname.replace(/\/+$/, '') + call.path, this.#base);
    const pathWithQuery = url.pathname + url.search;
    const body = call.body === undefined ? '' : call.body instanceof JsonText ? call.body.text : JSON.stringify(call.body);
    const idempotencyKey = call.write ? (call.idempotencyKey ?? randomUUID()) : undefined;
    const route = `${call.method} ${call.path.split('?')[0] ?? call.path}`;
    const started = this.#now();
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = {
        accept: call.accept ?? 'application/json',
        ...call.headers({ method: call.method, pathWithQuery, body }),
      };
      if (body !== '') headers['content-type'] = 'application/json';
      if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
      const limit = new AbortController();
      const timer = setTimeout(() => limit.abort(new DOMException('no answer in time', 'TimeoutError')), this.#policy.attemptTimeoutMs);
      timer.unref();
      const signal = call.signal ? AbortSignal.any([call.signal, limit.signal]) : limit.signal;
      let response: Response;
      let wait: number;
      let reason: string;
      try {
        response = await this.#fetch(url.href, { method: call.method, headers, body: body === '' ? undefined : body, signal });
        // A stream may stay open for hours; a JSON answer's body must arrive within the limit too.
        if (call.streaming) clearTimeout(timer);
      } catch (error) {
        clearTimeout(timer);
        if (call.signal?.aborted) throw call.signal.reason ?? error;
        reason = connectionReason(error);
        wait = this.#backoff(attempt);
        await this.#beforeRetry(route, reason, wait, started, attempt, call.signal, 0, reason === NO_ANSWER ? 'TIMEOUT' : 'CONNECTION');
        continue;
      }
      if (response.ok) return response;
      if (response.status === 503) {
        const answer = await readErrorBody(response);
        reason = `the gateway answered 503${answer.code ? ` ${answer.code}` : ''}`;
        const asked = this.#askedWait(response.headers.get('retry-after'));
        wait = asked ?? this.#backoff(attempt);
        await this.#beforeRetry(route, reason, wait, started, attempt, call.signal, 503, answer.code ?? 'UNAVAILABLE', answer.message, asked, answer.txId);
        continue;
      }
      const answer = await readErrorBody(response);
      const kind = response.status >= 400 && response.status < 500 ? 'refused' : 'unexpected';
      const code = answer.code ?? (kind === 'refused' ? 'REFUSED' : 'BAD_ANSWER');
      const message = `${route} answered ${response.status} ${code}${answer.message ? `: ${answer.message}` : ''}`;
      // A 429 carries the wait too: not retried here (a 4xx), but its caller may honour it.
      throw new GatewayError(kind, response.status, code, message, answer.txId, this.#askedWait(response.headers.get('retry-after')));
    }
  }

  async #beforeRetry(
    route: string,
    reason: string,
    wait: number,
    started: number,
    attempt: number,
    signal: AbortSignal | undefined,
    status: number,
    code: string,
    gatewayMessage?: string,
    retryAfterMs?: number,
    txId?: string,
  ): Promise<void> {
    const elapsed = this.#now() - started;
    const detail = gatewayMessage ? `: ${gatewayMessage}` : '';
    if (attempt >= this.#policy.maxAttempts) {
      const tries = attempt === 1 ? '' : `; gave up after ${attempt} attempts in ${seconds(elapsed)}`;
      throw new GatewayError('unavailable', status, code, `${route}: ${reason}${detail}${tries} at ${this.#base.origin}`, txId, retryAfterMs);
    }
    if (elapsed + wait > this.#policy.deadlineMs) {
      throw new GatewayError(
        'unavailable',
        status,
        code,
        `${route}: ${reason}${detail}; gave up after ${attempt} attempt(s) in ${seconds(elapsed)} (retry deadline ${seconds(this.#policy.deadlineMs)}) at ${this.#base.origin}`,
        txId,
        retryAfterMs,
      );
    }
    const of = Number.isFinite(this.#policy.maxAttempts) ? ` of ${this.#policy.maxAttempts}` : '';
    this.#onRetry(`${route}: ${reason}; retrying in ${seconds(wait)} (attempt ${attempt + 1}${of})`);
    await this.#sleep(wait, signal);
    if (signal?.aborted) throw signal.reason;
  }

  #backoff(attempt: number): number {
    return Math.min(this.#policy.backoffMs * 2 ** (attempt - 1), this.#policy.maxBackoffMs);
  }

  /** The wait a Retry-After (seconds) asks for, capped by the policy; undefined without one. */
  #askedWait(header: string | null): number | undefined {
    const value = header?.trim();
    if (value === undefined || !/^[0-9]{1,6}$/.test(value)) return undefined;
    return Math.min(Number(value) * 1000, this.#policy.maxRetryAfterMs);
  }
}

/**
 * A request body that is JSON text already, sent byte for byte: a signed body the caller
 * keeps and resends (to this gateway or another) must stay the very bytes it kept.
 */
export class JsonText {
  readonly text: string;
  constructor(text: string) {
    try {
      JSON.parse(text);
    } catch {
      throw new TypeError('body: must be JSON text');
    }
    this.text = text;
  }
}

/** The gateway's error body `{code, message, txId?}`, each field bounded; {} when it is not one. */
async function readErrorBody(response: Response): Promise<{ code?: string; message?: string; txId?: string }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await response.text());
  } catch {
    return {};
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
  const r = parsed as Record<string, unknown>;
  const out: { code?: string; message?: string; txId?: string } = {};
  if (typeof r.code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(r.code)) out.code = r.code;
  if (typeof r.message === 'string') out.message = r.message.slice(0, 500);
  if (typeof r.txId === 'string') out.txId = r.txId.slice(0, 128);
  return out;
}

const NO_ANSWER = 'no answer in time';

function connectionReason(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return NO_ANSWER;
  // undici reports the socket error as the cause of "fetch failed".
  const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return `connection failed (${cause.code})`;
  // fetch refuses some ports outright ("bad port") without a socket error code.
  if (cause && typeof cause.message === 'string') return `connection failed (${cause.message.slice(0, 100)})`;
  return 'connection failed';
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
