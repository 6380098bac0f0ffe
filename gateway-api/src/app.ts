/**
 * The gateway as a Fastify app, apart from the process that runs it (server.ts), so
 * tests build it with fakes and call it with `inject`. Plugins in layers: external
 * (OpenAPI, body parsing, errors, metrics), services (ledger decorators, auth, store),
 * routes (one plugin per area).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import { BearerTokens, type TokenEntry } from './auth/bearer-tokens';
import { EDGE_SIGNING_VERSION, MSP_ID_PATTERN } from './auth/edge-signature';
import { Guards } from './auth/guards';
import { FileNonceStore, MemoryNonceStore, type EdgeNonceStore } from './auth/nonce-store';
import { ApiError, registerErrorHandling } from './errors';
import { parseJsonBody } from './json-body';
import { IdempotentLedger } from './ledger/idempotent-ledger';
import type { LedgerPort } from './ledger/ledger-port';
import { GatewayMetrics, MeteredLedger } from './metrics';
import { auditorKeyRoutes } from './routes/auditor-keys';
import { edgeRoutes } from './routes/edge';
import { enrollmentRoutes } from './routes/enrollments';
import { eventRoutes } from './routes/events';
import { healthRoutes } from './routes/health';
import { marketRoutes } from './routes/market';
import { meterRoutes } from './routes/meters';
import { sealedPeriodRoutes } from './routes/sealed-periods';
import { tokenRoutes } from './routes/tokens';
import { verificationKeyRoutes } from './routes/verification-keys';
import { ErrorResponse } from './schemas/http';
import { MeterDirectory } from './services/meter-directory';
import { PeriodSubmissions, type PeriodBatchingOptions } from './services/period-submissions';
import type { Services } from './services/services';
import type { SealedPeriodStore } from './store/sealed-periods';

export interface AppDependencies {
  /** The organisation this instance serves (its Fabric identity is inside `ledger`). */
  org: 'aggregator' | 'dso';
  /** That organisation's MSP id: signed edge requests must name it (edge-signature.ts). */
  mspId: string;
  ledger: LedgerPort;
  /** The store of sealed period documents (the gateway never holds a key that opens one). */
  store: SealedPeriodStore;
  tokens: readonly TokenEntry[];
  /** Accepted clock skew of signed edge requests, seconds (default 300). */
  edgeWindowSeconds?: number;
  /**
   * Directory of the edge nonce log (auth/nonce-store.ts), so that a replay after a
   * restart is refused. Without it nonces live in memory only: for tests, never a
   * deployed gateway (startGateway always passes the configured directory).
   */
  nonceDir?: string;
  /** Most live edge nonces in all and per meter (defaults 200,000 and 2,000). */
  maxNonces?: number;
  maxNoncesPerMeter?: number;
  /** Largest request body, bytes (default 1 MiB). */
  bodyLimit?: number;
  /** Coalescing of period submissions (defaults: 32 items, 20 ms, 4 in flight; maxItems 1 turns it off). */
  periodBatching?: Partial<PeriodBatchingOptions>;
  /** How long a meter's public key is cached, ms (default 30 s). */
  meterCacheMs?: number;
  logger?: FastifyServerOptions['logger'];
  now?: () => number;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_EDGE_WINDOW_SECONDS = 300;
/** Longest path segment (ids are at most 128 characters; Fastify's default is 100). */
const MAX_PARAM_LENGTH = 200;

/** Logged request headers are redacted: tokens and signatures never reach a log line. */
const REDACT = ['req.headers.authorization', 'req.headers["x-flexproof-signature"]'];

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  if (!MSP_ID_PATTERN.test(deps.mspId)) throw new Error(`mspId: ${JSON.stringify(deps.mspId)} is not an MSP id (1 to 128 printable ASCII characters)`);
  const bodyLimit = deps.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const logger = deps.logger === undefined || deps.logger === false ? false : deps.logger === true ? { redact: REDACT } : { redact: REDACT, ...deps.logger };
  const metrics = new GatewayMetrics();
  const app = Fastify({
    logger,
    bodyLimit,
    // Keep ajv from changing bodies: signed payloads must reach the chaincode byte for byte.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    requestIdHeader: false,
    // Malformed URLs and over-long path segments are refused before routing; answer them in
    // the gateway's own error shape, without echoing the URL back.
    frameworkErrors: (error, _request, frameworkReply) => {
      const reply = frameworkReply as unknown as FastifyReply;
      const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const status = tooLong ? 414 : typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      metrics.errors.inc({ code: tooLong ? 'URI_TOO_LONG' : 'BAD_INPUT', status: String(status) });
      void reply
        .code(status)
        .send(
          tooLong
            ? { code: 'URI_TOO_LONG', message: `path: a segment is longer than ${MAX_PARAM_LENGTH} characters` }
            : { code: 'BAD_INPUT', message: 'path: not a valid URL (malformed percent-encoding or characters)' },
        );
    },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // ---- external layer -------------------------------------------------------------
  app.addSchema(ErrorResponse);
  await app.register(swagger, {
    openapi: {
      info: {
        title: `flexproof gateway (${deps.org})`,
        version: '0.1.0',
        description: 'REST gateway of one flexproof organisation: ledger operations, edge clients, sealed (encrypted) period documents and auditor keys.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'organisation user token (roles: dso, aggregator, auditor)' },
          edgeSignature: {
            type: 'apiKey',
            in: 'header',
            name: 'x-flexproof-signature',
            description:
              `with x-flexproof-meter, x-flexproof-timestamp (unix ms), x-flexproof-nonce (hex): signature by the meter key over ${EDGE_SIGNING_VERSION}\\n${deps.mspId}\\nMETHOD\\npath?query\\ntimestamp\\nnonce\\nsha256hex(body) (the second line is the MSP id of this gateway's organisation)`,
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // JSON is the only body type (anything else: 415). Bodies keep their raw bytes for edge
  // signatures, and are parsed by json-body.ts: depth-limited, no prototype keys.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (request, raw: Buffer, done) => {
    request.rawBody = raw;
    if (raw.length === 0) {
      done(null, undefined);
      return;
    }
    try {
      done(null, parseJsonBody(raw));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  // A route without a body or query schema takes none: an unknown field anywhere is refused
  // (ajv already refuses unknown fields where a schema exists: additionalProperties false).
  app.addHook('preValidation', async (request) => {
    const url = request.routeOptions.url;
    if (url === undefined || !url.startsWith('/v1/')) return;
    const schema = request.routeOptions.schema;
    if (!schema?.body && !isEmptyBody(request.body)) {
      const field = firstKey(request.body);
      throw new ApiError(400, 'BAD_INPUT', field === undefined ? 'body: this route takes no body' : `body.${field}: is not allowed`);
    }
    if (!schema?.querystring) {
      const field = firstKey(request.query);
      if (field !== undefined) throw new ApiError(400, 'BAD_INPUT', `querystring.${field}: is not allowed`);
    }
  });

  registerErrorHandling(app, (code, status) => metrics.errors.inc({ code, status: String(status) }));
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.requestDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  // ---- services layer ---------------------------------------------------------------
  const closing = new AbortController();
  const edgeWindowSeconds = deps.edgeWindowSeconds ?? DEFAULT_EDGE_WINDOW_SECONDS;
  const nonceLimits = { ttlMs: 2 * edgeWindowSeconds * 1000, maxEntries: deps.maxNonces, maxPerMeter: deps.maxNoncesPerMeter };
  const nonces: EdgeNonceStore =
    deps.nonceDir === undefined
      ? new MemoryNonceStore(nonceLimits)
      : await FileNonceStore.open({
          ...nonceLimits,
          dir: deps.nonceDir,
          nowMs: (deps.now ?? Date.now)(),
          onError: (err) => app.log.error({ err }, 'edge nonce log compaction failed'),
        });
  if (nonces instanceof FileNonceStore && nonces.droppedLines > 0) {
    app.log.warn({ dir: deps.nonceDir, dropped: nonces.droppedLines }, 'edge nonce log: skipped lines that were not whole (cut short by a crash)');
  }
  app.addHook('onClose', async () => nonces.close());
  const ledger = new MeteredLedger(new IdempotentLedger(deps.ledger), metrics);
  const meters = new MeterDirectory(ledger, deps.meterCacheMs);
  const periods = new PeriodSubmissions(ledger, deps.periodBatching, { metrics, log: app.log });
  const services: Services = {
    org: deps.org,
    ledger,
    store: deps.store,
    meters,
    periods,
    metrics,
    bodyLimit,
    guards: new Guards({
      tokens: new BearerTokens(deps.tokens),
      meters,
      mspId: deps.mspId,
      nonces,
      edgeWindowSeconds,
      now: deps.now,
    }),
    closing: closing.signal,
  };
  app.addHook('onClose', async () => closing.abort());
  // Ends open event streams before the server waits for its connections to close, and
  // sends the periods that wait for a batch rather than let them wait for their window.
  app.addHook('preClose', async () => {
    closing.abort();
    periods.close();
  });

  // ---- routes layer -------------------------------------------------------------------
  try {
    await app.register(healthRoutes, { services });
    await app.register(meterRoutes, { services, prefix: '/v1' });
    await app.register(tokenRoutes, { services, prefix: '/v1' });
    await app.register(marketRoutes, { services, prefix: '/v1' });
    await app.register(enrollmentRoutes, { services, prefix: '/v1' });
    await app.register(verificationKeyRoutes, { services, prefix: '/v1' });
    await app.register(auditorKeyRoutes, { services, prefix: '/v1' });
    await app.register(sealedPeriodRoutes, { services, prefix: '/v1' });
    await app.register(eventRoutes, { services, prefix: '/v1' });
    await app.register(edgeRoutes, { services, prefix: '/v1/edge' });
  } catch (err) {
    // The nonce log's directory must be free again for the next attempt.
    await nonces.close();
    throw err;
  }
  return app;
}

function isEmptyBody(body: unknown): boolean {
  return body === undefined || body === null || (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0);
}

function firstKey(value: unknown): string | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value)[0] : undefined;
}
