/**
 * The bench's HTTP calls to the gateways: organisation calls with a bearer token and
 * edge calls signed with the meter's key (the gateway's own signEdgeRequest, as the edge
 * client sends them). Every answer is classified into one error kind, from the status
 * and the `code` field of the gateway's error body, never from free text.
 */
import type { KeyObject } from 'node:crypto';
import { mspIdOf } from './paths';
import { signEdgeRequest } from '@flexproof/gateway-api';

export interface Answer {
  status: number;
  body: Record<string, unknown> & { code?: string; message?: string; txId?: string; result?: unknown };
}

export class CallFailed extends Error {
  constructor(
    readonly what: string,
    readonly answer: Answer,
  ) {
    super(`${what}: HTTP ${answer.status} ${answer.body.code ?? ''} ${answer.body.message ?? ''}`.trim());
    this.name = 'CallFailed';
  }
}

export async function call(
  base: string,
  method: string,
  url: string,
  options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Answer> {
  const payload = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const res = await fetch(`${base}${url}`, {
    method,
    headers: {
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: payload,
    signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
  });
  const text = await res.text();
  let body: Answer['body'] = {};
  try {
    body = text ? (JSON.parse(text) as Answer['body']) : {};
  } catch {
    body = { message: text.slice(0, 200) };
  }
  return { status: res.status, body };
}

/** An organisation call that must succeed (2xx), or throws CallFailed. */
export async function orgCall(base: string, token: string, method: string, url: string, body?: unknown): Promise<Answer> {
  const answer = await call(base, method, url, { token, body });
  if (answer.status < 200 || answer.status >= 300) throw new CallFailed(`${method} ${url}`, answer);
  return answer;
}

/** A request signed by the meter's key, the way the edge client sends it. */
export async function edgeCall(
  gateway: { url: string; org: 'aggregator' | 'dso' },
  meterId: string,
  key: KeyObject,
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  body?: unknown,
  timeoutMs?: number,
): Promise<Answer> {
  const raw = body === undefined ? undefined : JSON.stringify(body);
  // The signature names the organisation whose gateway receives it (THREATS.md T6).
  const gatewayMspId = mspIdOf(gateway.org);
  const headers = signEdgeRequest({ gatewayMspId, method, pathWithQuery: url, body: raw ?? '' }, meterId, key);
  return call(gateway.url, method, url, { headers, timeoutMs, ...(raw === undefined ? {} : { raw }) });
}

/**
 * The kind of a failed settlement, as the issue counts them, from the status and the
 * `code` of the gateway's answer:
 * - `mvcc`: 409 CONFLICT. The gateway answers an MVCC read conflict that outlived its
 *   retries with 409 CONFLICT; a period settled by another submission is also 409
 *   CONFLICT, but in the bench each prosumer submits its own periods one at a time,
 *   so a 409 here is a conflict between concurrent transactions;
 * - `timeout`: no answer in time, or 503 LEDGER_UNAVAILABLE;
 * - `rejected:<CODE>`: any other 4xx (the chaincode or the gateway refused);
 * - `ledger:<CODE>`: 5xx (e.g. 502 LEDGER_REJECTED: ordered but not committed as valid).
 */
export function errorKind(answer: Answer | 'timeout' | 'connection'): string {
  if (answer === 'timeout' || answer === 'connection') return answer;
  const code = answer.body.code ?? 'UNKNOWN';
  if (answer.status === 409 && code === 'CONFLICT') return 'mvcc';
  if (answer.status === 503) return 'timeout';
  if (answer.status >= 400 && answer.status < 500) return `rejected:${code}`;
  return `ledger:${code}`;
}

/** Runs `work` over `items` with at most `limit` at a time; resolves with every result in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await work(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
