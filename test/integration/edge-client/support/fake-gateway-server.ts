/**
 * The edge routes of the gateway over real HTTP, in front of a FakeGateway (the unit
 * tests' in-memory ledger), checking the edge request signature exactly as the gateway
 * does. For tests that run the real CLI process but not the Fabric network.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyEdgeSignature } from '../../../../gateway-api/src/auth/edge-signature';
import { GatewayError } from '../../../../edge-client/src/gateway-port';
import { FakeGateway } from '../../../unit/edge-client/support/fake-gateway';

export interface FakeGatewayServer {
  url: string;
  gateway: FakeGateway;
  /** Requests refused because of their signature. */
  badSignatures: number;
  close(): Promise<void>;
}

export async function startFakeGatewayServer(gateway: FakeGateway, publicKeyPem: string): Promise<FakeGatewayServer> {
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
        { method: req.method ?? '', pathWithQuery: req.url ?? '', timestamp: header('x-flexproof-timestamp'), nonce: header('x-flexproof-nonce'), body },
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
        if (req.method === 'POST' && (m = /^\/v1\/edge\/enrollments\/([^/]+)\/accept$/.exec(url.pathname))) return gateway.acceptEnrollment(decodeURIComponent(m[1] as string), body);
        if (req.method === 'POST' && (m = /^\/v1\/edge\/enrollments\/([^/]+)\/periods\/([0-9]+)$/.exec(url.pathname))) {
          return gateway.submitPeriod(decodeURIComponent(m[1] as string), Number(m[2]), body);
        }
        if (req.method === 'PUT' && (m = /^\/v1\/edge\/meters\/([^/]+)\/periods\/([0-9]+)\/readings$/.exec(url.pathname))) {
          const upload = JSON.parse(body) as { readings: string[]; fingerprintSalt: string };
          await gateway.uploadReadings(decodeURIComponent(m[1] as string), url.searchParams.get('enrollmentId') ?? '', Number(m[2]), upload);
          return { stored: 'created' };
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
