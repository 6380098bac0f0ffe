// The two hashes of the deviation circuit, computed in JS exactly as the circuit computes
// them (circom/hourly-deviation.circom: RequestCommitment and FingerprintLink). The edge
// client uses them to extend its chain and to build witnesses, the aggregator to commit to
// a request profile, and audits to recompute the chain from stored readings.

import { createHmac, randomBytes } from 'node:crypto';
import * as poseidonLite from 'poseidon-lite';
import { CircuitError } from './errors';
import { IntegerLike, toBoundedInteger } from './field';
import {
  ENERGY_BITS,
  FINGERPRINT_CHUNK,
  MAX_READINGS_PER_PERIOD,
  PERIODS_PER_DAY,
  READING_BITS,
  SCALAR_FIELD_ORDER,
} from './constants';

type PoseidonFn = (inputs: bigint[]) => bigint;

// circomlib's Poseidon(n) for n = 1..16, as poseidon-lite names them.
const POSEIDON: readonly PoseidonFn[] = [
  poseidonLite.poseidon1, poseidonLite.poseidon2, poseidonLite.poseidon3, poseidonLite.poseidon4,
  poseidonLite.poseidon5, poseidonLite.poseidon6, poseidonLite.poseidon7, poseidonLite.poseidon8,
  poseidonLite.poseidon9, poseidonLite.poseidon10, poseidonLite.poseidon11, poseidonLite.poseidon12,
  poseidonLite.poseidon13, poseidonLite.poseidon14, poseidonLite.poseidon15, poseidonLite.poseidon16,
];

/** circomlib Poseidon over 1 to 16 field elements. */
export function poseidon(inputs: readonly bigint[]): bigint {
  const hash = POSEIDON[inputs.length - 1];
  if (hash === undefined) {
    throw new CircuitError('INVALID_INPUT', `Poseidon takes 1 to 16 inputs, not ${inputs.length}`);
  }
  return hash([...inputs]);
}

const READING_LIMIT = 1n << BigInt(READING_BITS);
const ENERGY_LIMIT = 1n << BigInt(ENERGY_BITS);

/**
 * Salted commitment to a day's request profile (24 energies in Wh, each below 2^40):
 * Poseidon3(salt, Poseidon12(profile[0..11]), Poseidon12(profile[12..23])).
 */
export function requestCommitment(profile: readonly IntegerLike[], salt: IntegerLike): bigint {
  const values = checkProfile(profile);
  const s = toBoundedInteger(salt, SCALAR_FIELD_ORDER, 'commitmentSalt');
  const half = PERIODS_PER_DAY / 2;
  return poseidon([s, poseidon(values.slice(0, half)), poseidon(values.slice(half))]);
}

/**
 * Next head of a fingerprint chain after one period:
 *   h = Poseidon4(prevFingerprint, fingerprintSalt, periodIndex, readings.length)
 *   h = Poseidon(h, next <= 15 readings) until every reading is absorbed.
 * The number of readings is the circuit shape (4 or 60).
 */
export function fingerprint(
  prevFingerprint: IntegerLike,
  fingerprintSalt: IntegerLike,
  periodIndex: number,
  readings: readonly IntegerLike[],
): bigint {
  const prev = toBoundedInteger(prevFingerprint, SCALAR_FIELD_ORDER, 'prevFingerprint');
  const salt = toBoundedInteger(fingerprintSalt, SCALAR_FIELD_ORDER, 'fingerprintSalt');
  const period = toBoundedInteger(periodIndex, BigInt(PERIODS_PER_DAY), 'periodIndex');
  const values = checkReadings(readings);
  let head = poseidon([prev, salt, period, BigInt(values.length)]);
  for (let start = 0; start < values.length; start += FINGERPRINT_CHUNK) {
    head = poseidon([head, ...values.slice(start, start + FINGERPRINT_CHUNK)]);
  }
  return head;
}

/** Sum of a period's readings and the requested energy for it, and how far apart they are. */
export interface PeriodDeviation {
  measured: bigint;
  requested: bigint;
  /** |measured - requested| in Wh. */
  deviation: bigint;
  /** 1 when measured > requested, 0 otherwise (including equality). */
  direction: 0 | 1;
}

export function periodDeviation(readings: readonly IntegerLike[], profile: readonly IntegerLike[], periodIndex: number): PeriodDeviation {
  const values = checkReadings(readings);
  const requestedValues = checkProfile(profile);
  const period = Number(toBoundedInteger(periodIndex, BigInt(PERIODS_PER_DAY), 'periodIndex'));
  const measured = values.reduce((sum, r) => sum + r, 0n);
  const requested = requestedValues[period] ?? 0n;
  const above = measured > requested;
  return { measured, requested, deviation: above ? measured - requested : requested - measured, direction: above ? 1 : 0 };
}

/** Bytes of randomness in a salt: 248 bits, so any salt is below the field order. */
const SALT_BYTES = 31;

/** A fresh uniformly random salt of 248 bits (node:crypto), below the scalar field order. */
export function randomSalt(): bigint {
  return bytesToBigInt(randomBytes(SALT_BYTES));
}

/**
 * A salt derived from a secret held by the edge client and a context label (for instance
 * `meter-17/2025-06-01/13`), so one stored secret yields a distinct fingerprint salt per
 * period and one period's salt can be handed to an auditor without revealing the others.
 * HMAC-SHA256 truncated to 248 bits; the secret needs at least 16 bytes (128 bits) of entropy.
 */
export function deriveSalt(secret: Uint8Array, context: string): bigint {
  if (secret.length < 16) {
    throw new CircuitError('INVALID_INPUT', 'a salt secret needs at least 16 bytes of entropy', {
      details: { length: secret.length },
    });
  }
  const mac = createHmac('sha256', secret).update('flexproof/salt/v1\0').update(context, 'utf8').digest();
  return bytesToBigInt(mac.subarray(0, SALT_BYTES));
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function checkReadings(readings: readonly IntegerLike[]): bigint[] {
  if (!Array.isArray(readings) || readings.length < 1 || readings.length > MAX_READINGS_PER_PERIOD) {
    throw new CircuitError('INVALID_INPUT', `a period has 1 to ${MAX_READINGS_PER_PERIOD} readings`, {
      details: { name: 'readings', actual: Array.isArray(readings) ? readings.length : typeof readings },
    });
  }
  return readings.map((r, i) => toBoundedInteger(r, READING_LIMIT, `readings[${i}]`));
}

function checkProfile(profile: readonly IntegerLike[]): bigint[] {
  if (!Array.isArray(profile) || profile.length !== PERIODS_PER_DAY) {
    throw new CircuitError('INVALID_INPUT', `a request profile has ${PERIODS_PER_DAY} values`, {
      details: { name: 'requestProfile', actual: Array.isArray(profile) ? profile.length : typeof profile },
    });
  }
  return profile.map((p, i) => toBoundedInteger(p, ENERGY_LIMIT, `requestProfile[${i}]`));
}
