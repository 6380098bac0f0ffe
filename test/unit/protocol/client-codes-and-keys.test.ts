// The chaincode error codes and the canonical verification-key hash, as @flexproof/protocol
// defines them for every client: the `[CODE] message` codec both ways, the exhaustive
// status table (the statuses the gateway has always answered), and the key hash: one for
// snarkjs's raw file and its normalised form, equal to the chaincode's hash of the
// canonical form (what `flexproof keys propose` sends), and not to its hash of the raw file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ChaincodeError } from '@flexproof/chaincode';
import { PUBLIC_SIGNAL_COUNT, SMALL_CIRCUIT_ID, ensureArtifacts, readVerificationKey, validateVerificationKey } from '@flexproof/circuits';
import { statusOfChaincodeCode } from '@flexproof/gateway-api';
import {
  CHAINCODE_ERROR_CODES,
  CHAINCODE_ERROR_STATUS,
  VerificationKeyFormError,
  canonicalVerificationKey,
  canonicalVerificationKeyHash,
  formatChaincodeError,
  httpStatusOfChaincodeCode,
  isChaincodeErrorCode,
  parseChaincodeError,
  verificationKeyHash,
} from '@flexproof/protocol';

describe('protocol: chaincode error codes', () => {
  it('gives every code a status, and the chaincode raises each in the one format (its codes are these)', () => {
    assert.deepEqual(Object.keys(CHAINCODE_ERROR_STATUS).sort(), [...CHAINCODE_ERROR_CODES].sort());
    for (const code of CHAINCODE_ERROR_CODES) {
      const raised = new ChaincodeError(code, 'detail');
      assert.equal(raised.message, formatChaincodeError(code, 'detail'), code);
      assert.deepEqual(parseChaincodeError(raised.message), { code, message: 'detail' }, code);
    }
  });

  it('maps each code to the status the gateway answers today; an unknown code is 422', () => {
    for (const code of CHAINCODE_ERROR_CODES) assert.equal(httpStatusOfChaincodeCode(code), statusOfChaincodeCode(code), code);
    assert.equal(CHAINCODE_ERROR_STATUS.BAD_INPUT, 400);
    assert.equal(CHAINCODE_ERROR_STATUS.REPLAY, 409);
    assert.equal(httpStatusOfChaincodeCode('SOMETHING_NEW'), 422);
    assert.equal(isChaincodeErrorCode('SOMETHING_NEW'), false);
  });

  it('formats as the chaincode does, and parses it back through the peer wrapper', () => {
    const text = formatChaincodeError('NOT_FOUND', 'meter m1 not found');
    assert.equal(text, new ChaincodeError('NOT_FOUND', 'meter m1 not found').message);
    assert.deepEqual(parseChaincodeError(text), { code: 'NOT_FOUND', message: 'meter m1 not found' });
    assert.deepEqual(parseChaincodeError(`chaincode response 500, ${text}`), { code: 'NOT_FOUND', message: 'meter m1 not found' });
    assert.deepEqual(parseChaincodeError('[RULE_VIOLATION] line one\nline two'), { code: 'RULE_VIOLATION', message: 'line one\nline two' });
    assert.equal(parseChaincodeError('the meter was not found [NOT_FOUND]'), undefined);
    assert.equal(parseChaincodeError('[not_a_code] x'), undefined);
    assert.equal(parseChaincodeError('chaincode response 500, conflict: not found'), undefined);
  });
});

describe('protocol: canonical verification-key hash', function () {
  this.timeout(600_000);
  let raw: Record<string, unknown>;
  let normalised: Record<string, unknown>;

  before(async () => {
    const artifacts = await ensureArtifacts(SMALL_CIRCUIT_ID);
    raw = JSON.parse(readFileSync(artifacts.verificationKeyPath, 'utf8')) as Record<string, unknown>;
    normalised = readVerificationKey(artifacts) as unknown as Record<string, unknown>;
  });

  it('gives snarkjs\'s raw file and the normalised form one hash', async () => {
    assert.ok('vk_alphabeta_12' in raw, 'the fixture is the raw snarkjs file');
    assert.equal(canonicalVerificationKeyHash(raw), canonicalVerificationKeyHash(normalised));
    assert.equal(canonicalVerificationKeyHash(await validateVerificationKey(raw, PUBLIC_SIGNAL_COUNT)), canonicalVerificationKeyHash(raw));
    assert.deepEqual(canonicalVerificationKey(raw), canonicalVerificationKey(normalised));
    assert.equal('vk_alphabeta_12' in canonicalVerificationKey(raw), false);
    assert.match(canonicalVerificationKeyHash(raw), /^[0-9a-f]{64}$/);
  });

  it('is the chaincode\'s hash of the canonical form (which the chaincode records whatever form was proposed)', () => {
    const canonical = canonicalVerificationKey(raw);
    assert.equal(verificationKeyHash(canonical), canonicalVerificationKeyHash(raw));
    assert.equal(verificationKeyHash(normalised), canonicalVerificationKeyHash(raw));
    // The plain hash of snarkjs's file differs: the chaincode canonicalises before hashing
    // (test/unit/chaincode/contract-verifiers.test.ts), so reviewers hash the canonical form.
    assert.notEqual(verificationKeyHash(raw), canonicalVerificationKeyHash(raw));
  });

  it('does not depend on field order, and changes with any point', () => {
    const reversed = Object.fromEntries(Object.entries(raw).reverse());
    assert.equal(canonicalVerificationKeyHash(reversed), canonicalVerificationKeyHash(raw));
    const ic = (raw.IC as string[][]).map((p) => [...p]);
    (ic[1] as string[])[0] = '1';
    assert.notEqual(canonicalVerificationKeyHash({ ...raw, IC: ic }), canonicalVerificationKeyHash(raw));
  });

  it('refuses what is not a key, naming the field', () => {
    assert.throws(() => canonicalVerificationKey([]), (e: VerificationKeyFormError) => e.field === '$' && /^verificationKey: must be a JSON object/.test(e.message));
    assert.throws(() => canonicalVerificationKey({ ...raw, note: 'x' }), (e: VerificationKeyFormError) => e.field === 'note' && /unknown field/.test(e.message));
    const { IC: _ic, ...noIc } = raw;
    assert.throws(() => canonicalVerificationKey(noIc), (e: VerificationKeyFormError) => e.message === 'verificationKey.IC: is required');
  });
});
