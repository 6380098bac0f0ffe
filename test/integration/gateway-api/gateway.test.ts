/**
 * The gateway over HTTP against the real network and the embedded raw-data store: one
 * instance per organisation, a full enrollment driven by REST calls (organisation tokens
 * and signed edge requests) with real Groth16 proofs, the tamper audit finding exactly
 * one altered period, each error class, and the event stream.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  ACTION_ACCEPT_ENROLLMENT,
  ACTION_SUBMIT_PERIOD,
  enrollmentTerms,
  signPayload,
  verificationKeyHash,
  type EnrollmentTerms,
} from '@flexproof/chaincode/client';
import {
  SMALL_CIRCUIT_ID,
  buildDeviationInput,
  ensureArtifacts,
  fingerprint,
  proveDeviation,
  randomSalt,
  readVerificationKey,
  requestCommitment,
  submissionHash,
  type CircuitArtifacts,
} from '@flexproof/circuits';
import {
  readNetworkDescriptor,
  signEdgeRequest,
  startGateway,
  tamperWithSealedDocument,
  type GatewayInstance,
  type NetworkDescriptor,
} from '@flexproof/gateway-api';
import { auditSealedEnrollment } from '@flexproof/auditor';
import { generateSealingKeyPair, openPeriod, sealPeriod, sealingKeyHash } from '@flexproof/protocol';
import { call, testGatewayConfig, type Answer } from '../../support/gateway-http';
import { ledgerTarget } from '../../support/ledger';
import { NETWORK_JSON } from '../../support/paths';

const TOKEN = { dso: 'it-dso-token-0123456789abcdef01234', aggregator: 'it-agg-token-0123456789abcdef01234', auditor: 'it-aud-token-0123456789abcdef01234' };
const PERIOD_SECONDS = 4;
const GRACE_SECONDS = 60;

interface Site {
  meterId: string;
  prosumerId: string;
  privateKey: KeyObject;
  publicKeyPem: string;
}

/** A request signed by the meter's key, the way the edge client sends it. */
/** The organisation (MSP id) of each running gateway, by base URL: edge signatures name it. */
const gatewayMsp = new Map<string, string>();

async function edge(base: string, site: Site, method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown): Promise<Answer> {
  const raw = body === undefined ? undefined : JSON.stringify(body);
  const gatewayMspId = gatewayMsp.get(base);
  if (!gatewayMspId) throw new Error(`no gateway is running at ${base}`);
  const headers = signEdgeRequest({ gatewayMspId, method, pathWithQuery: url, body: raw ?? '' }, site.meterId, site.privateKey);
  return call(base, method, url, { headers, ...(raw === undefined ? {} : { raw }) });
}

const sleepUntil = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms - Date.now())));

describe('gateway-api over HTTP on the real network (two instances, embedded store)', function () {
  this.timeout(300_000);
  const run = Date.now().toString(36);
  const circuitId = `${SMALL_CIRCUIT_ID}.g${run}`;
  const enrollmentId = `genr-${run}`;
  const dirs: string[] = [];
  let network: NetworkDescriptor;
  let dso: GatewayInstance;
  let agg: GatewayInstance;
  let artifacts: CircuitArtifacts;
  let startMs: number;
  const profile = Array.from({ length: 24 }, () => 1000n);
  const commitmentSalt = randomSalt();
  const site: Site = (() => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return { meterId: `gmeter-${run}`, prosumerId: `gprosumer-${run}`, privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
  })();
  const endOf = (p: number) => startMs + (p + 1) * PERIOD_SECONDS * 1000;
  const siteSealing = generateSealingKeyPair();
  const auditorKey = generateSealingKeyPair();
  const auditorId = `gauditor-${run}`;
  const events: { event: string; data: Record<string, unknown> }[] = [];
  let closeStream: (() => void) | undefined;

  before(async () => {
    network = await readNetworkDescriptor(NETWORK_JSON);
    artifacts = await ensureArtifacts(SMALL_CIRCUIT_ID);
    for (const org of ['dso', 'aggregator'] as const) {
      const dir = mkdtempSync(path.join(tmpdir(), `flexproof-gw-${org}-`));
      dirs.push(dir);
      const instance = await startGateway(testGatewayConfig(network, org, dir, TOKEN), { logger: false });
      gatewayMsp.set(instance.url, network.orgs[org].mspId);
      if (org === 'dso') dso = instance;
      else agg = instance;
    }
  });

  after(async () => {
    closeStream?.();
    await dso?.close();
    await agg?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('is ready: both peers and both stores answer', async () => {
    for (const gw of [dso, agg]) {
      const ready = await call(gw.url, 'GET', '/readyz');
      assert.equal(ready.status, 200, JSON.stringify(ready.body));
    }
  });

  it('governs the verification key across the two organisations', async () => {
    const verificationKey = readVerificationKey(artifacts);
    const proposed = await call(dso.url, 'POST', '/v1/verification-keys', { token: TOKEN.dso, body: { circuitId, verificationKey } });
    assert.equal(proposed.status, 201, JSON.stringify(proposed.body));
    const keyHash = verificationKeyHash(verificationKey);
    const own = await call(dso.url, 'POST', `/v1/verification-keys/${circuitId}/approve`, { token: TOKEN.dso, body: { keyHash } });
    assert.equal(own.status, 403, 'the proposing organisation cannot approve (chaincode FORBIDDEN)');
    assert.equal(own.body.code, 'FORBIDDEN');
    const approved = await call(agg.url, 'POST', `/v1/verification-keys/${circuitId}/approve`, { token: TOKEN.aggregator, body: { keyHash } });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.result?.status, 'active');
  });

  it('opens an event stream filtered by the enrollment', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${dso.url}/v1/events?enrollmentId=${enrollmentId}`, { headers: { authorization: `Bearer ${TOKEN.auditor}` } }, (res) => {
        assert.equal(res.statusCode, 200);
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event === 'ready') resolve();
            else if (event) events.push({ event, data: JSON.parse(data ?? '{}') as Record<string, unknown> });
          }
        });
      });
      req.on('error', (err) => (closeStream ? undefined : reject(err)));
      req.end();
      closeStream = () => req.destroy();
    });
  });

  it('runs the market and an enrollment over REST: meter, tokens, request, offer, order, offer, accept (edge), fund', async () => {
    const dsoCall = (m: string, u: string, body?: unknown) => call(dso.url, m, u, { token: TOKEN.dso, body });
    const aggCall = (m: string, u: string, body?: unknown) => call(agg.url, m, u, { token: TOKEN.aggregator, body });
    const perIsp = (v: string) => Array.from({ length: 24 }, () => v);
    const meter = await dsoCall('POST', '/v1/meters', { meterId: site.meterId, prosumerId: site.prosumerId, publicKeyPem: site.publicKeyPem, congestionPoint: `gcp-${run}` });
    assert.equal(meter.status, 201, JSON.stringify(meter.body));
    assert.equal((await dsoCall('POST', '/v1/tokens/mint', { account: 'org:AggregatorMSP', amount: '100000' })).status, 200);
    assert.equal((await dsoCall('POST', '/v1/tokens/mint', { account: 'org:DsoMSP', amount: '100000' })).status, 200);
    const day = new Date().toISOString().slice(0, 10);
    assert.equal((await dsoCall('POST', '/v1/flex-requests', { requestId: `greq-${run}`, congestionPoint: `gcp-${run}`, day, requestedWh: perIsp('1000') })).status, 201);
    assert.equal((await aggCall('POST', `/v1/flex-requests/greq-${run}/offers`, { offerId: `goffer-${run}`, offeredWh: perIsp('1000'), price: '2400' })).status, 201);
    assert.equal((await dsoCall('POST', `/v1/flex-offers/goffer-${run}/order`, { orderId: `gorder-${run}` })).status, 201);

    startMs = Math.ceil((Date.now() + 10_000) / 1000) * 1000;
    const offered = await aggCall('POST', '/v1/enrollments', {
      enrollmentId, orderId: `gorder-${run}`, meterId: site.meterId, circuitId,
      requestCommitment: requestCommitment(profile, commitmentSalt).toString(),
      reward: '2400', ratePerWh: '2', toleranceWh: '10', flexWh: perIsp('500'),
      startTime: new Date(startMs).toISOString().replace('.000Z', 'Z'), periodSeconds: PERIOD_SECONDS, graceSeconds: GRACE_SECONDS,
    });
    assert.equal(offered.status, 201, JSON.stringify(offered.body));

    // The edge client reads its meter (last nonce) and the offered terms, and accepts them.
    const ownMeter = await edge(agg.url, site, 'GET', `/v1/edge/meters/${site.meterId}`);
    assert.equal(ownMeter.status, 200);
    const view = await edge(agg.url, site, 'GET', `/v1/edge/enrollments/${enrollmentId}`);
    assert.equal(view.status, 200);
    const terms = enrollmentTerms((view.body as { enrollment: EnrollmentTerms }).enrollment);
    const payload = { type: ACTION_ACCEPT_ENROLLMENT, ...ledgerTarget(), nonce: String(BigInt(String(ownMeter.body.nonce)) + 1n), ...terms } as const;
    const acceptBody = { payload, signature: signPayload(payload, site.privateKey) };
    const accepted = await edge(agg.url, site, 'POST', `/v1/edge/enrollments/${enrollmentId}/accept`, acceptBody);
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    // A retry through the other organisation's gateway gets the recorded acceptance.
    const again = await edge(dso.url, site, 'POST', `/v1/edge/enrollments/${enrollmentId}/accept`, acceptBody);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.txId, accepted.body.txId);

    const funded = await aggCall('POST', `/v1/enrollments/${enrollmentId}/fund`);
    assert.equal(funded.status, 200, JSON.stringify(funded.body));
    assert.equal(funded.body.result?.status, 'active');
    assert.ok(Date.now() < endOf(0), 'set-up must end before the first period does');
  });

  it('registers an auditor key through both organisations', async () => {
    const proposed = await call(dso.url, 'POST', '/v1/auditor-keys', { token: TOKEN.dso, body: { auditorId, publicKeyPem: auditorKey.publicKeyPem } });
    assert.equal(proposed.status, 201, JSON.stringify(proposed.body));
    const self = await call(dso.url, 'POST', `/v1/auditor-keys/${auditorId}/approve`, { token: TOKEN.dso, body: { keyHash: sealingKeyHash(auditorKey.publicKeyPem) } });
    assert.equal(self.status, 403, 'the proposing organisation cannot approve');
    // The aggregator's peer may commit the proposal's block a moment after the DSO's.
    for (let i = 0; i < 50 && (await call(agg.url, 'GET', `/v1/auditor-keys/${auditorId}`, { token: TOKEN.aggregator })).status !== 200; i++) await new Promise((r) => setTimeout(r, 200));
    const approved = await call(agg.url, 'POST', `/v1/auditor-keys/${auditorId}/approve`, { token: TOKEN.aggregator, body: { keyHash: sealingKeyHash(auditorKey.publicKeyPem) } });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    const keys = await edge(agg.url, site, 'GET', '/v1/edge/auditor-keys');
    assert.equal(keys.status, 200, JSON.stringify(keys.body));
    assert.ok((keys.body as unknown as { keys: { auditorId: string; keyHash: string }[] }).keys.some((k) => k.auditorId === auditorId && k.keyHash === sealingKeyHash(auditorKey.publicKeyPem)));
  });

  const salts: bigint[] = [];
  const submissions: unknown[] = [];
  it('settles three periods over HTTP (readings stored off-chain first), once each', async () => {
    let prev = 0n;
    for (let p = 0; p < 3; p++) {
      const readings = [250n, 250n, 250n, BigInt(250 + 10 * p)];
      const salt = randomSalt();
      salts.push(salt);
      const input = buildDeviationInput({ circuitId: SMALL_CIRCUIT_ID, prevFingerprint: prev, periodIndex: p, readings, requestProfile: profile, commitmentSalt, fingerprintSalt: salt });
      const { proof, publicSignals } = await proveDeviation(SMALL_CIRCUIT_ID, input, artifacts);
      const payload = { type: ACTION_SUBMIT_PERIOD, ...ledgerTarget(), enrollmentId, meterId: site.meterId, prosumerId: site.prosumerId, circuitId, periodIndex: p, submissionHash: submissionHash(proof, publicSignals) } as const;
      const body = { payload, signature: signPayload(payload, site.privateKey), proof, publicSignals };
      submissions.push(body);

      // Sealed at the site to the prosumer's own key and the auditor's: the gateway and its store see ciphertext.
      const jwe = await sealPeriod({ meterId: site.meterId, enrollmentId, periodIndex: p, readings: readings.map(String), fingerprintSalt: salt.toString() }, [
        { publicKeyPem: siteSealing.publicKeyPem },
        { publicKeyPem: auditorKey.publicKeyPem },
      ]);
      const stored = await edge(agg.url, site, 'PUT', `/v1/edge/meters/${site.meterId}/periods/${p}/sealed?enrollmentId=${enrollmentId}`, { jwe });
      assert.equal(stored.status, 201, JSON.stringify(stored.body));
      assert.ok(!JSON.stringify(stored.body).includes(salt.toString()));

      await sleepUntil(endOf(p) + 300);
      const t0 = performance.now();
      const settled = await edge(agg.url, site, 'POST', `/v1/edge/enrollments/${enrollmentId}/periods/${p}`, body);
      const ms = performance.now() - t0;
      assert.equal(settled.status, 200, JSON.stringify(settled.body));
      assert.equal(settled.body.outcome, 'verified');
      assert.equal(settled.body.replayed, false);
      console.log(`      period ${p}: settled through the gateway in ${ms.toFixed(0)} ms (HTTP + endorsement by both peers with Groth16 verification + commit)`);
      prev = BigInt(String((settled.body.result as { newFingerprint: string }).newFingerprint));
    }
  });

  it('answers an identical resubmission with the recorded outcome and a different one with 409', async () => {
    const first = submissions[0] as { payload: Record<string, unknown> };
    const again = await edge(dso.url, site, 'POST', `/v1/edge/enrollments/${enrollmentId}/periods/0`, first);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.replayed, true);
    const other = submissions[1] as { payload: Record<string, unknown>; signature: string };
    const moved = { ...other, payload: { ...other.payload, periodIndex: 0 } };
    moved.signature = signPayload(moved.payload as never, site.privateKey);
    const conflict = await edge(agg.url, site, 'POST', `/v1/edge/enrollments/${enrollmentId}/periods/0`, moved);
    assert.equal(conflict.status, 409, JSON.stringify(conflict.body));
    assert.equal(conflict.body.code, 'CONFLICT');
    assert.ok(conflict.body.txId);
  });

  it('audits the enrollment where the auditor\'s key is: all periods match, then exactly the swapped one does not open', async () => {
    const audit = async () => {
      const view = await call(agg.url, 'GET', `/v1/enrollments/${enrollmentId}`, { token: TOKEN.auditor });
      assert.equal(view.status, 200, JSON.stringify(view.body));
      const sealed = await call(agg.url, 'GET', `/v1/meters/${site.meterId}/sealed-periods?enrollmentId=${enrollmentId}`, { token: TOKEN.auditor });
      assert.equal(sealed.status, 200, JSON.stringify(sealed.body));
      return auditSealedEnrollment({
        enrollment: { enrollmentId, meterId: site.meterId },
        ledgerPeriods: (view.body as unknown as { periods: { periodIndex: number; result: { outcome: string; prevFingerprint?: string; newFingerprint?: string } | null }[] }).periods,
        documents: (sealed.body as unknown as { periods: { periodIndex: number; jwe: unknown }[] }).periods,
        privateKeyPem: auditorKey.privateKeyPem,
        fingerprint,
      });
    };
    const clean = await audit();
    assert.deepEqual(clean.summary, { match: 3, mismatch: 0, missingData: 0, unreadable: 0, notVerified: 21 });
    // An insider with the store's admin credentials swaps period 1's document for period 0's (no API route allows it).
    await tamperWithSealedDocument(agg.storeUrl, { meterId: site.meterId, enrollmentId, periodIndex: 1 }, { replaceWithPeriod: 0 });
    assert.deepEqual((await audit()).periods.slice(0, 3).map((p) => p.verdict), ['match', 'unreadable', 'match']);
    // The organisations see which periods are stored and their hashes, never the readings.
    const stored = await call(agg.url, 'GET', `/v1/enrollments/${enrollmentId}/stored-periods`, { token: TOKEN.aggregator });
    assert.equal(stored.status, 200, JSON.stringify(stored.body));
    assert.equal(JSON.stringify(stored.body).includes('"jwe"'), false);
    assert.equal((await call(agg.url, 'GET', `/v1/meters/${site.meterId}/sealed-periods?enrollmentId=${enrollmentId}`, { token: TOKEN.aggregator })).status, 403);
    // The prosumer reads its own documents back and opens them with its sealing key.
    const own = await edge(agg.url, site, 'GET', `/v1/edge/meters/${site.meterId}/sealed-periods?enrollmentId=${enrollmentId}`);
    assert.equal(own.status, 200, JSON.stringify(own.body));
    const period2 = (own.body as unknown as { periods: { periodIndex: number; jwe: unknown }[] }).periods.find((d) => d.periodIndex === 2)!;
    const opened = await openPeriod(period2.jwe, siteSealing.privateKeyPem, { meterId: site.meterId, enrollmentId, periodIndex: 2 });
    assert.deepEqual(opened.readings, ['250', '250', '250', '270']);
    assert.equal(opened.fingerprintSalt, salts[2]!.toString());
  });

  it('answers each error class with its status and code', async () => {
    const bad = await call(dso.url, 'POST', '/v1/meters', { token: TOKEN.dso, body: { meterId: 'bad id', prosumerId: 'p', publicKeyPem: site.publicKeyPem, congestionPoint: 'c' } });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.message), /^body\.meterId/);
    assert.equal((await call(dso.url, 'GET', `/v1/meters/${site.meterId}`)).status, 401);
    assert.equal((await call(dso.url, 'POST', '/v1/tokens/mint', { token: TOKEN.auditor, body: { account: 'org:DsoMSP', amount: '1' } })).status, 403);
    const notFound = await call(dso.url, 'GET', `/v1/meters/nope-${run}`, { token: TOKEN.dso });
    assert.equal(notFound.status, 404);
    assert.equal(notFound.body.code, 'NOT_FOUND');
    const dup = await call(dso.url, 'POST', '/v1/meters', { token: TOKEN.dso, body: { meterId: site.meterId, prosumerId: site.prosumerId, publicKeyPem: site.publicKeyPem, congestionPoint: 'c' } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.code, 'CONFLICT');
    const big = await call(dso.url, 'POST', '/v1/verification-keys', { token: TOKEN.dso, body: { circuitId: 'x', verificationKey: { pad: 'x'.repeat(300_000) } } });
    assert.equal(big.status, 413);
    const early = await call(dso.url, 'POST', `/v1/flex-orders/gorder-${run}/settle`, { token: TOKEN.dso });
    assert.equal(early.status, 422, JSON.stringify(early.body));
    assert.equal(early.body.code, 'RULE_VIOLATION');
    const forged = await edge(agg.url, site, 'POST', `/v1/edge/enrollments/${enrollmentId}/periods/3`, {
      ...(submissions[2] as object),
      payload: { ...(submissions[2] as { payload: object }).payload, periodIndex: 3 },
    });
    assert.equal(forged.status, 422, 'a payload changed after signing: the chaincode refuses the signature');
    assert.equal(forged.body.code, 'BAD_SIGNATURE');

    // A gateway whose peer is down: 503 with Retry-After, not ready.
    const dir = mkdtempSync(path.join(tmpdir(), 'flexproof-gw-down-'));
    dirs.push(dir);
    const config = testGatewayConfig(network, 'dso', dir, TOKEN);
    const down = await startGateway({ ...config, fabric: { ...config.fabric, peerEndpoint: '127.0.0.1:1' } }, { logger: false });
    try {
      const res = await call(down.url, 'GET', `/v1/meters/${site.meterId}`, { token: TOKEN.dso });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '5');
      assert.equal(res.body.code, 'LEDGER_UNAVAILABLE');
      assert.equal((await call(down.url, 'GET', '/readyz')).status, 503);
    } finally {
      await down.close();
    }
  });

  it('streamed the enrollment events, and only those', async () => {
    for (let i = 0; i < 50 && events.filter((e) => e.event === 'PeriodSettled').length < 3; i++) await new Promise((r) => setTimeout(r, 100));
    const names = events.map((e) => e.event);
    for (const n of ['EnrollmentOffered', 'EnrollmentAccepted', 'RewardDeposited']) assert.ok(names.includes(n), `${n} in ${names.join(',')}`);
    assert.equal(names.filter((n) => n === 'PeriodSettled').length, 3);
    assert.ok(events.every((e) => e.data.enrollmentId === enrollmentId));
  });
});
