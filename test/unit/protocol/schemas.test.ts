/**
 * protocol/src/schemas and the transaction map against the chaincode, which is the
 * authority on every shape until it takes them from the protocol: each transaction
 * input equals the chaincode's schema rule for rule; each record type is the model's;
 * the map names every transaction the contracts serve, with the right kind.
 */
import assert from 'node:assert/strict';
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { contracts } from '@flexproof/chaincode';
import * as model from '@flexproof/chaincode/client';
import { generateSealingKeyPair, schemas as p, sealPeriod, TRANSACTIONS, TX, transactionById } from '@flexproof/protocol';

const cc = model.schemas;

/** The JSON Schema a TypeBox schema stands for (its symbols dropped). */
const json = (schema: unknown): unknown => JSON.parse(JSON.stringify(schema));

// ---- compile-time: each record type and the chaincode model's are the same type ------
// Identity, not mutual assignability (which would let an optional field go missing); the
// Flat<> map makes TypeBox's computed types and the model's interfaces comparable.
type Flat<T> = T extends readonly (infer E)[] ? Flat<E>[] : T extends object ? { [K in keyof T]: Flat<T[K]> } : T;
type Same<A, B> = (<T>() => T extends Flat<A> ? 1 : 2) extends <T>() => T extends Flat<B> ? 1 : 2 ? true : false;
const sameTypes: {
  meter: Same<p.Meter, model.Meter>;
  prosumer: Same<p.ProsumerRecord, model.ProsumerRecord>;
  account: Same<p.Account, model.Account>;
  supply: Same<p.Supply, model.Supply>;
  redemption: Same<p.Redemption, model.Redemption>;
  flexRequest: Same<p.FlexRequest, model.FlexRequest>;
  flexOffer: Same<p.FlexOffer, model.FlexOffer>;
  flexOrder: Same<p.FlexOrder, model.FlexOrder>;
  periodResult: Same<p.PeriodResult, model.PeriodResult>;
  enrollmentTerms: Same<p.EnrollmentTerms, model.EnrollmentTerms>;
  enrollment: Same<p.Enrollment, model.Enrollment>;
  auditorKey: Same<p.AuditorKeyRecord, model.AuditorKeyRecord>;
  // The model types the key `unknown`; the record holds what ProposeVerificationKey took: an object.
  verificationKey: Same<Omit<p.VerificationKeyRecord, 'verificationKey'>, Omit<model.VerificationKeyRecord, 'verificationKey'>>;
  acceptPayload: Same<p.AcceptEnrollmentPayload, model.AcceptEnrollmentPayload>;
  submitPayload: Same<p.SubmitPeriodPayload, model.SubmitPeriodPayload>;
  withdrawPayload: Same<p.WithdrawPayload, model.WithdrawPayload>;
  authorizePayload: Same<p.AuthorizeMeterPayload, model.AuthorizeMeterPayload>;
} = {
  meter: true,
  prosumer: true,
  account: true,
  supply: true,
  redemption: true,
  flexRequest: true,
  flexOffer: true,
  flexOrder: true,
  periodResult: true,
  enrollmentTerms: true,
  enrollment: true,
  auditorKey: true,
  verificationKey: true,
  acceptPayload: true,
  submitPayload: true,
  withdrawPayload: true,
  authorizePayload: true,
};

describe('protocol schemas: one definition, equal to the chaincode', () => {
  it('record types are the chaincode model types (checked by tsc; listed here so none is dropped)', () => {
    assert.equal(Object.values(sameTypes).every((v) => v === true), true);
    assert.equal(Object.keys(sameTypes).length, 17);
  });

  it('constants are the chaincode model and signing constants', () => {
    assert.equal(p.PERIODS_PER_DAY, model.PERIODS_PER_DAY);
    assert.equal(p.GENESIS_FINGERPRINT, model.GENESIS_FINGERPRINT);
    assert.equal(p.DEFAULT_PERIOD_SECONDS, model.DEFAULT_PERIOD_SECONDS);
    assert.equal(p.DEFAULT_GRACE_SECONDS, model.DEFAULT_GRACE_SECONDS);
    assert.deepEqual(p.PROSUMER_ACTIONS, {
      acceptEnrollment: model.ACTION_ACCEPT_ENROLLMENT,
      submitPeriod: model.ACTION_SUBMIT_PERIOD,
      withdraw: model.ACTION_WITHDRAW,
      authorizeMeter: model.ACTION_AUTHORIZE_METER,
    });
  });

  // The chaincode's name for each schema the protocol defines again (until it imports them).
  const pairs: [string, TSchema, TSchema][] = [
    ['Id', p.Id, cc.Id],
    ['CircuitId', p.CircuitId, cc.CircuitId],
    ['Amount', p.Amount, cc.Amount],
    ['PositiveAmount', p.PositiveAmount, cc.PositiveAmount],
    ['FieldElement', p.FieldElement, cc.FieldElement],
    ['PerPeriodWh', p.PerPeriodWh, cc.PerPeriodWh],
    ['Day', p.Day, cc.Day],
    ['IsoTime', p.IsoTime, cc.IsoTime],
    ['AccountId', p.AccountId, cc.AccountId],
    ['Base64Signature', p.Base64Signature, cc.Base64Signature],
    ['Sha256Hex', p.Sha256Hex, cc.Sha256Hex],
    ['PeriodIndex', p.PeriodIndex, cc.PeriodIndex],
    ['ChannelName', p.ChannelName, cc.ChannelName],
    ['ChaincodeName', p.ChaincodeName, cc.ChaincodeName],
    ['PublicKeyPem', p.PublicKeyPem, cc.PublicKeyPem],
    ['AuthorizeMeterPayload', p.AuthorizeMeterPayload, cc.AuthorizeMeterPayloadSchema],
    ['RegisterMeterInput', p.RegisterMeterInput, cc.RegisterMeterInput],
    ['ProsumerIdInput', p.ProsumerIdInput, cc.ProsumerIdInput],
    ['MeterStatusChangeInput', p.MeterStatusChangeInput, cc.MeterStatusChangeInput],
    ['MeterIdInput', p.MeterIdInput, cc.MeterIdInput],
    ['CongestionPointInput', p.CongestionPointInput, cc.CongestionPointInput],
    ['MintInput', p.MintInput, cc.MintInput],
    ['BurnInput', p.BurnInput, cc.BurnInput],
    ['TransferInput', p.TransferInput, cc.TransferInput],
    ['WithdrawPayload', p.WithdrawPayload, cc.WithdrawPayloadSchema],
    ['WithdrawInput', p.WithdrawInput, cc.WithdrawInput],
    ['AccountInput', p.AccountInput, cc.AccountInput],
    ['AccountsInput', p.AccountsInput, cc.AccountsInput],
    ['EmptyInput', p.EmptyInput, cc.EmptyInput],
    ['CompactBalancesInput', p.CompactBalancesInput, cc.CompactBalancesInput],
    ['CreateFlexRequestInput', p.CreateFlexRequestInput, cc.CreateFlexRequestInput],
    ['FlexRequestIdInput', p.FlexRequestIdInput, cc.FlexRequestIdInput],
    ['SubmitFlexOfferInput', p.SubmitFlexOfferInput, cc.SubmitFlexOfferInput],
    ['AcceptFlexOfferInput', p.AcceptFlexOfferInput, cc.AcceptFlexOfferInput],
    ['FlexOrderIdInput', p.FlexOrderIdInput, cc.FlexOrderIdInput],
    ['OfferEnrollmentInput', p.OfferEnrollmentInput, cc.OfferEnrollmentInput],
    ['EnrollmentIdInput', p.EnrollmentIdInput, cc.EnrollmentIdInput],
    ['AcceptEnrollmentPayload', p.AcceptEnrollmentPayload, cc.AcceptEnrollmentPayloadSchema],
    ['AcceptEnrollmentInput', p.AcceptEnrollmentInput, cc.AcceptEnrollmentInput],
    ['SubmitPeriodPayload', p.SubmitPeriodPayload, cc.SubmitPeriodPayloadSchema],
    ['SubmitPeriodInput', p.SubmitPeriodInput, cc.SubmitPeriodInput],
    ['ClaimMissedPeriodInput', p.ClaimMissedPeriodInput, cc.ClaimMissedPeriodInput],
    ['ProposeVerificationKeyInput', p.ProposeVerificationKeyInput, cc.ProposeVerificationKeyInput],
    ['ApproveVerificationKeyInput', p.ApproveVerificationKeyInput, cc.ApproveVerificationKeyInput],
    ['CircuitIdInput', p.CircuitIdInput, cc.CircuitIdInput],
    ['ProposeAuditorKeyInput', p.ProposeAuditorKeyInput, cc.ProposeAuditorKeyInput],
    ['ApproveAuditorKeyInput', p.ApproveAuditorKeyInput, cc.ApproveAuditorKeyInput],
    ['AuditorIdInput', p.AuditorIdInput, cc.AuditorIdInput],
    ['RecordHeartbeatInput', p.RecordHeartbeatInput, cc.RecordHeartbeatInput],
    ['GetHeartbeatInput', p.GetHeartbeatInput, cc.GetHeartbeatInput],
  ];

  it('every input schema of the chaincode has its equal here, rule for rule', () => {
    for (const [name, ours, theirs] of pairs) assert.deepEqual(json(ours), json(theirs), name);
    // The chaincode's schemas.ts exports schemas and its parse helpers: each schema is paired above.
    const paired = new Set(pairs.map(([, , theirs]) => theirs));
    const unpaired = Object.entries(cc).filter(([, v]) => typeof v === 'object' && v !== null && !paired.has(v as TSchema));
    assert.deepEqual(unpaired.map(([k]) => k), [], 'a chaincode schema without a protocol counterpart');
  });

  it('the comparison catches a changed rule', () => {
    assert.notDeepEqual(json({ ...p.Id, pattern: '^[A-Za-z0-9]{1,128}$' }), json(cc.Id));
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
