/**
 * The integration suites call the gateways as their users do, through the protocol's
 * typed client (its retry policy rides through a peer catching up and LEDGER_CONTENDED).
 * What a suite checks beyond the answer's body is the HTTP status and headers of each
 * answer: an AnswerLog records them through the client's `fetch` option.
 */
import type { KeyObject } from 'node:crypto';
import { EdgeGatewayClient, GatewayClient, GatewayError, type RetryPolicy } from '@flexproof/protocol';

export interface LoggedAnswer {
  method: string;
  path: string;
  status: number;
  headers: Headers;
}

/** The status and headers of every answer a client got, in order (one client per log, calls one at a time). */
export class AnswerLog {
  readonly answers: LoggedAnswer[] = [];
  readonly fetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    this.answers.push({ method: init?.method ?? 'GET', path: new URL(String(input)).pathname, status: response.status, headers: response.headers });
    return response;
  };

  get last(): LoggedAnswer {
    const last = this.answers[this.answers.length - 1];
    if (!last) throw new Error('AnswerLog: no answer yet');
    return last;
  }
}

export interface ClientOptions {
  log?: AnswerLog;
  retry?: Partial<RetryPolicy>;
}

export function orgClient(baseUrl: string, token: string, options: ClientOptions = {}): GatewayClient {
  return new GatewayClient({ baseUrl, token, ...(options.retry ? { retry: options.retry } : {}), ...(options.log ? { fetch: options.log.fetch } : {}) });
}

/** A site's edge client for the gateway of `gatewayMspId` (its signatures name it). */
export function edgeClient(baseUrl: string, site: { meterId: string; privateKey: KeyObject }, gatewayMspId: string, options: ClientOptions = {}): EdgeGatewayClient {
  return new EdgeGatewayClient({
    baseUrl,
    meterId: site.meterId,
    privateKey: site.privateKey,
    gatewayMspId,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.log ? { fetch: options.log.fetch } : {}),
  });
}

/** The GatewayError a call fails with; a call that succeeds fails the test. */
export async function refusal(call: Promise<unknown>): Promise<GatewayError> {
  let answer: unknown;
  try {
    answer = await call;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error(`expected the gateway to refuse, but it answered ${JSON.stringify(answer).slice(0, 300)}`);
}

/**
 * What one organisation wrote reaches the other's peer a block later: a call that names
 * it there can be a 404 for a moment. Resent while NOT_FOUND, every `ms`, `tries` times.
 */
export async function eventually<T>(call: () => Promise<T>, tries = 60, ms = 500): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof GatewayError && error.status === 404) || i >= tries) throw error;
      await new Promise((r) => setTimeout(r, ms));
    }
  }
}
