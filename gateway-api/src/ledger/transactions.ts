/**
 * The chaincode transactions the gateway calls, by contract. One place for their names:
 * the chaincode is the authority on what each does and who may call it.
 */
const METERS = 'org.flexproof.meters';
const TOKENS = 'org.flexproof.tokens';
const MARKET = 'org.flexproof.market';
const PROGRAMS = 'org.flexproof.programs';
const VERIFIERS = 'org.flexproof.verifiers';
const AUDITORS = 'org.flexproof.auditors';
const SYSTEM = 'org.flexproof.system';

export const TX = {
  registerMeter: `${METERS}:RegisterMeter`,
  suspendMeter: `${METERS}:SuspendMeter`,
  reactivateMeter: `${METERS}:ReactivateMeter`,
  getMeter: `${METERS}:GetMeter`,
  listMetersByCongestionPoint: `${METERS}:ListMetersByCongestionPoint`,

  mint: `${TOKENS}:Mint`,
  burn: `${TOKENS}:Burn`,
  transfer: `${TOKENS}:Transfer`,
  withdraw: `${TOKENS}:Withdraw`,
  getBalance: `${TOKENS}:GetBalance`,
  getBalances: `${TOKENS}:GetBalances`,
  getSupply: `${TOKENS}:GetSupply`,
  listRedemptions: `${TOKENS}:ListRedemptions`,
  compactBalances: `${TOKENS}:CompactBalances`,
  auditSupply: `${TOKENS}:AuditSupply`,

  createFlexRequest: `${MARKET}:CreateFlexRequest`,
  closeFlexRequest: `${MARKET}:CloseFlexRequest`,
  submitFlexOffer: `${MARKET}:SubmitFlexOffer`,
  acceptFlexOffer: `${MARKET}:AcceptFlexOffer`,
  settleFlexOrder: `${MARKET}:SettleFlexOrder`,
  getFlexRequest: `${MARKET}:GetFlexRequest`,
  getFlexOrder: `${MARKET}:GetFlexOrder`,

  offerEnrollment: `${PROGRAMS}:OfferEnrollment`,
  cancelEnrollment: `${PROGRAMS}:CancelEnrollment`,
  acceptEnrollment: `${PROGRAMS}:AcceptEnrollment`,
  depositReward: `${PROGRAMS}:DepositReward`,
  offerEnrollments: `${PROGRAMS}:OfferEnrollments`,
  depositRewards: `${PROGRAMS}:DepositRewards`,
  submitPeriod: `${PROGRAMS}:SubmitPeriod`,
  submitPeriods: `${PROGRAMS}:SubmitPeriods`,
  claimMissedPeriod: `${PROGRAMS}:ClaimMissedPeriod`,
  closeEnrollment: `${PROGRAMS}:CloseEnrollment`,
  getEnrollment: `${PROGRAMS}:GetEnrollment`,
  getEnrollmentHistory: `${PROGRAMS}:GetEnrollmentHistory`,

  proposeVerificationKey: `${VERIFIERS}:ProposeVerificationKey`,
  approveVerificationKey: `${VERIFIERS}:ApproveVerificationKey`,
  proposeVerificationKeyRetirement: `${VERIFIERS}:ProposeVerificationKeyRetirement`,
  approveVerificationKeyRetirement: `${VERIFIERS}:ApproveVerificationKeyRetirement`,
  getVerificationKey: `${VERIFIERS}:GetVerificationKey`,
  listVerificationKeys: `${VERIFIERS}:ListVerificationKeys`,

  proposeAuditorKey: `${AUDITORS}:ProposeAuditorKey`,
  approveAuditorKey: `${AUDITORS}:ApproveAuditorKey`,
  proposeAuditorKeyRetirement: `${AUDITORS}:ProposeAuditorKeyRetirement`,
  approveAuditorKeyRetirement: `${AUDITORS}:ApproveAuditorKeyRetirement`,
  getAuditorKey: `${AUDITORS}:GetAuditorKey`,
  listAuditorKeys: `${AUDITORS}:ListAuditorKeys`,

  ping: `${SYSTEM}:Ping`,
} as const;

export type TransactionName = (typeof TX)[keyof typeof TX];
