import { CircuitError } from './errors';
import { PERIODS_PER_DAY } from './constants';

/**
 * Circuit shapes, one trusted setup each. The id names the circuit version and the
 * readings per period; a new shape is one line here (the circuit template takes the
 * count as a parameter).
 */
const READINGS_BY_ID = {
  /** 15-minute meters: 4 readings per hour. */
  'flexdev-v1-r4': 4,
  /** 1-minute meters: 60 readings per hour. */
  'flexdev-v1-r60': 60,
} as const;

export type CircuitId = keyof typeof READINGS_BY_ID;

export const CIRCUIT_IDS: readonly CircuitId[] = Object.freeze(Object.keys(READINGS_BY_ID) as CircuitId[]);

/** The shape tests and the default set-up use. */
export const SMALL_CIRCUIT_ID: CircuitId = 'flexdev-v1-r4';

export interface CircuitShape {
  readonly readingsPerPeriod: number;
  readonly periodsPerDay: 24;
}

export function isCircuitId(value: unknown): value is CircuitId {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(READINGS_BY_ID, value);
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
  return { readingsPerPeriod: READINGS_BY_ID[checked], periodsPerDay: PERIODS_PER_DAY as 24 };
}
