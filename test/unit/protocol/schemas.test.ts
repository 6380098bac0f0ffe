/**
 * protocol/src/schemas and the transaction map against the chaincode, which takes every
 * shape from them: the chaincode's `schemas` are the protocol's own objects (no second
 * copy), and each transaction refuses a bad argument with exactly the refusal the
 * protocol's schema gives; the map names every transaction the contracts serve, with the
 * right kind. (Until the chaincode imported them, this file compared its copies with the
 * protocol's rule for rule, and its model types with the protocol's at compile time; those
 * comparisons are now of one thing with itself, so they are replaced by the identity and
 * behaviour checks below. test/unit/protocol/schemas-lifecycle.test.ts checks every
 * record, answer and event the chaincode writes against the schemas at run time.)
 */
import assert from 'node:assert/strict';
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
// The harness first: its support module quiets fabric-contract-api's logs before any contract loads.
import { AGGREGATOR, ChaincodeHarness, DSO, flat, type ContractName } from '../chaincode/support/harness';
import { contracts, schemas as chaincodeSchemas } from '@flexproof/chaincode';
import { generateSealingKeyPair, schemas as p, sealPeriod, TRANSACTIONS, TX, transactionById, CONTRACTS, type TransactionKey } from '@flexproof/protocol';
// The chaincode from source, as the harness loads it: its `schemas` are what the contracts check with.
import { ChaincodeError, schemas as contractSchemas } from '../chaincode/support/chaincode';

const SHORT: Record<string, ContractName> = Object.fromEntries(
  Object.entries(CONTRACTS).map(([short, full]) => [full, short as ContractName]),
);

/** The refusal the chaincode must give for `value` under `schema`: `[BAD_INPUT] <field>: <rule>`, the field prefixed by `path`. */
function expectedRefusal(schema: TSchema, value: unknown, path = ''): string {
  const first = TypeCompiler.Compile(schema).Errors(value).First();
  assert.ok(first, 'the value is refused by the protocol schema');
  const field = first.path ? first.path.slice(1).replace(/\//g, '.') : '';
  const named = path ? (field ? `${path}.${field}` : path) : field || 'argument';
  return `[BAD_INPUT] ${named}: ${first.message}`;
}

/** Runs a transaction as the DSO, or as the aggregator when the DSO may not; returns the refusal's message. */
async function refusal(h: ChaincodeHarness, key: TransactionKey, input: unknown): Promise<string> {
  const spec = TRANSACTIONS[key];
  for (const msp of [DSO, AGGREGATOR]) {
    try {
      const out = await h.call(msp, SHORT[spec.contract] as ContractName, spec.name, input);
      return `accepted: ${JSON.stringify(out).slice(0, 120)}`;
    } catch (err) {
      assert.ok(err instanceof ChaincodeError, `${spec.id}: ${String(err)}`);
      if (err.code !== 'FORBIDDEN') return err.message;
    }
  }
  return 'FORBIDDEN to both organisations';
}

describe('protocol schemas: one definition, the chaincode\'s', () => {
  it('the chaincode\'s schemas are the protocol\'s own objects, not a copy', () => {
    // Identity, not equality: a copy equal rule for rule would fail this.
    assert.equal(contractSchemas, p);
    assert.equal(chaincodeSchemas, p, 'the built chaincode entry hands out the same');
  });

  const BATCHES = new Set<TransactionKey>(['offerEnrollments', 'depositRewards', 'submitPeriods']);

  it('every transaction refuses an unknown argument exactly as its protocol input schema does, and changes nothing', async () => {
    const h = new ChaincodeHarness();
    const before = h.stub.snapshot();
    const checked: string[] = [];
    for (const [key, spec] of Object.entries(TRANSACTIONS) as [TransactionKey, (typeof TRANSACTIONS)[TransactionKey]][]) {
      if (spec.input === null || BATCHES.has(key)) continue;
      const input = { zzUnknownField: 1 };
      assert.equal(await refusal(h, key, input), expectedRefusal(spec.input, input), spec.id);
      checked.push(key);
    }
    assert.equal(checked.length, Object.keys(TRANSACTIONS).length - BATCHES.size - 1, 'all but Ping and the batches');
    assert.deepEqual(h.stub.snapshot(), before);
  });

  it('the batches check each entry with the protocol\'s schema of the single transaction, naming its index', async () => {
    const h = new ChaincodeHarness();
    const offer = { enrollmentId: 'e1' };
    assert.equal(await refusal(h, 'offerEnrollments', { offers: [offer] }), expectedRefusal(p.OfferEnrollmentInput, offer).replace('[BAD_INPUT] ', '[BAD_INPUT] offers[0]: '));
    assert.equal(
      await refusal(h, 'depositRewards', { enrollmentIds: ['not an id'] }),
      expectedRefusal(p.EnrollmentIdInput, { enrollmentId: 'not an id' }, 'enrollmentIds[0]'),
    );
    const out = await h.call(DSO, 'programs', 'SubmitPeriods', { items: [{ payload: {} }] });
    const item = out.outcomes[0];
    assert.equal(item.outcome, 'refused');
    assert.equal(`[${item.code}] ${item.message}`, expectedRefusal(p.SubmitPeriodInput, { payload: {} }, 'items[0]'));
  });

  it('a field rule of the protocol is the chaincode\'s rule: 23 periods are refused, 24 taken', async () => {
    const h = new ChaincodeHarness();
    const input = { requestId: 'r1', congestionPoint: 'cp', day: '2030-03-01', requestedWh: flat('1').slice(1) };
    assert.equal(p.PERIODS_PER_DAY, 24);
    assert.equal(await refusal(h, 'createFlexRequest', input), expectedRefusal(p.CreateFlexRequestInput, input));
    const created = await h.call(DSO, 'market', 'CreateFlexRequest', { ...input, requestedWh: flat('1') });
    assert.equal(Value.Check(p.FlexRequest, created), true);
  });

  it('records check real-looking values and refuse a misspelt split or an unknown status', () => {
    const settlement = { deliveredWh: ['1'], deficiencyWh: ['0'], penalty: '0', toAggregator: '100', toDso: '0', settledAt: '2026-01-02T00:00:00.000Z', txId: 't1' };
    assert.equal(Value.Check(p.OrderSettlement, settlement), true);
    const { toAggregator, toDso, ...rest } = settlement;
    assert.equal(Value.Check(p.OrderSettlement, { ...rest, aggregatorAmount: toAggregator, dsoAmount: toDso }), false);
    const meter: Static<typeof p.Meter> = {
      meterId: 'm1',
      prosumerId: 'p1',
      publicKeyPem: 'PEM',
      keyType: 'ed25519',
      congestionPoint: 'cp',
      status: 'active',
      nonce: '0',
      registeredAt: 't',
      updatedAt: 't',
    };
    assert.equal(Value.Check(p.Meter, meter), true);
    assert.equal(Value.Check(p.Meter, { ...meter, status: 'paused' }), false);
    assert.equal(Value.Check(p.Meter, { ...meter, extra: 1 }), false, 'records are exact');
  });
});

describe('protocol schemas: opaque JSON objects (keys and proofs)', () => {
  const opaque = {
    'VerificationKeyRecord.verificationKey': p.VerificationKeyRecord.properties.verificationKey,
    'ProposeVerificationKeyInput.verificationKey': p.ProposeVerificationKeyInput.properties.verificationKey,
    'SubmitPeriodInput.proof': p.SubmitPeriodInput.properties.proof,
    'EdgeVerificationKey.verificationKey': p.EdgeVerificationKey.properties.verificationKey,
  };

  it('are JSON Schema objects of any members, checked as objects (a string, an array or null is not one)', () => {
    for (const [name, schema] of Object.entries(opaque)) {
      const json = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
      assert.equal(json.type, 'object', name);
      assert.deepEqual(json.properties, {}, name);
      assert.equal(json.additionalProperties, true, name);
      assert.equal(Value.Check(schema, { protocol: 'groth16', nested: { a: [1] } }), true, name);
      for (const bad of ['{"protocol":"groth16"}', [], null, 7]) assert.equal(Value.Check(schema, bad), false, `${name} ${JSON.stringify(bad)}`);
    }
  });

  it('type as a record of unknown members, which a string does not satisfy (checked by tsc -p test)', () => {
    const key: Static<typeof p.VerificationKeyRecord>['verificationKey'] = { protocol: 'groth16' };
    // @ts-expect-error a string is not a JSON object (with Type.Object({}) alone it was: `{}`)
    const notAKey: Static<typeof p.VerificationKeyRecord>['verificationKey'] = 'groth16';
    // @ts-expect-error the same for a proof
    const notAProof: Static<typeof p.SubmitPeriodInput>['proof'] = 'proof';
    assert.equal(key.protocol, 'groth16');
    assert.equal(typeof notAKey, 'string');
    assert.equal(typeof notAProof, 'string');
  });
});

describe('protocol schemas of the gateway', () => {
  it('a sealed period as sealPeriod makes it is a valid upload; a changed or extra member is not', async () => {
    const keys = [generateSealingKeyPair(), generateSealingKeyPair()];
    const place = { meterId: 'meter-1', enrollmentId: 'enr-1', periodIndex: 3 };
    const jwe = await sealPeriod({ ...place, readings: ['1', '2'], fingerprintSalt: '42' }, keys.map((k) => ({ publicKeyPem: k.publicKeyPem })));
    assert.equal(Value.Check(p.SealedUpload, { jwe }), true);
    assert.equal(Value.Check(p.SealedUpload, { jwe: { ...jwe, aad: 'x' } }), false);
    assert.equal(Value.Check(p.SealedUpload, { jwe: { ...jwe, iv: `${jwe.iv}=` } }), false);
    assert.equal(Value.Check(p.SealedUpload, { jwe: { ...jwe, recipients: [] } }), false);
  });

  it('Submitted wraps a result schema in {txId, result} and nothing else', () => {
    const s = p.Submitted(p.Meter);
    assert.deepEqual(Object.keys(s.properties).sort(), ['result', 'txId']);
    assert.equal(s.additionalProperties, false);
  });
});

describe('protocol transaction map', () => {
  interface FabricTransaction {
    name: string;
    tag: string[];
  }
  // fabric-contract-api records each @Transaction on the prototype (reflect-metadata, loaded by the chaincode).
  const metadata = Reflect as unknown as { getMetadata(key: string, target: object): unknown };
  const served = (contracts as (new () => { getName(): string })[]).flatMap((cls) => {
    const contract = new cls().getName();
    const txs = (metadata.getMetadata('fabric:transactions', cls.prototype) ?? []) as FabricTransaction[];
    return txs.map((t) => ({ id: `${contract}:${t.name}`, kind: t.tag.includes('SUBMIT') ? 'submit' : 'evaluate' }));
  });

  it('names every transaction the contracts serve, with its kind, and nothing else', () => {
    assert.ok(served.length >= 50, `${served.length} transactions found on the contracts`);
    const map = Object.values(TRANSACTIONS).map((t) => ({ id: t.id, kind: t.kind }));
    const sort = (l: { id: string; kind: string }[]) => [...l].sort((a, b) => a.id.localeCompare(b.id));
    assert.deepEqual(sort(map), sort(served));
  });

  it('TX holds contract:Name per key, and transactionById finds each spec', () => {
    for (const [key, t] of Object.entries(TRANSACTIONS)) {
      assert.equal(TX[key as keyof typeof TX], `${t.contract}:${t.name}`);
      assert.equal(transactionById(t.id), t);
    }
    assert.equal(transactionById('org.flexproof.tokens:Steal'), undefined);
    assert.equal(Object.isFrozen(TX), true);
  });

  it('every input but Ping is an exact object schema (additionalProperties false)', () => {
    for (const t of Object.values(TRANSACTIONS)) {
      if (t.name === 'Ping') {
        assert.equal(t.input, null);
        continue;
      }
      assert.equal((t.input as { additionalProperties?: unknown }).additionalProperties, false, t.id);
    }
  });
});
