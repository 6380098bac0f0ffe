/**
 * The bench's calls to the gateways, through the protocol's typed client (one retry
 * policy, Idempotency-Keys, typed errors), and how a failure is counted.
 *
 * Set-up and the end of the day use the client's retry policy, which rides through 503s
 * (a peer catching up, LEDGER_CONTENDED) and lost connections. The settlement load tries
 * each submission once per call (`maxAttempts: 1`): the load driver retries itself and
 * counts every failed attempt by its kind, which a retry inside the client would hide.
 */
import type { KeyObject } from 'node:crypto';
import { EdgeGatewayClient, GatewayClient, GatewayError, type RetryPolicy } from '@flexproof/protocol';
import type { GatewayProcess } from './gateway-processes';
import { mspIdOf } from './paths';

/**
 * Set-up on a local network makes thousands of writes that contend for a few records
 * (the order, an organisation account): waiting the gateway's full Retry-After (5 s for
 * LEDGER_UNAVAILABLE) each time would time the bench's patience, not the ledger, so a
 * wait is capped at 1 s; the deadline is long enough for a peer to catch up.
 */
export const SETUP_RETRY: Partial<RetryPolicy> = { deadlineMs: 120_000, backoffMs: 100, maxBackoffMs: 1_000, maxRetryAfterMs: 1_000 };

/** An organisation user's client for one gateway. `onRetry` hears of each retry of its calls. */
export function orgClient(gateway: GatewayProcess, token: string, onRetry?: () => void): GatewayClient {
  return new GatewayClient({ baseUrl: gateway.url, token, retry: SETUP_RETRY, ...(onRetry ? { onRetry } : {}) });
}

/** A prosumer as far as its calls go: its meter, its key and the gateway it uses. */
export interface EdgeIdentity {
  meterId: string;
  key: KeyObject;
  gateway: GatewayProcess;
}

/**
 * The prosumer's edge client, signing for the organisation whose gateway it calls (the
 * signature names it: THREATS.md T6). `retry` replaces the set-up policy.
 */
export function edgeClient(p: EdgeIdentity, retry: Partial<RetryPolicy> = SETUP_RETRY): EdgeGatewayClient {
  return new EdgeGatewayClient({ baseUrl: p.gateway.url, meterId: p.meterId, privateKey: p.key, gatewayMspId: mspIdOf(p.gateway.org), retry });
}

/**
 * The kind of a failed settlement, as the report counts them:
 * - `mvcc`: 503 LEDGER_CONTENDED, read conflicts with concurrent transactions that outlived
 *   the gateway's own resubmissions (nothing committed);
 * - `timeout`: no answer in time, or another 503 (LEDGER_UNAVAILABLE: a peer is down or
 *   catching up);
 * - `connection`: no connection, or it broke;
 * - `rejected:<CODE>`: a 4xx (the chaincode or the gateway refused);
 * - `ledger:<CODE>`: any other answer (e.g. 502 LEDGER_REJECTED: ordered but not committed
 *   as valid, or an answer that is not the route's JSON).
 */
export function errorKind(error: unknown): string {
  if (!(error instanceof GatewayError)) return 'connection';
  if (error.status === 0) return error.code === 'TIMEOUT' ? 'timeout' : 'connection';
  if (error.code === 'LEDGER_CONTENDED') return 'mvcc';
  if (error.status === 503) return 'timeout';
  if (error.kind === 'refused') return `rejected:${error.code}`;
  return `ledger:${error.code}`;
}

/** `STATUS CODE` of a failed call that got an answer, `transport` otherwise (the day's refusal counts). */
export function failureCode(error: unknown): string {
  return error instanceof GatewayError && error.status > 0 ? `${error.status} ${error.code}` : 'transport';
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
