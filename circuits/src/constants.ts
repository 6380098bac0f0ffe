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

// ---- Signed net energy (v2, circom/net-deviation.circom) ----

/** Offset-encoded request values (v + 2^39) are below 2^NET_PROFILE_BITS. */
export const NET_PROFILE_BITS = 40;

/** The offset of the signed encoding, 2^39: a signed request v enters the circuit as v + NET_PROFILE_OFFSET. */
export const NET_PROFILE_OFFSET = 1n << BigInt(NET_PROFILE_BITS - 1);

/** Smallest signed requested net energy of a period, Wh: -(2^39). */
export const MIN_NET_REQUEST = -NET_PROFILE_OFFSET;

/** Largest signed requested net energy of a period, Wh: 2^39 - 1. */
export const MAX_NET_REQUEST = NET_PROFILE_OFFSET - 1n;

/** Both operands of the v2 comparison are below 2^NET_COMPARE_BITS. */
export const NET_COMPARE_BITS = 41;

/** Domain tag of version 2 in the request commitment and in each fingerprint link. */
export const NET_VERSION_TAG = 2n;
