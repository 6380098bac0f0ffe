// `flexproof-edge artifacts install BUNDLE`: a ceremony bundle becomes the site's proving
// artifacts only when the ledger's key under the circuit id is active and is the
// bundle's; then the prover loads them without --dev-artifacts. Refusals (another key, a
// proposed or retired key, no key, a damaged bundle, an id of another shape, a shape whose
// installed id an enrollment still names) write nothing. The bundles here are made with
// writeBundle from the dev artifacts (the ceremony itself is tested in
// test/unit/circuits/bundle.test.ts); the cache root is a temporary directory.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  SMALL_CIRCUIT_ID,
  SMALL_NET_CIRCUIT_ID,
  artifactsDir,
  buildDeviationInput,
  ensureArtifacts,
  verifyDeviationProof,
  writeBundle,
  type CeremonyBundle,
  type CircuitId,
} from '@flexproof/circuits';
import { ChaincodeRefusal, TX } from '@flexproof/gateway-api';
import { canonicalVerificationKey, canonicalVerificationKeyHash } from '@flexproof/protocol';
import {
  CircuitsProver,
  installBundle,
  INSTALLED_FILE,
  installedArtifacts,
  InstallRefused,
  runEdgeCli as main,
  type LedgerKeyRecord,
} from '@flexproof/edge-client';
import { buildTestGateway, type TestGateway } from '../gateway-api/support/gateway';
import { makeSite, type TestSite } from './support/site';

const CONTRIBUTIONS = [
  { name: 'AggregatorMSP', hash: 'a1'.repeat(64) },
  { name: 'DsoMSP', hash: 'b2'.repeat(64) },
];

async function devBundle(out: string, id: CircuitId = SMALL_CIRCUIT_ID): Promise<CeremonyBundle> {
  const dev = await ensureArtifacts(id);
  return writeBundle(out, {
    circuitId: id,
    files: { wasm: dev.wasmPath, zkey: dev.zkeyPath, verificationKey: dev.verificationKeyPath, r1cs: dev.r1csPath },
    contributions: CONTRIBUTIONS,
    beacon: null,
    constraints: dev.manifest.constraints,
    ptau: { sha256: dev.manifest.ptau.sha256, power: dev.manifest.ptau.power },
  });
}

async function refusal(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof InstallRefused, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

describe('edge-client: artifacts install (ceremony bundle → site)', function () {
  this.timeout(300_000);
  let dir: string;
  let cacheRoot: string;
  let bundle: CeremonyBundle;
  let netBundle: CeremonyBundle;
  let lookups: string[];
  const ledger = new Map<string, LedgerKeyRecord>();
  const lookup = async (circuitId: string) => {
    lookups.push(circuitId);
    return ledger.get(circuitId);
  };
  const installed = () => artifactsDir(SMALL_CIRCUIT_ID, { cacheRoot });
  const leftovers = () => (existsSync(path.dirname(installed())) ? readdirSync(path.dirname(installed())).filter((n) => n.startsWith('.')) : []);

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'flexproof-install-'));
    bundle = await devBundle(path.join(dir, 'bundle'));
    netBundle = await devBundle(path.join(dir, 'net-bundle'), SMALL_NET_CIRCUIT_ID);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    cacheRoot = mkdtempSync(path.join(dir, 'cache-'));
    lookups = [];
    ledger.clear();
  });

  const active = (b: CeremonyBundle = bundle): LedgerKeyRecord => ({
    status: 'active',
    keyHash: b.manifest.verificationKeyHash,
    verificationKey: canonicalVerificationKey(b.verificationKey),
  });

  it('installs a bundle whose key is active on the ledger; the prover then proves with it without --dev-artifacts', async () => {
    const before = new CircuitsProver({ cacheRoot });
    await assert.rejects(before.prepare(SMALL_CIRCUIT_ID), /artifacts of flexdev-v1-r4 are missing/);
    ledger.set(SMALL_CIRCUIT_ID, active());
    const result = await installBundle({ bundleDir: bundle.dir, lookup, cacheRoot });
    assert.deepEqual(lookups, [SMALL_CIRCUIT_ID], 'the default circuit id is the bundle shape');
    assert.equal(result.dir, installed());
    assert.equal(result.unchanged, false);
    assert.equal(result.replaced, null);
    assert.deepEqual(result.files.map((f) => [f.file, f.sha256]).sort(), Object.entries(bundle.manifest.files).sort());
    const record = JSON.parse(readFileSync(path.join(installed(), INSTALLED_FILE), 'utf8'));
    assert.equal(record.circuitId, SMALL_CIRCUIT_ID);
    assert.equal(record.keyHash, bundle.manifest.verificationKeyHash);
    assert.deepEqual(leftovers(), [], 'no temporary directory left');

    const prover = new CircuitsProver({ cacheRoot });
    const artifacts = await prover.prepare(SMALL_CIRCUIT_ID);
    assert.equal(artifacts.manifest.kind, 'ceremony');
    const vk = await prover.verificationKey(SMALL_CIRCUIT_ID);
    assert.equal(canonicalVerificationKeyHash(vk), bundle.manifest.verificationKeyHash);
    const input = buildDeviationInput({
      circuitId: SMALL_CIRCUIT_ID,
      prevFingerprint: 7n,
      periodIndex: 3,
      readings: [1n, 2n, 3n, 4n],
      requestProfile: Array.from({ length: 24 }, () => 10n),
      commitmentSalt: 11n,
      fingerprintSalt: 13n,
    });
    const { proof, publicSignals } = await prover.prove(SMALL_CIRCUIT_ID, input);
    assert.equal(await verifyDeviationProof(bundle.verificationKey, proof, publicSignals), true);

    const again = await installBundle({ bundleDir: bundle.dir, lookup, cacheRoot });
    assert.equal(again.unchanged, true, 'a second install of the same bundle writes nothing');
    const shown = await installedArtifacts({ cacheRoot });
    const small = shown.find((s) => s.shape === SMALL_CIRCUIT_ID);
    assert.equal(small?.kind, 'ceremony');
    assert.equal(small?.circuitId, SMALL_CIRCUIT_ID);
    assert.equal(small?.keyHash, bundle.manifest.verificationKeyHash);
    assert.equal(small?.intact, true);
    assert.equal(shown.find((s) => s.shape === SMALL_NET_CIRCUIT_ID)?.kind, 'missing');
  });

  it('refuses, writing nothing: another key, a proposed or retired key, no key, a record whose key is not its hash', async () => {
    const other = active(netBundle);
    ledger.set(SMALL_CIRCUIT_ID, { ...other });
    await refusal(installBundle({ bundleDir: bundle.dir, lookup, cacheRoot }), 'KEY_MISMATCH', /the ledger's key of flexdev-v1-r4 is [0-9a-f]{64}, the bundle's is [0-9a-f]{64}/);
    ledger.set(SMALL_CIRCUIT_ID, { ...active(), status: 'proposed' });
    await refusal(installBundle({ bundleDir: bundle.dir, lookup, cacheRoot }), 'KEY_NOT_ACTIVE', /is proposed, not active: the other organisation has not approved it yet/);
    ledger.set(SMALL_CIRCUIT_ID, { ...active(), status: 'retired' });
    await refusal(installBundle({ bundleDir: bundle.dir, lookup, cacheRoot }), 'KEY_NOT_ACTIVE', /is retired, not active/);
    ledger.set(SMALL_CIRCUIT_ID, { ...active(), verificationKey: other.verificationKey });
    await refusal(installBundle({ bundleDir: bundle.dir, lookup, cacheRoot }), 'KEY_MISMATCH', /canonical hash is not its keyHash/);
    ledger.clear();
    await refusal(installBundle({ bundleDir: bundle.dir, lookup, cacheRoot }), 'KEY_NOT_REGISTERED', /no verification key under circuit id flexdev-v1-r4/);
    assert.equal(existsSync(installed()), false, 'nothing installed');
    assert.deepEqual(leftovers(), []);
  });

  it('a suffixed circuit id of the shape is asked for and installed; an id of another shape is refused before the ledger is asked', async () => {
    const id = `${SMALL_CIRCUIT_ID}.ceremony2`;
    ledger.set(id, active());
    const result = await installBundle({ bundleDir: bundle.dir, circuitId: id, lookup, cacheRoot });
    assert.equal(result.circuitId, id);
    assert.equal(result.dir, installed(), 'the prover looks for a suffixed id under its shape');
    assert.deepEqual(lookups, [id]);
    await refusal(installBundle({ bundleDir: bundle.dir, circuitId: 'flexdev-v1-r60.x', lookup, cacheRoot }), 'CIRCUIT_ID_INVALID', /the bundle is of shape flexdev-v1-r4/);
    await refusal(installBundle({ bundleDir: bundle.dir, circuitId: 'nope', lookup, cacheRoot }), 'CIRCUIT_ID_INVALID', /a known circuit shape/);
    assert.deepEqual(lookups, [id]);
  });

  it('replaces dev artifacts only when told to; refuses to replace the artifacts of a circuit id an enrollment of the site still names', async () => {
    ledger.set(SMALL_CIRCUIT_ID, active());
    ledger.set(`${SMALL_CIRCUIT_ID}.next`, active());
    // Dev artifacts where the prover looks (as `run --dev-artifacts` leaves them).
    const dev = await ensureArtifacts(SMALL_CIRCUIT_ID);
    cpSync(dev.dir, installed(), { recursive: true });
    await refusal(installBundle({ bundleDir: bundle.dir, lookup, cacheRoot }), 'DEV_ARTIFACTS_PRESENT', /holds dev artifacts .*set FLEXPROOF_CACHE .*or give --replace-dev-artifacts/);
    assert.equal(JSON.parse(readFileSync(path.join(installed(), 'manifest.json'), 'utf8')).kind, 'dev', 'left as they were');
    const first = await installBundle({ bundleDir: bundle.dir, lookup, cacheRoot, replaceDevArtifacts: true });
    assert.deepEqual(first.replaced, { kind: 'dev' });
    const inUse = installBundle({ bundleDir: bundle.dir, circuitId: `${SMALL_CIRCUIT_ID}.next`, lookup, cacheRoot, configuredCircuitIds: [SMALL_CIRCUIT_ID] });
    await refusal(inUse, 'IN_USE', /holds the artifacts of flexdev-v1-r4, which an enrollment of the site config names/);
    assert.equal(JSON.parse(readFileSync(path.join(installed(), INSTALLED_FILE), 'utf8')).circuitId, SMALL_CIRCUIT_ID, 'unchanged');
    const moved = await installBundle({ bundleDir: bundle.dir, circuitId: `${SMALL_CIRCUIT_ID}.next`, lookup, cacheRoot, configuredCircuitIds: [`${SMALL_CIRCUIT_ID}.next`] });
    assert.deepEqual(moved.replaced, { kind: 'ceremony', circuitId: SMALL_CIRCUIT_ID, keyHash: bundle.manifest.verificationKeyHash });
  });

  it('refuses a damaged bundle before asking the ledger (a changed byte, a missing file), naming the file', async () => {
    ledger.set(SMALL_CIRCUIT_ID, active());
    const damaged = path.join(dir, 'damaged');
    cpSync(bundle.dir, damaged, { recursive: true });
    const wasm = path.join(damaged, 'circuit.wasm');
    const bytes = readFileSync(wasm);
    bytes[100] = (bytes[100] as number) ^ 1;
    writeFileSync(wasm, bytes);
    await refusal(installBundle({ bundleDir: damaged, lookup, cacheRoot }), 'BUNDLE_INVALID', /circuit\.wasm: sha256 [0-9a-f]{64} is not the [0-9a-f]{64} of bundle\.json/);
    rmSync(wasm);
    await refusal(installBundle({ bundleDir: damaged, lookup, cacheRoot }), 'BUNDLE_INVALID', /circuit\.wasm: missing/);
    // Published from other circuit sources than this checkout's: the prover could not load it.
    const other = path.join(dir, 'other-source');
    cpSync(bundle.dir, other, { recursive: true });
    const manifestFile = path.join(other, 'bundle.json');
    writeFileSync(manifestFile, JSON.stringify({ ...JSON.parse(readFileSync(manifestFile, 'utf8')), circuitSourceHash: 'cd'.repeat(32) }));
    await refusal(installBundle({ bundleDir: other, lookup, cacheRoot }), 'CHECKOUT_MISMATCH', /published from circuit source cdcdcdcdcdcd, this checkout compiles [0-9a-f]{12} \(the circuit templates differ\)/);
    assert.deepEqual(lookups, []);
    assert.equal(existsSync(installed()), false);
  });

  describe('the command, through the gateway (site-signed GET /v1/edge/verification-keys/:circuitId)', () => {
    let gw: TestGateway;
    let site: TestSite;
    let configFile: string;
    const env = process.env.FLEXPROOF_CACHE;
    let out: string;
    let err: string;
    /** main with its stdout and stderr captured (only for the call: mocha's reporter writes there too). */
    async function run(args: string[]): Promise<number> {
      const write = { out: process.stdout.write, err: process.stderr.write };
      process.stdout.write = ((t: string) => ((out += t), true)) as typeof process.stdout.write;
      process.stderr.write = ((t: string) => ((err += t), true)) as typeof process.stderr.write;
      try {
        return await main(args);
      } finally {
        process.stdout.write = write.out;
        process.stderr.write = write.err;
      }
    }

    beforeEach(async () => {
      gw = await buildTestGateway({ org: 'aggregator' });
      await gw.app.listen({ port: 0, host: '127.0.0.1' });
      const url = `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}`;
      site = makeSite({ startMs: Date.parse('2030-01-01T00:00:00Z'), gatewayUrl: url });
      configFile = path.join(site.dir, 'site.json');
      writeFileSync(configFile, JSON.stringify({ ...site.rawConfig, gatewayMspId: 'AggregatorMSP' }));
      gw.ledger.meters.set(site.config.meterId, {
        meterId: site.config.meterId,
        prosumerId: 'prosumer-17',
        publicKeyPem: site.siteKey.publicKeyPem,
        keyType: site.siteKey.type,
        congestionPoint: 'cp-1',
        status: 'active',
        nonce: '0',
      } as never);
      process.env.FLEXPROOF_CACHE = cacheRoot;
      out = '';
      err = '';
    });
    afterEach(async () => {
      if (env === undefined) delete process.env.FLEXPROOF_CACHE;
      else process.env.FLEXPROOF_CACHE = env;
      await gw.app.close();
      site.cleanup();
    });

    it('installs when the ledger key matches and prints what it installed where; exit 1 naming the reason otherwise', async () => {
      const records = new Map<string, Record<string, unknown>>();
      gw.ledger.on(TX.getVerificationKey, ({ circuitId }) => {
        const r = records.get(String(circuitId));
        if (!r) throw new ChaincodeRefusal('NOT_FOUND', `circuit ${String(circuitId)} has no key`);
        return r;
      });
      const none = await run(['artifacts', 'install', bundle.dir, '--config', configFile]);
      assert.equal(none, 1, err);
      assert.match(err, /refused \(KEY_NOT_REGISTERED\): the ledger holds no verification key under circuit id flexdev-v1-r4/);
      const otherKey = canonicalVerificationKey(netBundle.verificationKey);
      records.set(SMALL_CIRCUIT_ID, { circuitId: SMALL_CIRCUIT_ID, status: 'active', keyHash: canonicalVerificationKeyHash(otherKey), verificationKey: otherKey });
      err = '';
      assert.equal(await run(['artifacts', 'install', bundle.dir, '--config', configFile]), 1);
      assert.match(err, /refused \(KEY_MISMATCH\)/);
      assert.equal(existsSync(installed()), false);
      const key = canonicalVerificationKey(bundle.verificationKey);
      records.set(SMALL_CIRCUIT_ID, { circuitId: SMALL_CIRCUIT_ID, status: 'active', keyHash: canonicalVerificationKeyHash(key), verificationKey: key });
      err = '';
      const code = await run(['artifacts', 'install', bundle.dir, '--config', configFile]);
      assert.equal(code, 0, err);
      assert.match(out, new RegExp(`installed the artifacts of flexdev-v1-r4 \\(shape flexdev-v1-r4, key ${bundle.manifest.verificationKeyHash}, active on the ledger\\) into ${installed().replace(/[.]/g, '\\.')}`));
      assert.match(out, new RegExp(`circuit\\.zkey\\s+sha256 ${bundle.manifest.files['circuit.zkey']}`));
      out = '';
      assert.equal(await run(['artifacts', 'show', '--config', configFile]), 0);
      assert.match(out, new RegExp(`flexdev-v1-r4: ceremony artifacts of flexdev-v1-r4, key ${bundle.manifest.verificationKeyHash}, intact`));
      assert.match(out, /used by enrollment enr-1 \(circuit flexdev-v1-r4\)\n/, 'the site config\'s enrollment, with no warning');
      assert.match(out, /flexnet-v2-r4: nothing installed/);
      assert.equal(await run(['artifacts', 'install', '--config', configFile]), 2, 'BUNDLE is required');
    });
  });
});
