import assert from 'node:assert/strict';
import { ChaincodeRefusal, CommitRejected } from '@flexproof/gateway-api';
import { sealingKeyHash } from '@flexproof/protocol';
import { bearer, buildTestGateway, SEALING_KEYS, type TestGateway } from './support/gateway';

const meterBody = {
  meterId: 'meter-1',
  prosumerId: 'prosumer-1',
  publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${'A'.repeat(80)}\n-----END PUBLIC KEY-----`,
  congestionPoint: 'cp-1',
};

describe('gateway organisation routes (fake ledger)', () => {
  let gw: TestGateway;
  beforeEach(async () => {
    gw = await buildTestGateway();
  });
  afterEach(() => gw.app.close());

  it('relays a transaction with its one JSON argument and answers {txId, result}', async () => {
    gw.ledger.on('org.flexproof.meters:RegisterMeter', (arg) => ({ ...arg, status: 'active', nonce: '0', keyType: 'ec-p256' }));
    const res = await gw.app.inject({ method: 'POST', url: '/v1/meters', headers: bearer('dso'), payload: meterBody });
    assert.equal(res.statusCode, 201);
    const body = res.json();
    assert.match(body.txId, /^faketx/);
    assert.equal(body.result.meterId, 'meter-1');
    assert.deepEqual(gw.ledger.submitted[0], { transaction: 'org.flexproof.meters:RegisterMeter', argument: meterBody });
  });

  it('answers 401 without a token or with a wrong one, 403 for the wrong role', async () => {
    const none = await gw.app.inject({ method: 'POST', url: '/v1/meters', payload: meterBody });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().code, 'UNAUTHORIZED');
    const wrong = await gw.app.inject({ method: 'POST', url: '/v1/meters', headers: { authorization: 'Bearer nope-nope-nope' }, payload: meterBody });
    assert.equal(wrong.statusCode, 401);
    const role = await gw.app.inject({ method: 'POST', url: '/v1/meters', headers: bearer('auditor'), payload: meterBody });
    assert.equal(role.statusCode, 403);
    assert.equal(role.json().code, 'FORBIDDEN');
    assert.equal(gw.ledger.submitted.length, 0);
  });

  it('answers 400 naming the offending field, before touching the ledger', async () => {
    const missing = await gw.app.inject({ method: 'POST', url: '/v1/meters', headers: bearer('dso'), payload: { ...meterBody, meterId: undefined } });
    assert.equal(missing.statusCode, 400);
    assert.deepEqual(Object.keys(missing.json()).sort(), ['code', 'message']);
    assert.equal(missing.json().code, 'BAD_INPUT');
    assert.match(missing.json().message, /^body\.meterId: is required/);
    const pattern = await gw.app.inject({ method: 'POST', url: '/v1/tokens/mint', headers: bearer('dso'), payload: { account: 'org:DsoMSP', amount: '1.5' } });
    assert.equal(pattern.statusCode, 400);
    assert.match(pattern.json().message, /^body\.amount: /);
    const extra = await gw.app.inject({ method: 'POST', url: '/v1/meters', headers: bearer('dso'), payload: { ...meterBody, role: 'admin' } });
    assert.equal(extra.statusCode, 400);
    assert.match(extra.json().message, /^body\.role: is not allowed/);
    const json = await gw.app.inject({ method: 'POST', url: '/v1/meters', headers: { ...bearer('dso'), 'content-type': 'application/json' }, payload: '{"meterId":' });
    assert.equal(json.statusCode, 400);
    assert.equal(gw.ledger.submitted.length, 0);
  });

  it('maps chaincode codes to statuses and carries the code and the txId', async () => {
    const cases: [string, number][] = [
      ['BAD_INPUT', 400],
      ['FORBIDDEN', 403],
      ['NOT_FOUND', 404],
      ['CONFLICT', 409],
      ['REPLAY', 409],
      ['RULE_VIOLATION', 422],
      ['DEADLINE_PASSED', 422],
      ['BAD_SIGNATURE', 422],
      ['EXCLUDED', 422],
      // The proposal's timestamp is off the endorsing peer's clock: this gateway's clock is wrong.
      ['CLOCK_SKEW', 422],
      // A code this gateway does not know yet is a rule violation.
      ['SOME_FUTURE_CODE', 422],
    ];
    for (const [code, status] of cases) {
      gw.ledger.on('org.flexproof.tokens:Mint', () => {
        throw new ChaincodeRefusal(code, `refused as ${code}`, 'tx-refused');
      });
      const res = await gw.app.inject({ method: 'POST', url: '/v1/tokens/mint', headers: bearer('dso'), payload: { account: 'org:DsoMSP', amount: '5' } });
      assert.equal(res.statusCode, status, code);
      assert.deepEqual(res.json(), { code, message: `refused as ${code}`, txId: 'tx-refused' });
    }
  });

  it('answers 503 with Retry-After when the peer is down, without details', async () => {
    gw.ledger.down = true;
    const res = await gw.app.inject({ method: 'GET', url: '/v1/meters/meter-1', headers: bearer('auditor') });
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '5');
    assert.deepEqual(res.json(), { code: 'LEDGER_UNAVAILABLE', message: 'the ledger is not reachable; retry later' });
  });

  it('hides the details of unexpected failures (500) and of rejected commits (502)', async () => {
    gw.ledger.on('org.flexproof.tokens:GetSupply', () => {
      throw new Error('secret internal detail at /home/x');
    });
    const res = await gw.app.inject({ method: 'GET', url: '/v1/tokens/supply', headers: bearer('dso') });
    assert.equal(res.statusCode, 500);
    assert.deepEqual(res.json(), { code: 'INTERNAL', message: 'internal error' });
    assert.doesNotMatch(res.body, /secret|stack|\/home/);
    gw.ledger.on('org.flexproof.tokens:Mint', () => {
      throw new CommitRejected('ENDORSEMENT_POLICY_FAILURE', 'tx-bad');
    });
    const rejected = await gw.app.inject({ method: 'POST', url: '/v1/tokens/mint', headers: bearer('dso'), payload: { account: 'org:DsoMSP', amount: '5' } });
    assert.equal(rejected.statusCode, 502);
    assert.equal(rejected.json().txId, 'tx-bad');
  });

  it('answers 503 LEDGER_CONTENDED with Retry-After when MVCC or phantom read conflicts outlast the retries (nothing committed: the client resends)', async () => {
    for (const code of ['MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT']) {
      gw.ledger.on('org.flexproof.tokens:Transfer', () => {
        throw new CommitRejected(code, 'tx-conflict');
      });
      const res = await gw.app.inject({ method: 'POST', url: '/v1/tokens/transfer', headers: bearer('dso'), payload: { to: 'org:AggregatorMSP', amount: '5' } });
      assert.equal(res.statusCode, 503, code);
      assert.equal(res.json().code, 'LEDGER_CONTENDED');
      assert.equal(res.headers['retry-after'], '1');
    }
  });

  it('answers 413 for an oversized body and 404 for an unknown route', async () => {
    const small = await buildTestGateway({ bodyLimit: 2048 });
    try {
      const res = await small.app.inject({
        method: 'POST',
        url: '/v1/verification-keys',
        headers: bearer('dso'),
        payload: { circuitId: 'c1', verificationKey: { junk: 'x'.repeat(5000) } },
      });
      assert.equal(res.statusCode, 413);
      assert.equal(res.json().code, 'PAYLOAD_TOO_LARGE');
    } finally {
      await small.app.close();
    }
    const missing = await gw.app.inject({ method: 'GET', url: '/v1/nothing-here', headers: bearer('dso') });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'NOT_FOUND');
  });

  it('builds each transaction argument from path and body', async () => {
    gw.ledger
      .on('org.flexproof.market:SubmitFlexOffer', (arg) => ({ ...arg, status: 'submitted' }))
      .on('org.flexproof.tokens:GetBalances', () => ({ accounts: [] }));
    const agg = await buildTestGateway({ org: 'aggregator', ledger: gw.ledger });
    try {
      const offer = await agg.app.inject({
        method: 'POST',
        url: '/v1/flex-requests/req-1/offers',
        headers: bearer('aggregator'),
        payload: { offerId: 'off-1', offeredWh: Array(24).fill('10'), price: '100' },
      });
      assert.equal(offer.statusCode, 201, offer.body);
      assert.equal(offer.json().result.requestId, 'req-1');
      gw.ledger.on('org.flexproof.programs:ClaimMissedPeriod', (arg) => ({ ...arg, outcome: 'missed' }));
      const claim = await agg.app.inject({ method: 'POST', url: '/v1/enrollments/e-1/periods/7/claim', headers: bearer('aggregator') });
      assert.deepEqual(claim.json().result, { enrollmentId: 'e-1', periodIndex: 7, outcome: 'missed' });
      const badPeriod = await agg.app.inject({ method: 'POST', url: '/v1/enrollments/e-1/periods/24/claim', headers: bearer('aggregator') });
      assert.equal(badPeriod.statusCode, 400);
      assert.match(badPeriod.json().message, /^params\.periodIndex/);
    } finally {
      await agg.app.close();
    }
    gw.ledger.on('org.flexproof.market:AcceptFlexOffer', (arg) => ({ ...arg, status: 'open' }));
    const order = await gw.app.inject({ method: 'POST', url: '/v1/flex-offers/off-1/order', headers: bearer('dso'), payload: { orderId: 'ord-1' } });
    assert.deepEqual(order.json().result, { orderId: 'ord-1', offerId: 'off-1', status: 'open' });
    const hash = 'a'.repeat(64);
    gw.ledger.on('org.flexproof.verifiers:ApproveVerificationKey', (arg) => ({ ...arg, status: 'active' }));
    const approve = await gw.app.inject({ method: 'POST', url: '/v1/verification-keys/flexdev-v1-r4/approve', headers: bearer('dso'), payload: { keyHash: hash } });
    assert.deepEqual(approve.json().result, { circuitId: 'flexdev-v1-r4', keyHash: hash, status: 'active' });
    const balances = await gw.app.inject({ method: 'GET', url: '/v1/accounts?ids=org:DsoMSP,prosumer:p1', headers: bearer('auditor') });
    assert.equal(balances.statusCode, 200);
    assert.deepEqual(gw.ledger.evaluated.at(-1)?.argument, { accounts: ['org:DsoMSP', 'prosumer:p1'] });
  });

  it('relays the auditor key governance: propose, approve by hash, retire, approve retirement, list and get', async () => {
    const pem = SEALING_KEYS.auditor.publicKeyPem;
    const keyHash = sealingKeyHash(pem);
    const record = (arg: Record<string, unknown>, status: string) => ({ auditorId: arg.auditorId, publicKeyPem: pem, keyHash, status });
    gw.ledger
      .on('org.flexproof.auditors:ProposeAuditorKey', (arg) => record(arg, 'proposed'))
      .on('org.flexproof.auditors:ApproveAuditorKey', (arg) => record(arg, 'active'))
      .on('org.flexproof.auditors:ProposeAuditorKeyRetirement', (arg) => ({ ...record(arg, 'active'), retirementProposedBy: 'DsoMSP' }))
      .on('org.flexproof.auditors:ApproveAuditorKeyRetirement', (arg) => record(arg, 'retired'))
      .on('org.flexproof.auditors:GetAuditorKey', (arg) => record(arg, 'active'))
      .on('org.flexproof.auditors:ListAuditorKeys', () => ({ keys: [record({ auditorId: 'regulator' }, 'active')] }));
    const post = (url: string, payload?: Record<string, unknown>, role: 'dso' | 'aggregator' | 'auditor' = 'dso') =>
      gw.app.inject({ method: 'POST', url, headers: bearer(role), ...(payload === undefined ? {} : { payload }) });

    const proposed = await post('/v1/auditor-keys', { auditorId: 'regulator', publicKeyPem: pem, description: 'the regulator' });
    assert.equal(proposed.statusCode, 201, proposed.body);
    assert.equal(proposed.json().result.status, 'proposed');
    assert.equal((await post('/v1/auditor-keys/regulator/approve', { keyHash })).statusCode, 200);
    assert.equal((await post('/v1/auditor-keys/regulator/retire')).statusCode, 200);
    assert.equal((await post('/v1/auditor-keys/regulator/retire/approve')).json().result.status, 'retired');
    assert.deepEqual(
      gw.ledger.submitted.map((s) => [s.transaction, s.argument]),
      [
        ['org.flexproof.auditors:ProposeAuditorKey', { auditorId: 'regulator', publicKeyPem: pem, description: 'the regulator' }],
        ['org.flexproof.auditors:ApproveAuditorKey', { auditorId: 'regulator', keyHash }],
        ['org.flexproof.auditors:ProposeAuditorKeyRetirement', { auditorId: 'regulator' }],
        ['org.flexproof.auditors:ApproveAuditorKeyRetirement', { auditorId: 'regulator' }],
      ],
    );
    for (const role of ['dso', 'aggregator', 'auditor'] as const) {
      const list = await gw.app.inject({ method: 'GET', url: '/v1/auditor-keys', headers: bearer(role) });
      assert.equal(list.statusCode, 200, role);
      assert.equal(list.json().keys[0].keyHash, keyHash);
      const one = await gw.app.inject({ method: 'GET', url: '/v1/auditor-keys/regulator', headers: bearer(role) });
      assert.equal(one.json().publicKeyPem, pem);
    }
    assert.deepEqual(gw.ledger.evaluated.at(-1), { transaction: 'org.flexproof.auditors:GetAuditorKey', argument: { auditorId: 'regulator' } });

    // Refused before the ledger: an auditor may not govern keys, bad input names the field.
    const before = gw.ledger.submitted.length;
    assert.equal((await post('/v1/auditor-keys', { auditorId: 'x', publicKeyPem: pem }, 'auditor')).statusCode, 403);
    const noHash = await post('/v1/auditor-keys/regulator/approve', {});
    assert.deepEqual(noHash.json(), { code: 'BAD_INPUT', message: 'body.keyHash: is required' });
    const badHash = await post('/v1/auditor-keys/regulator/approve', { keyHash: 'A'.repeat(64) });
    assert.match(badHash.json().message, /^body\.keyHash: must match pattern/);
    const extra = await post('/v1/auditor-keys', { auditorId: 'x', publicKeyPem: pem, privateKeyPem: 'no' });
    assert.equal(extra.json().message, 'body.privateKeyPem: is not allowed');
    assert.equal((await post('/v1/auditor-keys/bad%20id/retire')).statusCode, 400);
    assert.equal(gw.ledger.submitted.length, before);

    // The chaincode's own refusals keep their code (e.g. approving one's own proposal).
    gw.ledger.on('org.flexproof.auditors:ApproveAuditorKey', () => {
      throw new ChaincodeRefusal('FORBIDDEN', 'the proposing organisation cannot approve its own proposal');
    });
    const own = await post('/v1/auditor-keys/regulator/approve', { keyHash });
    assert.equal(own.statusCode, 403);
    assert.equal(own.json().code, 'FORBIDDEN');
  });

  it('shares one transaction between retries carrying the same Idempotency-Key and body', async () => {
    gw.ledger.on('org.flexproof.tokens:Mint', (arg) => arg);
    const request = {
      method: 'POST' as const,
      url: '/v1/tokens/mint',
      headers: { ...bearer('dso'), 'idempotency-key': 'mint-42' },
      payload: { account: 'org:AggregatorMSP', amount: '1000' },
    };
    const first = await gw.app.inject(request);
    const second = await gw.app.inject(request);
    assert.equal(first.statusCode, 200);
    assert.equal(second.statusCode, 200);
    assert.equal(second.json().txId, first.json().txId);
    assert.equal(gw.ledger.submitted.length, 1);
    // A new request under a new key is a new transaction.
    const other = await gw.app.inject({ ...request, headers: { ...bearer('dso'), 'idempotency-key': 'mint-43' }, payload: { account: 'org:AggregatorMSP', amount: '7' } });
    assert.equal(other.statusCode, 200);
    assert.notEqual(other.json().txId, first.json().txId);
    assert.equal(gw.ledger.submitted.length, 2);
  });

  it('refuses an Idempotency-Key reused with another body or on another route (422, naming the key), and a malformed key (400)', async () => {
    gw.ledger.on('org.flexproof.tokens:Mint', (arg) => arg);
    gw.ledger.on('org.flexproof.tokens:Burn', (arg) => arg);
    const headers = { ...bearer('dso'), 'idempotency-key': 'mint-77' };
    const first = await gw.app.inject({ method: 'POST', url: '/v1/tokens/mint', headers, payload: { account: 'org:AggregatorMSP', amount: '1000' } });
    assert.equal(first.statusCode, 200);
    const before = gw.ledger.submitted.length;
    const changed = await gw.app.inject({ method: 'POST', url: '/v1/tokens/mint', headers, payload: { account: 'org:AggregatorMSP', amount: '1001' } });
    assert.equal(changed.statusCode, 422);
    assert.equal(changed.json().code, 'IDEMPOTENCY_KEY_REUSED');
    assert.match(changed.json().message, /Idempotency-Key "mint-77" was already used/);
    const elsewhere = await gw.app.inject({ method: 'POST', url: '/v1/tokens/burn', headers, payload: { account: 'org:AggregatorMSP', amount: '1000' } });
    assert.equal(elsewhere.statusCode, 422, elsewhere.body);
    assert.equal(gw.ledger.submitted.length, before);
    // The original request under its key still gets the recorded outcome.
    const retry = await gw.app.inject({ method: 'POST', url: '/v1/tokens/mint', headers, payload: { account: 'org:AggregatorMSP', amount: '1000' } });
    assert.equal(retry.statusCode, 200);
    assert.equal(retry.json().txId, first.json().txId);
    assert.equal(gw.ledger.submitted.length, before);
    const bad = await gw.app.inject({ method: 'POST', url: '/v1/tokens/mint', headers: { ...bearer('dso'), 'idempotency-key': 'has space' }, payload: { account: 'org:AggregatorMSP', amount: '5' } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /^Idempotency-Key header: /);
  });
});
