// `flexproof` against the real gateway app (routes, schemas, guards, idempotency) on the
// gateway tests' fake ledger, listening on 127.0.0.1: each subcommand's request and
// output, refusals (exit 1 naming the field and rule), a 503 ridden through, an
// unavailable ledger (exit 3), bad usage (exit 2), and key review for real: one hash for
// the raw and normalised key files, equal to what the chaincode's hash records when
// `keys propose` sends it, and `keys approve` refusing a file that is not the proposal.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { verificationKeyHash } from '@flexproof/protocol';
import { SMALL_CIRCUIT_ID, SMALL_NET_CIRCUIT_ID, ensureArtifacts, readVerificationKey } from '@flexproof/circuits';
import { ChaincodeRefusal, TX } from '@flexproof/gateway-api';
import { EXIT, runCli } from '@flexproof/operator';
import { FakeLedgerForTests } from '../gateway-api/support/fake-ledger';
import { TOKENS, buildTestGateway, type TestGateway } from '../gateway-api/support/gateway';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const WH = Array.from({ length: 24 }, (_, i) => String(i * 10)).join(',');

describe('operator: flexproof CLI', function () {
  this.timeout(600_000);
  let gw: TestGateway;
  let ledger: FakeLedgerForTests;
  let url: string;
  let dir: string;
  /** The key records of the fake verifiers contract, hashed as the chaincode hashes. */
  let keys: Map<string, Record<string, unknown>>;
  let sleeps: number;
  let onSleep: () => void;

  const file = (name: string, text: string, mode = 0o600): string => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    chmodSync(p, mode);
    return p;
  };

  async function run(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<Run> {
    const out = { stdout: '', stderr: '' };
    const code = await runCli(args, {
      stdout: (t) => void (out.stdout += t),
      stderr: (t) => void (out.stderr += t),
      env: { FLEXPROOF_PROFILE: path.join(dir, 'dso.json'), ...options.env },
      cwd: dir,
      sleep: async () => {
        sleeps++;
        onSleep();
      },
      ...(options.stdin === undefined ? {} : { stdin: (await import('node:stream')).Readable.from([options.stdin]) }),
    });
    return { code, ...out };
  }
  const asAggregator = { env: { FLEXPROOF_PROFILE: '', FLEXPROOF_TOKEN_FILE: 'aggregator.token', FLEXPROOF_GATEWAY_URL: '' } };
  const submitted = (tx: string) => ledger.submitted.filter((s) => s.transaction === tx).map((s) => s.argument as Record<string, unknown>);

  let rawKeyFile: string;
  let normalisedKeyFile: string;
  let otherKeyFile: string;
  let rawKey: Record<string, unknown>;

  before(async () => {
    const small = await ensureArtifacts(SMALL_CIRCUIT_ID);
    const net = await ensureArtifacts(SMALL_NET_CIRCUIT_ID);
    dir = mkdtempSync(path.join(os.tmpdir(), 'flexproof-cli-'));
    rawKey = JSON.parse(readFileSync(small.verificationKeyPath, 'utf8')) as Record<string, unknown>;
    rawKeyFile = file('verification_key.json', readFileSync(small.verificationKeyPath, 'utf8'), 0o644);
    normalisedKeyFile = file('normalised.json', JSON.stringify(readVerificationKey(small)), 0o644);
    otherKeyFile = file('other.json', readFileSync(net.verificationKeyPath, 'utf8'), 0o644);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  beforeEach(async () => {
    gw = await buildTestGateway({ org: 'dso' });
    ledger = gw.ledger;
    await gw.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}`;
    file('dso.token', `${TOKENS.dso}\n`);
    file('aggregator.token', `${TOKENS.aggregator}\n`);
    file('dso.json', JSON.stringify({ gatewayUrl: url, tokenFile: 'dso.token', org: 'DsoMSP' }));
    asAggregator.env.FLEXPROOF_GATEWAY_URL = url;
    sleeps = 0;
    onSleep = () => undefined;
    keys = new Map();
    const enrollment = (enrollmentId: unknown, status: string) => ({ enrollmentId, orderId: 'or1', meterId: 'm1', prosumerId: 'p1', status, chainHead: '0' });
    const echo = (extra: Record<string, unknown>) => (a: Record<string, unknown>) => ({ ...a, ...extra });
    ledger
      .on(TX.mint, echo({}))
      .on(TX.burn, echo({}))
      .on(TX.getSupply, () => ({ minted: '100', burned: '0', outstanding: '100' }))
      .on(TX.auditSupply, () => ({ minted: '100', burned: '0', balances: '100', accounts: 2, imbalance: '0' }))
      .on(TX.getBalance, ({ account }) => ({ accountId: account, balance: '42' }))
      .on(TX.registerMeter, echo({ keyType: 'ec-p256', status: 'active', nonce: '0' }))
      .on(TX.suspendMeter, ({ meterId }) => ({ ...ledger.meters.get(String(meterId)), status: 'suspended' }))
      .on(TX.createFlexRequest, echo({ status: 'open' }))
      .on(TX.submitFlexOffer, echo({ status: 'submitted' }))
      .on(TX.acceptFlexOffer, echo({ status: 'open' }))
      .on(TX.settleFlexOrder, ({ orderId }) => ({ orderId, offerId: 'of1', status: 'settled', toAggregator: '60', toDso: '40' }))
      .on(TX.offerEnrollment, echo({ status: 'offered', prosumerId: 'p1', chainHead: '0' }))
      .on(TX.depositReward, ({ enrollmentId }) => enrollment(enrollmentId, 'active'))
      .on(TX.depositRewards, ({ enrollmentIds }) => ({ enrollments: (enrollmentIds as string[]).map((id) => enrollment(id, 'active')) }))
      .on(TX.claimMissedPeriod, ({ periodIndex }) => ({ outcome: 'missed', periodIndex }))
      .on(TX.closeEnrollment, ({ enrollmentId }) => enrollment(enrollmentId, 'closed'))
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
      .on(TX.listVerificationKeys, () => ({ keys: [...keys.values()].map(({ verificationKey: _vk, ...r }) => r) }));
  });
  afterEach(async () => gw.app.close());

  describe('organisation actions', () => {
    it('tokens mint: sends the body, prints txId and the record; --json prints the answer', async () => {
      const r = await run(['tokens', 'mint', '--account', 'org:DsoMSP', '--amount', '1000']);
      assert.equal(r.code, EXIT.ok, r.stderr);
      assert.deepEqual(submitted(TX.mint), [{ account: 'org:DsoMSP', amount: '1000' }]);
      assert.match(r.stdout, /^txId\s+faketx1\n/);
      assert.match(r.stdout, /amount\s+1000/);
      const j = await run(['--json', 'tokens', 'burn', '--account', 'org:DsoMSP', '--amount', '5']);
      assert.equal(j.code, EXIT.ok, j.stderr);
      assert.deepEqual(JSON.parse(j.stdout), { txId: 'faketx2', result: { account: 'org:DsoMSP', amount: '5' } });
    });

    it('tokens balance defaults to the profile organisation; supply; audit exits 1 when the supply does not balance', async () => {
      const b = await run(['tokens', 'balance']);
      assert.equal(b.code, EXIT.ok, b.stderr);
      assert.deepEqual(ledger.evaluated.at(-1)?.argument, { account: 'org:DsoMSP' });
      assert.match(b.stdout, /accountId\s+balance\norg:DsoMSP\s+42/);
      assert.match((await run(['tokens', 'supply'])).stdout, /outstanding\s+100/);
      assert.equal((await run(['tokens', 'audit'])).code, EXIT.ok);
      ledger.on(TX.auditSupply, () => ({ minted: '100', burned: '0', balances: '90', accounts: 2, imbalance: '10' }));
      const bad = await run(['tokens', 'audit']);
      assert.equal(bad.code, EXIT.refused);
      assert.match(bad.stderr, /supply invariant does not hold: .* = 10/);
    });

    it('meters register reads the public key file; suspend; show', async () => {
      const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const keyFile = file('site.pub', pem, 0o644);
      const r = await run(['meters', 'register', '--meter', 'm1', '--prosumer', 'p1', '--public-key', keyFile, '--congestion-point', 'cp-1']);
      assert.equal(r.code, EXIT.ok, r.stderr);
      assert.deepEqual(submitted(TX.registerMeter), [{ meterId: 'm1', prosumerId: 'p1', publicKeyPem: pem, congestionPoint: 'cp-1' }]);
      ledger.meters.set('m1', { meterId: 'm1', prosumerId: 'p1', publicKeyPem: pem, keyType: 'ec-p256', congestionPoint: 'cp-1', status: 'active', nonce: '0' });
      const s = await run(['meters', 'suspend', 'm1', '--reason', 'tampering seen']);
      assert.equal(s.code, EXIT.ok, s.stderr);
      assert.deepEqual(submitted(TX.suspendMeter), [{ meterId: 'm1', reason: 'tampering seen' }]);
      const show = await run(['meters', 'show', 'm1', '--json']);
      assert.equal(JSON.parse(show.stdout).meterId, 'm1');
    });

    it('market request, offer (aggregator), order, settle', async () => {
      const req = await run(['market', 'request', '--request', 'r1', '--congestion-point', 'cp-1', '--day', '2025-06-01', '--wh', WH]);
      assert.equal(req.code, EXIT.ok, req.stderr);
      assert.deepEqual(submitted(TX.createFlexRequest)[0]?.requestedWh, WH.split(','));
      const offer = await run(['market', 'offer', '--request', 'r1', '--offer', 'of1', '--wh', WH, '--price', '100'], asAggregator);
      assert.equal(offer.code, EXIT.ok, offer.stderr);
      assert.deepEqual(submitted(TX.submitFlexOffer)[0], { offerId: 'of1', offeredWh: WH.split(','), price: '100', requestId: 'r1' });
      assert.equal((await run(['market', 'order', '--offer', 'of1', '--order', 'or1'])).code, EXIT.ok);
      assert.deepEqual(submitted(TX.acceptFlexOffer), [{ orderId: 'or1', offerId: 'of1' }]);
      const settle = await run(['market', 'settle', 'or1']);
      assert.equal(settle.code, EXIT.ok, settle.stderr);
      assert.match(settle.stdout, /toAggregator\s+60/);
    });

    it('enrollments offer (aggregator) from a terms file, fund one or several, claim, close, show', async () => {
      const terms = {
        enrollmentId: 'e1', orderId: 'or1', meterId: 'm1', circuitId: 'flexdev-v1-r4', requestCommitment: '123',
        reward: '100', ratePerWh: '1', toleranceWh: '10', flexWh: WH.split(','), startTime: '2025-06-01T00:00:00Z',
      };
      const termsFile = file('terms.json', JSON.stringify(terms));
      const offer = await run(['enrollments', 'offer', '--terms', termsFile], asAggregator);
      assert.equal(offer.code, EXIT.ok, offer.stderr);
      assert.deepEqual(submitted(TX.offerEnrollment), [terms]);
      const secret = await run(['enrollments', 'offer', '--terms', file('secret.json', JSON.stringify({ ...terms, commitmentSalt: '9' }))], asAggregator);
      assert.equal(secret.code, EXIT.usage);
      assert.match(secret.stderr, /commitmentSalt: must not be in the terms/);
      assert.doesNotMatch(secret.stderr, /"9"/);
      assert.equal((await run(['enrollments', 'fund', 'e1'], asAggregator)).code, EXIT.ok);
      const many = await run(['enrollments', 'fund', 'e2', 'e3'], asAggregator);
      assert.equal(many.code, EXIT.ok, many.stderr);
      assert.deepEqual(submitted(TX.depositRewards), [{ enrollmentIds: ['e2', 'e3'] }]);
      assert.match(many.stdout, /e3\s+active/);
      assert.equal((await run(['enrollments', 'claim', 'e1', '--period', '7'], asAggregator)).code, EXIT.ok);
      assert.deepEqual(submitted(TX.claimMissedPeriod), [{ enrollmentId: 'e1', periodIndex: 7 }]);
      assert.equal((await run(['enrollments', 'close', 'e1'])).code, EXIT.ok);
      ledger.addEnrollment({ enrollmentId: 'e1', meterId: 'm1' });
      const show = await run(['enrollments', 'show', 'e1']);
      assert.equal(show.code, EXIT.ok, show.stderr);
      assert.match(show.stdout, /^enrollment e1 \(meter m1, order order-1\): active/);
      assert.equal(show.stdout.split('\n').filter((l) => /^\d+\s/.test(l)).length, 24);
    });

    it('events prints one line per event until --limit', async () => {
      const pending = run(['events', '--enrollment', 'e1', '--limit', '2']);
      while (ledger.subscriberCount === 0) await new Promise((r) => setTimeout(r, 10));
      for (const [i, name] of ['PeriodSettled', 'RewardDeposited', 'Ignored'].entries()) {
        ledger.emit({ eventName: name, payload: { enrollmentId: 'e1', periodIndex: i }, txId: `t${i}`, blockNumber: String(10 + i) } as never);
      }
      const r = await pending;
      assert.equal(r.code, EXIT.ok, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), [
        '10  PeriodSettled  {"enrollmentId":"e1","periodIndex":0,"txId":"t0"}',
        '11  RewardDeposited  {"enrollmentId":"e1","periodIndex":1,"txId":"t1"}',
      ]);
      assert.match(r.stderr, /listening for events/);
    });

    it('an --idempotency-key rerun returns the first outcome without a second transaction', async () => {
      const args = ['tokens', 'mint', '--account', 'org:DsoMSP', '--amount', '7', '--idempotency-key', 'mint-7-once', '--json'];
      const first = await run(args);
      const again = await run(args);
      assert.equal(again.code, EXIT.ok, again.stderr);
      assert.equal(JSON.parse(again.stdout).txId, JSON.parse(first.stdout).txId);
      assert.equal(submitted(TX.mint).length, 1);
      const other = await run(['tokens', 'mint', '--account', 'org:DsoMSP', '--amount', '8', '--idempotency-key', 'mint-7-once']);
      assert.equal(other.code, EXIT.refused);
      assert.match(other.stderr, /IDEMPOTENCY_KEY_REUSED/);
    });
  });

  describe('refusals, outages and usage', () => {
    it('a ledger refusal exits 1 with the code and the chaincode message; a schema refusal names the field', async () => {
      ledger.on(TX.acceptFlexOffer, () => {
        throw new ChaincodeRefusal('RULE_VIOLATION', 'account org:DsoMSP holds 0, the price is 100');
      });
      const r = await run(['market', 'order', '--offer', 'of1', '--order', 'or1']);
      assert.equal(r.code, EXIT.refused);
      assert.match(r.stderr, /^flexproof market order: refused: POST \/v1\/flex-offers\/of1\/order answered 422 RULE_VIOLATION: account org:DsoMSP holds 0/);
      const bad = await run(['tokens', 'mint', '--account', 'org:DsoMSP', '--amount', '1.5']);
      assert.equal(bad.code, EXIT.refused);
      assert.match(bad.stderr, /400 BAD_INPUT: body\.amount: must match pattern/);
      const role = await run(['market', 'offer', '--request', 'r1', '--offer', 'of1', '--wh', WH, '--price', '1']);
      assert.equal(role.code, EXIT.refused);
      assert.match(role.stderr, /403 FORBIDDEN: this operation needs the role aggregator/);
    });

    it('rides through a ledger outage (503 + Retry-After) and says so', async () => {
      ledger.down = true;
      onSleep = () => {
        ledger.down = false;
      };
      const r = await run(['tokens', 'mint', '--account', 'org:DsoMSP', '--amount', '3']);
      assert.equal(r.code, EXIT.ok, r.stderr);
      assert.equal(sleeps, 1);
      assert.match(r.stderr, /503 LEDGER_UNAVAILABLE; retrying in 5\.0 s/);
      assert.equal(submitted(TX.mint).length, 1, 'the fake ledger counts only the attempt that reached it');
    });

    it('exits 3 when the ledger stays down past the deadline, and when nothing listens', async () => {
      ledger.down = true;
      const r = await run(['tokens', 'supply', '--deadline', '4']);
      assert.equal(r.code, EXIT.unavailable);
      assert.match(r.stderr, /unavailable: GET \/v1\/tokens\/supply: the gateway answered 503 LEDGER_UNAVAILABLE.*gave up/);
      const closed = `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}`;
      await gw.app.close();
      const none = await run(['tokens', 'supply', '--gateway', closed, '--deadline', '0']);
      assert.equal(none.code, EXIT.unavailable);
      assert.match(none.stderr, /ECONNREFUSED/);
    });

    it('bad usage exits 2 naming the flag and the rule, and sends nothing', async () => {
      const cases: [string[], RegExp, Record<string, string>?][] = [
        [['teleport'], /unknown command: teleport/],
        [['tokens'], /tokens: which action\?/],
        [['tokens', 'mint', '--account', 'org:DsoMSP'], /--amount: is required/],
        [['tokens', 'mint', '--account', 'a', '--amount', '1', '--colour', 'red'], /Unknown option '--colour'/],
        [['tokens', 'supply', '--token', TOKENS.dso], /--token: a token is never an argument/],
        [['market', 'request', '--request', 'r', '--congestion-point', 'c', '--day', '2025-06-01', '--wh', '1,2,3'], /--wh: must list 24 values/],
        [['enrollments', 'claim', 'e1', '--period', '24'], /--period: must be a period \(hour\) 0 to 23/],
        [['meters', 'show'], /METER: is required/],
        [['meters', 'show', 'a', 'b'], /unexpected argument: b/],
        [['tokens', 'supply'], /missing the gateway URL .* and the token file/, { FLEXPROOF_PROFILE: '' }],
        [['tokens', 'supply', '--deadline', 'soon'], /--deadline: must be a whole number/],
      ];
      for (const [args, message, env] of cases) {
        const r = await run(args, env ? { env } : {});
        assert.equal(r.code, EXIT.usage, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message, args.join(' '));
        assert.doesNotMatch(r.stderr, new RegExp(TOKENS.dso), 'the token never reaches the output');
      }
      assert.equal(ledger.submitted.length + ledger.evaluated.length, 0);
    });

    it('reads the token from a private file or stdin only; a profile key it does not know is refused', async () => {
      file('dso.token', `${TOKENS.dso}\n`, 0o644);
      const open = await run(['tokens', 'supply']);
      assert.equal(open.code, EXIT.usage);
      assert.match(open.stderr, /must be readable by its owner only \(mode 644; run chmod 600/);
      const stdin = await run(['tokens', 'supply', '--token-file', '-'], { stdin: `${TOKENS.dso}\n` });
      assert.equal(stdin.code, EXIT.ok, stdin.stderr);
      file('typo.json', JSON.stringify({ gatewayURL: url, tokenFile: 'dso.token' }));
      const typo = await run(['tokens', 'supply', '--profile', 'typo.json']);
      assert.equal(typo.code, EXIT.usage);
      assert.match(typo.stderr, /profile typo\.json: gatewayURL: unknown key/);
    });

    it('--help for the program, a group and a command', async () => {
      const main = await run(['--help']);
      assert.equal(main.code, EXIT.ok);
      for (const c of ['tokens mint', 'keys approve', 'enrollments offer', 'events']) assert.match(main.stdout, new RegExp(`\\n  ${c}\\s`));
      assert.match(main.stdout, /Exit codes: 0 done; 1 refused/);
      assert.match((await run(['keys', '--help'])).stdout, /flexproof keys review --circuit ID \(FILE \| --bundle DIR\)/);
      const one = await run(['keys', 'approve', '--help']);
      assert.match(one.stdout, /^Usage: flexproof keys approve --circuit ID \(FILE \| --bundle DIR\) \[options\]/);
      assert.match(one.stdout, /never the one the proposal carries/);
    });
  });

  describe('verification keys reviewed by hash', () => {
    it('keys hash: one hash for snarkjs\'s raw file and the normalised form, the chaincode\'s hash of what propose sends', async () => {
      const raw = await run(['keys', 'hash', rawKeyFile], { env: { FLEXPROOF_PROFILE: '' } });
      const normalised = await run(['keys', 'hash', normalisedKeyFile]);
      assert.equal(raw.code, EXIT.ok, raw.stderr);
      assert.match(raw.stdout, /^[0-9a-f]{64}\n$/);
      assert.equal(raw.stdout, normalised.stdout);
      const { vk_alphabeta_12: _ab, ...canonical } = rawKey;
      assert.equal(raw.stdout.trim(), verificationKeyHash(canonical));
      assert.equal(JSON.parse((await run(['keys', 'hash', rawKeyFile, '--json'])).stdout).form, 'snarkjs');
    });

    it('keys propose checks the key, sends the canonical form, and the ledger records the same hash', async () => {
      const hash = (await run(['keys', 'hash', rawKeyFile])).stdout.trim();
      const r = await run(['keys', 'propose', '--circuit', 'flexdev-v1-r4', rawKeyFile, '--json'], asAggregator);
      assert.equal(r.code, EXIT.ok, r.stderr);
      const sent = submitted(TX.proposeVerificationKey)[0]?.verificationKey as Record<string, unknown>;
      assert.equal('vk_alphabeta_12' in sent, false);
      assert.equal(JSON.parse(r.stdout).result.keyHash, hash);
      assert.equal(r.stderr, '');
    });

    it('keys propose refuses a key the ledger would refuse, naming the field, and sends nothing', async () => {
      const ic = (rawKey.IC as string[][]).map((p) => [...p]);
      (ic[2] as string[])[1] = '3';
      const bad = file('bad.json', JSON.stringify({ ...rawKey, IC: ic }));
      const r = await run(['keys', 'propose', '--circuit', 'c1', bad], asAggregator);
      assert.equal(r.code, EXIT.refused);
      assert.match(r.stderr, /verificationKey\.IC\[2\]: .*not on the curve.*nothing was sent/);
      const short = file('short.json', JSON.stringify({ ...rawKey, IC: ic.slice(1) }));
      assert.match((await run(['keys', 'propose', '--circuit', 'c1', short], asAggregator)).stderr, /verificationKey\.IC: IC must hold/);
      assert.equal(submitted(TX.proposeVerificationKey).length, 0);
    });

    it('keys review shows the proposal beside the file; approve refuses a file that is not the proposal', async () => {
      assert.equal((await run(['keys', 'propose', '--circuit', 'flexdev-v1-r4', normalisedKeyFile], asAggregator)).code, EXIT.ok);
      const same = await run(['keys', 'review', '--circuit', 'flexdev-v1-r4', rawKeyFile]);
      assert.equal(same.code, EXIT.ok, same.stderr);
      assert.match(same.stdout, /match: the proposal is this file's key/);
      const other = await run(['keys', 'review', '--circuit', 'flexdev-v1-r4', otherKeyFile]);
      assert.equal(other.code, EXIT.refused);
      assert.match(other.stdout, /DIFFERENT: /);
      assert.match(other.stderr, /other\.json hashes to [0-9a-f]{64}, the proposal's keyHash is [0-9a-f]{64}/);

      const refused = await run(['keys', 'approve', '--circuit', 'flexdev-v1-r4', otherKeyFile]);
      assert.equal(refused.code, EXIT.refused);
      assert.match(refused.stderr, /not approved: /);
      assert.equal(submitted(TX.approveVerificationKey).length, 0, 'nothing sent for a mismatching file');

      const approved = await run(['keys', 'approve', '--circuit', 'flexdev-v1-r4', rawKeyFile]);
      assert.equal(approved.code, EXIT.ok, approved.stderr);
      assert.deepEqual(submitted(TX.approveVerificationKey), [{ circuitId: 'flexdev-v1-r4', keyHash: (await run(['keys', 'hash', rawKeyFile])).stdout.trim() }]);
      const listed = await run(['keys', 'list']);
      assert.match(listed.stdout, /flexdev-v1-r4\s+active\s+[0-9a-f]{64}\s+AggregatorMSP/);
    });

    it('a key proposed raw (not through keys propose) cannot be approved by hash, and says why', async () => {
      keys.set('raw-proposed', { circuitId: 'raw-proposed', verificationKey: rawKey, keyHash: verificationKeyHash(rawKey), status: 'proposed', proposedBy: 'AggregatorMSP' });
      const r = await run(['keys', 'approve', '--circuit', 'raw-proposed', rawKeyFile]);
      assert.equal(r.code, EXIT.refused);
      assert.match(r.stderr, /not the canonical hash of the key it holds .*proposed again under a new circuit id/);
      assert.equal(submitted(TX.approveVerificationKey).length, 0);
    });

    it('keys review of an unknown circuit exits 1 with NOT_FOUND', async () => {
      const r = await run(['keys', 'review', '--circuit', 'nope', rawKeyFile]);
      assert.equal(r.code, EXIT.refused);
      assert.match(r.stderr, /404 NOT_FOUND: circuit nope has no key/);
    });
  });

  it('the flexproof bin npm links runs the built CLI and exits with its code', async () => {
    const bin = path.join(path.dirname(require.resolve('@flexproof/operator/package.json')), 'bin', 'flexproof.js');
    const exec = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [bin, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '' } }, (error, stdout, stderr) =>
          resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr }),
        );
      });
    const hash = await exec(['keys', 'hash', rawKeyFile]);
    assert.equal(hash.code, 0, hash.stderr);
    assert.equal(hash.stdout.trim(), verificationKeyHash(canonicalOf(rawKey)));
    assert.equal((await exec(['tokens', 'supply'])).code, EXIT.usage);
  });
});

function canonicalOf(key: Record<string, unknown>): Record<string, unknown> {
  const { vk_alphabeta_12: _ab, ...rest } = key;
  return rest;
}
