/**
 * Several gateways (one per organisation) behind one GatewayPort. The prosumer's signature
 * is inside each signed body and the ledger records every action exactly once, so the same
 * body may be sent through any organisation's gateway: when the current one is down (a
 * retryable failure: 503, no answer, timeout) the next one is tried at once. A refusal for
 * good (4xx, a 409 conflict...) is the ledger's or the gateway's answer, not an outage:
 * it is returned as it is and never resent elsewhere.
 */
import type { SealedPeriodJwe } from '@flexproof/protocol';
import {
  GatewayError,
  type AuditorKeyEntry,
  type EnrollmentView,
  type GatewayPort,
  type LedgerVerificationKey,
  type PeriodOutcome,
  type StoredSealedPeriod,
} from './gateway-port';
import type { Logger } from './log';

export interface FailoverMember {
  /** For logs only (credentials in it are dropped before logging). */
  url: string;
  gateway: GatewayPort;
}

export class FailoverGateway implements GatewayPort {
  readonly #members: readonly FailoverMember[];
  readonly #logger: Logger | undefined;
  /** The gateway that last answered: calls start there, so a healthy one is not left for a dead one. */
  #current = 0;

  constructor(members: readonly FailoverMember[], options: { logger?: Logger } = {}) {
    if (members.length === 0) throw new Error('FailoverGateway: at least one gateway');
    this.#members = [...members];
    this.#logger = options.logger;
  }

  /** The URL of the gateway calls go to first (for status and tests). */
  get currentUrl(): string {
    return (this.#members[this.#current] as FailoverMember).url;
  }

  getEnrollment(enrollmentId: string): Promise<EnrollmentView> {
    return this.#call((g) => g.getEnrollment(enrollmentId));
  }

  acceptEnrollment(enrollmentId: string, body: string): Promise<unknown> {
    return this.#call((g) => g.acceptEnrollment(enrollmentId, body));
  }

  submitPeriod(enrollmentId: string, periodIndex: number, body: string): Promise<PeriodOutcome> {
    return this.#call((g) => g.submitPeriod(enrollmentId, periodIndex, body));
  }

  uploadSealedPeriod(meterId: string, enrollmentId: string, periodIndex: number, jwe: SealedPeriodJwe): Promise<{ stored: 'created' | 'unchanged' }> {
    return this.#call((g) => g.uploadSealedPeriod(meterId, enrollmentId, periodIndex, jwe));
  }

  getAuditorKeys(): Promise<{ keys: AuditorKeyEntry[] }> {
    return this.#call((g) => g.getAuditorKeys());
  }

  getSealedPeriods(meterId: string, enrollmentId: string): Promise<{ meterId: string; periods: StoredSealedPeriod[] }> {
    return this.#call((g) => g.getSealedPeriods(meterId, enrollmentId));
  }

  getVerificationKey(enrollmentId: string): Promise<LedgerVerificationKey> {
    return this.#call((g) => g.getVerificationKey(enrollmentId));
  }

  withdraw(body: string): Promise<unknown> {
    return this.#call((g) => g.withdraw(body));
  }

  /**
   * Each gateway at most once per call, starting at the current one. When every one fails
   * retryably, the last failure is thrown (still retryable: the caller's backoff applies).
   */
  async #call<T>(operation: (gateway: GatewayPort) => Promise<T>): Promise<T> {
    const start = this.#current;
    let lastError: unknown;
    for (let step = 0; step < this.#members.length; step++) {
      const index = (start + step) % this.#members.length;
      const member = this.#members[index] as FailoverMember;
      if (step > 0) {
        const from = this.#members[(index - 1 + this.#members.length) % this.#members.length] as FailoverMember;
        this.#logger?.warn('gateway.failover', {
          from: loggableUrl(from.url),
          to: loggableUrl(member.url),
          code: lastError instanceof GatewayError ? lastError.code : 'ERROR',
          ...(lastError instanceof GatewayError && lastError.status !== undefined ? { status: lastError.status } : {}),
        });
      }
      try {
        const result = await operation(member.gateway);
        this.#current = index;
        return result;
      } catch (error) {
        // A non-retryable answer came from a gateway that is up: it is the one to stick to.
        if (!(error instanceof GatewayError) || !error.retryable) {
          this.#current = index;
          throw error;
        }
        lastError = error;
      }
    }
    throw lastError;
  }
}

/** A URL without user name or password, for logs. */
function loggableUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    return parsed.toString().replace(/\/+$/, '');
  } catch {
    return '[unparseable url]';
  }
}
