// An independent restatement of the circuit's arithmetic (circuits/circom/hourly-deviation.circom)
// with poseidon-lite's fixed-arity functions, written from the spec rather than from the
// library: tests compare the library and the circuit against these values.

import { poseidon3, poseidon4, poseidon5, poseidon12, poseidon16 } from 'poseidon-lite';

export const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
export const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

/** Poseidon3(salt, Poseidon12(profile[0..11]), Poseidon12(profile[12..23])). */
export function referenceCommitment(profile: bigint[], salt: bigint): bigint {
  return poseidon3([salt, poseidon12(profile.slice(0, 12)), poseidon12(profile.slice(12, 24))]);
}

/** Chain link for 4 readings (one chunk) or 60 readings (four chunks of 15). */
export function referenceFingerprint(prev: bigint, salt: bigint, period: number, readings: bigint[]): bigint {
  const head = poseidon4([prev, salt, BigInt(period), BigInt(readings.length)]);
  if (readings.length === 4) return poseidon5([head, ...readings]);
  if (readings.length === 60) {
    let h = head;
    for (let c = 0; c < 4; c++) h = poseidon16([h, ...readings.slice(15 * c, 15 * c + 15)]);
    return h;
  }
  throw new Error('reference covers the 4 and 60 reading shapes only');
}

export function referenceDeviation(readings: bigint[], profile: bigint[], period: number): { deviation: bigint; direction: bigint } {
  const measured = readings.reduce((a, b) => a + b, 0n);
  const requested = profile[period] as bigint;
  return measured > requested ? { deviation: measured - requested, direction: 1n } : { deviation: requested - measured, direction: 0n };
}

/** The public signals a proof must carry, in snarkjs order. */
export function referenceSignals(p: {
  prev: bigint;
  fingerprintSalt: bigint;
  period: number;
  readings: bigint[];
  profile: bigint[];
  commitmentSalt: bigint;
}): string[] {
  const { deviation, direction } = referenceDeviation(p.readings, p.profile, p.period);
  return [
    referenceFingerprint(p.prev, p.fingerprintSalt, p.period, p.readings),
    deviation,
    direction,
    p.prev,
    referenceCommitment(p.profile, p.commitmentSalt),
    BigInt(p.period),
  ].map(String);
}

/** BN254 G1 generator, G2 generator (snarkjs JSON), and a point on the G2 twist outside the prime-order subgroup. */
export const G1_GENERATOR = ['1', '2', '1'];
export const G2_GENERATOR = [
  ['10857046999023057135944570762232829481370756359578518086990519993285655852781', '11559732032986387107991004021392285783925812861821192530917403151452391805634'],
  ['8495653923123431417604973247489272438418190587263600148770280649306958101930', '4082367875863433681332203403145435568316851327593401208105741076214120093531'],
  ['1', '0'],
];
export const G2_TWIST_POINT_OUTSIDE_SUBGROUP = [
  ['1', '0'],
  ['18278151005453108793778860132295291098363647455926340152056652516292830556603', '5912654199736721486680175016176231956195085055698687135131307249486702594212'],
  ['1', '0'],
];

/** A well-formed proof object (valid points, not a valid proof). */
export function wellFormedProof(): { pi_a: string[]; pi_b: string[][]; pi_c: string[]; protocol: string; curve: string } {
  return { pi_a: [...G1_GENERATOR], pi_b: G2_GENERATOR.map((c) => [...c]), pi_c: [...G1_GENERATOR], protocol: 'groth16', curve: 'bn128' };
}
