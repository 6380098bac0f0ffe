// validateVerificationKey: what a proposed verification key must be before the ledger
// takes it (T4, T11). Curve facts come from the plain-bigint twist in reference.ts.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  CircuitArtifacts,
  PUBLIC_SIGNAL_COUNT,
  SMALL_CIRCUIT_ID,
  ensureArtifacts,
  readVerificationKey,
  validateVerificationKey,
} from '@flexproof/circuits';
import { expectCircuitError } from './helpers';
import {
  G1_GENERATOR,
  G2_GENERATOR,
  G2_TWIST_POINT_OUTSIDE_SUBGROUP,
  Q,
  R,
  onTwist,
  twistPointFromSeed,
  twistPointJson,
  twistTimes,
  type Fq2,
} from './reference';

type Key = Record<string, unknown> & { IC: unknown[] };

/** A key built from the generators: every point valid, not a key of any circuit. */
function generatorKey(): Key {
  return {
    protocol: 'groth16',
    curve: 'bn128',
    nPublic: PUBLIC_SIGNAL_COUNT,
    vk_alpha_1: [...G1_GENERATOR],
    vk_beta_2: G2_GENERATOR.map((c) => [...c]),
    vk_gamma_2: G2_GENERATOR.map((c) => [...c]),
    vk_delta_2: G2_GENERATOR.map((c) => [...c]),
    IC: Array.from({ length: PUBLIC_SIGNAL_COUNT + 1 }, () => [...G1_GENERATOR]),
  };
}

async function refusedAt(key: unknown, path: string, rule?: RegExp, count: number = PUBLIC_SIGNAL_COUNT): Promise<void> {
  const error = await expectCircuitError(() => validateVerificationKey(key, count), 'MALFORMED_VERIFICATION_KEY');
  assert.equal(error.details.path, path, `${error.message}`);
  assert.equal(typeof error.details.rule, 'string');
  if (rule) assert.match(String(error.details.rule), rule);
}

describe('circuits: validateVerificationKey', function () {
  let artifacts: CircuitArtifacts;
  let rawDevKey: Key;

  before(async function () {
    this.timeout(600_000);
    artifacts = await ensureArtifacts(SMALL_CIRCUIT_ID);
    rawDevKey = JSON.parse(readFileSync(artifacts.verificationKeyPath, 'utf8')) as Key;
  });

  it('the real dev key passes, as snarkjs wrote it (with vk_alphabeta_12) and in its normalised form', async () => {
    assert.ok(Array.isArray(rawDevKey.vk_alphabeta_12), 'the snarkjs file carries vk_alphabeta_12');
    const normalised = readVerificationKey(artifacts);
    assert.deepEqual(await validateVerificationKey(rawDevKey, PUBLIC_SIGNAL_COUNT), normalised);
    assert.deepEqual(await validateVerificationKey(normalised, PUBLIC_SIGNAL_COUNT), normalised);
    assert.deepEqual(await validateVerificationKey(generatorKey(), PUBLIC_SIGNAL_COUNT), generatorKey());
  });

  it('refuses what is not a Groth16 key: junk, other protocol or curve, unknown fields', async () => {
    await refusedAt({ junk: 1 }, 'junk', /unknown field/);
    await refusedAt([], '$');
    await refusedAt(null, '$');
    await refusedAt('{"protocol":"groth16"}', '$');
    await refusedAt({}, 'protocol');
    await refusedAt({ ...generatorKey(), protocol: 'plonk' }, 'protocol');
    await refusedAt({ ...generatorKey(), curve: 'bls12381' }, 'curve');
    await refusedAt({ ...generatorKey(), note: 'registered key' }, 'note', /unknown field/);
    const withProto = JSON.parse(JSON.stringify(generatorKey()).replace('{', '{"__proto__":{"nPublic":6},')) as unknown;
    await refusedAt(withProto, '__proto__', /unknown field/);
  });

  it('refuses nPublic and IC that do not match the circuit public signals', async () => {
    await refusedAt({ ...generatorKey(), nPublic: 5 }, 'nPublic');
    await refusedAt({ ...generatorKey(), nPublic: '6' }, 'nPublic');
    await refusedAt({ ...generatorKey(), IC: generatorKey().IC.slice(1) }, 'IC', /7 points/);
    await refusedAt({ ...generatorKey(), IC: [...generatorKey().IC, [...G1_GENERATOR]] }, 'IC');
    await refusedAt({ ...generatorKey(), IC: 'points' }, 'IC');
    await refusedAt(rawDevKey, 'nPublic', undefined, 5);
  });

  it('refuses coordinates that are not canonical decimals below q', async () => {
    for (const bad of ['01', '+1', ' 1', '1e3', '0x1', '', '1'.repeat(79)]) {
      const key = generatorKey();
      key.IC[2] = [bad, '2', '1'];
      await refusedAt(key, 'IC[2][0]', /canonical decimal/);
    }
    const asNumber = generatorKey();
    asNumber.vk_alpha_1 = [1, '2', '1'];
    await refusedAt(asNumber, 'vk_alpha_1[0]');
    const shifted = generatorKey();
    shifted.vk_alpha_1 = [(1n + Q).toString(), '2', '1']; // the generator, plus q
    await refusedAt(shifted, 'vk_alpha_1[0]', /below the base field order/);
    const g2 = generatorKey();
    (g2.vk_gamma_2 as string[][])[1]![0] = Q.toString();
    await refusedAt(g2, 'vk_gamma_2[1][0]');
  });

  it('refuses G1 points off the curve or at infinity, G2 points off the twist', async () => {
    const off = generatorKey();
    off.IC[3] = ['1', '3', '1'];
    await refusedAt(off, 'IC[3]', /not on the curve/);
    const infinity = generatorKey();
    infinity.vk_alpha_1 = ['0', '1', '0'];
    await refusedAt(infinity, 'vk_alpha_1[2]', /affine/);
    const projective = generatorKey();
    projective.IC[0] = ['1', '2', '2'];
    await refusedAt(projective, 'IC[0][2]');
    const offTwist = generatorKey();
    (offTwist.vk_gamma_2 as string[][])[1] = ['1', '2'];
    await refusedAt(offTwist, 'vk_gamma_2', /not on the curve/);
    const g2Infinity = generatorKey();
    g2Infinity.vk_delta_2 = [['0', '0'], ['1', '0'], ['0', '0']];
    await refusedAt(g2Infinity, 'vk_delta_2[2]');
  });

  it('refuses a G2 point on the twist but outside the prime-order subgroup', async () => {
    // Constructed here: hash to the twist, then show with plain bigint arithmetic that r
    // does not kill it, while r kills the generator.
    const generator = { x: G2_GENERATOR[0]!.map(BigInt) as Fq2, y: G2_GENERATOR[1]!.map(BigInt) as Fq2 };
    assert.ok(onTwist(generator));
    assert.equal(twistTimes(generator, R), null, 'r kills the G2 generator');
    for (const seed of [5n, 1234567n]) {
      const point = twistPointFromSeed(seed);
      assert.ok(onTwist(point), 'the hashed point is on the twist');
      assert.notEqual(twistTimes(point, R), null, 'and not in the r-torsion');
      for (const field of ['vk_beta_2', 'vk_gamma_2', 'vk_delta_2']) {
        await refusedAt({ ...generatorKey(), [field]: twistPointJson(point) }, field, /subgroup/);
      }
    }
    await refusedAt({ ...generatorKey(), vk_beta_2: G2_TWIST_POINT_OUTSIDE_SUBGROUP }, 'vk_beta_2', /subgroup/);
  });

  it('checks vk_alphabeta_12 when present: shape, coordinates, and that it is e(alpha, beta)', async () => {
    const alphaBeta = rawDevKey.vk_alphabeta_12 as string[][][];
    const tampered = structuredClone(alphaBeta);
    tampered[1]![2]![0] = (BigInt(tampered[1]![2]![0]!) + 1n).toString();
    await refusedAt({ ...rawDevKey, vk_alphabeta_12: tampered }, 'vk_alphabeta_12', /pairing/);
    await refusedAt({ ...generatorKey(), vk_alphabeta_12: alphaBeta }, 'vk_alphabeta_12', /pairing/);
    await refusedAt({ ...rawDevKey, vk_alphabeta_12: [] }, 'vk_alphabeta_12');
    const nonCanonical = structuredClone(alphaBeta);
    nonCanonical[0]![1]![1] = `0${nonCanonical[0]![1]![1]}`;
    await refusedAt({ ...rawDevKey, vk_alphabeta_12: nonCanonical }, 'vk_alphabeta_12[0][1][1]');
    // The same key with another circuit's alpha: alphabeta no longer matches.
    await refusedAt({ ...rawDevKey, vk_alpha_1: [...G1_GENERATOR] }, 'vk_alphabeta_12', /pairing/);
  });
});
