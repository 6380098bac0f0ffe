// T4: the edge never proves, signs or sends against a ledger key that is not its own.
// The FakeGateway's key record lies (another key, a keyHash that is not the key's, a
// retired key); the prover makes a proof that does not verify; the artifacts are
// missing. Each time: nothing signed, the reason held in the state (status shows it),
// and recovery once the cause is fixed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { verificationKeyHash } from '@flexproof/protocol';
import { SMALL_CIRCUIT_ID, type VerificationKey } from '@flexproof/circuits';
import {
  checkLedgerKey,
  CircuitsProver,
  isEdgeError,
  runEdgeCli as main,
  statusReport,
  tamperWith,
  type ProverPort,
} from '@flexproof/edge-client';
import { HOUR, Harness, T0, prover, verificationKey } from './support/node-harness';

/** A well-formed key that is not the site's: two IC points swapped. */
async function otherKey(): Promise<VerificationKey> {
  const vk = structuredClone(await verificationKey());
  const [a, b] = [vk.IC[0], vk.IC[1]];
  if (a && b) [vk.IC[0], vk.IC[1]] = [b, a];
  return vk;
}

describe('edge-client: the ledger key and local verification before signing (T4)', function () {
  this.timeout(120_000);
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close().catch(() => undefined);
    h?.cleanup();
    h = undefined;
  });

  it('checkLedgerKey: accepts the site key, refuses another circuit, a non-active key, a keyHash that is not the key, another key', async () => {
    const vk = await verificationKey();
    const own = verificationKeyHash(vk);
    const expected = { circuitId: SMALL_CIRCUIT_ID, localKeyHash: own };
    const good = { circuitId: SMALL_CIRCUIT_ID, status: 'active', keyHash: own, verificationKey: vk };
    assert.equal(checkLedgerKey(good, expected).ok, true);
    const reason = (record: Omit<typeof good, 'verificationKey'> & { verificationKey: unknown }) => {
      const r = checkLedgerKey(record, expected);
      return r.ok ? 'ok' : r.reason;
    };
    assert.match(reason({ ...good, circuitId: 'flexdev-v1-r60' }), /for circuit "flexdev-v1-r60"/);
    assert.match(reason({ ...good, status: 'retired' }), /"retired", not active/);
    assert.match(reason({ ...good, keyHash: 'ab'.repeat(32) }), /not the hash of the key it carries/);
    const other = await otherKey();
    assert.match(reason({ ...good, verificationKey: other, keyHash: verificationKeyHash(other) }), /is not this site's verification key/);
    assert.match(reason({ ...good, verificationKey: { junk: 1 }, keyHash: verificationKeyHash({ junk: 1 }) }), /malformed/);
  });

  it('an offered enrollment is not accepted while the ledger key is not the site key', async () => {
    h = await Harness.create({ status: 'offered' });
    const other = await otherKey();
    h.gateway.keyRecord = { ...h.gateway.keyRecord, verificationKey: other, keyHash: verificationKeyHash(other) };
    await h.advance(T0);
    assert.equal(h.gateway.accepted.length, 0, 'nothing signed');
    assert.equal(h.node.state.data.enrollments['enr-1']?.hold?.code, 'LEDGER_KEY_MISMATCH');
    assert.ok(h.logger.lines.some((l) => l.level === 'error' && l.event === 'ledger-key.mismatch'));
  });

  it('ledger key differs: nothing proven, signed or sent, the status says why; a fixed ledger key recovers', async () => {
    h = await Harness.create({ verify: true });
    const right = h.gateway.keyRecord;
    const other = await otherKey();
    // The ledger key of the circuit is not the one the site proves with (a wrong key approved).
    h.gateway.keyRecord = { ...right, verificationKey: other, keyHash: verificationKeyHash(other) };
    await h.feed(T0, T0 + HOUR);
    await h.advance(T0 + HOUR);
    await h.advance(T0 + HOUR + 30_000);
    assert.equal(h.gateway.submitted().length, 0, 'nothing sent');
    assert.equal(h.gateway.signedActions(), 0);
    const report = await statusReport(h.site.config, h.now);
    assert.equal(report.enrollments[0]?.hold?.code, 'LEDGER_KEY_MISMATCH');
    assert.match(report.enrollments[0]?.hold?.message ?? '', /not this site's verification key/);
    assert.equal(h.period(0), undefined, 'not even signed locally while the ledger key is wrong');
    // The organisations fix the key: the edge recovers by itself.
    h.gateway.keyRecord = right;
    await h.stepUntil(() => h!.period(0)?.status === 'settled', 10);
    assert.equal(h.period(0)?.outcome, 'verified');
    assert.equal(h.node.state.data.enrollments['enr-1']?.hold, undefined);
    assert.ok(h.logger.lines.some((l) => l.event === 'ledger-key.matches'));
  });

  it('a key record whose keyHash is not the hash of its key: nothing sent', async () => {
    h = await Harness.create();
    h.gateway.keyRecord = { ...h.gateway.keyRecord, keyHash: 'cd'.repeat(32) };
    await h.feed(T0, T0 + HOUR);
    await h.advance(T0 + HOUR);
    assert.equal(h.gateway.submitted().length, 0);
    assert.match(h.node.state.data.enrollments['enr-1']?.hold?.message ?? '', /keyHash/);
  });

  it('the key is checked again before each submission: a key retired after period 1 was proven stops its retry', async () => {
    h = await Harness.create();
    await h.feed(T0, T0 + HOUR);
    await h.advance(T0 + HOUR);
    assert.equal(h.period(0)?.status, 'settled');
    await h.feed(T0 + HOUR + HOUR / 4, T0 + 2 * HOUR);
    // Period 1 is proven and signed while the key is right, but its submission does not get through...
    h.gateway.downOps.add('submit');
    await h.advance(T0 + 2 * HOUR, 1);
    assert.equal(h.period(1)?.status, 'submitted');
    // ...and the ledger's key is retired before the retry.
    h.gateway.keyRecord = { ...h.gateway.keyRecord, status: 'retired' };
    h.gateway.downOps.clear();
    await h.stepUntil(() => false, 5);
    assert.deepEqual(h.gateway.submitted().filter((s) => s.ok).map((s) => s.periodIndex), [0], 'period 1 is not sent again');
    assert.equal(h.node.state.data.enrollments['enr-1']?.hold?.code, 'LEDGER_KEY_MISMATCH');
  });

  it('a proof that does not verify against the ledger key is not signed, not sent, and proven again after the hold', async () => {
    let corrupt = true;
    const lying: ProverPort = {
      verificationKey: (c) => prover.verificationKey(c),
      // Artifacts whose proving key does not match the verification key make such proofs.
      prove: async (c, input) => {
        const proof = await prover.prove(c, input);
        return corrupt ? tamperWith(proof) : proof;
      },
    };
    h = await Harness.create({ verify: true, prover: lying });
    await h.feed(T0, T0 + HOUR);
    await h.advance(T0 + HOUR);
    assert.equal(h.period(0), undefined, 'no signed body recorded');
    assert.equal(h.gateway.submitted().length, 0, 'nothing sent');
    const report = await statusReport(h.site.config, h.now);
    assert.equal(report.enrollments[0]?.hold?.code, 'PROOF_NOT_VERIFIED');
    assert.ok(h.logger.lines.some((l) => l.level === 'error' && l.event === 'period.proof-not-verified'));
    corrupt = false;
    await h.stepUntil(() => h!.period(0)?.status === 'settled', 10);
    assert.equal(h.period(0)?.outcome, 'verified', 'the escrow is never put at risk');
    assert.equal(h.node.state.data.enrollments['enr-1']?.hold, undefined);
  });

  it('refuses to build dev artifacts when they are missing, naming --dev-artifacts and the directory', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'flexproof-no-artifacts-'));
    try {
      const bare = new CircuitsProver({ cacheRoot: empty });
      await assert.rejects(bare.prepare(SMALL_CIRCUIT_ID), (error) => {
        assert.ok(isEdgeError(error, 'ARTIFACTS_MISSING'));
        assert.match(error.message, /--dev-artifacts/);
        assert.ok(error.message.includes(path.join(empty, 'circuits')), error.message);
        return true;
      });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('`run` without the artifacts and without --dev-artifacts exits non-zero naming the flag and the directory', async () => {
    h = await Harness.create();
    await h.close();
    const file = path.join(h.site.dir, 'site.json');
    writeFileSync(file, JSON.stringify(h.site.rawConfig));
    const empty = mkdtempSync(path.join(tmpdir(), 'flexproof-no-artifacts-'));
    const previous = process.env.FLEXPROOF_CACHE;
    const write = process.stderr.write.bind(process.stderr);
    let stderr = '';
    process.env.FLEXPROOF_CACHE = empty;
    process.stderr.write = ((chunk: string) => {
      stderr += String(chunk);
      return true;
    }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await main(['run', '--config', file]);
    } finally {
      process.stderr.write = write;
      if (previous === undefined) delete process.env.FLEXPROOF_CACHE;
      else process.env.FLEXPROOF_CACHE = previous;
      rmSync(empty, { recursive: true, force: true });
    }
    assert.equal(code, 2);
    assert.match(stderr, /--dev-artifacts/);
    assert.ok(stderr.includes(path.join(empty, 'circuits')), stderr);
    await h.open();
  });
});
