// The pipeline runner reads every time from the node's injected clock (never the system
// clock): the acceptance payload's nonce, and each timestamp it records in the state file.
// The harness's clock is days away from the real one, so a Date.now() left anywhere shows.
import assert from 'node:assert/strict';
import { Harness, HOUR, T0 } from './support/node-harness';

describe('edge-client: the pipeline runner on the injected clock', function () {
  this.timeout(120_000);
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close().catch(() => undefined);
    h?.cleanup();
    h = undefined;
  });

  it('signs the acceptance with the clock as its nonce and records acceptedAt from the clock', async () => {
    h = await Harness.create({ status: 'offered' });
    const bodies: string[] = [];
    const accept = h.gateway.acceptEnrollment.bind(h.gateway);
    h.gateway.acceptEnrollment = async (enrollmentId: string, body: string) => {
      bodies.push(body);
      return accept(enrollmentId, body);
    };
    const at = T0 + 12_345;
    await h.advance(at);
    assert.equal(bodies.length, 1, 'accepted once');
    const { payload } = JSON.parse(bodies[0] ?? '{}') as { payload: { nonce: string } };
    assert.equal(payload.nonce, String(at));
    assert.equal(h.node.state.data.enrollments['enr-1']?.acceptedAt, new Date(at).toISOString());
  });

  it('stamps a hold, and a period proven, sent, settled and sealed, with the clock', async () => {
    h = await Harness.create({ status: 'offered', extra: { autoAccept: false } });
    await h.advance(T0 + 5);
    const hold = h.node.state.data.enrollments['enr-1']?.hold;
    assert.equal(hold?.code, 'AUTO_ACCEPT_OFF');
    assert.equal(hold?.since, new Date(T0 + 5).toISOString());

    const e = h.gateway.enrollments.get('enr-1')?.e;
    assert.ok(e);
    e.status = 'active';
    await h.feed(T0, T0 + HOUR);
    await h.advance(T0 + HOUR + 10_000);
    const p0 = h.period(0);
    assert.equal(p0?.status, 'settled');
    const stamp = new Date(T0 + HOUR + 10_000).toISOString();
    assert.equal(p0?.provenAt, stamp);
    assert.equal(p0?.firstSentAt, stamp);
    assert.equal(p0?.settledAt, stamp);
    assert.equal(p0?.sealed?.sealedAt, stamp);
  });
});
