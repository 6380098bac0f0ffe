// The two hashes of the deviation circuits, computed in JS exactly as the circuits compute
// them (v1, circom/hourly-deviation.circom: RequestCommitment and FingerprintLink; v2,
// circom/net-deviation.circom: NetRequestCommitment and NetFingerprintLink). The edge
// client uses them to extend its chain and to build witnesses, the aggregator to commit to
// a request profile, and audits to recompute the chain from stored readings.

import { createHmac, randomBytes } from 'node:crypto';
import * as poseidonLite from 'poseidon-lite';
import { CircuitId, circuitShape } from './circuit-ids';
import { CircuitError } from './errors';
import { IntegerLike, toBoundedInteger, toSignedInteger } from './field';
import {
  ENERGY_BITS,
  FINGERPRINT_CHUNK,
  MAX_NET_REQUEST,
  MAX_READINGS_PER_PERIOD,
  MIN_NET_REQUEST,
  NET_PROFILE_OFFSET,
  NET_VERSION_TAG,
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
  /** Measured energy, Wh: the sum of the readings (v1), or import minus export, possibly negative (v2). */
  measured: bigint;
  /** Requested energy of the period, Wh (negative in v2 when the request is a net export). */
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

// ---- v2: signed net energy (circom/net-deviation.circom) ----

/**
 * Offset encoding of one signed requested net energy: v in [-(2^39), 2^39 - 1] Wh becomes
 * v + 2^39 in [0, 2^40), the value the v2 circuit takes and range-checks with 40 bits.
 * INPUT_OUT_OF_RANGE (naming `name`) outside that range, INVALID_INPUT for a non-integer.
 */
export function encodeNetRequest(value: IntegerLike, name = 'requestProfile'): bigint {
  return toSignedInteger(value, MIN_NET_REQUEST, MAX_NET_REQUEST, name) + NET_PROFILE_OFFSET;
}

/** The signed value of an offset-encoded request (the inverse of encodeNetRequest). */
export function decodeNetRequest(encoded: IntegerLike, name = 'requestProfile'): bigint {
  return toBoundedInteger(encoded, 2n * NET_PROFILE_OFFSET, name) - NET_PROFILE_OFFSET;
}

/** A signed request profile (24 values, Wh), offset-encoded; errors name `requestProfile[h]`. */
export function encodeNetProfile(profile: readonly IntegerLike[]): bigint[] {
  checkProfileLength(profile);
  return profile.map((v, h) => encodeNetRequest(v, `requestProfile[${h}]`));
}

/**
 * Salted commitment of v2 to a signed request profile, over the offset-encoded values:
 * Poseidon4(2, salt, Poseidon12(enc[0..11]), Poseidon12(enc[12..23])), enc[h] = profile[h] + 2^39.
 */
export function netRequestCommitment(profile: readonly IntegerLike[], salt: IntegerLike): bigint {
  const encoded = encodeNetProfile(profile);
  const s = toBoundedInteger(salt, SCALAR_FIELD_ORDER, 'commitmentSalt');
  const half = PERIODS_PER_DAY / 2;
  return poseidon([NET_VERSION_TAG, s, poseidon(encoded.slice(0, half)), poseidon(encoded.slice(half))]);
}

/**
 * Next head of a v2 fingerprint chain after one period, over both registers:
 *   h = Poseidon5(prevFingerprint, fingerprintSalt, periodIndex, N, 2)
 *   values = importWh[0], exportWh[0], importWh[1], exportWh[1], ... (2N values)
 *   h = Poseidon(h, next <= 15 values) until every value is absorbed.
 * N (importWh.length = exportWh.length) is the circuit shape (4 or 60).
 */
export function netFingerprint(
  prevFingerprint: IntegerLike,
  fingerprintSalt: IntegerLike,
  periodIndex: number,
  importWh: readonly IntegerLike[],
  exportWh: readonly IntegerLike[],
): bigint {
  const prev = toBoundedInteger(prevFingerprint, SCALAR_FIELD_ORDER, 'prevFingerprint');
  const salt = toBoundedInteger(fingerprintSalt, SCALAR_FIELD_ORDER, 'fingerprintSalt');
  const period = toBoundedInteger(periodIndex, BigInt(PERIODS_PER_DAY), 'periodIndex');
  const [imports, exports] = checkRegisters(importWh, exportWh);
  const values = imports.flatMap((imported, i) => [imported, exports[i] as bigint]);
  let head = poseidon([prev, salt, period, BigInt(imports.length), NET_VERSION_TAG]);
  for (let start = 0; start < values.length; start += FINGERPRINT_CHUNK) {
    head = poseidon([head, ...values.slice(start, start + FINGERPRINT_CHUNK)]);
  }
  return head;
}

/**
 * v2 deviation: measured = sum(importWh) - sum(exportWh) (signed), requested =
 * profile[periodIndex] (signed), deviation = |measured - requested|, direction = 1 iff
 * measured > requested.
 */
export function netPeriodDeviation(
  importWh: readonly IntegerLike[],
  exportWh: readonly IntegerLike[],
  profile: readonly IntegerLike[],
  periodIndex: number,
): PeriodDeviation {
  const [imports, exports] = checkRegisters(importWh, exportWh);
  const encoded = encodeNetProfile(profile);
  const period = Number(toBoundedInteger(periodIndex, BigInt(PERIODS_PER_DAY), 'periodIndex'));
  const sum = (values: bigint[]): bigint => values.reduce((a, b) => a + b, 0n);
  const measured = sum(imports) - sum(exports);
  const requested = (encoded[period] as bigint) - NET_PROFILE_OFFSET;
  const above = measured > requested;
  return { measured, requested, deviation: above ? measured - requested : requested - measured, direction: above ? 1 : 0 };
}

// ---- dispatch on the circuit version ----

/** One period's interval energies as the edge holds them, for either circuit version. */
export interface PeriodChainParams {
  prevFingerprint: IntegerLike;
  fingerprintSalt: IntegerLike;
  periodIndex: number;
  /** Imported energy per interval, Wh (a v1 circuit's readings). */
  importWh: readonly IntegerLike[];
  /** Exported energy per interval, Wh; for a v1 circuit absent or all zero. */
  exportWh?: readonly IntegerLike[];
}

/**
 * The enrollment commitment of `profile` for this circuit: requestCommitment (v1,
 * non-negative values below 2^40) or netRequestCommitment (v2, signed values).
 */
export function requestCommitmentFor(circuitId: CircuitId, salt: IntegerLike, profile: readonly IntegerLike[]): bigint {
  return circuitShape(circuitId).kind === 'net' ? netRequestCommitment(profile, salt) : requestCommitment(profile, salt);
}

/**
 * The next chain head for this circuit: fingerprint over importWh (v1; exportWh absent or
 * all zero, otherwise INVALID_INPUT) or netFingerprint over both registers (v2; exportWh
 * absent means a meter without an export register, all zero). Either list must hold the
 * shape's number of intervals.
 */
export function fingerprintFor(circuitId: CircuitId, params: PeriodChainParams): bigint {
  const { kind } = circuitShape(circuitId);
  const exportWh = registersFor(circuitId, params.importWh, params.exportWh);
  return kind === 'net'
    ? netFingerprint(params.prevFingerprint, params.fingerprintSalt, params.periodIndex, params.importWh, exportWh)
    : fingerprint(params.prevFingerprint, params.fingerprintSalt, params.periodIndex, params.importWh);
}

/** The deviation a proof of this circuit will carry, with the same register rules as fingerprintFor. */
export function periodDeviationFor(
  circuitId: CircuitId,
  profile: readonly IntegerLike[],
  periodIndex: number,
  importWh: readonly IntegerLike[],
  exportWh?: readonly IntegerLike[],
): PeriodDeviation {
  const { kind } = circuitShape(circuitId);
  const exports = registersFor(circuitId, importWh, exportWh);
  return kind === 'net' ? netPeriodDeviation(importWh, exports, profile, periodIndex) : periodDeviation(importWh, profile, periodIndex);
}

/**
 * Checks both lists hold the shape's interval count and returns the export list to use
 * (zeros when absent). A v1 circuit has no export register: a non-zero export would be
 * silently dropped from the proof, so it is refused by name.
 */
export function registersFor(circuitId: CircuitId, importWh: readonly IntegerLike[], exportWh: readonly IntegerLike[] | undefined): readonly IntegerLike[] {
  const { readingsPerPeriod, kind } = circuitShape(circuitId);
  const count = (list: unknown, name: string): void => {
    if (!Array.isArray(list) || list.length !== readingsPerPeriod) {
      throw new CircuitError('INVALID_INPUT', `${circuitId} takes ${readingsPerPeriod} values of ${name} per period`, {
        details: { name, expected: readingsPerPeriod, actual: Array.isArray(list) ? list.length : typeof list },
      });
    }
  };
  count(importWh, 'importWh');
  if (exportWh === undefined) return Array.from({ length: readingsPerPeriod }, () => 0n);
  count(exportWh, 'exportWh');
  if (kind === 'consumption') {
    exportWh.forEach((value, i) => {
      if (toBoundedInteger(value, READING_LIMIT, `exportWh[${i}]`) !== 0n) {
        throw new CircuitError('INVALID_INPUT', `${circuitId} proves consumption only: exportWh[${i}] must be 0 (use a flexnet-v2 circuit for a meter that exports)`, {
          details: { name: `exportWh[${i}]`, circuitId, rule: 'v1 circuits have no export register' },
        });
      }
    });
  }
  return exportWh;
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

function checkProfileLength(profile: readonly IntegerLike[]): void {
  if (!Array.isArray(profile) || profile.length !== PERIODS_PER_DAY) {
    throw new CircuitError('INVALID_INPUT', `a request profile has ${PERIODS_PER_DAY} values`, {
      details: { name: 'requestProfile', actual: Array.isArray(profile) ? profile.length : typeof profile },
    });
  }
}

function checkProfile(profile: readonly IntegerLike[]): bigint[] {
  checkProfileLength(profile);
  return profile.map((p, i) => toBoundedInteger(p, ENERGY_LIMIT, `requestProfile[${i}]`));
}

/** Both registers of a v2 period: equally long lists of 1..256 interval energies, each < 2^32. */
function checkRegisters(importWh: readonly IntegerLike[], exportWh: readonly IntegerLike[]): [bigint[], bigint[]] {
  const list = (values: readonly IntegerLike[], name: string): bigint[] => {
    if (!Array.isArray(values) || values.length < 1 || values.length > MAX_READINGS_PER_PERIOD) {
      throw new CircuitError('INVALID_INPUT', `a period has 1 to ${MAX_READINGS_PER_PERIOD} values of ${name}`, {
        details: { name, actual: Array.isArray(values) ? values.length : typeof values },
      });
    }
    return values.map((v, i) => toBoundedInteger(v, READING_LIMIT, `${name}[${i}]`));
  };
  const imports = list(importWh, 'importWh');
  const exports = list(exportWh, 'exportWh');
  if (imports.length !== exports.length) {
    throw new CircuitError('INVALID_INPUT', 'importWh and exportWh must have one value per interval each', {
      details: { name: 'exportWh', expected: imports.length, actual: exports.length },
    });
  }
  return [imports, exports];
}
