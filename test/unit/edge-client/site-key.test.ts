import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ACTION_SUBMIT_PERIOD, signPayload, verifyEdgeSignature, verifyPayloadSignature } from '@flexproof/protocol';
import { createSiteKey, EDGE_HEADERS, edgeRequestHeaders, isEdgeError, loadSiteKey } from '@flexproof/edge-client';

describe('edge-client: site key', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'flexproof-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const type of ['ed25519', 'ec-p256'] as const) {
    it(`creates a ${type} key readable only by its owner, whose signatures the chaincode and the gateway accept`, () => {
      const file = path.join(dir, 'keys', 'site.pem');
      const created = createSiteKey(file, type);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const loaded = loadSiteKey(file);
      assert.equal(loaded.publicKeyPem, created.publicKeyPem);
      assert.equal(loaded.type, type);
      const payload = {
        type: ACTION_SUBMIT_PERIOD,
        channel: 'flexchannel',
        chaincode: 'flexproof',
        enrollmentId: 'e1',
        meterId: 'm1',
        prosumerId: 'p1',
        circuitId: 'flexdev-v1-r4',
        periodIndex: 0,
        submissionHash: 'ab'.repeat(32),
      } as const;
      assert.ok(verifyPayloadSignature(payload, signPayload(payload, loaded.privateKey), created.publicKeyPem));
      const request = { method: 'PUT', pathWithQuery: '/v1/edge/meters/m1/periods/0/sealed?enrollmentId=e1', body: '{"jwe":{}}' };
      const headers = edgeRequestHeaders(request, 'm1', loaded.privateKey, { gatewayMspId: 'AggregatorMSP', now: 1_780_000_000_000, nonce: 'aa'.repeat(16) });
      assert.equal(headers[EDGE_HEADERS.meter], 'm1');
      const parts = { ...request, gatewayMspId: 'AggregatorMSP', timestamp: headers[EDGE_HEADERS.timestamp] as string, nonce: headers[EDGE_HEADERS.nonce] as string };
      const signature = headers[EDGE_HEADERS.signature] as string;
      assert.ok(verifyEdgeSignature(parts, signature, created.publicKeyPem), 'the gateway verifies the request signature');
      assert.ok(!verifyEdgeSignature({ ...parts, body: '{"readings":["2"]}' }, signature, created.publicKeyPem));
      assert.ok(!verifyEdgeSignature({ ...parts, gatewayMspId: 'DsoMSP' }, signature, created.publicKeyPem), "the other organisation's gateway refuses it");
    });
  }

  it('never overwrites an existing key', () => {
    const file = path.join(dir, 'site.pem');
    createSiteKey(file);
    assert.throws(() => createSiteKey(file), (e) => isEdgeError(e, 'KEY_EXISTS'));
  });

  it('refuses a key file others can read, a missing one and one that is not a key', () => {
    const file = path.join(dir, 'site.pem');
    createSiteKey(file);
    chmodSync(file, 0o644);
    assert.throws(() => loadSiteKey(file), (e) => isEdgeError(e, 'KEY_PERMISSIONS'));
    assert.throws(() => loadSiteKey(path.join(dir, 'none.pem')), (e) => isEdgeError(e, 'KEY_MISSING'));
    const junk = path.join(dir, 'junk.pem');
    writeFileSync(junk, 'not a key', { mode: 0o600 });
    assert.throws(() => loadSiteKey(junk), (e) => isEdgeError(e, 'KEY_INVALID'));
  });
});
