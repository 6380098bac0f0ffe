import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { schemas } from '@flexproof/protocol';
import { toHttpError } from '../errors';
import { expandBatchEvent } from '../ledger/batch-events';
import { eventMatches, type EventFilter } from '../ledger/ledger-port';
import { errorResponses } from '../schemas/http';
import type { RouteOptions, Services } from '../services/services';

const HEARTBEAT_MS = 15_000;

/**
 * Server-sent events of chaincode events. Each message: `id` block number, `event` the
 * chaincode event name, `data` its JSON payload with `txId`. A first `ready` message says
 * the ledger stream is established; a failure ends the stream with an `error` message.
 * A batch transaction's event (PeriodsSettled, EnrollmentsOffered, RewardsDeposited) is
 * sent as the single events of its items, each with the batch's block and txId.
 */
export async function streamEvents(services: Services, filter: EventFilter, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const done = new AbortController();
  const stop = (): void => done.abort();
  request.raw.on('close', stop);
  services.closing.addEventListener('abort', stop, { once: true });
  reply.hijack();
  const out = reply.raw;
  out.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const heartbeat = setInterval(() => out.write(': keep-alive\n\n'), HEARTBEAT_MS);
  try {
    const events = await services.ledger.events(filter, done.signal);
    out.write(`event: ready\ndata: ${JSON.stringify(filter)}\n\n`);
    for await (const batch of events) {
      // A batch transaction's event stands for one event per item: subscribers see those.
      for (const e of expandBatchEvent(batch)) {
        if (!eventMatches(e, filter)) continue;
        out.write(`id: ${e.blockNumber}\nevent: ${e.eventName}\ndata: ${JSON.stringify({ ...e.payload, txId: e.txId })}\n\n`);
      }
    }
  } catch (err) {
    const { body, internal } = toHttpError(err);
    if (internal) request.log.error({ err }, 'event stream failed');
    if (!done.signal.aborted) out.write(`event: error\ndata: ${JSON.stringify(body)}\n\n`);
  } finally {
    clearInterval(heartbeat);
    request.raw.off('close', stop);
    services.closing.removeEventListener('abort', stop);
    out.end();
  }
}

export const EventStreamQuery = schemas.EventStreamQuery;

export const eventRoutes: FastifyPluginAsyncTypebox<RouteOptions> = async (app, { services }) => {
  app.get(
    '/events',
    {
      schema: {
        summary: 'Chaincode events as server-sent events, filtered by enrollment and/or meter',
        description:
          "Roles: dso, aggregator, auditor. `Last-Event-ID` or `fromBlock` resumes from a block. A batch transaction's event (PeriodsSettled, EnrollmentsOffered, RewardsDeposited) arrives as the single events of its items (PeriodSettled or EnrollmentExcluded, EnrollmentOffered, RewardDeposited), each with the batch's block and txId.",
        tags: ['events'],
        security: [{ bearer: [] }],
        querystring: EventStreamQuery,
        response: {
          200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: Type.String() } } },
          ...errorResponses(),
        },
      },
      onRequest: services.guards.org('dso', 'aggregator', 'auditor'),
    },
    async (request, reply) => {
      const q = request.query;
      const lastId = request.headers['last-event-id'];
      const resume = typeof lastId === 'string' && /^[0-9]{1,19}$/.test(lastId) ? lastId : q.fromBlock;
      await streamEvents(
        services,
        { enrollmentId: q.enrollmentId, meterId: q.meterId, startBlock: resume },
        request,
        reply,
      );
    },
  );
};
