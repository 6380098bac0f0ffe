// The integration suites' client glue (test/support/gateway-clients.ts), on a test gateway
// with the fake ledger: the AnswerLog sees each answer's status and headers, refusal()
// hands back the GatewayError, eventually() resends while NOT_FOUND and nothing else.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { LedgerUnavailable } from '@flexproof/gateway-api';
import { AnswerLog, eventually, orgClient, refusal } from '../../support/gateway-clients';
import { TOKENS, buildTestGateway, type TestGateway } from '../gateway-api/support/gateway';

describe('test support: the typed client as the integration suites use it', () => {
  let gw: TestGateway;
  let url: string;
  beforeEach(async () => {
    gw = await buildTestGateway();
    await gw.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}`;
  });
  afterEach(async () => gw.app.close());

  it('logs the status of each answer, success or refusal, and refusal() returns the error', async () => {
    const log = new AnswerLog();
    const dso = orgClient(url, TOKENS.dso, { log });
    gw.ledger.on('org.flexproof.meters:RegisterMeter', (arg) => ({ ...(arg as object), status: 'active' }));
    const publicKeyPem = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await dso.registerMeter({ meterId: 'm-1', prosumerId: 'p-1', publicKeyPem, congestionPoint: 'cp' });
    assert.equal(log.last.status, 201);
    assert.equal(log.last.path, '/v1/meters');
    const forbidden = await refusal(orgClient(url, TOKENS.auditor, { log }).mint({ account: 'org:DsoMSP', amount: '1' }));
    assert.deepEqual([forbidden.status, forbidden.code, log.last.status], [403, 'FORBIDDEN', 403]);
    gw.ledger.on('org.flexproof.tokens:GetSupply', () => ({ minted: '0', burned: '0', outstanding: '0' }));
    await assert.rejects(refusal(dso.supply()), /expected the gateway to refuse/);
  });

  it('one attempt against a ledger that is down: the 503 and its Retry-After are in the log', async () => {
    gw.ledger.on('org.flexproof.tokens:GetSupply', () => {
      throw new LedgerUnavailable('fake peer is down');
    });
    const log = new AnswerLog();
    const res = await refusal(orgClient(url, TOKENS.dso, { log, retry: { maxAttempts: 1 } }).supply());
    assert.deepEqual([res.status, res.code, log.last.headers.get('retry-after'), log.answers.length], [503, 'LEDGER_UNAVAILABLE', '5', 1]);
  });

  it('eventually() resends while NOT_FOUND, and gives up on anything else at once', async () => {
    let calls = 0;
    gw.ledger.on('org.flexproof.meters:GetMeter', () => {
      calls++;
      if (calls < 3) throw new Error('an unclassified failure');
      return { meterId: 'm-1' };
    });
    const dso = orgClient(url, TOKENS.dso);
    // The fake's unclassified error is a 500: not resent.
    await assert.rejects(eventually(() => dso.meter('m-1'), 5, 1), (e: { status?: number }) => e.status === 500);
    assert.equal(calls, 1);
    const { ChaincodeRefusal } = await import('@flexproof/gateway-api');
    calls = 0;
    gw.ledger.on('org.flexproof.meters:GetMeter', () => {
      calls++;
      if (calls < 3) throw new ChaincodeRefusal('NOT_FOUND', 'meter m-1 not found');
      return { meterId: 'm-1' };
    });
    assert.equal((await eventually(() => dso.meter('m-1'), 5, 1)).meterId, 'm-1');
    assert.equal(calls, 3);
  });
});
