/**
 * The protocol's two sorted-key JSON encodings: canonicalJson (sealed documents' content
 * hash, the canonical verification-key hash) and stableStringify (the chaincode's world
 * state and the bytes prosumers sign). They are kept apart because their outputs differ;
 * these tests pin where they differ and that they agree on every value whose keys are
 * field names (records, views, signed payloads, verification keys).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson, schemas, stableStringify } from '@flexproof/protocol';
import { Value } from '@sinclair/typebox/value';

/** Keys on which the two encodings part: array indices (JavaScript orders them first) and `__proto__`. */
function hasSpecialKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasSpecialKey);
  if (value !== null && typeof value === 'object') {
    return Object.keys(value).some((k) => k === '__proto__' || /^(0|[1-9][0-9]*)$/.test(k) || hasSpecialKey((value as Record<string, unknown>)[k]));
  }
  return false;
}

describe('protocol: stableStringify and canonicalJson', () => {
  it('agree on every JSON value whose keys are neither array indices nor __proto__ (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        fc.pre(!hasSpecialKey(value));
        assert.equal(stableStringify(value), canonicalJson(value));
      }),
      { numRuns: 500 },
    );
  });

  it('agree on a record the chaincode writes and a payload a prosumer signs', () => {
    const meter = { status: 'active', meterId: 'm1', prosumerId: 'p1', publicKeyPem: 'PEM', keyType: 'ed25519', congestionPoint: 'cp', nonce: '0', registeredAt: 't', updatedAt: 't' };
    assert.equal(Value.Check(schemas.Meter, meter), true);
    assert.equal(stableStringify(meter), canonicalJson(meter));
    const payload = { type: schemas.PROSUMER_ACTIONS.withdraw, channel: 'flexchannel', chaincode: 'flexproof', meterId: 'm1', prosumerId: 'p1', amount: '10', nonce: '1' };
    assert.equal(Value.Check(schemas.WithdrawPayload, payload), true);
    assert.equal(stableStringify(payload), canonicalJson(payload));
    assert.equal(stableStringify(payload), '{"amount":"10","chaincode":"flexproof","channel":"flexchannel","meterId":"m1","nonce":"1","prosumerId":"p1","type":"flexproof.withdraw.v2"}');
  });

  it('differ where the chaincode\'s bytes must not change: index keys, __proto__, non-finite numbers, holes', () => {
    const indexKeys = { b: 1, 10: 2, 9: 3 };
    assert.equal(stableStringify(indexKeys), '{"9":3,"10":2,"b":1}');
    assert.equal(canonicalJson(indexKeys), '{"10":2,"9":3,"b":1}');

    const proto = JSON.parse('{"__proto__":{"a":1},"b":2}') as unknown;
    assert.equal(stableStringify(proto), '{"b":2}');
    assert.equal(canonicalJson(proto), '{"__proto__":{"a":1},"b":2}');

    assert.equal(stableStringify([Number.NaN, Number.POSITIVE_INFINITY, undefined]), '[null,null,null]');
    assert.throws(() => canonicalJson([Number.NaN]), TypeError);
    assert.throws(() => canonicalJson([undefined]), TypeError);

    // Both drop a member whose value is undefined, as JSON.stringify does.
    assert.equal(stableStringify({ a: undefined, b: 1 }), '{"b":1}');
    assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
  });
});
