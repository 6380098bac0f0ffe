// The edge request signature v2 as @flexproof/protocol defines it: the fixed vector the
// gateway's tests also pin (so the one definition signs exactly what the gateway always
// checked), both key types, the header reader, and that the gateway's names are this module.
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import * as gateway from '@flexproof/gateway-api';
import {
  EDGE_HEADERS,
  edgeSigningString,
  readEdgeSignatureHeaders,
  signEdgeRequest,
  verifyEdgeSignature,
} from '@flexproof/protocol';

/** The vector test/unit/gateway-api/edge-signature.test.ts pins (copied: importing a test file would run its suite). */
const SIGNING_VECTOR = {
  parts: {
    gatewayMspId: 'AggregatorMSP',
    method: 'put',
    pathWithQuery: '/v1/edge/meters/meter-1/periods/3/readings?enrollmentId=enr-1',
    timestamp: '1700000000000',
    nonce: '00112233445566778899aabbccddeeff',
    body: '{"readings":["1"],"fingerprintSalt":"5"}',
  },
  signingString:
    'flexproof.edge.v2\nAggregatorMSP\nPUT\n/v1/edge/meters/meter-1/periods/3/readings?enrollmentId=enr-1\n1700000000000\n' +
    '00112233445566778899aabbccddeeff\n19eab1a2f29a2f1cb13124c74b0b8fa478f462e1b77144f8f8bd25a9bda2424e',
  ed25519Seed: Buffer.alloc(32, 7),
  publicKeyPem: '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw=\n-----END PUBLIC KEY-----\n',
  signature: 'I8e5yD2b8cy6RE17xs3r7ix9VPsr27ASrfLNCTez0CcMkklj9fx8qJOxPnlF/csWHcu3Hz9iGxvQMbwtHONhAg==',
} as const;

const ed25519FromSeed = (seed: Buffer) =>
  createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });

describe('protocol: edge request signing v2', () => {
  it('signs the fixed vector byte for byte, with the fixed Ed25519 signature', () => {
    assert.equal(edgeSigningString(SIGNING_VECTOR.parts), SIGNING_VECTOR.signingString);
    const key = ed25519FromSeed(SIGNING_VECTOR.ed25519Seed);
    assert.equal(createPublicKey(key).export({ type: 'spki', format: 'pem' }), SIGNING_VECTOR.publicKeyPem);
    const { parts } = SIGNING_VECTOR;
    const headers = signEdgeRequest(parts, 'meter-1', key, { now: Number(parts.timestamp), nonce: parts.nonce });
    assert.equal(headers[EDGE_HEADERS.signature], SIGNING_VECTOR.signature);
    assert.deepEqual(Object.keys(headers).sort(), Object.values(EDGE_HEADERS).sort());
  });

  it('is the implementation the gateway uses (one copy, not two)', () => {
    assert.equal(gateway.signEdgeRequest, signEdgeRequest);
    assert.equal(gateway.verifyEdgeSignature, verifyEdgeSignature);
    assert.equal(gateway.edgeSigningString, edgeSigningString);
  });

  for (const type of ['ed25519', 'ec-p256'] as const) {
    it(`a ${type} signature verifies for its gateway, path and body only`, () => {
      const { privateKey, publicKey } = type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const request = { gatewayMspId: 'DsoMSP', method: 'post', pathWithQuery: '/v1/edge/withdrawals', body: '{"a":1}' };
      const h = signEdgeRequest(request, 'm1', privateKey);
      const parts = { ...request, timestamp: h[EDGE_HEADERS.timestamp] as string, nonce: h[EDGE_HEADERS.nonce] as string };
      const sig = h[EDGE_HEADERS.signature] as string;
      const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      assert.ok(verifyEdgeSignature(parts, sig, pem));
      assert.ok(verifyEdgeSignature(parts, sig, publicKey), 'a KeyObject works as well as PEM');
      assert.ok(!verifyEdgeSignature({ ...parts, gatewayMspId: 'AggregatorMSP' }, sig, pem));
      assert.ok(!verifyEdgeSignature({ ...parts, body: '{"a":2}' }, sig, pem));
      assert.ok(!verifyEdgeSignature({ ...parts, pathWithQuery: '/v1/edge/withdrawals?x=1' }, sig, pem));
      assert.ok(!verifyEdgeSignature(parts, '', pem));
      assert.ok(!verifyEdgeSignature(parts, sig, 'not a key'));
    });
  }

  it('refuses an MSP id that could forge a line of the signed string', () => {
    for (const bad of ['', 'Dso MSP', 'Dso\nGET', 'x'.repeat(129)]) {
      assert.throws(() => edgeSigningString({ ...SIGNING_VECTOR.parts, gatewayMspId: bad }), /gatewayMspId/);
    }
  });

  it('reads the four headers, and tells missing from malformed', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const h = signEdgeRequest({ gatewayMspId: 'DsoMSP', method: 'GET', pathWithQuery: '/' }, 'meter-1', privateKey);
    const read = readEdgeSignatureHeaders(h);
    assert.ok(read.ok);
    assert.equal(read.ok && read.headers.meterId, 'meter-1');
    assert.deepEqual(readEdgeSignatureHeaders({ ...h, [EDGE_HEADERS.nonce]: undefined }), { ok: false, reason: 'missing' });
    assert.deepEqual(readEdgeSignatureHeaders({ ...h, [EDGE_HEADERS.nonce]: 'short' }), { ok: false, reason: 'malformed' });
    assert.deepEqual(readEdgeSignatureHeaders({ ...h, [EDGE_HEADERS.timestamp]: '-1' }), { ok: false, reason: 'malformed' });
    assert.deepEqual(readEdgeSignatureHeaders({ ...h, [EDGE_HEADERS.meter]: ['a', 'b'] }), { ok: false, reason: 'missing' });
  });
});
