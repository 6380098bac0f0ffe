// Facts shared by the circuit (circom/hourly-deviation.circom) and the JS that mirrors it.
// The circuit's functions of the same names must hold the same values.

/** BN254 scalar field order r: every circuit signal, public or private, is an integer mod r. */
export const SCALAR_FIELD_ORDER =
  21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** BN254 base field order q: the coordinates of proof and verification-key points live mod q. */
export const BASE_FIELD_ORDER =
  21888242871839275222246405745257275088696311157297823662689037894645226208583n;

/** Periods (hours) in a day, hence entries in a request profile. */
export const PERIODS_PER_DAY = 24;

/** A reading is an interval energy in Wh, an unsigned integer of this many bits. */
export const READING_BITS = 32;

/** Requested period energies, and sums of a period's readings, stay below 2^ENERGY_BITS Wh. */
export const ENERGY_BITS = 40;

/** Readings absorbed per Poseidon call of the fingerprint chain (circomlib Poseidon takes 16 inputs at most). */
export const FINGERPRINT_CHUNK = 15;

/** Largest shape the circuit template accepts (keeps every period sum below 2^ENERGY_BITS). */
export const MAX_READINGS_PER_PERIOD = 256;

export const MAX_READING = (1n << BigInt(READING_BITS)) - 1n;
export const MAX_PERIOD_ENERGY = (1n << BigInt(ENERGY_BITS)) - 1n;

/**
 * Public signals of the deviation proof, in snarkjs order: the circuit's outputs first,
 * then its public inputs, each group in declaration order.
 */
export const PUBLIC_SIGNAL_NAMES = [
  'newFingerprint',
  'deviation',
  'direction',
  'prevFingerprint',
  'requestCommitment',
  'periodIndex',
] as const;

export type PublicSignalName = (typeof PUBLIC_SIGNAL_NAMES)[number];
