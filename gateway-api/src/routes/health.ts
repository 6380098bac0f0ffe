import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { schemas } from '@flexproof/protocol';
import { RETRY_AFTER_SECONDS } from '../errors';
import type { RouteOptions } from '../services/services';

const CHECK_TIMEOUT_MS = 3_000;

const Readiness = schemas.Readiness;

async function check(probe: () => Promise<void>): Promise<'up' | 'down'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), timeout]);
    return 'up';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'The process is alive',
        tags: ['operations'],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        summary: 'The peer (through the chaincode) and the raw-data store answer',
        tags: ['operations'],
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const [ledger, store] = await Promise.all([check(() => services.ledger.ping()), check(() => services.store.ping())]);
      const ready = ledger === 'up' && store === 'up';
      if (!ready) void reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
      return { status: ready ? ('ready' as const) : ('not ready' as const), checks: { ledger, store } };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text format)',
        tags: ['operations'],
        response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: Type.String() } } } },
      },
    },
    async (_request, reply) => {
      const text = await services.metrics.registry.metrics();
      return reply.type(services.metrics.registry.contentType).send(text);
    },
  );
};
