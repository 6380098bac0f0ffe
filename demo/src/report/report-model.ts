/** Everything the demo report shows; assembled by the demo from the ledger and the edge clients. */

export type PeriodOutcome = 'verified' | 'invalidProof' | 'missed' | 'excluded' | 'pending';

export interface ProsumerDay {
  name: string;
  meterId: string;
  prosumerId: string;
  enrollmentId: string;
  /** Share of the requested flexibility the simulated household follows (0..1). */
  compliance: number;
  tamperAtHour?: number;
  /** The circuit its proofs are checked against (v1 consumption, or v2 signed net energy). */
  circuitId?: string;
  /** A household with solar on a net energy (v2) circuit: requestWh and actualWh are net (import − export), negative when exporting. */
  netEnergy?: boolean;
  /** Private view: the request profile and the metered energy per hour, from the edge client's own data. */
  requestWh: number[];
  actualWh: (number | null)[];
  /** From the ledger: verified deviation per hour (null when the hour has no verified proof). */
  deviationWh: (number | null)[];
  outcomes: PeriodOutcome[];
  /** Tokens held for the prosumer after each hour (escrow left, then the release at close): 25 points. */
  tokensOverDay: number[];
}

export interface SettlementRow {
  name: string;
  reward: number;
  penalties: number;
  forfeited: number;
  claimed: number;
  released: number;
  finalBalance: number;
  status: string;
}

export interface LedgerTransaction {
  time: string;
  txId: string;
  org: string;
  transaction: string;
  detail: string;
}

export interface AuditPeriod {
  periodIndex: number;
  /** unreadable: the sealed document does not open as this hour's; missing: none stored; notVerified: no verified proof on the ledger. */
  status: 'match' | 'mismatch' | 'unreadable' | 'missing' | 'notVerified';
}

export interface DemoReportModel {
  title: string;
  generatedAt: string;
  parameters: { prosumers: number; secondsPerHour: number; circuitId: string };
  prosumers: ProsumerDay[];
  settlement: SettlementRow[];
  order: { orderId: string; price: number; penalty: number; aggregatorReceived: number; dsoRefund: number };
  supply: { minted: number; burned: number; outstanding: number; sumOfAccounts: number };
  audit: { prosumer: string; enrollmentId: string; alteredHour: number; periods: AuditPeriod[] };
  /** The audit of the solar household (v2 circuit, both registers), with deviations recomputed from its request. */
  netAudit?: { prosumer: string; enrollmentId: string; periods: AuditPeriod[] };
  transactions: LedgerTransaction[];
  stages: { name: string; seconds: number }[];
}
