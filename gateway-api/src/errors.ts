/**
 * The one place where failures become HTTP answers `{code, message, txId?}`. Chaincode
 * refusals keep the chaincode's code; 5xx answers say what kind of failure it was and
 * nothing more (the log has the details, never a secret).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { httpStatusOfChaincodeCode } from '@flexproof/protocol';
import { IdempotencyKeyReused } from './ledger/idempotent-ledger';
import { ChaincodeRefusal, CommitRejected, LedgerUnavailable } from './ledger/ledger-errors';
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
 * HTTP status of a chaincode refusal: the protocol's exhaustive table (a code added
 * without a status does not compile there); a code this gateway does not know is 422.
 */
export function statusOfChaincodeCode(code: string): number {
  return httpStatusOfChaincodeCode(code);
}

/** Maps any thrown value to status and body; `internal` marks answers whose cause must be logged. */
export function toHttpError(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (err instanceof ApiError) {
    return { status: err.statusCode, body: body(err.code, err.message, err.txId), internal: false };
  }
  if (err instanceof IdempotencyKeyReused) {
    // Routes that take an Idempotency-Key header name it themselves (ledger-route.ts); this
    // is the fallback for keys the gateway derives, which are not the client's to see.
    return { status: 422, body: body('IDEMPOTENCY_KEY_REUSED', 'the request repeats an earlier one with another body'), internal: false };
  }
  if (err instanceof ChaincodeRefusal) {
    return { status: statusOfChaincodeCode(err.code), body: body(err.code, err.message, err.txId), internal: false };
  }
  if (err instanceof CommitRejected) {
    if (err.validationCode === 'MVCC_READ_CONFLICT' || err.validationCode === 'PHANTOM_READ_CONFLICT') {
      return {
        status: 409,
        body: body('CONFLICT', 'concurrent updates of the same records; retry the request', err.txId),
        internal: false,
      };
    }
    return { status: 502, body: body('LEDGER_REJECTED', `the ledger did not commit the transaction (${err.validationCode})`, err.txId), internal: true };
  }
  if (err instanceof LedgerUnavailable) {
    return { status: 503, body: body('LEDGER_UNAVAILABLE', 'the ledger is not reachable; retry later', err.txId), internal: true };
  }
  if (err instanceof StoreUnavailable) {
    return { status: 503, body: body('STORE_UNAVAILABLE', 'the raw-data store is not reachable; retry later'), internal: true };
  }
  const fe = err as Partial<FastifyError> | null;
  if (fe && typeof fe === 'object') {
    if (Array.isArray(fe.validation)) {
      return { status: 400, body: body('BAD_INPUT', validationMessage(fe as FastifyError)), internal: false };
    }
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return { status: 413, body: body('PAYLOAD_TOO_LARGE', 'the request body is larger than allowed'), internal: false };
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return { status: 415, body: body('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json'), internal: false };
    }
    if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe instanceof SyntaxError) {
      return { status: 400, body: body('BAD_INPUT', 'body: not valid JSON'), internal: false };
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return { status: fe.statusCode, body: body('BAD_REQUEST', 'the request cannot be processed'), internal: false };
    }
  }
  return { status: 500, body: body('INTERNAL', 'internal error'), internal: true };
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
    const { status, body: answer, internal } = toHttpError(err);
    if (internal) request.log.error({ err }, 'request failed');
    else request.log.info({ code: answer.code, status }, 'request refused');
    observe(answer.code, status);
    if (status === 503 || status === 429) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    return reply.code(status).send(answer);
  });
  app.setNotFoundHandler((request, reply) => {
    observe('NOT_FOUND', 404);
    return reply.code(404).send(body('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`));
  });
}
