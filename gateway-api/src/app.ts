/**
 * The gateway as a Fastify app, apart from the process that runs it (server.ts), so
 * tests build it with fakes and call it with `inject`. Plugins in layers: external
 * (OpenAPI, body parsing, errors, metrics), services (ledger decorators, auth, store),
 * routes (one plugin per area).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { BearerTokens, type TokenEntry } from './auth/bearer-tokens';
import { Guards } from './auth/guards';
import { registerErrorHandling } from './errors';
import { IdempotentLedger } from './ledger/idempotent-ledger';
import type { LedgerPort } from './ledger/ledger-port';
import { GatewayMetrics, MeteredLedger } from './metrics';
import { auditRoutes } from './routes/audit';
import { edgeRoutes } from './routes/edge';
import { enrollmentRoutes } from './routes/enrollments';
import { eventRoutes } from './routes/events';
import { healthRoutes } from './routes/health';
import { marketRoutes } from './routes/market';
import { meterRoutes } from './routes/meters';
import { tokenRoutes } from './routes/tokens';
import { verificationKeyRoutes } from './routes/verification-keys';
import { ErrorResponse } from './schemas/http';
import type { FingerprintFn } from './services/audit';
import { MeterDirectory } from './services/meter-directory';
import type { Services } from './services/services';
import type { RawReadingsStore } from './store/raw-readings';

export interface AppDependencies {
  /** The organisation this instance serves (its Fabric identity is inside `ledger`). */
  org: 'aggregator' | 'dso';
  ledger: LedgerPort;
  store: RawReadingsStore;
  tokens: readonly TokenEntry[];
  /** Loads @flexproof/circuits' fingerprint on first audit. */
  fingerprint: () => Promise<FingerprintFn>;
  /** Accepted clock skew of signed edge requests, seconds (default 300). */
  edgeWindowSeconds?: number;
  /** Largest request body, bytes (default 1 MiB). */
  bodyLimit?: number;
  /** How long a meter's public key is cached, ms (default 30 s). */
  meterCacheMs?: number;
  logger?: FastifyServerOptions['logger'];
  now?: () => number;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_EDGE_WINDOW_SECONDS = 300;

/** Logged request headers are redacted: tokens and signatures never reach a log line. */
const REDACT = ['req.headers.authorization', 'req.headers["x-flexproof-signature"]'];

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const bodyLimit = deps.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const logger = deps.logger === undefined || deps.logger === false ? false : deps.logger === true ? { redact: REDACT } : { redact: REDACT, ...deps.logger };
  const app = Fastify({
    logger,
    bodyLimit,
    // Keep ajv from changing bodies: signed payloads must reach the chaincode byte for byte.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    requestIdHeader: false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // ---- external layer -------------------------------------------------------------
  const metrics = new GatewayMetrics();
  app.addSchema(ErrorResponse);
  await app.register(swagger, {
    openapi: {
      info: {
        title: `flexproof gateway (${deps.org})`,
        version: '0.1.0',
        description: 'REST gateway of one flexproof organisation: ledger operations, edge clients, raw data and audits.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'organisation user token (roles: dso, aggregator, auditor)' },
          edgeSignature: {
            type: 'apiKey',
            in: 'header',
            name: 'x-flexproof-signature',
            description:
              'with x-flexproof-meter, x-flexproof-timestamp (unix ms), x-flexproof-nonce (hex): signature by the meter key over METHOD\\npath?query\\ntimestamp\\nnonce\\nsha256hex(body)',
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // JSON bodies keep their raw bytes for edge signatures.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (request, raw: Buffer, done) => {
    request.rawBody = raw;
    if (raw.length === 0) {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(raw.toString('utf8'), (key, value: unknown) => (key === '__proto__' ? undefined : value)));
    } catch (err) {
      done(err as Error, undefined);
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
  const ledger = new MeteredLedger(new IdempotentLedger(deps.ledger), metrics);
  const meters = new MeterDirectory(ledger, deps.meterCacheMs);
  const services: Services = {
    org: deps.org,
    ledger,
    store: deps.store,
    meters,
    metrics,
    guards: new Guards({
      tokens: new BearerTokens(deps.tokens),
      meters,
      edgeWindowSeconds: deps.edgeWindowSeconds ?? DEFAULT_EDGE_WINDOW_SECONDS,
      now: deps.now,
    }),
    fingerprint: deps.fingerprint,
    closing: closing.signal,
  };
  app.addHook('onClose', async () => closing.abort());
  // Ends open event streams before the server waits for its connections to close.
  app.addHook('preClose', async () => closing.abort());

  // ---- routes layer -------------------------------------------------------------------
  await app.register(healthRoutes, { services });
  await app.register(meterRoutes, { services, prefix: '/v1' });
  await app.register(tokenRoutes, { services, prefix: '/v1' });
  await app.register(marketRoutes, { services, prefix: '/v1' });
  await app.register(enrollmentRoutes, { services, prefix: '/v1' });
  await app.register(verificationKeyRoutes, { services, prefix: '/v1' });
  await app.register(auditRoutes, { services, prefix: '/v1' });
  await app.register(eventRoutes, { services, prefix: '/v1' });
  await app.register(edgeRoutes, { services, prefix: '/v1/edge' });
  return app;
}
