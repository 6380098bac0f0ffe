/**
 * The edge routes of the gateway over real HTTP, in front of a FakeGateway (the unit
 * tests' in-memory ledger), checking the edge request signature exactly as the gateway
 * does (the v2 string, naming this gateway's organisation: a request the edge signed for
 * another organisation's gateway is a 401 here). For tests that run the real CLI process
 * but not the Fabric network.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyEdgeSignature, type SealedPeriodJwe } from '@flexproof/protocol';
import { GatewayError } from '@flexproof/edge-client';
import { FakeGateway } from '../../../unit/edge-client/support/fake-gateway';

export interface FakeGatewayServer {
  url: string;
  gateway: FakeGateway;
  /** Requests refused because of their signature. */
  badSignatures: number;
  close(): Promise<void>;
}

/**
 * `mspId` is the organisation this gateway stands for (what the edge's `gatewayMspId`
 * must name), default the aggregator's, as the edge's default.
 */
export async function startFakeGatewayServer(gateway: FakeGateway, publicKeyPem: string, mspId = 'AggregatorMSP'): Promise<FakeGatewayServer> {
  const state = { badSignatures: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const send = (status: number, value: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...(status === 503 ? { 'retry-after': '0' } : {}) });
        res.end(JSON.stringify(value));
      };
      const header = (name: string): string => String(req.headers[name] ?? '');
      const signed = verifyEdgeSignature(
        { gatewayMspId: mspId, method: req.method ?? '', pathWithQuery: req.url ?? '', timestamp: header('x-flexproof-timestamp'), nonce: header('x-flexproof-nonce'), body },
        header('x-flexproof-signature'),
        publicKeyPem,
      );
      if (!signed) {
        state.badSignatures++;
        send(401, { code: 'UNAUTHORIZED', message: 'bad edge signature' });
        return;
      }
      const url = new URL(req.url ?? '/', 'http://x');
      const route = (async (): Promise<unknown> => {
        let m: RegExpExecArray | null;
        if (req.method === 'GET' && (m = /^\/v1\/edge\/enrollments\/([^/]+)$/.exec(url.pathname))) return gateway.getEnrollment(decodeURIComponent(m[1] as string));
        if (req.method === 'GET' && (m = /^\/v1\/edge\/enrollments\/([^/]+)\/verification-key$/.exec(url.pathname))) {
          return gateway.getVerificationKey(decodeURIComponent(m[1] as string));
        }
        if (req.method === 'POST' && url.pathname === '/v1/edge/withdrawals') return gateway.withdraw(body);
        if (req.method === 'POST' && (m = /^\/v1\/edge\/enrollments\/([^/]+)\/accept$/.exec(url.pathname))) return gateway.acceptEnrollment(decodeURIComponent(m[1] as string), body);
        if (req.method === 'POST' && (m = /^\/v1\/edge\/enrollments\/([^/]+)\/periods\/([0-9]+)$/.exec(url.pathname))) {
          return gateway.submitPeriod(decodeURIComponent(m[1] as string), Number(m[2]), body);
        }
        if (req.method === 'PUT' && (m = /^\/v1\/edge\/meters\/([^/]+)\/periods\/([0-9]+)\/sealed$/.exec(url.pathname))) {
          const { jwe } = JSON.parse(body) as { jwe: SealedPeriodJwe };
          return gateway.uploadSealedPeriod(decodeURIComponent(m[1] as string), url.searchParams.get('enrollmentId') ?? '', Number(m[2]), jwe);
        }
        if (req.method === 'GET' && url.pathname === '/v1/edge/auditor-keys') return gateway.getAuditorKeys();
        if (req.method === 'GET' && (m = /^\/v1\/edge\/meters\/([^/]+)\/sealed-periods$/.exec(url.pathname))) {
          return gateway.getSealedPeriods(decodeURIComponent(m[1] as string), url.searchParams.get('enrollmentId') ?? '');
        }
        throw new GatewayError({ status: 404, code: 'NOT_FOUND', message: 'no such route', retryable: false });
      })();
      route.then(
        (value) => send(200, value ?? {}),
        (error: unknown) => {
          if (error instanceof GatewayError) send(error.status ?? 500, { code: error.code, message: error.message });
          else send(500, { code: 'INTERNAL', message: 'internal error' });
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    gateway,
    get badSignatures() {
      return state.badSignatures;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
