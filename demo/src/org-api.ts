/** A small client of the gateway's organisation API (bearer token), as the DSO or aggregator uses it. */
import { randomUUID } from 'node:crypto';

/** How long a call keeps trying while a gateway, its peer or the orderer restarts. */
const RIDE_THROUGH_MS = 120_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly txId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface TxAnswer<T = Record<string, unknown>> {
  txId: string;
  result: T;
}

export class OrgApi {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    /** Called for every committed transaction: the demo lists them in the report. */
    private readonly onTransaction: (name: string, txId: string, detail: string) => void = () => {},
  ) {}

  async get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  async post<T = Record<string, unknown>>(path: string, body: unknown, label: string, detail = ''): Promise<TxAnswer<T>> {
    const answer = await this.request<TxAnswer<T>>('POST', path, body);
    this.onTransaction(label, answer.txId, detail);
    return answer;
  }

  /**
   * One call that rides through a restarting component: a 503 waits for its Retry-After,
   * a refused or dropped connection backs off, for up to `RIDE_THROUGH_MS`. A POST carries
   * one Idempotency-Key across its retries, so a retry after a lost answer gets the first
   * outcome instead of running the transaction again.
   */
  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const idempotencyKey = method === 'POST' ? randomUUID() : undefined;
    const giveUpAt = Date.now() + RIDE_THROUGH_MS;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (err) {
        if (Date.now() > giveUpAt) throw new ApiError(0, 'UNREACHABLE', `${method} ${path}: ${this.baseUrl} did not answer for ${RIDE_THROUGH_MS / 1000} s (${(err as Error).message})`);
        await sleep(Math.min(5_000, 250 * 2 ** Math.min(attempt, 5)));
        continue;
      }
      if (response.status === 503 && Date.now() < giveUpAt) {
        await response.text();
        const retryAfterS = Number(response.headers.get('retry-after'));
        await sleep(Number.isFinite(retryAfterS) && retryAfterS > 0 ? Math.min(10_000, retryAfterS * 1000) : 1_000);
        continue;
      }
      return this.parse<T>(method, path, response);
    }
  }

  private async parse<T>(method: string, path: string, response: Response): Promise<T> {
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) {
      const e = (parsed ?? {}) as { code?: string; message?: string; txId?: string };
      throw new ApiError(response.status, e.code ?? 'HTTP_ERROR', `${method} ${path}: ${response.status} ${e.code ?? ''} ${e.message ?? text}`, e.txId);
    }
    return parsed as T;
  }
}
