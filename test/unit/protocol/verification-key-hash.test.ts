/**
 * The two verification-key hashes of the protocol: canonicalVerificationKeyHash (what the
 * chaincode records for a proposed key, and what organisations approve) and
 * verificationKeyHash (the hash of a key exactly as given, which clients use to check a
 * record's keyHash against the key it carries). Equal on a key in canonical form, which
 * is every key the chaincode stores; apart on a raw snarkjs file and on what is not a key.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { canonicalVerificationKey, canonicalVerificationKeyHash, stableStringify, verificationKeyHash, type schemas } from '@flexproof/protocol';
import { AGGREGATOR, ChaincodeHarness, VKEY } from '../chaincode/support/harness';


// Checked by tsc: the ledger's record (the protocol's, which the chaincode's model is) holds its key as a JSON object, not any value.
// @ts-expect-error a string is not a verification key
const notAKey: schemas.VerificationKeyRecord['verificationKey'] = 'a string';
void notAKey;

describe('protocol: verificationKeyHash and canonicalVerificationKeyHash', () => {
  it('verificationKeyHash is sha256 of the stable JSON of the key as given', () => {
    assert.equal(verificationKeyHash(VKEY), createHash('sha256').update(stableStringify(VKEY), 'utf8').digest('hex'));
    assert.equal(verificationKeyHash(Object.fromEntries(Object.entries(VKEY).reverse())), verificationKeyHash(VKEY), 'field order does not matter');
  });

  it('the two are equal on a key in canonical form, and the chaincode records that hash', async () => {
    assert.deepEqual(canonicalVerificationKey(VKEY), VKEY, 'the harness key is canonical');
    assert.equal(verificationKeyHash(VKEY), canonicalVerificationKeyHash(VKEY));
    const h = new ChaincodeHarness();
    const record = await h.call(AGGREGATOR, 'verifiers', 'ProposeVerificationKey', { circuitId: 'c1', verificationKey: VKEY });
    assert.equal(record.keyHash, canonicalVerificationKeyHash(VKEY));
    assert.equal(record.keyHash, verificationKeyHash(record.verificationKey), 'a record\'s keyHash is the hash of the key it carries');
  });

  it('they differ on a raw snarkjs key (its derived vk_alphabeta_12) and on what is not a key', () => {
    const raw = { ...VKEY, vk_alphabeta_12: [[['1', '2'], ['3', '4'], ['5', '6']]] };
    assert.equal(canonicalVerificationKeyHash(raw), canonicalVerificationKeyHash(VKEY));
    assert.notEqual(verificationKeyHash(raw), canonicalVerificationKeyHash(raw));
    assert.match(verificationKeyHash({ junk: 1 }), /^[0-9a-f]{64}$/);
    assert.throws(() => canonicalVerificationKeyHash({ junk: 1 }), /verificationKey\.junk: unknown field/);
  });
});
