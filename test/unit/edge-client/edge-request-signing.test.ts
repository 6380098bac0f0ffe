// The edge request signature, version 2 (protocol P2): the exact signed bytes, and that
// they name the gateway's organisation.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { EDGE_HEADERS, edgeRequestHeaders, edgeSigningString, HttpGateway } from '@flexproof/edge-client';

describe('edge-client: edge request signing v2', () => {
  it('signs exactly "flexproof.edge.v2", the gateway MSP id, method, path, timestamp, nonce and the body hash', () => {
    const body = '{"readings":["1"]}';
    const s = edgeSigningString({ method: 'put', pathWithQuery: '/v1/edge/meters/m1/periods/0/readings?enrollmentId=e1', body }, 'AggregatorMSP', '1780000000000', 'ab'.repeat(16));
    const bodyHash = createHash('sha256').update(body).digest('hex');
    assert.equal(s, `flexproof.edge.v2\nAggregatorMSP\nPUT\n/v1/edge/meters/m1/periods/0/readings?enrollmentId=e1\n1780000000000\n${'ab'.repeat(16)}\n${bodyHash}`);
    const empty = edgeSigningString({ method: 'GET', pathWithQuery: '/v1/edge/enrollments/e1', body: '' }, 'DsoMSP', '1', 'n');
    assert.equal(empty, `flexproof.edge.v2\nDsoMSP\nGET\n/v1/edge/enrollments/e1\n1\nn\n${createHash('sha256').update('').digest('hex')}`);
  });

  it('refuses an MSP id that could forge a line of the signed string', () => {
    for (const bad of ['', 'Aggregator MSP', 'A\nGET', 'x'.repeat(129)]) {
      assert.throws(() => edgeSigningString({ method: 'GET', pathWithQuery: '/', body: '' }, bad, '1', 'n'), /gatewayMspId/);
    }
  });

  it('the signature verifies over that string for its organisation only', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const request = { method: 'GET', pathWithQuery: '/v1/edge/enrollments/e1', body: '' };
    const h = edgeRequestHeaders(request, 'm1', privateKey, { gatewayMspId: 'AggregatorMSP', now: 5, nonce: 'cd'.repeat(16) });
    const sig = Buffer.from(h[EDGE_HEADERS.signature] as string, 'base64');
    const signed = (msp: string) => Buffer.from(edgeSigningString(request, msp, '5', 'cd'.repeat(16)));
    assert.ok(verify(null, signed('AggregatorMSP'), publicKey, sig));
    assert.ok(!verify(null, signed('DsoMSP'), publicKey, sig));
  });

  it('HttpGateway signs every request for its configured gateway organisation', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const seen: { url: string; headers: Record<string, string> }[] = [];
    const fetchStub = (async (url: string, init: { headers: Record<string, string> }) => {
      seen.push({ url, headers: init.headers });
      return new Response(JSON.stringify({ circuitId: 'c', status: 'active', keyHash: 'h', verificationKey: {} }), { status: 200 });
    }) as unknown as typeof fetch;
    const gateway = new HttpGateway({ baseUrl: 'http://gw.example/', meterId: 'm1', privateKey, gatewayMspId: 'DsoMSP', fetch: fetchStub });
    await gateway.getVerificationKey('e 1');
    const [call] = seen;
    assert.equal(call?.url, 'http://gw.example/v1/edge/enrollments/e%201/verification-key');
    const h = call?.headers ?? {};
    const data = Buffer.from(edgeSigningString({ method: 'GET', pathWithQuery: '/v1/edge/enrollments/e%201/verification-key', body: '' }, 'DsoMSP', h[EDGE_HEADERS.timestamp] as string, h[EDGE_HEADERS.nonce] as string));
    assert.ok(verify('sha256', data, publicKey, Buffer.from(h[EDGE_HEADERS.signature] as string, 'base64')));
  });
});
