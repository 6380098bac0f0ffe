// The auditor's two reads through the protocol's GatewayClient (a fake fetch in place of
// the gateway): the answers an audit uses are checked field by field before it runs, each
// refusal a GatewayError (unexpected, BAD_ANSWER) naming the route and the field; a bad
// document is passed on for the audit to judge; the calls follow the client's retry policy
// with the audit's few tries.
import assert from 'node:assert/strict';
import { GatewayClient, GatewayError } from '@flexproof/protocol';
import { AUDIT_RETRY, readEnrollmentView, readSealedPeriods } from '@flexproof/auditor';

const TOKEN = 'audit-token-0123456789abcdef';

interface Call {
  url: string;
  authorization: string | null;
}

/** A client whose gateway answers `answers` in order (the last one repeats). */
function clientAnswering(...answers: { status: number; body: unknown }[]): { client: GatewayClient; calls: Call[]; sleeps: number[] } {
  const calls: Call[] = [];
  const sleeps: number[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    calls.push({ url: String(input), authorization: new Headers(init?.headers).get('authorization') });
    const a = answers[Math.min(calls.length - 1, answers.length - 1)] ?? { status: 500, body: {} };
    return new Response(JSON.stringify(a.body), { status: a.status, headers: { 'content-type': 'application/json', 'retry-after': '0' } });
  };
  const client = new GatewayClient({ baseUrl: 'http://gateway.test:8081/prefix', token: TOKEN, retry: AUDIT_RETRY, fetch, sleep: async (ms) => void sleeps.push(ms) });
  return { client, calls, sleeps };
}

const view = (over: Record<string, unknown> = {}, periods: unknown = [{ periodIndex: 0, result: { outcome: 'verified', prevFingerprint: '0', newFingerprint: '7', deviationWh: '3', direction: '1', txId: 't' } }, { periodIndex: 1, result: null }]) => ({
  enrollment: { enrollmentId: 'enr-1', meterId: 'm-1', circuitId: 'flexdev-v1-r4', requestCommitment: '42', status: 'active', ...over },
  periods,
  escrow: '0',
  nextPeriod: null,
});

async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof GatewayError, String(error));
  return error;
}

describe('auditor: the ledger answers an audit reads', () => {
  it('reads the enrollment view with the bearer token under the URL prefix, keeping only what the audit uses', async () => {
    const { client, calls } = clientAnswering({ status: 200, body: view() });
    const read = await readEnrollmentView(client, 'enr-1');
    assert.deepEqual(read, {
      enrollment: { enrollmentId: 'enr-1', meterId: 'm-1', circuitId: 'flexdev-v1-r4', requestCommitment: '42' },
      periods: [
        { periodIndex: 0, result: { outcome: 'verified', prevFingerprint: '0', newFingerprint: '7', deviationWh: '3', direction: '1' } },
        { periodIndex: 1, result: null },
      ],
    });
    assert.deepEqual(calls, [{ url: 'http://gateway.test:8081/prefix/v1/enrollments/enr-1', authorization: `Bearer ${TOKEN}` }]);
  });

  it('a view without a circuit id (a gateway older than v2) is read as it is', async () => {
    const { client } = clientAnswering({ status: 200, body: view({ circuitId: undefined, requestCommitment: undefined }) });
    assert.deepEqual((await readEnrollmentView(client, 'enr-1')).enrollment, { enrollmentId: 'enr-1', meterId: 'm-1' });
  });

  it('refuses a view it cannot audit by, naming the field and the rule', async () => {
    const cases: [unknown, RegExp][] = [
      [[], /the answer's body must be an enrollment view object/],
      [view({ enrollmentId: 'enr-2' }), /enrollment\.enrollmentId must be the enrollment asked for/],
      [view({ meterId: '' }), /enrollment\.meterId must be a non-empty string/],
      [view({ circuitId: 7 }), /enrollment\.circuitId must be a non-empty string/],
      [view({}, 'none'), /periods must be an array/],
      [view({}, [{ periodIndex: 'x', result: null }]), /periods\[0\]\.periodIndex must be an integer/],
      [view({}, [{ periodIndex: 0, result: { outcome: 'verified', newFingerprint: 7 } }]), /periods\[0\]\.result\.newFingerprint must be a decimal string/],
      [view({}, [{ periodIndex: 0, result: 'verified' }]), /periods\[0\]\.result must be null or an object with an outcome/],
    ];
    for (const [body, message] of cases) {
      const { client } = clientAnswering({ status: 200, body });
      const e = await refusal(readEnrollmentView(client, 'enr-1'));
      assert.equal(e.kind, 'unexpected');
      assert.equal(e.code, 'BAD_ANSWER');
      assert.match(e.message, /^GET \/v1\/enrollments\/enr-1: /);
      assert.match(e.message, message);
    }
  });

  it('reads the stored documents, passing each document on unjudged, and refuses an answer for another meter', async () => {
    const documents = [
      { enrollmentId: 'enr-1', periodIndex: 0, jwe: { not: 'a jwe' }, contentHash: 'ab', uploadedAt: '2030-01-01T00:00:00.000Z' },
      { enrollmentId: 'enr-1', periodIndex: 1, jwe: 'garbage' },
    ];
    const { client, calls } = clientAnswering({ status: 200, body: { meterId: 'm-1', enrollmentId: 'enr-1', periods: documents } });
    assert.deepEqual(await readSealedPeriods(client, 'm-1', 'enr-1'), documents);
    assert.equal(calls[0]?.url, 'http://gateway.test:8081/prefix/v1/meters/m-1/sealed-periods?enrollmentId=enr-1');

    const other = clientAnswering({ status: 200, body: { meterId: 'm-2', periods: documents } });
    assert.match((await refusal(readSealedPeriods(other.client, 'm-1', 'enr-1'))).message, /sealed-periods: the answer's meterId must be the meter asked for/);
    const unplaced = clientAnswering({ status: 200, body: { meterId: 'm-1', periods: [{ periodIndex: 0, jwe: {} }] } });
    assert.match((await refusal(readSealedPeriods(unplaced.client, 'm-1', 'enr-1'))).message, /periods\[0\]\.enrollmentId must be a string/);
  });

  it('follows the client\'s retry policy with the audit\'s four tries: a 503 is retried, a 4xx is final', async () => {
    const busy = clientAnswering({ status: 503, body: { code: 'LEDGER_UNAVAILABLE', message: 'busy' } });
    const e = await refusal(readEnrollmentView(busy.client, 'enr-1'));
    assert.equal(e.kind, 'unavailable');
    assert.equal(e.status, 503);
    assert.equal(busy.calls.length, 4);
    assert.deepEqual(busy.sleeps, [0, 0, 0]);

    const notFound = clientAnswering({ status: 404, body: { code: 'NOT_FOUND', message: 'no such enrollment' } });
    const refused = await refusal(readEnrollmentView(notFound.client, 'enr-1'));
    assert.equal(refused.kind, 'refused');
    assert.equal(refused.code, 'NOT_FOUND');
    assert.equal(notFound.calls.length, 1);
    assert.ok(!refused.message.includes(TOKEN));
  });
});
