// flexproof-audit against a tiny gateway on 127.0.0.1 that serves the two routes an audit
// reads (the enrollment view and the sealed documents): exit codes, the table, --json,
// retries on 503 and on a refused connection, usage errors, and keygen.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { periodDeviation, requestCommitment } from '@flexproof/circuits';
import { sealedContentHash, sealingKeyHash } from '@flexproof/protocol';
import { runAuditCli, type CliIo } from '@flexproof/auditor';
import { ENROLLMENT, flipByte, seal, sealedDay, type SealedDay, type StoredDocument } from './support/sealed-day';

const TOKEN = 'audit-token-0123456789abcdef';
/** The enrollment's request, as the aggregator keeps it: the fake ledger holds its commitment and the deviations it gives. */
const REQUEST = { requestProfile: Array.from({ length: 24 }, (_, h) => String(800_000 + 1_000 * h)), commitmentSalt: '1234567890123456789' };
const CLI = path.join(path.dirname(require.resolve('@flexproof/auditor/package.json')), 'dist', 'cli.js');

interface FakeGateway {
  url: string;
  documents: StoredDocument[];
  /** Answer this many requests with 503 (Retry-After: 0) before serving. */
  busy: number;
  requests: { url: string; authorization: string | undefined }[];
  close(): Promise<void>;
}

async function fakeGateway(day: SealedDay): Promise<FakeGateway> {
  const state: Omit<FakeGateway, 'url' | 'close'> = { documents: day.documents, busy: 0, requests: [] };
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    state.requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
    if (state.busy > 0) {
      state.busy--;
      return send(res, 503, { code: 'LEDGER_UNAVAILABLE', message: 'the ledger is busy' }, { 'retry-after': '0' });
    }
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(res, 401, { code: 'UNAUTHORIZED', message: 'a valid bearer token is required' });
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === `/v1/enrollments/${ENROLLMENT.enrollmentId}`) {
      return send(res, 200, {
        enrollment: {
          ...ENROLLMENT,
          orderId: 'order-1',
          prosumerId: 'p-1',
          status: 'active',
          chainHead: '0',
          circuitId: 'flexdev-v1-r4.test',
          requestCommitment: requestCommitment(REQUEST.requestProfile, REQUEST.commitmentSalt).toString(),
        },
        periods: day.ledgerPeriods.map((p) => {
          const proven = p.result?.outcome === 'verified' ? periodDeviation(day.readings[p.periodIndex] ?? [], REQUEST.requestProfile, p.periodIndex) : undefined;
          return {
            periodIndex: p.periodIndex,
            endTime: '2025-06-01T01:00:00.000Z',
            deadline: '2025-06-01T01:10:00.000Z',
            result:
              p.result === null
                ? null
                : {
                    ...p.result,
                    ...(proven ? { deviationWh: proven.deviation.toString(), direction: String(proven.direction) } : {}),
                    periodIndex: p.periodIndex,
                    txId: `tx-${p.periodIndex}`,
                  },
          };
        }),
        escrow: '1200',
        nextPeriod: null,
      });
    }
    if (
      req.method === 'GET' &&
      url.pathname === `/v1/meters/${ENROLLMENT.meterId}/sealed-periods` &&
      url.searchParams.get('enrollmentId') === ENROLLMENT.enrollmentId
    ) {
      return send(res, 200, {
        meterId: ENROLLMENT.meterId,
        periods: state.documents.map((d) => ({ ...d, contentHash: sealedContentHash(d.jwe), uploadedAt: '2025-06-01T02:00:00.000Z' })),
      });
    }
    return send(res, 404, { code: 'NOT_FOUND', message: 'no such enrollment' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  sleeps: number[];
}

async function runInProcess(argv: string[], env: Record<string, string> = {}): Promise<Run> {
  const out: Run = { code: -1, stdout: '', stderr: '', sleeps: [] };
  const io: CliIo = {
    stdout: (t) => (out.stdout += t),
    stderr: (t) => (out.stderr += t),
    env,
    sleep: async (ms) => {
      out.sleeps.push(ms);
    },
  };
  out.code = await runAuditCli(argv, io);
  return out;
}

function runProcess(argv: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...argv], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('auditor: flexproof-audit command', () => {
  let day: SealedDay;
  let gateway: FakeGateway;
  let dir: string;
  let tokenFile: string;
  let keyFile: string;
  let args: () => string[];

  before(async () => {
    day = await sealedDay({ missed: [23] });
    dir = mkdtempSync(path.join(os.tmpdir(), 'flexproof-audit-'));
    tokenFile = path.join(dir, 'token');
    keyFile = path.join(dir, 'auditor.pem');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    writeFileSync(keyFile, day.auditor.privateKeyPem, { mode: 0o600 });
    gateway = await fakeGateway(day);
    args = () => ['--gateway', gateway.url, '--token-file', tokenFile, '--key-file', keyFile, '--enrollment', ENROLLMENT.enrollmentId];
  });
  after(async () => {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    gateway.documents = day.documents;
    gateway.busy = 0;
    gateway.requests = [];
  });

  it('an honest day: exit 0, a line per period and a PASSED summary; the token is sent, never printed', async () => {
    const r = await runInProcess(args());
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /enrollment enr-audit-1, meter meter-audit-1/);
    assert.match(lines[1] ?? '', /^period\s+outcome\s+verdict/);
    assert.equal(lines.length, 2 + 24 + 1);
    assert.match(lines[2] ?? '', /^\s+0 verified\s+match$/);
    assert.match(lines[25] ?? '', /^\s+23 missed\s+notVerified$/);
    assert.equal(lines[26], 'summary: 23 match, 0 mismatch, 0 unreadable, 0 missingData, 1 notVerified: PASSED');
    assert.deepEqual(
      gateway.requests.map((q) => q.url),
      [`/v1/enrollments/${ENROLLMENT.enrollmentId}`, `/v1/meters/${ENROLLMENT.meterId}/sealed-periods?enrollmentId=${ENROLLMENT.enrollmentId}`],
    );
    assert.ok(gateway.requests.every((q) => q.authorization === `Bearer ${TOKEN}`));
    assert.ok(!`${r.stdout}${r.stderr}`.includes(TOKEN));
  });

  it('--request-file: the request opens the ledger commitment, every deviation is recomputed and matches', async () => {
    const file = path.join(dir, 'request.json');
    writeFileSync(file, JSON.stringify(REQUEST), { mode: 0o600 });
    const r = await runInProcess([...args(), '--request-file', file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const audit = JSON.parse(r.stdout) as { circuitId: string; deviationsChecked: boolean; summary: Record<string, number>; periods: { recomputedDeviationWh?: string }[] };
    assert.equal(audit.circuitId, 'flexdev-v1-r4.test');
    assert.equal(audit.deviationsChecked, true);
    assert.equal(audit.summary.match, 23);
    assert.ok(audit.periods[0]?.recomputedDeviationWh !== undefined);
    const table = await runInProcess([...args(), '--request-file', file]);
    assert.match(table.stdout, /circuit flexdev-v1-r4\.test \(deviations recomputed from the request\)/);
    assert.ok(!`${r.stdout}${table.stdout}`.includes(REQUEST.requestProfile[5]!) && !r.stdout.includes(REQUEST.commitmentSalt), 'the request is never printed');
  });

  it('--request-file that does not open the ledger commitment, or is not a request: exit 2, nothing audited, no value echoed', async () => {
    const cases: { body: string; message: RegExp }[] = [
      { body: JSON.stringify({ ...REQUEST, commitmentSalt: '1234567890123456788' }), message: /do not open the ledger's requestCommitment/ },
      { body: JSON.stringify({ ...REQUEST, requestProfile: REQUEST.requestProfile.slice(1) }), message: /requestProfile must be 24 integers/ },
      { body: JSON.stringify({ requestProfile: REQUEST.requestProfile }), message: /commitmentSalt must be a decimal string/ },
      { body: '{"requestProfile": [', message: /not JSON/ },
    ];
    for (const { body, message } of cases) {
      const file = path.join(dir, 'bad-request.json');
      writeFileSync(file, body, { mode: 0o600 });
      gateway.requests = [];
      const r = await runInProcess([...args(), '--request-file', file]);
      assert.equal(r.code, 2, body);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
      assert.ok(!r.stderr.includes(REQUEST.requestProfile[3]!) && !r.stderr.includes('123456789012345678'), 'no request value in the error');
      assert.ok(!gateway.requests.some((q) => q.url.includes('sealed-periods')), 'no document fetched');
    }
  });

  it('an altered and a damaged period: exit 1, each flagged at its own line; --json gives the same verdicts', async () => {
    const altered = [...(day.readings[5] ?? [])];
    altered[0] = String(Number(altered[0]) + 1);
    const resealed = await seal(5, altered, day.salts[5] ?? '', [day.prosumer, day.auditor]);
    gateway.documents = day.documents.map((d) =>
      d.periodIndex === 5 ? { ...d, jwe: resealed } : d.periodIndex === 9 ? { ...d, jwe: { ...d.jwe, tag: flipByte(d.jwe.tag) } } : d,
    );
    const r = await runInProcess(args());
    assert.equal(r.code, 1);
    const lines = r.stdout.split('\n');
    assert.match(lines[2 + 5] ?? '', /^\s+5 verified\s+mismatch$/);
    assert.match(lines[2 + 9] ?? '', /^\s+9 verified\s+unreadable\s+UNREADABLE \(jwe\)$/);
    assert.match(r.stdout, /summary: 21 match, 1 mismatch, 1 unreadable, 0 missingData, 1 notVerified: FAILED/);

    const j = await runInProcess([...args(), '--json']);
    assert.equal(j.code, 1);
    const audit = JSON.parse(j.stdout) as { summary: Record<string, number>; periods: { periodIndex: number; verdict: string }[] };
    assert.deepEqual(audit.summary, { match: 21, mismatch: 1, unreadable: 1, missingData: 0, notVerified: 1 });
    assert.deepEqual(
      audit.periods.filter((p) => p.verdict !== 'match').map((p) => [p.periodIndex, p.verdict]),
      [[5, 'mismatch'], [9, 'unreadable'], [23, 'notVerified']],
    );
  });

  it('a missing document: exit 1 (missingData)', async () => {
    gateway.documents = day.documents.filter((d) => d.periodIndex !== 3);
    const r = await runInProcess([...args(), '--json']);
    assert.equal(r.code, 1);
    assert.equal((JSON.parse(r.stdout) as { periods: { verdict: string }[] }).periods[3]?.verdict, 'missingData');
  });

  it('a busy gateway (503, Retry-After) is retried, then the audit runs', async () => {
    gateway.busy = 2;
    const r = await runInProcess(args());
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.sleeps, [0, 0]);
    assert.match(r.stderr, /GET \/v1\/enrollments\/enr-audit-1: the gateway answered 503 LEDGER_UNAVAILABLE; retrying in 0\.0 s \(attempt 2 of 4\)/);
    assert.equal(gateway.requests.length, 4);
  });

  it('a gateway busy beyond the retries: exit 2 naming the route and the status', async () => {
    gateway.busy = 10;
    const r = await runInProcess(args());
    assert.equal(r.code, 2);
    assert.match(r.stderr, /GET \/v1\/enrollments\/enr-audit-1: the gateway answered 503 LEDGER_UNAVAILABLE: the ledger is busy; gave up after 4 attempts/);
    assert.equal(gateway.requests.length, 4);
  });

  it('a gateway that refuses connections: retried with backoff, then exit 2', async () => {
    const closed = await fakeGateway(day);
    const url = closed.url;
    await closed.close();
    const r = await runInProcess(['--gateway', url, '--token-file', tokenFile, '--key-file', keyFile, '--enrollment', ENROLLMENT.enrollmentId]);
    assert.equal(r.code, 2);
    assert.deepEqual(r.sleeps, [500, 1000, 2000]);
    assert.match(r.stderr, /GET \/v1\/enrollments\/enr-audit-1: connection failed \(ECONNREFUSED\); gave up after 4 attempts in [0-9.]+ s at http:\/\/127\.0\.0\.1:\d+\n$/);
  });

  it('a wrong token: exit 2 with the gateway’s code', async () => {
    const wrong = path.join(dir, 'wrong-token');
    writeFileSync(wrong, 'not-the-token');
    const r = await runInProcess(['--gateway', gateway.url, '--token-file', wrong, '--key-file', keyFile, '--enrollment', ENROLLMENT.enrollmentId]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /answered 401 UNAUTHORIZED/);
    assert.ok(!r.stderr.includes('not-the-token'));
  });

  it('an unknown enrollment: exit 2 (404 NOT_FOUND)', async () => {
    const r = await runInProcess(['--gateway', gateway.url, '--token-file', tokenFile, '--key-file', keyFile, '--enrollment', 'enr-nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /answered 404 NOT_FOUND/);
  });

  it('the key of an auditor the documents were not sealed to: every verified period unreadable, exit 1', async () => {
    const { generateSealingKeyPair } = await import('@flexproof/protocol');
    const otherKey = path.join(dir, 'other.pem');
    writeFileSync(otherKey, generateSealingKeyPair().privateKeyPem, { mode: 0o600 });
    const r = await runInProcess(['--gateway', gateway.url, '--token-file', tokenFile, '--key-file', otherKey, '--enrollment', ENROLLMENT.enrollmentId]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /summary: 0 match, 0 mismatch, 23 unreadable, 0 missingData, 1 notVerified: FAILED/);
    assert.match(r.stdout, /NOT_A_RECIPIENT/);
  });

  it('usage errors: exit 2, every missing option listed at once; nothing is fetched', async () => {
    const r = await runInProcess(['--json']);
    assert.equal(r.code, 2);
    for (const name of ['--gateway', '--token-file', '--key-file', '--enrollment']) assert.ok(r.stderr.includes(name), name);
    assert.equal((await runInProcess(['--bogus'])).code, 2);
    assert.equal((await runInProcess(['frobnicate'])).code, 2);
    assert.equal((await runInProcess([...args(), '--gateway', 'ftp://x'])).code, 2);
    const notAKey = path.join(dir, 'not-a-key.pem');
    writeFileSync(notAKey, day.auditor.publicKeyPem);
    const k = await runInProcess(['--gateway', gateway.url, '--token-file', tokenFile, '--key-file', notAKey, '--enrollment', ENROLLMENT.enrollmentId]);
    assert.equal(k.code, 2);
    assert.match(k.stderr, /--key-file: .* must hold a P-256 \(EC\) private key/);
    const noFile = await runInProcess(['--gateway', gateway.url, '--token-file', path.join(dir, 'absent'), '--key-file', keyFile, '--enrollment', ENROLLMENT.enrollmentId]);
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /--token-file: cannot read .* \(ENOENT\)/);
    assert.equal(gateway.requests.length, 0);
  });

  it('the options may come from the environment', async () => {
    const r = await runInProcess(['--enrollment', ENROLLMENT.enrollmentId], {
      FLEXPROOF_AUDIT_GATEWAY: gateway.url,
      FLEXPROOF_AUDIT_TOKEN_FILE: tokenFile,
      FLEXPROOF_AUDIT_KEY_FILE: keyFile,
    });
    assert.equal(r.code, 0, r.stderr);
  });

  it('a key file others can read is warned about', async () => {
    const loose = path.join(dir, 'loose.pem');
    writeFileSync(loose, day.auditor.privateKeyPem, { mode: 0o644 });
    const r = await runInProcess(['--gateway', gateway.url, '--token-file', tokenFile, '--key-file', loose, '--enrollment', ENROLLMENT.enrollmentId]);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /warning: .*loose\.pem is readable by others/);
  });

  describe('the installed command (dist/cli.js)', () => {
    it('--help answers at once with exit 0, whatever else is on the line', async () => {
      const r = await runProcess(['--help', '--bogus']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^flexproof-audit: /);
      assert.match(r.stdout, /--key-file FILE/);
      assert.ok(r.ms < 5_000, `--help took ${r.ms} ms`);
      assert.ok(readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node\n'));
    });

    it('audits through the gateway with the options from the environment: exit 1 and the flagged period', async () => {
      gateway.documents = day.documents.filter((d) => d.periodIndex !== 17);
      const r = await runProcess(['--enrollment', ENROLLMENT.enrollmentId], {
        FLEXPROOF_AUDIT_GATEWAY: gateway.url,
        FLEXPROOF_AUDIT_TOKEN_FILE: tokenFile,
        FLEXPROOF_AUDIT_KEY_FILE: keyFile,
      });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /^\s+17 verified\s+missingData$/m);
      assert.match(r.stdout, /summary: 22 match, 0 mismatch, 0 unreadable, 1 missingData, 1 notVerified: FAILED/);
    });

    it('usage error: exit 2', async () => {
      const r = await runProcess(['--enrollment']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /see flexproof-audit --help/);
    });

    it('keygen writes a 0600 private key and its public key, prints the keyHash, and never overwrites', async () => {
      const out = path.join(dir, 'new-auditor.pem');
      const r = await runProcess(['keygen', '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(statSync(out).mode & 0o777, 0o600);
      const publicPem = readFileSync(`${out}.pub`, 'utf8');
      assert.match(r.stdout, new RegExp(`keyHash:\\s+${sealingKeyHash(publicPem)}`));
      assert.ok(r.stdout.includes(publicPem.trim()));
      assert.ok(!r.stdout.includes('PRIVATE KEY'));
      const before = readFileSync(out, 'utf8');
      const again = await runProcess(['keygen', '--out', out]);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /EEXIST/);
      assert.equal(readFileSync(out, 'utf8'), before);
    });
  });
});
