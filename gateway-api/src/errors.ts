/**
 * The one place where failures become HTTP answers `{code, message, txId?}`. Chaincode
 * refusals keep the chaincode's code; 5xx answers say what kind of failure it was and
 * nothing more (the log has the details, never a secret).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GATEWAY_ERROR_STATUS, httpStatusOfChaincodeCode, type GatewayErrorCode } from '@flexproof/protocol';
import { IdempotencyKeyReused } from './ledger/idempotent-ledger';
import { ChaincodeRefusal, CommitRejected, LedgerUnavailable, isReadConflict } from './ledger/ledger-errors';
import { StoreUnavailable } from './store/sealed-periods';

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly txId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ErrorBody {
  code: string;
  message: string;
  txId?: string;
}

/** Seconds a client should wait before retrying after a 503 or 429. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * After LEDGER_CONTENDED: the conflicting transactions are committed within a block or
 * two, so the wait is a block interval, not an outage's.
 */
export const CONTENDED_RETRY_AFTER_SECONDS = 1;

/**
 * HTTP status of a chaincode refusal: the protocol's exhaustive table (a code added
 * without a status does not compile there); a code this gateway does not know is 422.
 */
export function statusOfChaincodeCode(code: string): number {
  return httpStatusOfChaincodeCode(code);
}

/**
 * Maps any thrown value to status and body; `internal` marks answers whose cause must be
 * logged; `retryAfterSeconds`, when set, is the Retry-After of a 503 (else RETRY_AFTER_SECONDS).
 */
export function toHttpError(err: unknown): { status: number; body: ErrorBody; internal: boolean; retryAfterSeconds?: number } {
  if (err instanceof ApiError) {
    return { status: err.statusCode, body: body(err.code, err.message, err.txId), internal: false };
  }
  if (err instanceof IdempotencyKeyReused) {
    // Routes that take an Idempotency-Key header name it themselves (ledger-route.ts); this
    // is the fallback for keys the gateway derives, which are not the client's to see.
    return { ...own('IDEMPOTENCY_KEY_REUSED', 'the request repeats an earlier one with another body'), internal: false };
  }
  if (err instanceof ChaincodeRefusal) {
    return { status: statusOfChaincodeCode(err.code), body: body(err.code, err.message, err.txId), internal: false };
  }
  if (isReadConflict(err)) {
    // Not the chaincode's CONFLICT (a 409 that will not change): every attempt was
    // invalidated, nothing committed, and the same request is expected to pass shortly.
    // A 503 is what every client retries, with the same Idempotency-Key.
    return {
      ...own('LEDGER_CONTENDED', `concurrent transactions kept changing the records this one reads (${err.validationCode}); nothing was committed, retry the request`, err.txId),
      internal: false,
      retryAfterSeconds: CONTENDED_RETRY_AFTER_SECONDS,
    };
  }
  if (err instanceof CommitRejected) {
    return { ...own('LEDGER_REJECTED', `the ledger did not commit the transaction (${err.validationCode})`, err.txId), internal: true };
  }
  if (err instanceof LedgerUnavailable) {
    return { ...own('LEDGER_UNAVAILABLE', 'the ledger is not reachable; retry later', err.txId), internal: true };
  }
  if (err instanceof StoreUnavailable) {
    return { ...own('STORE_UNAVAILABLE', 'the raw-data store is not reachable; retry later'), internal: true };
  }
  const fe = err as Partial<FastifyError> | null;
  if (fe && typeof fe === 'object') {
    if (Array.isArray(fe.validation)) {
      return { status: 400, body: body('BAD_INPUT', validationMessage(fe as FastifyError)), internal: false };
    }
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return { ...own('PAYLOAD_TOO_LARGE', 'the request body is larger than allowed'), internal: false };
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return { ...own('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json'), internal: false };
    }
    if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe instanceof SyntaxError) {
      return { status: 400, body: body('BAD_INPUT', 'body: not valid JSON'), internal: false };
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return { status: fe.statusCode, body: body('BAD_REQUEST', 'the request cannot be processed'), internal: false };
    }
  }
  return { ...own('INTERNAL', 'internal error'), internal: true };
}

/** One of the gateway's own codes, with the status the protocol's table gives it. */
function own(code: GatewayErrorCode, message: string, txId?: string): { status: number; body: ErrorBody } {
  return { status: GATEWAY_ERROR_STATUS[code], body: body(code, message, txId) };
}

function body(code: string, message: string, txId?: string): ErrorBody {
  return txId === undefined ? { code, message } : { code, message, txId };
}

/** `body.meterId: must match pattern "..."`, naming the first offending field. */
function validationMessage(err: FastifyError): string {
  const first = err.validation?.[0];
  const context = err.validationContext ?? 'body';
  if (!first) return `${context}: invalid`;
  const path = first.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const missing = (first.params as { missingProperty?: string } | undefined)?.missingProperty;
  const extra = (first.params as { additionalProperty?: string } | undefined)?.additionalProperty;
  const field = [context, path, missing ?? extra].filter((s) => s !== undefined && s !== '').join('.');
  if (missing !== undefined) return `${field}: is required`;
  if (extra !== undefined) return `${field}: is not allowed`;
  return `${field}: ${first.message ?? 'is invalid'}`;
}

export type ErrorObserver = (code: string, status: number) => void;

/** Installs the error and not-found handlers; `observe` counts each answered error. */
export function registerErrorHandling(app: FastifyInstance, observe: ErrorObserver): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body: answer, internal, retryAfterSeconds } = toHttpError(err);
    if (internal) request.log.error({ err }, 'request failed');
    else request.log.info({ code: answer.code, status }, 'request refused');
    observe(answer.code, status);
    if (status === 503 || status === 429) void reply.header('retry-after', String(retryAfterSeconds ?? RETRY_AFTER_SECONDS));
    return reply.code(status).send(answer);
  });
  app.setNotFoundHandler((request, reply) => {
    observe('NOT_FOUND', 404);
    return reply.code(404).send(body('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`));
  });
}
