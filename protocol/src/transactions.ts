/**
 * The transaction map: every transaction the chaincode serves, by contract and name,
 * with the schema of its one JSON argument, the schema of its JSON answer, and whether
 * it is submitted (endorsed, ordered, committed) or only evaluated on one peer. Callers
 * name a transaction by its key here, never by a string of their own; the gateway's
 * ledger adapter sends `contract:Name` (TX) to Fabric.
 */
import type { TSchema } from '@sinclair/typebox';
import * as s from './schemas/index';

export const CONTRACTS = {
  meters: 'org.flexproof.meters',
  tokens: 'org.flexproof.tokens',
  market: 'org.flexproof.market',
  programs: 'org.flexproof.programs',
  verifiers: 'org.flexproof.verifiers',
  auditors: 'org.flexproof.auditors',
  system: 'org.flexproof.system',
} as const;
export type ContractName = (typeof CONTRACTS)[keyof typeof CONTRACTS];

export type TransactionKind = 'submit' | 'evaluate';

export interface TransactionSpec<C extends ContractName = ContractName, N extends string = string, I extends TSchema | null = TSchema | null, O extends TSchema = TSchema> {
  contract: C;
  name: N;
  /** `contract:Name`, as Fabric's contract API routes it. */
  id: `${C}:${N}`;
  kind: TransactionKind;
  /** The argument's schema; null for the one transaction without an argument (System:Ping). */
  input: I;
  output: O;
}

function spec<C extends ContractName, N extends string, I extends TSchema | null, O extends TSchema>(
  contract: C,
  name: N,
  kind: TransactionKind,
  input: I,
  output: O,
): TransactionSpec<C, N, I, O> {
  return { contract, name, id: `${contract}:${name}`, kind, input, output };
}

const { meters, tokens, market, programs, verifiers, auditors, system } = CONTRACTS;

export const TRANSACTIONS = {
  registerMeter: spec(meters, 'RegisterMeter', 'submit', s.RegisterMeterInput, s.Meter),
  suspendMeter: spec(meters, 'SuspendMeter', 'submit', s.MeterStatusChangeInput, s.Meter),
  reactivateMeter: spec(meters, 'ReactivateMeter', 'submit', s.MeterStatusChangeInput, s.Meter),
  getMeter: spec(meters, 'GetMeter', 'evaluate', s.MeterIdInput, s.Meter),
  getProsumer: spec(meters, 'GetProsumer', 'evaluate', s.ProsumerIdInput, s.ProsumerRecord),
  listMetersByCongestionPoint: spec(meters, 'ListMetersByCongestionPoint', 'evaluate', s.CongestionPointInput, s.MetersAtCongestionPoint),

  mint: spec(tokens, 'Mint', 'submit', s.MintInput, s.TokenMovement),
  burn: spec(tokens, 'Burn', 'submit', s.BurnInput, s.TokenMovement),
  transfer: spec(tokens, 'Transfer', 'submit', s.TransferInput, s.TokenTransfer),
  withdraw: spec(tokens, 'Withdraw', 'submit', s.WithdrawInput, s.Redemption),
  getBalance: spec(tokens, 'GetBalance', 'evaluate', s.AccountInput, s.Account),
  getBalances: spec(tokens, 'GetBalances', 'evaluate', s.AccountsInput, s.Balances),
  getSupply: spec(tokens, 'GetSupply', 'evaluate', s.EmptyInput, s.SupplyView),
  listRedemptions: spec(tokens, 'ListRedemptions', 'evaluate', s.AccountInput, s.Redemptions),
  compactBalances: spec(tokens, 'CompactBalances', 'submit', s.CompactBalancesInput, s.Compaction),
  auditSupply: spec(tokens, 'AuditSupply', 'evaluate', s.EmptyInput, s.SupplyAudit),

  createFlexRequest: spec(market, 'CreateFlexRequest', 'submit', s.CreateFlexRequestInput, s.FlexRequest),
  closeFlexRequest: spec(market, 'CloseFlexRequest', 'submit', s.FlexRequestIdInput, s.FlexRequest),
  submitFlexOffer: spec(market, 'SubmitFlexOffer', 'submit', s.SubmitFlexOfferInput, s.FlexOffer),
  acceptFlexOffer: spec(market, 'AcceptFlexOffer', 'submit', s.AcceptFlexOfferInput, s.FlexOrder),
  settleFlexOrder: spec(market, 'SettleFlexOrder', 'submit', s.FlexOrderIdInput, s.FlexOrder),
  getFlexRequest: spec(market, 'GetFlexRequest', 'evaluate', s.FlexRequestIdInput, s.FlexRequestView),
  getFlexOrder: spec(market, 'GetFlexOrder', 'evaluate', s.FlexOrderIdInput, s.FlexOrderView),

  offerEnrollment: spec(programs, 'OfferEnrollment', 'submit', s.OfferEnrollmentInput, s.Enrollment),
  offerEnrollments: spec(programs, 'OfferEnrollments', 'submit', s.OfferEnrollmentsInput, s.EnrollmentList),
  cancelEnrollment: spec(programs, 'CancelEnrollment', 'submit', s.EnrollmentIdInput, s.Enrollment),
  acceptEnrollment: spec(programs, 'AcceptEnrollment', 'submit', s.AcceptEnrollmentInput, s.Enrollment),
  depositReward: spec(programs, 'DepositReward', 'submit', s.EnrollmentIdInput, s.Enrollment),
  depositRewards: spec(programs, 'DepositRewards', 'submit', s.DepositRewardsInput, s.EnrollmentList),
  submitPeriod: spec(programs, 'SubmitPeriod', 'submit', s.SubmitPeriodInput, s.PeriodOutcome),
  submitPeriods: spec(programs, 'SubmitPeriods', 'submit', s.SubmitPeriodsInput, s.SubmitPeriodsOutcome),
  claimMissedPeriod: spec(programs, 'ClaimMissedPeriod', 'submit', s.ClaimMissedPeriodInput, s.ClaimedPeriod),
  closeEnrollment: spec(programs, 'CloseEnrollment', 'submit', s.EnrollmentIdInput, s.Enrollment),
  getEnrollment: spec(programs, 'GetEnrollment', 'evaluate', s.EnrollmentIdInput, s.EnrollmentView),
  getEnrollmentHistory: spec(programs, 'GetEnrollmentHistory', 'evaluate', s.EnrollmentIdInput, s.EnrollmentHistory),

  proposeVerificationKey: spec(verifiers, 'ProposeVerificationKey', 'submit', s.ProposeVerificationKeyInput, s.VerificationKeyRecord),
  approveVerificationKey: spec(verifiers, 'ApproveVerificationKey', 'submit', s.ApproveVerificationKeyInput, s.VerificationKeyRecord),
  proposeVerificationKeyRetirement: spec(verifiers, 'ProposeVerificationKeyRetirement', 'submit', s.CircuitIdInput, s.VerificationKeyRecord),
  approveVerificationKeyRetirement: spec(verifiers, 'ApproveVerificationKeyRetirement', 'submit', s.CircuitIdInput, s.VerificationKeyRecord),
  getVerificationKey: spec(verifiers, 'GetVerificationKey', 'evaluate', s.CircuitIdInput, s.VerificationKeyRecord),
  listVerificationKeys: spec(verifiers, 'ListVerificationKeys', 'evaluate', s.EmptyInput, s.VerificationKeyList),

  proposeAuditorKey: spec(auditors, 'ProposeAuditorKey', 'submit', s.ProposeAuditorKeyInput, s.AuditorKeyRecord),
  approveAuditorKey: spec(auditors, 'ApproveAuditorKey', 'submit', s.ApproveAuditorKeyInput, s.AuditorKeyRecord),
  proposeAuditorKeyRetirement: spec(auditors, 'ProposeAuditorKeyRetirement', 'submit', s.AuditorIdInput, s.AuditorKeyRecord),
  approveAuditorKeyRetirement: spec(auditors, 'ApproveAuditorKeyRetirement', 'submit', s.AuditorIdInput, s.AuditorKeyRecord),
  getAuditorKey: spec(auditors, 'GetAuditorKey', 'evaluate', s.AuditorIdInput, s.AuditorKeyRecord),
  listAuditorKeys: spec(auditors, 'ListAuditorKeys', 'evaluate', s.EmptyInput, s.AuditorKeyList),

  ping: spec(system, 'Ping', 'evaluate', null, s.PingAnswer),
  recordHeartbeat: spec(system, 'RecordHeartbeat', 'submit', s.RecordHeartbeatInput, s.HeartbeatRecord),
  getHeartbeat: spec(system, 'GetHeartbeat', 'evaluate', s.GetHeartbeatInput, s.HeartbeatRecord),
} as const;

export type Transactions = typeof TRANSACTIONS;
export type TransactionKey = keyof Transactions;
/** `contract:Name` of each transaction, by key (what Fabric is sent). */
export type TransactionIds = { readonly [K in TransactionKey]: Transactions[K]['id'] };
export type TransactionName = TransactionIds[TransactionKey];

// Object.fromEntries loses the keys' types; the entries are TRANSACTIONS' own, one per key.
export const TX = Object.freeze(Object.fromEntries(Object.entries(TRANSACTIONS).map(([key, t]) => [key, t.id]))) as TransactionIds;

const BY_ID: ReadonlyMap<string, TransactionSpec> = new Map(Object.values(TRANSACTIONS).map((t) => [t.id, t]));

/** The transaction a `contract:Name` stands for (undefined: not one of this chaincode's). */
export function transactionById(id: string): TransactionSpec | undefined {
  return BY_ID.get(id);
}
