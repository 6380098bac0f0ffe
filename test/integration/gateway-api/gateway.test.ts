/**
 * The gateway over HTTP against the real network and the embedded raw-data store: one
 * instance per organisation, a full enrollment driven by REST calls (organisation tokens
 * and signed edge requests) with real Groth16 proofs, the tamper audit finding exactly
 * one altered period, each error class, and the event stream.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
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
  startGateway,
  tamperWithSealedDocument,
  type GatewayInstance,
  type NetworkDescriptor,
} from '@flexproof/gateway-api';
import { auditSealedEnrollment } from '@flexproof/auditor';
import {
  ACTION_ACCEPT_ENROLLMENT,
  ACTION_SUBMIT_PERIOD,
  enrollmentTerms,
  generateSealingKeyPair,
  openPeriod,
  sealPeriod,
  sealingKeyHash,
  signPayload,
  verificationKeyHash,
  type EdgeGatewayClient,
  type GatewayClient,
  type SubmitPeriodBody,
} from '@flexproof/protocol';
import { AnswerLog, edgeClient, orgClient, refusal } from '../../support/gateway-clients';
import { testGatewayConfig } from '../../support/gateway-config';
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

/** The organisation (MSP id) of each running gateway, by base URL: edge signatures name it. */
const gatewayMsp = new Map<string, string>();
/** The status and headers of every answer the clients below got, the last one last. */
const log = new AnswerLog();

/** The site's edge client for a gateway (signing for that gateway's organisation). */
function edgeAt(base: string, site: Site): EdgeGatewayClient {
  const gatewayMspId = gatewayMsp.get(base);
  if (!gatewayMspId) throw new Error(`no gateway is running at ${base}`);
  return edgeClient(base, site, gatewayMspId, { log });
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
  const api = (gw: GatewayInstance, role: keyof typeof TOKEN): GatewayClient => orgClient(gw.url, TOKEN[role], { log });

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
      const ready = await api(gw, 'auditor').ready();
      assert.equal(log.last.status, 200, JSON.stringify(ready));
    }
  });

  it('governs the verification key across the two organisations', async () => {
    const verificationKey = readVerificationKey(artifacts);
    const proposed = await api(dso, 'dso').proposeVerificationKey(circuitId, verificationKey);
    assert.equal(log.last.status, 201, JSON.stringify(proposed));
    const keyHash = verificationKeyHash(verificationKey);
    const own = await refusal(api(dso, 'dso').approveVerificationKey(circuitId, keyHash));
    assert.equal(own.status, 403, 'the proposing organisation cannot approve (chaincode FORBIDDEN)');
    assert.equal(own.code, 'FORBIDDEN');
    const approved = await api(agg, 'aggregator').approveVerificationKey(circuitId, keyHash);
    assert.equal(log.last.status, 200, JSON.stringify(approved));
    assert.equal(approved.result.status, 'active');
  });

  it('opens an event stream filtered by the enrollment', async () => {
    // Its own client, not logged: the stream stays open beside the calls of the other tests.
    const stop = new AbortController();
    closeStream = () => stop.abort();
    const stream = orgClient(dso.url, TOKEN.auditor).events({ enrollmentId }, stop.signal);
    await new Promise<void>((resolve, reject) => {
      void (async () => {
        try {
          for await (const e of stream) {
            if (e.event === 'ready') resolve();
            else events.push({ event: e.event, data: (e.data ?? {}) as Record<string, unknown> });
          }
        } catch (err) {
          reject(err);
        }
      })();
    });
  });

  it('runs the market and an enrollment over REST: meter, tokens, request, offer, order, offer, accept (edge), fund', async () => {
    const dsoApi = api(dso, 'dso');
    const aggApi = api(agg, 'aggregator');
    const perIsp = (v: string) => Array.from({ length: 24 }, () => v);
    const meter = await dsoApi.registerMeter({ meterId: site.meterId, prosumerId: site.prosumerId, publicKeyPem: site.publicKeyPem, congestionPoint: `gcp-${run}` });
    assert.equal(log.last.status, 201, JSON.stringify(meter));
    await dsoApi.mint({ account: 'org:AggregatorMSP', amount: '100000' });
    assert.equal(log.last.status, 200);
    await dsoApi.mint({ account: 'org:DsoMSP', amount: '100000' });
    assert.equal(log.last.status, 200);
    const day = new Date().toISOString().slice(0, 10);
    await dsoApi.createFlexRequest({ requestId: `greq-${run}`, congestionPoint: `gcp-${run}`, day, requestedWh: perIsp('1000') });
    assert.equal(log.last.status, 201);
    await aggApi.submitFlexOffer(`greq-${run}`, { offerId: `goffer-${run}`, offeredWh: perIsp('1000'), price: '2400' });
    assert.equal(log.last.status, 201);
    await dsoApi.acceptFlexOffer(`goffer-${run}`, `gorder-${run}`);
    assert.equal(log.last.status, 201);

    startMs = Math.ceil((Date.now() + 10_000) / 1000) * 1000;
    const offered = await aggApi.offerEnrollment({
      enrollmentId, orderId: `gorder-${run}`, meterId: site.meterId, circuitId,
      requestCommitment: requestCommitment(profile, commitmentSalt).toString(),
      reward: '2400', ratePerWh: '2', toleranceWh: '10', flexWh: perIsp('500'),
      startTime: new Date(startMs).toISOString().replace('.000Z', 'Z'), periodSeconds: PERIOD_SECONDS, graceSeconds: GRACE_SECONDS,
    });
    assert.equal(log.last.status, 201, JSON.stringify(offered));

    // The edge client reads its meter (last nonce) and the offered terms, and accepts them.
    const atAgg = edgeAt(agg.url, site);
    const ownMeter = await atAgg.ownMeter();
    assert.equal(log.last.status, 200);
    const view = await atAgg.enrollment(enrollmentId);
    assert.equal(log.last.status, 200);
    const terms = enrollmentTerms(view.enrollment);
    const payload = { type: ACTION_ACCEPT_ENROLLMENT, ...ledgerTarget(), nonce: String(BigInt(String(ownMeter.nonce)) + 1n), ...terms } as const;
    const acceptBody = { payload, signature: signPayload(payload, site.privateKey) };
    const accepted = await atAgg.acceptEnrollment(enrollmentId, acceptBody);
    assert.equal(log.last.status, 200, JSON.stringify(accepted));
    // A retry through the other organisation's gateway gets the recorded acceptance.
    const again = await edgeAt(dso.url, site).acceptEnrollment(enrollmentId, acceptBody);
    assert.equal(log.last.status, 200, JSON.stringify(again));
    assert.equal(again.txId, accepted.txId);

    const funded = await aggApi.fundEnrollment(enrollmentId);
    assert.equal(log.last.status, 200, JSON.stringify(funded));
    assert.equal(funded.result.status, 'active');
    assert.ok(Date.now() < endOf(0), 'set-up must end before the first period does');
  });

  it('registers an auditor key through both organisations', async () => {
    const proposed = await api(dso, 'dso').proposeAuditorKey({ auditorId, publicKeyPem: auditorKey.publicKeyPem });
    assert.equal(log.last.status, 201, JSON.stringify(proposed));
    const self = await refusal(api(dso, 'dso').approveAuditorKey(auditorId, sealingKeyHash(auditorKey.publicKeyPem)));
    assert.equal(self.status, 403, 'the proposing organisation cannot approve');
    // The aggregator's peer may commit the proposal's block a moment after the DSO's.
    const known = () => api(agg, 'aggregator').auditorKey(auditorId).then(() => true, () => false);
    for (let i = 0; i < 50 && !(await known()); i++) await new Promise((r) => setTimeout(r, 200));
    const approved = await api(agg, 'aggregator').approveAuditorKey(auditorId, sealingKeyHash(auditorKey.publicKeyPem));
    assert.equal(log.last.status, 200, JSON.stringify(approved));
    const keys = await edgeAt(agg.url, site).activeAuditorKeys();
    assert.equal(log.last.status, 200, JSON.stringify(keys));
    assert.ok(keys.keys.some((k) => k.auditorId === auditorId && k.keyHash === sealingKeyHash(auditorKey.publicKeyPem)));
  });

  const salts: bigint[] = [];
  const submissions: SubmitPeriodBody[] = [];
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
      const stored = await edgeAt(agg.url, site).uploadSealedPeriod(enrollmentId, p, jwe);
      assert.equal(log.last.status, 201, JSON.stringify(stored));
      assert.ok(!JSON.stringify(stored).includes(salt.toString()));

      await sleepUntil(endOf(p) + 300);
      const t0 = performance.now();
      const settled = await edgeAt(agg.url, site).submitPeriod(enrollmentId, p, body);
      const ms = performance.now() - t0;
      assert.equal(log.last.status, 200, JSON.stringify(settled));
      assert.equal(settled.outcome, 'verified');
      assert.equal(settled.replayed, false);
      console.log(`      period ${p}: settled through the gateway in ${ms.toFixed(0)} ms (HTTP + endorsement by both peers with Groth16 verification + commit)`);
      prev = BigInt(String((settled.result as { newFingerprint: string }).newFingerprint));
    }
  });

  it('answers an identical resubmission with the recorded outcome and a different one with 409', async () => {
    const first = submissions[0] as SubmitPeriodBody;
    const again = await edgeAt(dso.url, site).submitPeriod(enrollmentId, 0, first);
    assert.equal(log.last.status, 200, JSON.stringify(again));
    assert.equal(again.replayed, true);
    const other = submissions[1] as SubmitPeriodBody;
    const moved = { ...other, payload: { ...other.payload, periodIndex: 0 } };
    moved.signature = signPayload(moved.payload as never, site.privateKey);
    const conflict = await refusal(edgeAt(agg.url, site).submitPeriod(enrollmentId, 0, moved));
    assert.equal(conflict.status, 409, conflict.message);
    assert.equal(conflict.code, 'CONFLICT');
    assert.ok(conflict.txId);
  });

  it('audits the enrollment where the auditor\'s key is: all periods match, then exactly the swapped one does not open', async () => {
    const audit = async () => {
      const view = await api(agg, 'auditor').enrollment(enrollmentId);
      assert.equal(log.last.status, 200, JSON.stringify(view));
      const sealed = await api(agg, 'auditor').sealedPeriods(site.meterId, enrollmentId);
      assert.equal(log.last.status, 200, JSON.stringify(sealed));
      return auditSealedEnrollment({
        enrollment: { enrollmentId, meterId: site.meterId },
        ledgerPeriods: view.periods as unknown as { periodIndex: number; result: { outcome: string; prevFingerprint?: string; newFingerprint?: string } | null }[],
        documents: sealed.periods,
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
    const stored = await api(agg, 'aggregator').storedPeriods(enrollmentId);
    assert.equal(log.last.status, 200, JSON.stringify(stored));
    assert.equal(JSON.stringify(stored).includes('"jwe"'), false);
    assert.equal((await refusal(api(agg, 'aggregator').sealedPeriods(site.meterId, enrollmentId))).status, 403);
    // The prosumer reads its own documents back and opens them with its sealing key.
    const own = await edgeAt(agg.url, site).sealedPeriods(enrollmentId);
    assert.equal(log.last.status, 200, JSON.stringify(own));
    const period2 = own.periods.find((d) => d.periodIndex === 2)!;
    const opened = await openPeriod(period2.jwe, siteSealing.privateKeyPem, { meterId: site.meterId, enrollmentId, periodIndex: 2 });
    assert.deepEqual(opened.readings, ['250', '250', '250', '270']);
    assert.equal(opened.fingerprintSalt, salts[2]!.toString());
  });

  it('answers each error class with its status and code', async () => {
    const dsoApi = api(dso, 'dso');
    const bad = await refusal(dsoApi.registerMeter({ meterId: 'bad id', prosumerId: 'p', publicKeyPem: site.publicKeyPem, congestionPoint: 'c' }));
    assert.equal(bad.status, 400);
    assert.match(bad.message, /answered 400 BAD_INPUT: body\.meterId/);
    // No credentials at all: a raw request, which no client sends.
    assert.equal((await fetch(`${dso.url}/v1/meters/${site.meterId}`)).status, 401);
    assert.equal((await refusal(api(dso, 'auditor').mint({ account: 'org:DsoMSP', amount: '1' }))).status, 403);
    const notFound = await refusal(dsoApi.meter(`nope-${run}`));
    assert.equal(notFound.status, 404);
    assert.equal(notFound.code, 'NOT_FOUND');
    const dup = await refusal(dsoApi.registerMeter({ meterId: site.meterId, prosumerId: site.prosumerId, publicKeyPem: site.publicKeyPem, congestionPoint: 'c' }));
    assert.equal(dup.status, 409);
    assert.equal(dup.code, 'CONFLICT');
    const big = await refusal(dsoApi.proposeVerificationKey('x', { pad: 'x'.repeat(300_000) }));
    assert.equal(big.status, 413);
    const early = await refusal(dsoApi.settleFlexOrder(`gorder-${run}`));
    assert.equal(early.status, 422, early.message);
    assert.equal(early.code, 'RULE_VIOLATION');
    const forged = await refusal(
      edgeAt(agg.url, site).submitPeriod(enrollmentId, 3, {
        ...(submissions[2] as SubmitPeriodBody),
        payload: { ...(submissions[2] as SubmitPeriodBody).payload, periodIndex: 3 },
      }),
    );
    assert.equal(forged.status, 422, 'a payload changed after signing: the chaincode refuses the signature');
    assert.equal(forged.code, 'BAD_SIGNATURE');

    // A gateway whose peer is down: 503 with Retry-After, not ready (one attempt: the client would wait for it).
    const dir = mkdtempSync(path.join(tmpdir(), 'flexproof-gw-down-'));
    dirs.push(dir);
    const config = testGatewayConfig(network, 'dso', dir, TOKEN);
    const down = await startGateway({ ...config, fabric: { ...config.fabric, peerEndpoint: '127.0.0.1:1' } }, { logger: false });
    try {
      const downApi = orgClient(down.url, TOKEN.dso, { log, retry: { maxAttempts: 1 } });
      const res = await refusal(downApi.meter(site.meterId));
      assert.equal(res.status, 503);
      assert.equal(log.last.headers.get('retry-after'), '5');
      assert.equal(res.code, 'LEDGER_UNAVAILABLE');
      assert.equal((await refusal(downApi.ready())).status, 503);
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
