import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ChaincodeRefusal, LedgerUnavailable } from '@flexproof/gateway-api';
import { sealedContentHash, sealingKeyHash } from '@flexproof/protocol';
import { FakeLedgerForTests } from './support/fake-ledger';
import {
  bearer,
  buildTestGateway,
  MemorySealedStoreForTests,
  registerTestMeter,
  SEALING_KEYS,
  sealedFor,
  signed,
  type TestGateway,
  type TestMeter,
} from './support/gateway';

/** The ledger the prosumer payloads are signed for (the gateway relays them untouched). */
const LEDGER = { channel: 'flexchannel', chaincode: 'flexproof' };

function periodBody(meter: TestMeter, enrollmentId: string, periodIndex: number, submissionHash: string, newFingerprint = '111') {
  return {
    payload: {
      type: 'flexproof.submitPeriod.v2',
      ...LEDGER,
      enrollmentId,
      meterId: meter.meter.meterId,
      prosumerId: meter.meter.prosumerId,
      circuitId: 'flexdev-v1-r4',
      periodIndex,
      submissionHash,
    },
    signature: 'c2lnbmVkLWJ5LXRoZS1wcm9zdW1lcg==',
    proof: { pi_a: [], pi_b: [], pi_c: [] },
    publicSignals: [newFingerprint, '3', '0', '0', '42', String(periodIndex)],
  };
}

describe('gateway edge routes (fake ledger): signed requests, periods, sealed documents, auditor keys', () => {
  let gw: TestGateway;
  let m1: TestMeter;
  let m2: TestMeter;
  beforeEach(async () => {
    const ledger = new FakeLedgerForTests();
    m1 = registerTestMeter(ledger, 'meter-1');
    m2 = registerTestMeter(ledger, 'meter-2', 'ed25519');
    ledger.addEnrollment({ enrollmentId: 'enr-1', meterId: 'meter-1' });
    ledger.addEnrollment({ enrollmentId: 'enr-2', meterId: 'meter-2' });
    gw = await buildTestGateway({ ledger });
  });
  afterEach(() => gw.app.close());

  describe('request signatures', () => {
    it('accepts requests signed with the registered key (ECDSA P-256 and Ed25519)', async () => {
      const ec = await gw.app.inject(signed(m1, 'GET', '/v1/edge/enrollments/enr-1'));
      assert.equal(ec.statusCode, 200, ec.body);
      assert.equal(ec.json().enrollment.enrollmentId, 'enr-1');
      const ed = await gw.app.inject(signed(m2, 'GET', '/v1/edge/meters/meter-2'));
      assert.equal(ed.statusCode, 200, ed.body);
      assert.equal(ed.json().nonce, '0');
    });

    it('answers 401 for missing headers, a wrong key, a changed body or path, and a stale timestamp', async () => {
      const none = await gw.app.inject({ method: 'GET', url: '/v1/edge/enrollments/enr-1' });
      assert.equal(none.statusCode, 401);
      assert.equal(none.json().code, 'UNAUTHORIZED');

      const impostor = signed(m2, 'GET', '/v1/edge/enrollments/enr-1');
      impostor.headers['x-flexproof-meter'] = 'meter-1';
      assert.equal((await gw.app.inject(impostor)).statusCode, 401);

      const body = { jwe: await sealedFor({ meterId: 'meter-1', enrollmentId: 'enr-1', periodIndex: 0 }) };
      const url = '/v1/edge/meters/meter-1/periods/0/sealed?enrollmentId=enr-1';
      const changed = signed(m1, 'PUT', url, body);
      changed.payload = JSON.stringify({ jwe: { ...body.jwe, iv: body.jwe.iv.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) } });
      assert.equal((await gw.app.inject(changed)).statusCode, 401);

      const otherPath = signed(m1, 'PUT', url, body);
      assert.equal((await gw.app.inject({ ...otherPath, url: url.replace('/0/', '/1/') })).statusCode, 401);

      const stale = await gw.app.inject(signed(m1, 'GET', '/v1/edge/enrollments/enr-1', undefined, { now: Date.now() - 301_000 }));
      assert.equal(stale.statusCode, 401);
      assert.match(stale.json().message, /window/);

      const unknown = registerTestMeter(new FakeLedgerForTests(), 'meter-unknown');
      assert.equal((await gw.app.inject(signed(unknown, 'GET', '/v1/edge/meters/meter-unknown'))).statusCode, 401);
    });

    it('answers 409 REPLAY for a nonce seen within the window', async () => {
      const request = signed(m1, 'GET', '/v1/edge/enrollments/enr-1');
      assert.equal((await gw.app.inject(request)).statusCode, 200);
      const replay = await gw.app.inject(request);
      assert.equal(replay.statusCode, 409);
      assert.equal(replay.json().code, 'REPLAY');
    });

    it("answers 403 when a meter reaches for another meter's data", async () => {
      assert.equal((await gw.app.inject(signed(m1, 'GET', '/v1/edge/enrollments/enr-2'))).statusCode, 403);
      assert.equal((await gw.app.inject(signed(m1, 'GET', '/v1/edge/meters/meter-2/sealed-periods?enrollmentId=enr-2'))).statusCode, 403);
      const own = periodBody(m2, 'enr-2', 0, 'a'.repeat(64));
      const forged = await gw.app.inject(signed(m1, 'POST', '/v1/edge/enrollments/enr-2/periods/0', own));
      assert.equal(forged.statusCode, 403);
      assert.equal(gw.ledger.submitted.length, 0);
    });

    it('refuses organisation tokens on edge routes and edge signatures on organisation routes', async () => {
      assert.equal((await gw.app.inject({ method: 'GET', url: '/v1/edge/enrollments/enr-1', headers: bearer('dso') })).statusCode, 401);
      assert.equal((await gw.app.inject(signed(m1, 'GET', '/v1/enrollments/enr-1'))).statusCode, 401);
    });
  });

  describe('period submission: settles once, whatever the retries', () => {
    it('settles a period and returns the recorded outcome to an identical resubmission', async () => {
      const body = periodBody(m1, 'enr-1', 0, 'a'.repeat(64));
      const first = await gw.app.inject(signed(m1, 'POST', '/v1/edge/enrollments/enr-1/periods/0', body));
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(first.json().outcome, 'verified');
      assert.equal(first.json().replayed, false);
      const again = await gw.app.inject(signed(m1, 'POST', '/v1/edge/enrollments/enr-1/periods/0', body));
      assert.equal(again.statusCode, 200);
      assert.equal(again.json().replayed, true);
      assert.equal(again.json().txId, first.json().txId);
      assert.deepEqual(again.json().result, first.json().result);
      assert.equal(gw.ledger.submitted.length, 1);
      // Relayed as signed: the v2 payload with its channel and chaincode, nothing added or removed.
      assert.deepEqual(gw.ledger.submitted[0], { transaction: 'org.flexproof.programs:SubmitPeriod', argument: body });
    });

    it('answers 409 to a different payload for a settled period', async () => {
      const first = periodBody(m1, 'enr-1', 0, 'a'.repeat(64));
      await gw.app.inject(signed(m1, 'POST', '/v1/edge/enrollments/enr-1/periods/0', first));
      const other = periodBody(m1, 'enr-1', 0, 'b'.repeat(64), '222');
      const res = await gw.app.inject(signed(m1, 'POST', '/v1/edge/enrollments/enr-1/periods/0', other));
      assert.equal(res.statusCode, 409);
      assert.equal(res.json().code, 'CONFLICT');
      assert.ok(res.json().txId, 'names the transaction that settled the period');
    });

    it('never settles twice when a retry follows a timeout whose first attempt committed', async () => {
      const real = gw.ledger.submit.bind(gw.ledger);
      let calls = 0;
      gw.ledger.submit = async (tx, arg) => {
        calls++;
        const outcome = await real(tx, arg);
        if (calls === 1) throw new LedgerUnavailable('commit status timed out', outcome.txId);
        return outcome;
      };
      const body = periodBody(m1, 'enr-1', 0, 'a'.repeat(64));
      const first = await gw.app.inject(signed(m1, 'POST', '/v1/edge/enrollments/enr-1/periods/0', body));
      assert.equal(first.statusCode, 503);
      assert.equal(first.headers['retry-after'], '5');
      const retry = await gw.app.inject(signed(m1, 'POST', '/v1/edge/enrollments/enr-1/periods/0', body));
      assert.equal(retry.statusCode, 200);
      assert.equal(retry.json().replayed, true);
      assert.equal(retry.json().txId, first.json().txId);
      assert.equal(calls, 2, 'the retry is submitted (no read first), refused CONFLICT and answered from the record');
    });

    it('shares one transaction between concurrent identical submissions', async () => {
      const body = periodBody(m1, 'enr-1', 3, 'c'.repeat(64));
      const [a, b] = await Promise.all([
        gw.app.inject(signed(m1, 'POST', '/v1/edge/enrollments/enr-1/periods/3', body)),
        gw.app.inject(signed(m1, 'POST', '/v1/edge/enrollments/enr-1/periods/3', body)),
      ]);
      assert.equal(a.statusCode, 200);
      assert.equal(b.statusCode, 200);
      assert.equal(a.json().txId, b.json().txId);
      assert.equal(gw.ledger.submitted.length, 1);
    });

    it('checks path against payload (400) and the period index range (400)', async () => {
      const body = periodBody(m1, 'enr-1', 2, 'a'.repeat(64));
      const mismatch = await gw.app.inject(signed(m1, 'POST', '/v1/edge/enrollments/enr-1/periods/1', body));
      assert.equal(mismatch.statusCode, 400);
      assert.match(mismatch.json().message, /periodIndex/);
      const range = await gw.app.inject(signed(m1, 'POST', '/v1/edge/enrollments/enr-1/periods/24', body));
      assert.equal(range.statusCode, 400);
    });
  });

  describe('enrollment acceptance', () => {
    it('relays the signed payload and answers a retry of a committed acceptance with the recorded one', async () => {
      const accepted = { ...gw.ledger.enrollments.get('enr-1'), status: 'accepted' };
      let accepts = 0;
      gw.ledger.on('org.flexproof.programs:AcceptEnrollment', () => {
        accepts++;
        if (accepts > 1) throw new ChaincodeRefusal('REPLAY', 'nonce 1 is not above 1');
        return accepted;
      });
      gw.ledger.on('org.flexproof.programs:GetEnrollmentHistory', () => ({
        enrollmentId: 'enr-1',
        history: [
          { txId: 'tx-offer', time: '', isDelete: false, value: { status: 'offered' } },
          { txId: 'tx-accept', time: '', isDelete: false, value: accepted },
        ],
      }));
      const payload = { type: 'flexproof.acceptEnrollment.v2', ...LEDGER, nonce: '1', enrollmentId: 'enr-1', meterId: 'meter-1' };
      const body = { payload: { ...payload, ...acceptTerms() }, signature: 'c2lnbmVkLWJ5LXRoZS1wcm9zdW1lcg==' };
      const first = await gw.app.inject(signed(m1, 'POST', '/v1/edge/enrollments/enr-1/accept', body));
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(first.json().result.status, 'accepted');
      // A second gateway (no shared idempotency cache) sees the chaincode's REPLAY and answers the record.
      const other = await buildTestGateway({ ledger: gw.ledger });
      try {
        const retry = await other.app.inject(signed(m1, 'POST', '/v1/edge/enrollments/enr-1/accept', body));
        assert.equal(retry.statusCode, 200, retry.body);
        assert.equal(retry.json().txId, 'tx-accept');
      } finally {
        await other.app.close();
      }
    });
  });

  describe('withdrawal', () => {
    it('relays the signed v2 payload untouched (201) and refuses a payload of another meter (403)', async () => {
      gw.ledger.on('org.flexproof.tokens:Withdraw', (arg) => ({ redemptionId: 'r-1', amount: (arg.payload as { amount: string }).amount }));
      const body = {
        payload: { type: 'flexproof.withdraw.v2', ...LEDGER, meterId: 'meter-1', prosumerId: 'prosumer-of-meter-1', amount: '25', nonce: '7' },
        signature: 'c2lnbmVkLWJ5LXRoZS1wcm9zdW1lcg==',
      };
      const res = await gw.app.inject(signed(m1, 'POST', '/v1/edge/withdrawals', body));
      assert.equal(res.statusCode, 201, res.body);
      assert.deepEqual(gw.ledger.submitted, [{ transaction: 'org.flexproof.tokens:Withdraw', argument: body }]);
      const other = await gw.app.inject(signed(m2, 'POST', '/v1/edge/withdrawals', body));
      assert.equal(other.statusCode, 403);
      // Unbound (v1, no channel or chaincode) payloads are refused before the ledger.
      const { channel: _c, chaincode: _cc, ...unbound } = body.payload;
      const v1 = await gw.app.inject(signed(m1, 'POST', '/v1/edge/withdrawals', { ...body, payload: { ...unbound, type: 'flexproof.withdraw.v1' } }));
      assert.equal(v1.statusCode, 400);
      assert.equal(gw.ledger.submitted.length, 1);
    });
  });

  describe('verification key of the own enrollment (T4)', () => {
    const url = '/v1/edge/enrollments/enr-1/verification-key';
    const record = {
      circuitId: 'flexdev-v1-r4',
      verificationKey: { protocol: 'groth16', curve: 'bn128', nPublic: 6, IC: [['1', '2', '1']] },
      keyHash: 'f'.repeat(64),
      status: 'active',
      proposedBy: 'DsoMSP',
      proposedAt: '2025-06-01T00:00:00.000Z',
      approvedBy: 'AggregatorMSP',
    };
    beforeEach(() => {
      gw.ledger.on('org.flexproof.verifiers:GetVerificationKey', ({ circuitId }) => {
        if (circuitId !== record.circuitId) throw new ChaincodeRefusal('NOT_FOUND', `no key for circuit ${String(circuitId)}`);
        return record;
      });
    });

    it("answers the ledger's key for the enrollment's circuit: circuitId, status, keyHash, verificationKey and nothing else", async () => {
      const res = await gw.app.inject(signed(m1, 'GET', url));
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), {
        circuitId: record.circuitId,
        status: 'active',
        keyHash: record.keyHash,
        verificationKey: record.verificationKey,
      });
      assert.deepEqual(gw.ledger.evaluated.at(-1), { transaction: 'org.flexproof.verifiers:GetVerificationKey', argument: { circuitId: 'flexdev-v1-r4' } });
    });

    it("refuses another meter's enrollment (403) before reading the key, an unknown one (404), and unsigned requests (401)", async () => {
      const other = await gw.app.inject(signed(m2, 'GET', url));
      assert.equal(other.statusCode, 403);
      assert.equal(other.json().code, 'FORBIDDEN');
      assert.ok(!gw.ledger.evaluated.some((e) => e.transaction === 'org.flexproof.verifiers:GetVerificationKey'));
      const unknown = await gw.app.inject(signed(m1, 'GET', '/v1/edge/enrollments/enr-x/verification-key'));
      assert.equal(unknown.statusCode, 404);
      assert.equal((await gw.app.inject({ method: 'GET', url })).statusCode, 401);
      assert.equal((await gw.app.inject({ method: 'GET', url, headers: bearer('dso') })).statusCode, 401);
    });

    it('answers 404 when no key is registered for the circuit', async () => {
      gw.ledger.addEnrollment({ enrollmentId: 'enr-3', meterId: 'meter-1', circuitId: 'unknown-circuit' });
      const res = await gw.app.inject(signed(m1, 'GET', '/v1/edge/enrollments/enr-3/verification-key'));
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().code, 'NOT_FOUND');
    });

    it('answers the key of a circuit id to any registered meter (for installing a bundle before enrolling); 404 for an unknown circuit, 401 unsigned', async () => {
      const byId = '/v1/edge/verification-keys/flexdev-v1-r4';
      const res = await gw.app.inject(signed(m2, 'GET', byId));
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { circuitId: record.circuitId, status: 'active', keyHash: record.keyHash, verificationKey: record.verificationKey });
      assert.deepEqual(gw.ledger.evaluated.at(-1), { transaction: 'org.flexproof.verifiers:GetVerificationKey', argument: { circuitId: 'flexdev-v1-r4' } });
      const unknown = await gw.app.inject(signed(m1, 'GET', '/v1/edge/verification-keys/flexdev-v1-r4.other'));
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.json().code, 'NOT_FOUND');
      assert.equal((await gw.app.inject({ method: 'GET', url: byId })).statusCode, 401);
      const bad = await gw.app.inject(signed(m1, 'GET', '/v1/edge/verification-keys/NOT%20AN%20ID'));
      assert.equal(bad.statusCode, 400);
    });

    it('is in the OpenAPI document with its response schema and edge security', async () => {
      const spec = (await gw.app.inject({ url: '/docs/json' })).json();
      const op = spec.paths['/v1/edge/enrollments/{enrollmentId}/verification-key'].get;
      assert.deepEqual(op.security, [{ edgeSignature: [] }]);
      const schema = op.responses['200'].content['application/json'].schema;
      assert.deepEqual(Object.keys(schema.properties).sort(), ['circuitId', 'keyHash', 'status', 'verificationKey']);
      assert.equal(schema.additionalProperties, false);
      for (const status of ['401', '403', '404', '409', '429']) assert.ok(op.responses[status], status);
    });
  });

  describe('sealed documents (ciphertext only)', () => {
    const place = { meterId: 'meter-1', enrollmentId: 'enr-1', periodIndex: 0 };
    const url = '/v1/edge/meters/meter-1/periods/0/sealed?enrollmentId=enr-1';
    const store = () => gw.store as MemorySealedStoreForTests;

    it('stores a period once: 201 created, the identical document 200 unchanged, another one 409', async () => {
      const jwe = await sealedFor(place);
      const first = await gw.app.inject(signed(m1, 'PUT', url, { jwe }));
      assert.equal(first.statusCode, 201, first.body);
      assert.deepEqual(first.json(), { stored: 'created' });
      const same = await gw.app.inject(signed(m1, 'PUT', url, { jwe }));
      assert.equal(same.statusCode, 200);
      assert.deepEqual(same.json(), { stored: 'unchanged' });
      const different = await gw.app.inject(signed(m1, 'PUT', url, { jwe: await sealedFor(place, 1) }));
      assert.equal(different.statusCode, 409);
      assert.equal(different.json().code, 'CONFLICT');
      assert.equal(store().docs.size, 1);
      assert.equal([...store().docs.values()][0]?.contentHash, sealedContentHash(jwe));
    });

    it('refuses a document made for another place with a 400 naming the header field, storing nothing', async () => {
      const cases: [string, { meterId: string; enrollmentId: string; periodIndex: number }][] = [
        ['body.jwe.protected.fpp: must name the period it was read for', { ...place, periodIndex: 1 }],
        ['body.jwe.protected.fpe: must name the enrollment it was read for', { ...place, enrollmentId: 'enr-9' }],
        ['body.jwe.protected.fpm: must name the meter it was read for', { ...place, meterId: 'meter-2' }],
      ];
      for (const [message, madeFor] of cases) {
        const res = await gw.app.inject(signed(m1, 'PUT', url, { jwe: await sealedFor(madeFor) }));
        assert.equal(res.statusCode, 400, message);
        assert.deepEqual(res.json(), { code: 'BAD_INPUT', message });
      }
      assert.equal(store().docs.size, 0);
    });

    it('refuses malformed documents with a 400 naming the field, never echoing a value', async () => {
      const jwe = await sealedFor(place);
      const first = jwe.recipients[0]!;
      const cases: [unknown, RegExp][] = [
        [{ ...jwe, recipients: [{ ...first, encrypted_key: `${first.encrypted_key.slice(0, -1)}=` }] }, /^body\.jwe\.recipients\.0\.encrypted_key: /],
        [{ ...jwe, recipients: [first, first] }, /^body\.jwe\.recipients\.1\.header\.kid: must differ/],
        [{ ...jwe, tag: 'A'.repeat(21) + 'B' }, /^body\.jwe\.tag: must be base64url \(no padding, canonical\)/],
        [{ ...jwe, protected: Buffer.from(JSON.stringify({ enc: 'A256GCM', cty: 'other', fpm: 'meter-1', fpe: 'enr-1', fpp: 0 })).toString('base64url') }, /^body\.jwe\.protected\.cty: /],
        [{ ...jwe, extra: 'x' }, /^body\.jwe\.extra: is not allowed/],
        [{ ...jwe, recipients: [] }, /^body\.jwe\.recipients: /],
        [{ ...jwe, ciphertext: 'A'.repeat(70_000) }, /^body\.jwe\.ciphertext: /],
      ];
      for (const [bad, message] of cases) {
        const res = await gw.app.inject(signed(m1, 'PUT', url, { jwe: bad }));
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(res.json().code, 'BAD_INPUT');
        assert.match(res.json().message, message);
        assert.ok(!res.body.includes(jwe.ciphertext.slice(0, 20)));
      }
      const huge = await gw.app.inject(signed(m1, 'PUT', url, { jwe: { ...jwe, ciphertext: 'A'.repeat(200_000) } }));
      assert.equal(huge.statusCode, 413, 'uploads are bounded well below the general body limit');
      assert.equal(store().docs.size, 0);
    });

    it("refuses another meter's upload (403), an enrollment of another meter (403) or unknown (404)", async () => {
      const jwe = await sealedFor(place);
      assert.equal((await gw.app.inject(signed(m2, 'PUT', url, { jwe }))).statusCode, 403);
      const foreign = { ...place, enrollmentId: 'enr-2' };
      const other = await gw.app.inject(signed(m1, 'PUT', '/v1/edge/meters/meter-1/periods/0/sealed?enrollmentId=enr-2', { jwe: await sealedFor(foreign) }));
      assert.equal(other.statusCode, 403);
      assert.match(other.json().message, /not an enrollment of meter meter-1/);
      const unknownPlace = { ...place, enrollmentId: 'enr-x' };
      const unknown = await gw.app.inject(signed(m1, 'PUT', '/v1/edge/meters/meter-1/periods/0/sealed?enrollmentId=enr-x', { jwe: await sealedFor(unknownPlace) }));
      assert.equal(unknown.statusCode, 404);
      assert.equal(store().docs.size, 0);
    });

    it('gives the documents to the owning meter and to auditors only, and to dso and aggregator which periods exist with their hash', async () => {
      const jwes = [];
      for (const periodIndex of [0, 2]) {
        const jwe = await sealedFor({ ...place, periodIndex });
        jwes.push(jwe);
        const res = await gw.app.inject(signed(m1, 'PUT', `/v1/edge/meters/meter-1/periods/${periodIndex}/sealed?enrollmentId=enr-1`, { jwe }));
        assert.equal(res.statusCode, 201, res.body);
      }
      const own = await gw.app.inject(signed(m1, 'GET', '/v1/edge/meters/meter-1/sealed-periods?enrollmentId=enr-1'));
      assert.equal(own.statusCode, 200, own.body);
      assert.equal(own.json().meterId, 'meter-1');
      assert.deepEqual(own.json().periods.map((p: { jwe: unknown }) => p.jwe), jwes);

      const auditor = await gw.app.inject({ method: 'GET', url: '/v1/meters/meter-1/sealed-periods?enrollmentId=enr-1', headers: bearer('auditor') });
      assert.equal(auditor.statusCode, 200);
      assert.deepEqual(Object.keys(auditor.json().periods[0]).sort(), ['contentHash', 'enrollmentId', 'jwe', 'periodIndex', 'uploadedAt']);
      assert.deepEqual(auditor.json().periods.map((p: { periodIndex: number }) => p.periodIndex), [0, 2]);
      for (const role of ['dso', 'aggregator'] as const) {
        const res = await gw.app.inject({ method: 'GET', url: '/v1/meters/meter-1/sealed-periods?enrollmentId=enr-1', headers: bearer(role) });
        assert.equal(res.statusCode, 403, role);
      }
      assert.equal((await gw.app.inject(signed(m2, 'GET', '/v1/edge/meters/meter-1/sealed-periods?enrollmentId=enr-1'))).statusCode, 403);
      const noQuery = await gw.app.inject({ method: 'GET', url: '/v1/meters/meter-1/sealed-periods', headers: bearer('auditor') });
      assert.equal(noQuery.statusCode, 400);
      assert.equal(noQuery.json().message, 'querystring.enrollmentId: is required');

      for (const role of ['dso', 'aggregator', 'auditor'] as const) {
        const res = await gw.app.inject({ method: 'GET', url: '/v1/enrollments/enr-1/stored-periods', headers: bearer(role) });
        assert.equal(res.statusCode, 200, role);
        assert.deepEqual(res.json(), {
          enrollmentId: 'enr-1',
          meterId: 'meter-1',
          periods: jwes.map((jwe, i) => ({ periodIndex: [0, 2][i], contentHash: sealedContentHash(jwe), uploadedAt: new Date(0).toISOString() })),
        });
        assert.ok(!res.body.includes('ciphertext') && !res.body.includes(jwes[0]!.ciphertext.slice(0, 20)), 'no document, only its hash');
      }
      assert.equal((await gw.app.inject({ method: 'GET', url: '/v1/enrollments/enr-x/stored-periods', headers: bearer('dso') })).statusCode, 404);
      assert.equal((await gw.app.inject({ method: 'GET', url: '/v1/enrollments/enr-1/stored-periods' })).statusCode, 401);
    });

    it('logs no document: not at trace level, not for a refused upload', async () => {
      const lines: string[] = [];
      const stream = new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString());
          done();
        },
      });
      const logged = await buildTestGateway({ ledger: gw.ledger, logger: { level: 'trace', stream } });
      try {
        const jwe = await sealedFor(place);
        assert.equal((await logged.app.inject(signed(m1, 'PUT', url, { jwe }))).statusCode, 201);
        assert.equal((await logged.app.inject(signed(m1, 'PUT', url, { jwe: await sealedFor(place, 1) }))).statusCode, 409);
        assert.equal((await logged.app.inject(signed(m1, 'PUT', url, { jwe: { ...jwe, tag: 'x' } }))).statusCode, 400);
        assert.equal((await logged.app.inject(signed(m1, 'GET', '/v1/edge/meters/meter-1/sealed-periods?enrollmentId=enr-1'))).statusCode, 200);
        const log = lines.join('');
        assert.match(log, /request refused/, 'the log was captured');
        for (const fragment of [jwe.ciphertext.slice(0, 24), jwe.recipients[0]!.encrypted_key, jwe.iv]) assert.ok(!log.includes(fragment));
      } finally {
        await logged.app.close();
      }
    });

    it('the old plaintext routes are gone', async () => {
      const body = { readings: ['1'], fingerprintSalt: '5' };
      assert.equal((await gw.app.inject(signed(m1, 'PUT', '/v1/edge/meters/meter-1/periods/0/readings?enrollmentId=enr-1', body))).statusCode, 404);
      assert.equal((await gw.app.inject(signed(m1, 'GET', '/v1/edge/meters/meter-1/readings'))).statusCode, 404);
      assert.equal((await gw.app.inject({ method: 'GET', url: '/v1/meters/meter-1/readings', headers: bearer('auditor') })).statusCode, 404);
      assert.equal((await gw.app.inject({ method: 'GET', url: '/v1/enrollments/enr-1/audit', headers: bearer('auditor') })).statusCode, 404);
    });
  });

  describe('auditor keys for sealing', () => {
    it('answers the active keys the ledger holds, nothing else, to a signed request', async () => {
      const active = { auditorId: 'regulator', publicKeyPem: SEALING_KEYS.auditor.publicKeyPem, keyHash: sealingKeyHash(SEALING_KEYS.auditor.publicKeyPem), status: 'active' };
      gw.ledger.on('org.flexproof.auditors:ListAuditorKeys', () => ({
        keys: [
          { ...active, description: 'the regulator', proposedBy: 'DsoMSP', approvedBy: 'AggregatorMSP' },
          { auditorId: 'old', publicKeyPem: SEALING_KEYS.prosumer.publicKeyPem, keyHash: sealingKeyHash(SEALING_KEYS.prosumer.publicKeyPem), status: 'retired' },
          { auditorId: 'new', publicKeyPem: SEALING_KEYS.prosumer.publicKeyPem, keyHash: sealingKeyHash(SEALING_KEYS.prosumer.publicKeyPem), status: 'proposed' },
        ],
      }));
      const res = await gw.app.inject(signed(m1, 'GET', '/v1/edge/auditor-keys'));
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { keys: [active] });
      assert.deepEqual(gw.ledger.evaluated.at(-1), { transaction: 'org.flexproof.auditors:ListAuditorKeys', argument: {} });
      assert.equal((await gw.app.inject({ method: 'GET', url: '/v1/edge/auditor-keys', headers: bearer('dso') })).statusCode, 401);
    });
  });

});

function acceptTerms() {
  return {
    orderId: 'order-1',
    prosumerId: 'prosumer-of-meter-1',
    circuitId: 'flexdev-v1-r4',
    requestCommitment: '42',
    reward: '2400',
    ratePerWh: '1',
    toleranceWh: '10',
    flexWh: Array(24).fill('100'),
    startTime: '2025-06-01T00:00:00Z',
    periodSeconds: 3600,
    graceSeconds: 900,
  };
}
