/**
 * Runs contract transactions against the in-memory stub, as a given organisation, at a
 * controllable time: each call is one transaction that commits if it returns and leaves
 * nothing behind if it throws. As on a peer, the contract's beforeTransaction (the
 * clock-skew guard) runs first. One fake clock drives both the proposal timestamp and
 * the peer clock the guard reads; `callStamped` stamps a proposal with another time, as
 * a member building its own proposal can.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Context } from 'fabric-contract-api';
import type { ClientIdentity } from 'fabric-shim-api';
import {
  ACTION_ACCEPT_ENROLLMENT,
  ACTION_SUBMIT_PERIOD,
  DEFAULT_LEDGER_TARGET,
  enrollmentTerms,
  signPayload,
  type AcceptEnrollmentPayload,
  type ChaincodeErrorCode,
  type LedgerTarget,
  type schemas,
  type SubmitPeriodPayload,
} from '@flexproof/protocol';
import {
  AuditorsContract,
  ChaincodeError,
  MarketContract,
  MetersContract,
  parseErrorCode,
  ProgramsContract,
  SystemContract,
  TokensContract,
  VerifiersContract,
  type PeerClock,
  type ProofVerifier,
} from './chaincode';
import { FakeProofVerifier } from './fake-proof-verifier';
import { InMemoryStubForTests } from './in-memory-stub';

export const DSO = 'DsoMSP';
export const AGGREGATOR = 'AggregatorMSP';
export const OUTSIDER = 'OutsiderMSP';
export const T0 = Date.parse('2030-03-01T00:00:00.000Z');

export type ContractName = 'system' | 'meters' | 'tokens' | 'market' | 'programs' | 'verifiers' | 'auditors';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/**
 * The skew the harness peers tolerate by default. Harness periods last 10 s (like the dev
 * network's), so the skew is small too, as the dev network sets it; the clock-guard
 * tests also run with the production default (HarnessOptions.maxSkewSeconds).
 */
export const SKEW_SECONDS = 2;
export const SKEW_MS = SKEW_SECONDS * 1000;
/** The channel the harness pretends to run on, and what harness payloads are signed for. */
export const CHANNEL = DEFAULT_LEDGER_TARGET.channel;
export const TARGET: LedgerTarget = { ...DEFAULT_LEDGER_TARGET };

export interface HarnessOptions {
  maxSkewSeconds?: number;
  /** The proof verifier the programs contract uses (default: `verifier`, the fake). */
  proofVerifier?: ProofVerifier;
}

export class ChaincodeHarness {
  readonly stub = new InMemoryStubForTests();
  readonly verifier = new FakeProofVerifier();
  /** The fake clock: the peer's clock, and the timestamp of every proposal `call` makes. */
  nowMs = T0;
  channelId = CHANNEL;
  readonly clock: PeerClock;
  private seq = 0;
  private readonly instances: Record<ContractName, object>;

  constructor(options: HarnessOptions = {}) {
    this.clock = { nowMs: () => this.nowMs, maxSkewSeconds: options.maxSkewSeconds ?? SKEW_SECONDS };
    this.instances = {
      system: new SystemContract(this.clock),
      meters: new MetersContract(this.clock),
      tokens: new TokensContract(this.clock),
      market: new MarketContract(this.clock),
      programs: new ProgramsContract(options.proofVerifier ?? this.verifier, this.clock),
      verifiers: new VerifiersContract(undefined, this.clock),
      auditors: new AuditorsContract(this.clock),
    };
  }

  /** Runs `contract.method(ctx, JSON.stringify(input))` as `mspId`; returns the parsed result. */
  async call(mspId: string, contract: ContractName, method: string, input: unknown = {}): Promise<Json> {
    return this.callStamped(this.nowMs, mspId, contract, method, input);
  }

  /** Like `call`, with the proposal stamped `proposalMs` while the peer clock stays at `nowMs`. */
  async callStamped(proposalMs: number, mspId: string, contract: ContractName, method: string, input: unknown = {}): Promise<Json> {
    const instance = this.instances[contract] as Record<string, unknown> & { beforeTransaction(ctx: Context): Promise<void> };
    const fn = instance[method];
    if (typeof fn !== 'function') throw new Error(`no transaction ${contract}.${method}`);
    const clientIdentity: Partial<ClientIdentity> = {
      getMSPID: () => mspId,
      getID: () => `x509::/CN=user@${mspId}::/CN=ca.${mspId}`,
    };
    const ctx = { stub: this.stub.asStub(), clientIdentity } as unknown as Context;
    this.seq += 1;
    this.stub.beginTransaction(`tx${String(this.seq).padStart(5, '0')}`, proposalMs, this.channelId);
    try {
      await instance.beforeTransaction(ctx);
      const out = (await (fn as (c: Context, a: string) => Promise<string>).call(instance, ctx, JSON.stringify(input)));
      this.stub.commit();
      return JSON.parse(out);
    } catch (err) {
      this.stub.rollback();
      throw err;
    }
  }

  lastEvent() {
    return this.stub.events[this.stub.events.length - 1];
  }

  advanceTo(ms: number): void {
    this.nowMs = ms;
  }
}

/** Asserts the promise fails with a ChaincodeError of `code`, rendered as `[CODE] ...`. */
export async function expectCode(promise: Promise<unknown>, code: ChaincodeErrorCode): Promise<ChaincodeError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ChaincodeError, `expected a ChaincodeError, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.message}`);
    assert.equal(parseErrorCode(err.message), code);
    return err;
  }
  assert.fail(`expected ${code}, but the transaction succeeded`);
}

export interface Prosumer {
  prosumerId: string;
  meterId: string;
  privateKey: KeyObject;
  publicKeyPem: string;
}

export function newProsumer(n: number, kind: 'ec' | 'ed25519' = n % 2 === 0 ? 'ec' : 'ed25519'): Prosumer {
  const { privateKey, publicKey } =
    kind === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  return {
    prosumerId: `prosumer-${n}`,
    meterId: `meter-${n}`,
    privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export const CIRCUIT_ID = 'flexdev-v1-r4';
/** BN254 generators in snarkjs JSON: points that pass every check of a proposed key. */
export const G1_GENERATOR = ['1', '2', '1'];
export const G2_GENERATOR = [
  ['10857046999023057135944570762232829481370756359578518086990519993285655852781', '11559732032986387107991004021392285783925812861821192530917403151452391805634'],
  ['8495653923123431417604973247489272438418190587263600148770280649306958101930', '4082367875863433681332203403145435568316851327593401208105741076214120093531'],
  ['1', '0'],
];
/** A verification key that passes validation (generators for every point), not the key of any circuit. */
export const VKEY = {
  protocol: 'groth16',
  curve: 'bn128',
  nPublic: 6,
  vk_alpha_1: G1_GENERATOR,
  vk_beta_2: G2_GENERATOR,
  vk_gamma_2: G2_GENERATOR,
  vk_delta_2: G2_GENERATOR,
  IC: Array.from({ length: 7 }, () => G1_GENERATOR),
};
export const COMMITMENT = '1234567890123456789';
export const PERIOD_SECONDS = 10;
export const GRACE_SECONDS = 5;
export const PROGRAM_START = T0 + 60_000;

export function periodEnd(p: number): number {
  return PROGRAM_START + (p + 1) * PERIOD_SECONDS * 1000;
}

/** The first millisecond a missed period p may be claimed: after its deadline plus the skew. */
export function claimOpens(p: number): number {
  return periodEnd(p) + GRACE_SECONDS * 1000 + SKEW_MS + 1;
}

export function flat(wh: string): string[] {
  return Array.from({ length: 24 }, () => wh);
}

/** Both organisations register the circuit's key: the aggregator proposes, the DSO approves. */
export async function registerCircuit(h: ChaincodeHarness, circuitId = CIRCUIT_ID, key: object = VKEY): Promise<void> {
  const proposed = await h.call(AGGREGATOR, 'verifiers', 'ProposeVerificationKey', { circuitId, verificationKey: key });
  await h.call(DSO, 'verifiers', 'ApproveVerificationKey', { circuitId, keyHash: proposed.keyHash });
}

export interface AuditorKeyPair {
  privateKey: KeyObject;
  /** Canonical SPKI PEM, as node:crypto exports it. */
  publicKeyPem: string;
}

/** A fresh EC P-256 key pair, as an auditor makes one. */
export function newAuditorKey(): AuditorKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** Both organisations register an auditor key: the DSO proposes, the aggregator approves. */
export async function registerAuditor(h: ChaincodeHarness, auditorId: string, publicKeyPem: string): Promise<Json> {
  const proposed = await h.call(DSO, 'auditors', 'ProposeAuditorKey', { auditorId, publicKeyPem });
  return h.call(AGGREGATOR, 'auditors', 'ApproveAuditorKey', { auditorId, keyHash: proposed.keyHash });
}

export async function registerMeter(h: ChaincodeHarness, p: Prosumer, congestionPoint = 'cp-north'): Promise<void> {
  await h.call(DSO, 'meters', 'RegisterMeter', {
    meterId: p.meterId,
    prosumerId: p.prosumerId,
    publicKeyPem: p.publicKeyPem,
    congestionPoint,
  });
}

/** A request, an offer and the DSO's order for it; the DSO and aggregator are funded first. */
export async function openOrder(h: ChaincodeHarness, orderId = 'order-1', price = '2400', offeredWh = flat('1000')) {
  await h.call(DSO, 'tokens', 'Mint', { account: 'org:DsoMSP', amount: '100000' });
  await h.call(DSO, 'tokens', 'Mint', { account: 'org:AggregatorMSP', amount: '100000' });
  const requestId = `req-${orderId}`;
  await h.call(DSO, 'market', 'CreateFlexRequest', {
    requestId,
    congestionPoint: 'cp-north',
    day: '2030-03-01',
    requestedWh: flat('1000'),
  });
  await h.call(AGGREGATOR, 'market', 'SubmitFlexOffer', { offerId: `offer-${orderId}`, requestId, offeredWh, price });
  await h.call(DSO, 'market', 'AcceptFlexOffer', { orderId, offerId: `offer-${orderId}` });
  return { orderId, requestId };
}

export interface EnrollmentTermsOverrides {
  reward?: string;
  ratePerWh?: string;
  toleranceWh?: string;
  flexWh?: string[];
  requestCommitment?: string;
}

export function offerInput(enrollmentId: string, orderId: string, p: Prosumer, o: EnrollmentTermsOverrides = {}) {
  return {
    enrollmentId,
    orderId,
    meterId: p.meterId,
    circuitId: CIRCUIT_ID,
    requestCommitment: o.requestCommitment ?? COMMITMENT,
    reward: o.reward ?? '2400',
    ratePerWh: o.ratePerWh ?? '2',
    toleranceWh: o.toleranceWh ?? '10',
    flexWh: o.flexWh ?? flat('100'),
    startTime: new Date(PROGRAM_START).toISOString(),
    periodSeconds: PERIOD_SECONDS,
    graceSeconds: GRACE_SECONDS,
  };
}

export function signedAccept(
  p: Prosumer,
  enrollment: schemas.Enrollment,
  nonce: string,
  key: KeyObject = p.privateKey,
  target: LedgerTarget = TARGET,
) {
  const payload: AcceptEnrollmentPayload = { type: ACTION_ACCEPT_ENROLLMENT, ...target, nonce, ...enrollmentTerms(enrollment) };
  return { payload, signature: signPayload(payload, key) };
}

/** Offer, signed acceptance and funding: an active enrollment. */
export async function activeEnrollment(
  h: ChaincodeHarness,
  p: Prosumer,
  enrollmentId: string,
  orderId: string,
  o: EnrollmentTermsOverrides = {},
): Promise<schemas.Enrollment> {
  const offered: schemas.Enrollment = await h.call(AGGREGATOR, 'programs', 'OfferEnrollment', offerInput(enrollmentId, orderId, p, o));
  const nonce = String(h.nowMs + h.stub.events.length);
  await h.call(DSO, 'programs', 'AcceptEnrollment', signedAccept(p, offered, nonce));
  return h.call(AGGREGATOR, 'programs', 'DepositReward', { enrollmentId });
}

export interface SubmissionOptions {
  deviation?: string;
  valid?: boolean;
  prevFingerprint?: string;
  newFingerprint?: string;
  requestCommitment?: string;
  signalPeriod?: string;
  signWith?: KeyObject;
  target?: LedgerTarget;
  /** A proof object of its own (e.g. a malformed one), signed like any other. */
  proof?: unknown;
}

/** A signed submission for period p with fake proof and signals in circuit order. */
export async function submission(
  h: ChaincodeHarness,
  p: Prosumer,
  enrollmentId: string,
  periodIndex: number,
  prevFingerprint: string,
  o: SubmissionOptions = {},
) {
  const publicSignals = [
    o.newFingerprint ?? String(1000 + periodIndex),
    o.deviation ?? '0',
    '0',
    o.prevFingerprint ?? prevFingerprint,
    o.requestCommitment ?? COMMITMENT,
    o.signalPeriod ?? String(periodIndex),
  ];
  const proof = o.proof ?? { fake: o.valid === false ? 'invalid' : 'valid' };
  const payload: SubmitPeriodPayload = {
    type: ACTION_SUBMIT_PERIOD,
    ...(o.target ?? TARGET),
    enrollmentId,
    meterId: p.meterId,
    prosumerId: p.prosumerId,
    circuitId: CIRCUIT_ID,
    periodIndex,
    submissionHash: await h.verifier.submissionHash(proof, publicSignals),
  };
  return { payload, signature: signPayload(payload, o.signWith ?? p.privateKey), proof, publicSignals };
}

/** Sum of all accounts minus (minted - burned): zero when the token ledger is consistent. */
export async function tokenImbalance(h: ChaincodeHarness): Promise<bigint> {
  const { accounts } = await h.call(DSO, 'tokens', 'GetBalances', {});
  const supply = await h.call(DSO, 'tokens', 'GetSupply', {});
  let total = 0n;
  for (const a of accounts as { balance: string }[]) {
    assert.ok(BigInt(a.balance) >= 0n, 'no account is negative');
    total += BigInt(a.balance);
  }
  return BigInt(supply.minted) - BigInt(supply.burned) - total;
}
