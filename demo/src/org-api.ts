/** A small client of the gateway's organisation API (bearer token), as the DSO or aggregator uses it. */

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

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) {
      const e = (parsed ?? {}) as { code?: string; message?: string; txId?: string };
      throw new ApiError(response.status, e.code ?? 'HTTP_ERROR', `${method} ${path}: ${response.status} ${e.code ?? ''} ${e.message ?? text}`, e.txId);
    }
    return parsed as T;
  }
}
