// `flexproof keys hash|propose|review|approve` with a ceremony bundle (--bundle DIR), and
// `flexproof auditor-keys hash|propose|approve|retire|list`, against the real gateway app on the
// gateway tests' fake ledger. A bundle is checked whole before anything is sent; its key
// is proposed in canonical form and approved only by the hash computed here; an auditor
// key is approved only when the local public key file is the proposal's.
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SMALL_CIRCUIT_ID, SMALL_NET_CIRCUIT_ID, ensureArtifacts, writeBundle, type CeremonyBundle, type CircuitId } from '@flexproof/circuits';
import { ChaincodeRefusal, TX } from '@flexproof/gateway-api';
import { EXIT, runCli } from '@flexproof/operator';
import { sealingKeyHash, verificationKeyHash } from '@flexproof/protocol';
import { FakeLedgerForTests } from '../gateway-api/support/fake-ledger';
import { TOKENS, buildTestGateway, type TestGateway } from '../gateway-api/support/gateway';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function devBundle(out: string, id: CircuitId): Promise<CeremonyBundle> {
  const dev = await ensureArtifacts(id);
  return writeBundle(out, {
    circuitId: id,
    files: { wasm: dev.wasmPath, zkey: dev.zkeyPath, verificationKey: dev.verificationKeyPath, r1cs: dev.r1csPath },
    contributions: [
      { name: 'AggregatorMSP', hash: 'a1'.repeat(64) },
      { name: 'DsoMSP', hash: 'b2'.repeat(64) },
    ],
    beacon: { hash: 'c3'.repeat(64), generator: '0102', iterations: 10 },
    constraints: dev.manifest.constraints,
    ptau: { sha256: dev.manifest.ptau.sha256, power: dev.manifest.ptau.power },
  });
}

const pem = (): string => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('operator: keys with a ceremony bundle, and auditor keys', function () {
  this.timeout(300_000);
  let gw: TestGateway;
  let ledger: FakeLedgerForTests;
  let dir: string;
  let bundle: CeremonyBundle;
  let netBundle: CeremonyBundle;
  let keys: Map<string, Record<string, unknown>>;
  let auditors: Map<string, Record<string, unknown>>;

  const file = (name: string, text: string, mode = 0o600): string => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    chmodSync(p, mode);
    return p;
  };
  async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
    const out = { stdout: '', stderr: '' };
    const code = await runCli(args, {
      stdout: (t) => void (out.stdout += t),
      stderr: (t) => void (out.stderr += t),
      env: { FLEXPROOF_PROFILE: path.join(dir, 'dso.json'), ...env },
      cwd: dir,
      sleep: async () => undefined,
    });
    return { code, ...out };
  }
  /** Set once the directory exists (before). */
  const asAggregator = { FLEXPROOF_PROFILE: '' };
  const submitted = (tx: string) => ledger.submitted.filter((s) => s.transaction === tx).map((s) => s.argument as Record<string, unknown>);

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'flexproof-cli-bundle-'));
    asAggregator.FLEXPROOF_PROFILE = path.join(dir, 'aggregator.json');
    bundle = await devBundle(path.join(dir, 'bundle'), SMALL_CIRCUIT_ID);
    netBundle = await devBundle(path.join(dir, 'net-bundle'), SMALL_NET_CIRCUIT_ID);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  beforeEach(async () => {
    gw = await buildTestGateway({ org: 'dso' });
    ledger = gw.ledger;
    await gw.app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}`;
    file('dso.token', `${TOKENS.dso}\n`);
    file('aggregator.token', `${TOKENS.aggregator}\n`);
    file('dso.json', JSON.stringify({ gatewayUrl: url, tokenFile: 'dso.token', org: 'DsoMSP' }));
    file('aggregator.json', JSON.stringify({ gatewayUrl: url, tokenFile: 'aggregator.token', org: 'AggregatorMSP' }));
    keys = new Map();
    auditors = new Map();
    ledger
      .on(TX.proposeVerificationKey, ({ circuitId, verificationKey }) => {
        const record = { circuitId, verificationKey, keyHash: verificationKeyHash(verificationKey), status: 'proposed', proposedBy: 'AggregatorMSP' };
        keys.set(String(circuitId), record);
        return record;
      })
      .on(TX.getVerificationKey, ({ circuitId }) => {
        const record = keys.get(String(circuitId));
        if (!record) throw new ChaincodeRefusal('NOT_FOUND', `circuit ${String(circuitId)} has no key`);
        return record;
      })
      .on(TX.approveVerificationKey, ({ circuitId, keyHash }) => {
        const record = keys.get(String(circuitId)) as Record<string, unknown>;
        if (record.keyHash !== keyHash) throw new ChaincodeRefusal('RULE_VIOLATION', `keyHash ${String(keyHash)} is not the proposed key's`);
        record.status = 'active';
        return record;
      })
      .on(TX.proposeAuditorKey, ({ auditorId, publicKeyPem, description }) => {
        const record = { auditorId, publicKeyPem, keyHash: sealingKeyHash(String(publicKeyPem)), status: 'proposed', proposedBy: 'AggregatorMSP', ...(description ? { description } : {}) };
        auditors.set(String(auditorId), record);
        return record;
      })
      .on(TX.approveAuditorKey, ({ auditorId, keyHash }) => {
        const record = auditors.get(String(auditorId)) as Record<string, unknown>;
        if (record.keyHash !== keyHash) throw new ChaincodeRefusal('RULE_VIOLATION', 'keyHash is not the proposed key\'s');
        record.status = 'active';
        return record;
      })
      .on(TX.proposeAuditorKeyRetirement, ({ auditorId }) => {
        const record = auditors.get(String(auditorId));
        if (!record || record.status !== 'active') throw new ChaincodeRefusal('CONFLICT', `auditor ${String(auditorId)} is not active`);
        record.retirementProposedBy = 'AggregatorMSP';
        return record;
      })
      .on(TX.approveAuditorKeyRetirement, ({ auditorId }) => {
        const record = auditors.get(String(auditorId));
        if (!record || record.retirementProposedBy === undefined) throw new ChaincodeRefusal('CONFLICT', `no retirement of auditor ${String(auditorId)} is pending`);
        record.status = 'retired';
        record.retiredBy = 'DsoMSP';
        return record;
      })
      .on(TX.listAuditorKeys, () => ({ keys: [...auditors.values()] }));
  });
  afterEach(async () => gw.app.close());

  describe('keys --bundle', () => {
    it('keys hash BUNDLE checks the bundle and prints its canonical key hash, the same as for its key file', async () => {
      const r = await run(['keys', 'hash', bundle.dir], { FLEXPROOF_PROFILE: '' });
      assert.equal(r.code, EXIT.ok, r.stderr);
      assert.equal(r.stdout, `${bundle.manifest.verificationKeyHash}\n`);
      const { vk_alphabeta_12: _ab, ...canonical } = bundle.verificationKey;
      assert.equal(r.stdout.trim(), verificationKeyHash(canonical), 'the chaincode records this hash for the canonical form');
      assert.equal((await run(['keys', 'hash', path.join(bundle.dir, 'verification_key.json')])).stdout, r.stdout);
      const j = JSON.parse((await run(['keys', 'hash', 'bundle', '--json'])).stdout);
      assert.equal(j.keyHash, bundle.manifest.verificationKeyHash);
      assert.deepEqual(j.bundle.contributions.map((c: { name: string }) => c.name), ['AggregatorMSP', 'DsoMSP']);
      assert.equal(ledger.submitted.length + ledger.evaluated.length, 0);
    });

    it('propose --bundle sends the canonical key; review --bundle lists the ceremony; approve --bundle sends the hash computed here', async () => {
      const p = await run(['keys', 'propose', '--circuit', SMALL_CIRCUIT_ID, '--bundle', bundle.dir, '--json'], asAggregator);
      assert.equal(p.code, EXIT.ok, p.stderr);
      const sent = submitted(TX.proposeVerificationKey)[0] as Record<string, unknown>;
      assert.equal(sent.circuitId, SMALL_CIRCUIT_ID);
      assert.equal('vk_alphabeta_12' in (sent.verificationKey as object), false);
      assert.equal(JSON.parse(p.stdout).result.keyHash, bundle.manifest.verificationKeyHash);
      assert.equal(p.stderr, '');

      const review = await run(['keys', 'review', '--circuit', SMALL_CIRCUIT_ID, '--bundle', bundle.dir]);
      assert.equal(review.code, EXIT.ok, review.stderr);
      assert.match(review.stdout, /match: the proposal is this file's key/);
      assert.match(review.stdout, new RegExp(`contribution "DsoMSP" ${'b2'.repeat(64)}`));
      assert.match(review.stdout, /beacon 0102 \(2\^10 iterations\)/);

      const wrong = await run(['keys', 'review', '--circuit', SMALL_CIRCUIT_ID, '--bundle', netBundle.dir]);
      assert.equal(wrong.code, EXIT.usage, 'a bundle of another shape than the circuit id');
      assert.match(wrong.stderr, /the bundle is of shape flexnet-v2-r4: the circuit id must be flexnet-v2-r4 or flexnet-v2-r4\.<suffix>/);

      const approved = await run(['keys', 'approve', '--circuit', SMALL_CIRCUIT_ID, '--bundle', bundle.dir]);
      assert.equal(approved.code, EXIT.ok, approved.stderr);
      assert.deepEqual(submitted(TX.approveVerificationKey), [{ circuitId: SMALL_CIRCUIT_ID, keyHash: bundle.manifest.verificationKeyHash }]);
    });

    it('a suffixed circuit id takes a bundle of its shape; approve refuses a bundle that is not the proposal, sending nothing', async () => {
      const id = `${SMALL_NET_CIRCUIT_ID}.ceremony2`;
      assert.equal((await run(['keys', 'propose', '--circuit', id, '--bundle', netBundle.dir], asAggregator)).code, EXIT.ok);
      // The small bundle's key proposed under a suffixed net id would be refused by shape; make a proposal of another key under the net id.
      keys.set(id, { ...(keys.get(id) as object), keyHash: 'ab'.repeat(32) });
      const r = await run(['keys', 'approve', '--circuit', id, '--bundle', netBundle.dir]);
      assert.equal(r.code, EXIT.refused);
      assert.match(r.stderr, /not approved: .*hashes to [0-9a-f]{64}, the proposal's keyHash is (ab){32}/);
      assert.equal(submitted(TX.approveVerificationKey).length, 0);
    });

    it('a damaged bundle is refused naming the file, and nothing is sent; FILE and --bundle are exclusive', async () => {
      const damaged = path.join(dir, 'damaged');
      rmSync(damaged, { recursive: true, force: true });
      cpSync(bundle.dir, damaged, { recursive: true });
      const zkey = path.join(damaged, 'circuit.zkey');
      const bytes = readFileSync(zkey);
      bytes[bytes.length - 10] = (bytes[bytes.length - 10] as number) ^ 1;
      writeFileSync(zkey, bytes);
      for (const args of [['keys', 'propose', '--circuit', SMALL_CIRCUIT_ID, '--bundle', damaged], ['keys', 'hash', damaged]]) {
        const r = await run(args, asAggregator);
        assert.equal(r.code, EXIT.refused, args.join(' '));
        assert.match(r.stderr, /damaged: circuit\.zkey: sha256 [0-9a-f]{64} is not the [0-9a-f]{64} of bundle\.json: the file was changed or damaged \(nothing was sent\)/);
      }
      const notBundle = await run(['keys', 'propose', '--circuit', SMALL_CIRCUIT_ID, '--bundle', os.tmpdir()], asAggregator);
      assert.equal(notBundle.code, EXIT.refused);
      assert.match(notBundle.stderr, /bundle\.json: missing: not a ceremony bundle/);
      const both = await run(['keys', 'propose', '--circuit', SMALL_CIRCUIT_ID, '--bundle', bundle.dir, path.join(bundle.dir, 'verification_key.json')], asAggregator);
      assert.equal(both.code, EXIT.usage);
      assert.match(both.stderr, /give exactly one of FILE .* and --bundle DIR/);
      const neither = await run(['keys', 'approve', '--circuit', SMALL_CIRCUIT_ID]);
      assert.equal(neither.code, EXIT.usage);
      assert.equal(ledger.submitted.length, 0);
    });

    it('help shows FILE or --bundle DIR', async () => {
      assert.match((await run(['keys', 'propose', '--help'])).stdout, /^Usage: flexproof keys propose --circuit ID \(FILE \| --bundle DIR\) \[options\]/);
      assert.match((await run(['keys', 'approve', '--help'])).stdout, /--bundle DIR\s+a ceremony bundle directory/);
    });
  });

  describe('auditor-keys', () => {
    it('propose sends the key file; approve sends the hash of the local file only when it is the proposal; list', async () => {
      const key = pem();
      const keyFile = file('auditor.pub', key, 0o644);
      const hash = await run(['auditor-keys', 'hash', keyFile], { FLEXPROOF_PROFILE: '' });
      assert.equal(hash.code, EXIT.ok, hash.stderr);
      assert.equal(hash.stdout.trim(), sealingKeyHash(key));

      const p = await run(['auditor-keys', 'propose', '--auditor', 'audit-1', '--public-key', keyFile, '--description', 'Acme Audit BV', '--json'], asAggregator);
      assert.equal(p.code, EXIT.ok, p.stderr);
      assert.deepEqual(submitted(TX.proposeAuditorKey), [{ auditorId: 'audit-1', publicKeyPem: key, description: 'Acme Audit BV' }]);
      assert.equal(JSON.parse(p.stdout).result.keyHash, sealingKeyHash(key));

      const otherFile = file('other.pub', pem(), 0o644);
      const refused = await run(['auditor-keys', 'approve', '--auditor', 'audit-1', '--public-key', otherFile]);
      assert.equal(refused.code, EXIT.refused);
      assert.match(refused.stderr, /not approved: .*other\.pub hashes to [0-9a-f]{64}, the proposal's keyHash is [0-9a-f]{64}; the key the proposal holds hashes to/);
      const unknown = await run(['auditor-keys', 'approve', '--auditor', 'audit-2', '--public-key', keyFile]);
      assert.equal(unknown.code, EXIT.refused);
      assert.match(unknown.stderr, /no key is proposed under auditor id audit-2/);
      assert.equal(submitted(TX.approveAuditorKey).length, 0, 'nothing sent for a mismatch');

      // The proposal's record claims the local hash but holds another key: refused too.
      auditors.set('audit-3', { auditorId: 'audit-3', publicKeyPem: pem(), keyHash: sealingKeyHash(key), status: 'proposed', proposedBy: 'AggregatorMSP' });
      const lying = await run(['auditor-keys', 'approve', '--auditor', 'audit-3', '--public-key', keyFile]);
      assert.equal(lying.code, EXIT.refused);
      assert.match(lying.stderr, /the key the proposal holds hashes to [0-9a-f]{64}, not /);
      auditors.delete('audit-3');

      const ok = await run(['auditor-keys', 'approve', '--auditor', 'audit-1', '--public-key', keyFile]);
      assert.equal(ok.code, EXIT.ok, ok.stderr);
      assert.deepEqual(submitted(TX.approveAuditorKey), [{ auditorId: 'audit-1', keyHash: sealingKeyHash(key) }]);
      const again = await run(['auditor-keys', 'approve', '--auditor', 'audit-1', '--public-key', keyFile]);
      assert.equal(again.code, EXIT.refused);
      assert.match(again.stderr, /is active, not proposed/);

      const listed = await run(['auditor-keys', 'list']);
      assert.equal(listed.code, EXIT.ok, listed.stderr);
      assert.match(listed.stdout, new RegExp(`audit-1\\s+active\\s+${sealingKeyHash(key)}\\s+AggregatorMSP\\s+Acme Audit BV`));
    });

    it('retire proposes a retirement; retire --approve approves it; a refusal by the ledger is exit 1', async () => {
      const key = pem();
      auditors.set('audit-9', { auditorId: 'audit-9', publicKeyPem: key, keyHash: sealingKeyHash(key), status: 'active', proposedBy: 'AggregatorMSP' });
      const early = await run(['auditor-keys', 'retire', '--auditor', 'audit-9', '--approve']);
      assert.equal(early.code, EXIT.refused);
      assert.match(early.stderr, /CONFLICT.*no retirement of auditor audit-9 is pending/);
      const proposed = await run(['auditor-keys', 'retire', '--auditor', 'audit-9', '--json'], asAggregator);
      assert.equal(proposed.code, EXIT.ok, proposed.stderr);
      assert.deepEqual(submitted(TX.proposeAuditorKeyRetirement), [{ auditorId: 'audit-9' }]);
      assert.equal(JSON.parse(proposed.stdout).result.retirementProposedBy, 'AggregatorMSP');
      const approved = await run(['auditor-keys', 'retire', '--auditor', 'audit-9', '--approve', '--json']);
      assert.equal(approved.code, EXIT.ok, approved.stderr);
      // The early approval above reached the ledger and was refused there; this one committed.
      assert.deepEqual(submitted(TX.approveAuditorKeyRetirement), [{ auditorId: 'audit-9' }, { auditorId: 'audit-9' }]);
      assert.equal(JSON.parse(approved.stdout).result.status, 'retired');
      assert.equal((await run(['auditor-keys', 'retire'])).code, EXIT.usage, '--auditor is required');
    });

    it('a file that is not an EC P-256 public key is refused naming the flag, never quoting the file', async () => {
      const secret = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const bad = file('oops.pem', secret);
      const r = await run(['auditor-keys', 'propose', '--auditor', 'audit-1', '--public-key', bad], asAggregator);
      assert.equal(r.code, EXIT.usage);
      assert.match(r.stderr, /--public-key .*oops\.pem: must be an EC P-256 public key in SPKI PEM/);
      assert.doesNotMatch(r.stderr, /PRIVATE KEY|MIG/);
      const ed = file('ed.pub', generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString(), 0o644);
      assert.equal((await run(['auditor-keys', 'propose', '--auditor', 'audit-1', '--public-key', ed], asAggregator)).code, EXIT.usage);
      assert.equal((await run(['auditor-keys', 'approve', '--auditor', 'audit-1'])).code, EXIT.usage, '--public-key is required');
      assert.equal(ledger.submitted.length, 0);
    });
  });
});
