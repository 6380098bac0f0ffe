import { CircuitError } from './errors';
import { PERIODS_PER_DAY } from './constants';

/**
 * What a circuit version proves:
 * - 'consumption' (v1, circom/hourly-deviation.circom): one import register, readings and
 *   request profile non-negative;
 * - 'net' (v2, circom/net-deviation.circom): import and export registers, signed net
 *   energy against a signed request profile.
 */
export type CircuitKind = 'consumption' | 'net';

/**
 * Circuit shapes, one trusted setup each. The id names the circuit version and the
 * readings per period; a new shape is one line here (the circuit templates take the
 * count as a parameter).
 */
const SHAPES = {
  /** 15-minute meters: 4 readings per hour. */
  'flexdev-v1-r4': { readingsPerPeriod: 4, kind: 'consumption' },
  /** 1-minute meters: 60 readings per hour. */
  'flexdev-v1-r60': { readingsPerPeriod: 60, kind: 'consumption' },
  /** Import and export, 15-minute intervals: 4 of each per hour. */
  'flexnet-v2-r4': { readingsPerPeriod: 4, kind: 'net' },
  /** Import and export, 1-minute intervals: 60 of each per hour. */
  'flexnet-v2-r60': { readingsPerPeriod: 60, kind: 'net' },
} as const satisfies Record<string, { readingsPerPeriod: number; kind: CircuitKind }>;

export type CircuitId = keyof typeof SHAPES;

export const CIRCUIT_IDS: readonly CircuitId[] = Object.freeze(Object.keys(SHAPES) as CircuitId[]);

/** The v1 shape tests and the default set-up use. */
export const SMALL_CIRCUIT_ID: CircuitId = 'flexdev-v1-r4';

/** The v2 (signed net energy) shape the default set-up builds, for the demo and the tests. */
export const SMALL_NET_CIRCUIT_ID: CircuitId = 'flexnet-v2-r4';

export interface CircuitShape {
  /** Intervals per period; a 'net' circuit takes this many import and this many export energies. */
  readonly readingsPerPeriod: number;
  readonly periodsPerDay: 24;
  readonly kind: CircuitKind;
}

export function isCircuitId(value: unknown): value is CircuitId {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(SHAPES, value);
}

export function assertCircuitId(value: unknown): CircuitId {
  if (!isCircuitId(value)) {
    throw new CircuitError('INVALID_CIRCUIT_ID', `unknown circuit id ${JSON.stringify(value)}; known: ${CIRCUIT_IDS.join(', ')}`, {
      details: { known: [...CIRCUIT_IDS] },
    });
  }
  return value;
}

export function circuitShape(id: CircuitId): CircuitShape {
  const checked = assertCircuitId(id);
  const { readingsPerPeriod, kind } = SHAPES[checked];
  return { readingsPerPeriod, periodsPerDay: PERIODS_PER_DAY as 24, kind };
}
