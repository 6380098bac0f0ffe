/**
 * Route guards: organisation users by bearer token and role, edge clients by the
 * signature of their meter's key over a string naming this gateway's organisation
 * (edge-signature.ts). Wrong or missing credentials, or a request signed for the other
 * organisation's gateway, are 401; the right credentials with the wrong role, or a meter
 * acting on another meter's data, 403; a nonce seen before (also before a restart:
 * nonce-store.ts), 409; a meter that used too many nonces within the window, 429.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors';
import type { MeterDirectory, MeterIdentity } from '../services/meter-directory';
import type { BearerTokens, OrgRole, OrgUser } from './bearer-tokens';
import { EDGE_HEADERS, EDGE_SIGNING_VERSION, MSP_ID_PATTERN, verifyEdgeSignature } from './edge-signature';
import { NonceLimitReached, type EdgeNonceStore } from './nonce-store';

declare module 'fastify' {
  interface FastifyRequest {
    /** Raw bytes of a JSON body, kept for edge signatures. */
    rawBody?: Buffer;
    orgUser?: OrgUser;
    edgeMeter?: MeterIdentity;
  }
}

const NONCE = /^[0-9a-f]{32,128}$/;
const TIMESTAMP = /^[0-9]{1,16}$/;
const SIGNATURE = /^[A-Za-z0-9+/]{16,256}={0,2}$/;
const METER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** A guard runs before validation: org guards `onRequest`, edge guards `preValidation` (it needs the raw body). */
export type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export class Guards {
  readonly #tokens: BearerTokens;
  readonly #meters: MeterDirectory;
  readonly #windowMs: number;
  readonly #nonces: EdgeNonceStore;
  readonly #mspId: string;
  readonly #now: () => number;

  /**
   * `mspId` is this gateway's organisation, the one edge requests must be signed for;
   * `nonces` must remember each nonce for twice `edgeWindowSeconds`.
   */
  constructor(options: {
    tokens: BearerTokens;
    meters: MeterDirectory;
    mspId: string;
    nonces: EdgeNonceStore;
    edgeWindowSeconds: number;
    now?: () => number;
  }) {
    if (!MSP_ID_PATTERN.test(options.mspId)) throw new Error('mspId: must be 1 to 128 printable ASCII characters without spaces');
    this.#tokens = options.tokens;
    this.#meters = options.meters;
    this.#mspId = options.mspId;
    this.#windowMs = options.edgeWindowSeconds * 1000;
    this.#nonces = options.nonces;
    this.#now = options.now ?? Date.now;
  }

  /** Bearer token of a user holding one of the roles. */
  org(...roles: OrgRole[]): Guard {
    return async (request: FastifyRequest, _reply: FastifyReply) => {
      const user = this.#tokens.authenticate(request.headers.authorization);
      if (!user) throw new ApiError(401, 'UNAUTHORIZED', 'a valid bearer token is required');
      if (!roles.includes(user.role)) {
        throw new ApiError(403, 'FORBIDDEN', `this operation needs the role ${roles.join(' or ')}`);
      }
      request.orgUser = user;
    };
  }

  /** A request signed with the key of the meter it names. */
  readonly edge: Guard = async (request: FastifyRequest, _reply: FastifyReply) => {
    const h = (name: string): string | undefined => {
      const v = request.headers[name];
      return typeof v === 'string' ? v : undefined;
    };
    const meterId = h(EDGE_HEADERS.meter);
    const timestamp = h(EDGE_HEADERS.timestamp);
    const nonce = h(EDGE_HEADERS.nonce);
    const signature = h(EDGE_HEADERS.signature);
    if (!meterId || !timestamp || !nonce || !signature) {
      throw new ApiError(401, 'UNAUTHORIZED', `signed request required: ${Object.values(EDGE_HEADERS).join(', ')}`);
    }
    if (!METER_ID.test(meterId) || !TIMESTAMP.test(timestamp) || !NONCE.test(nonce) || !SIGNATURE.test(signature)) {
      throw new ApiError(401, 'UNAUTHORIZED', 'malformed signature headers (nonce: 16+ bytes hex; timestamp: unix ms)');
    }
    const now = this.#now();
    if (Math.abs(now - Number(timestamp)) > this.#windowMs) {
      throw new ApiError(401, 'UNAUTHORIZED', `timestamp outside the ±${this.#windowMs / 1000} s window`);
    }
    const meter = await this.#meters.find(meterId, now);
    const parts = {
      gatewayMspId: this.#mspId,
      method: request.method,
      pathWithQuery: request.url,
      timestamp,
      nonce,
      body: request.rawBody ?? '',
    };
    if (!meter || !verifyEdgeSignature(parts, signature, meter.publicKeyPem)) {
      throw new ApiError(
        401,
        'UNAUTHORIZED',
        `the signature does not verify with the key registered for the meter (signing string ${EDGE_SIGNING_VERSION} for ${this.#mspId})`,
      );
    }
    let verdict;
    try {
      verdict = await this.#nonces.remember(meterId, nonce, now);
    } catch (err) {
      if (!(err instanceof NonceLimitReached)) {
        // The nonce could not be made durable (disk full, I/O error): not used, so retryable.
        request.log.error({ err }, 'edge nonce log write failed');
        throw new ApiError(503, 'NONCE_STORE_UNAVAILABLE', 'the gateway cannot record the request nonce now; retry later');
      }
      if (err.scope === 'meter') {
        throw new ApiError(429, 'TOO_MANY_REQUESTS', `meter ${meterId} sent ${err.limit} signed requests within ${(2 * this.#windowMs) / 1000} s; slow down`);
      }
      throw new ApiError(503, 'NONCE_STORE_FULL', 'the gateway cannot remember more edge nonces now; retry later');
    }
    if (verdict === 'replay') throw new ApiError(409, 'REPLAY', 'this nonce was already used');
    request.edgeMeter = meter;
  };
}

/** The authenticated meter of an edge request (the edge guard ran). */
export function edgeMeterOf(request: FastifyRequest): MeterIdentity {
  if (!request.edgeMeter) throw new ApiError(401, 'UNAUTHORIZED', 'signed request required');
  return request.edgeMeter;
}

/** Refuses an edge client acting on another meter's data. */
export function requireOwnMeter(request: FastifyRequest, meterId: string): MeterIdentity {
  const meter = edgeMeterOf(request);
  if (meter.meterId !== meterId) throw new ApiError(403, 'FORBIDDEN', 'a meter may act only on its own data');
  return meter;
}
