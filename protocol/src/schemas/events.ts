/**
 * The chaincode events, by name, with their payloads as emitEvent writes them (every
 * payload also carries the `txId` of its transaction). A payload names ids, amounts and
 * hashes only, never a secret. A batch transaction's event lists one payload per item
 * (`items`); the gateway's event stream sends those as the single events they stand for.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Compaction } from './views';

const S = Type.String;
const event = <P extends Record<string, TSchema>>(properties: P) => Type.Object({ ...properties, txId: S() }, { additionalProperties: false });

const EnrollmentOfferedFields = { enrollmentId: S(), orderId: S(), meterId: S(), prosumerId: S() };
const RewardDepositedFields = { enrollmentId: S(), orderId: S(), meterId: S(), amount: S() };
const PeriodSettledFields = {
  enrollmentId: S(),
  meterId: S(),
  periodIndex: Type.Integer(),
  deviationWh: S(),
  penalty: S(),
  newFingerprint: S(),
};
const EnrollmentExcludedFields = { enrollmentId: S(), meterId: S(), periodIndex: Type.Integer(), forfeited: S() };

export const CHAINCODE_EVENTS = {
  MeterRegistered: event({ meterId: S(), prosumerId: S(), congestionPoint: S(), authorized: Type.Boolean() }),
  MeterSuspended: event({ meterId: S(), prosumerId: S() }),
  MeterReactivated: event({ meterId: S(), prosumerId: S() }),

  TokensMinted: event({ account: S(), amount: S() }),
  TokensBurned: event({ account: S(), amount: S() }),
  TokensTransferred: event({ from: S(), to: S(), amount: S() }),
  ProsumerWithdrew: event({ prosumerId: S(), meterId: S(), amount: S(), redemptionId: S() }),
  BalancesCompacted: event({ compacted: Compaction.properties.compacted }),

  FlexRequestCreated: event({ requestId: S(), congestionPoint: S(), day: S() }),
  FlexRequestClosed: event({ requestId: S() }),
  FlexOfferSubmitted: event({ offerId: S(), requestId: S(), price: S() }),
  FlexOrderCreated: event({ orderId: S(), offerId: S(), requestId: S(), price: S() }),
  FlexOrderSettled: event({ orderId: S(), requestId: S(), penalty: S(), toAggregator: S() }),

  EnrollmentOffered: event(EnrollmentOfferedFields),
  EnrollmentsOffered: event({ items: Type.Array(Type.Object(EnrollmentOfferedFields, { additionalProperties: false })) }),
  EnrollmentCancelled: event({ enrollmentId: S(), orderId: S(), meterId: S() }),
  EnrollmentAccepted: event({ enrollmentId: S(), meterId: S(), prosumerId: S() }),
  RewardDeposited: event(RewardDepositedFields),
  RewardsDeposited: event({ items: Type.Array(Type.Object(RewardDepositedFields, { additionalProperties: false })) }),
  PeriodSettled: event(PeriodSettledFields),
  EnrollmentExcluded: event(EnrollmentExcludedFields),
  /** SubmitPeriods: each settled item with its outcome (refused items have no event). */
  PeriodsSettled: event({
    items: Type.Array(
      Type.Union([
        Type.Object({ ...PeriodSettledFields, outcome: Type.Literal('verified') }, { additionalProperties: false }),
        Type.Object({ ...EnrollmentExcludedFields, outcome: Type.Literal('invalidProof') }, { additionalProperties: false }),
      ]),
    ),
  }),
  PeriodClaimed: event({ enrollmentId: S(), meterId: S(), periodIndex: Type.Integer(), claimed: S() }),
  EnrollmentClosed: event({ enrollmentId: S(), orderId: S(), meterId: S(), prosumerId: S(), released: S() }),

  VerificationKeyProposed: event({ circuitId: S(), keyHash: S(), proposedBy: S() }),
  VerificationKeyActivated: event({ circuitId: S(), keyHash: S(), approvedBy: S() }),
  VerificationKeyRetirementProposed: event({ circuitId: S(), proposedBy: S() }),
  VerificationKeyRetired: event({ circuitId: S(), retiredBy: S() }),

  AuditorKeyProposed: event({ auditorId: S(), keyHash: S(), proposedBy: S() }),
  AuditorKeyActivated: event({ auditorId: S(), keyHash: S(), approvedBy: S() }),
  AuditorKeyRetirementProposed: event({ auditorId: S(), keyHash: S(), proposedBy: S() }),
  AuditorKeyRetired: event({ auditorId: S(), keyHash: S(), retiredBy: S() }),

  /** System:RecordHeartbeat sets the record itself as the payload (it has a txId field). */
  HeartbeatRecorded: Type.Object({ mspId: S(), role: S(), note: S(), txId: S(), time: S() }, { additionalProperties: false }),
} as const;

export type ChaincodeEventName = keyof typeof CHAINCODE_EVENTS;
export type ChaincodeEventPayload<N extends ChaincodeEventName> = Static<(typeof CHAINCODE_EVENTS)[N]>;
