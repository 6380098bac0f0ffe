/**
 * The adversarial suite's world on the real network: one verification key registered
 * through governance, one order with room for many enrollments, and a factory of fresh
 * funded enrollments (one per attack, so an attack never sees another's state). The
 * attackers are consortium members: they use their organisation's own Fabric identity
 * (connectOrgs) and build their proposals themselves.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Contract } from '@hyperledger/fabric-gateway';
import {
  ACTION_ACCEPT_ENROLLMENT,
  ACTION_SUBMIT_PERIOD,
  enrollmentTerms,
  signPayload,
  verificationKeyHash,
  type schemas,
  type EnrollmentTerms,
} from '@flexproof/protocol';
import {
  SMALL_CIRCUIT_ID,
  buildDeviationInput,
  ensureArtifacts,
  proveDeviation,
  randomSalt,
  readVerificationKey,
  requestCommitment,
  submissionHash,
  type CircuitArtifacts,
  type DeviationProof,
} from '@flexproof/circuits';
import { connectOrgs, evaluate, networkFacts, submitAfterLag as submit, type NetworkFacts, type OrgClients } from '../../support/ledger';

export const METERS = 'org.flexproof.meters';
export const TOKENS = 'org.flexproof.tokens';
export const MARKET = 'org.flexproof.market';
export const PROGRAMS = 'org.flexproof.programs';
export const VERIFIERS = 'org.flexproof.verifiers';

export const REWARD = 2400n;
export const FLEX_WH = 10n;
/** Per period, the order offers room for this many enrollments of FLEX_WH. */
export const ORDER_ROOM = 50n;

export interface Site {
  meterId: string;
  prosumerId: string;
  privateKey: KeyObject;
  publicKeyPem: string;
}

export interface FreshEnrollment {
  site: Site;
  enrollmentId: string;
  profile: bigint[];
  commitmentSalt: bigint;
  startMs: number;
  periodSeconds: number;
  graceSeconds: number;
}

export interface LedgerSnapshot {
  accounts: Record<string, string>;
  supply: unknown;
  enrollments: Record<string, unknown>;
  meters: Record<string, unknown>;
  orders: Record<string, unknown>;
  keys: unknown;
}

export function newSite(tag: string): Site {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    meterId: `ameter-${tag}`,
    prosumerId: `aprosumer-${tag}`,
    privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const perIsp = (v: bigint) => Array.from({ length: 24 }, () => v.toString());

export class World {
  readonly run = Date.now().toString(36);
  readonly circuitId = `${SMALL_CIRCUIT_ID}.a${this.run}`;
  readonly orderId = `aorder-${this.run}`;
  readonly requestId = `areq-${this.run}`;
  readonly congestionPoint = `acp-${this.run}`;
  /** Read in start(): the global fixture brings the network up after the files are loaded. */
  facts!: NetworkFacts;
  orgs!: OrgClients;
  artifacts!: CircuitArtifacts;
  #counter = 0;
  readonly #meters = new Set<string>();
  readonly #enrollments = new Set<string>();
  readonly #orders = new Set<string>();

  async start(): Promise<void> {
    this.facts = networkFacts();
    this.artifacts = await ensureArtifacts(SMALL_CIRCUIT_ID);
    this.orgs = await connectOrgs();
    const verificationKey = readVerificationKey(this.artifacts);
    await submit(this.orgs.dso, `${VERIFIERS}:ProposeVerificationKey`, { circuitId: this.circuitId, verificationKey });
    await submit(this.orgs.aggregator, `${VERIFIERS}:ApproveVerificationKey`, {
      circuitId: this.circuitId,
      keyHash: verificationKeyHash(verificationKey),
    });
    await submit(this.orgs.dso, `${TOKENS}:Mint`, { account: 'org:AggregatorMSP', amount: '10000000' });
    await submit(this.orgs.dso, `${TOKENS}:Mint`, { account: 'org:DsoMSP', amount: '10000000' });
    await this.newOrder(this.orderId, this.requestId, FLEX_WH * ORDER_ROOM);
  }

  close(): void {
    this.orgs?.close();
  }

  /** A request, an offer and an order for today at this world's congestion point. */
  async newOrder(orderId: string, requestId: string, offeredWh: bigint, day = new Date().toISOString().slice(0, 10)): Promise<void> {
    const offerId = `${orderId}-offer`;
    await submit(this.orgs.dso, `${MARKET}:CreateFlexRequest`, {
      requestId, congestionPoint: this.congestionPoint, day, requestedWh: perIsp(offeredWh),
    });
    await submit(this.orgs.aggregator, `${MARKET}:SubmitFlexOffer`, { offerId, requestId, offeredWh: perIsp(offeredWh), price: '2400' });
    await submit(this.orgs.dso, `${MARKET}:AcceptFlexOffer`, { orderId, offerId });
    this.#orders.add(orderId);
  }

  nextTag(): string {
    this.#counter += 1;
    return `${this.run}-${this.#counter}`;
  }

  async registerSite(site: Site): Promise<void> {
    await submit(this.orgs.dso, `${METERS}:RegisterMeter`, {
      meterId: site.meterId, prosumerId: site.prosumerId, publicKeyPem: site.publicKeyPem, congestionPoint: this.congestionPoint,
    });
    this.#meters.add(site.meterId);
  }

  /** The signed-payload fields that bind a prosumer signature to this channel and chaincode. */
  target(): { channel: string; chaincode: string } {
    return { channel: this.facts.channel, chaincode: this.facts.chaincode };
  }

  /**
   * A new meter, offered an enrollment under the world's order, accepted with the site's
   * signature and (unless `fund` is false) funded. Periods are `periodSeconds` long from
   * `startMs` (default: start a minute from now, an hour each, so nothing is due soon).
   */
  async freshEnrollment(options: { startMs?: number; periodSeconds?: number; graceSeconds?: number; fund?: boolean; accept?: boolean; commitmentSalt?: bigint } = {}): Promise<FreshEnrollment> {
    const tag = this.nextTag();
    const site = newSite(tag);
    await this.registerSite(site);
    const profile = Array.from({ length: 24 }, () => 1000n);
    // Enrollments given one salt share the commitment, so one proof serves them all.
    const commitmentSalt = options.commitmentSalt ?? randomSalt();
    const startMs = options.startMs ?? Math.ceil((Date.now() + 60_000) / 1000) * 1000;
    const periodSeconds = options.periodSeconds ?? 3600;
    const graceSeconds = options.graceSeconds ?? 600;
    const enrollmentId = `aenr-${tag}`;
    await submit(this.orgs.aggregator, `${PROGRAMS}:OfferEnrollment`, {
      enrollmentId, orderId: this.orderId, meterId: site.meterId, circuitId: this.circuitId,
      requestCommitment: requestCommitment(profile, commitmentSalt).toString(),
      reward: REWARD.toString(), ratePerWh: '2', toleranceWh: '10', flexWh: perIsp(FLEX_WH),
      startTime: new Date(startMs).toISOString().replace('.000Z', 'Z'), periodSeconds, graceSeconds,
    });
    this.#enrollments.add(enrollmentId);
    const fresh: FreshEnrollment = { site, enrollmentId, profile, commitmentSalt, startMs, periodSeconds, graceSeconds };
    if (options.accept === false) return fresh;
    await submit(this.orgs.dso, `${PROGRAMS}:AcceptEnrollment`, await this.signedAccept(fresh, '1'));
    if (options.fund === false) return fresh;
    await submit(this.orgs.aggregator, `${PROGRAMS}:DepositReward`, { enrollmentId });
    return fresh;
  }

  async enrollment(enrollmentId: string): Promise<{ enrollment: schemas.Enrollment; escrow: string }> {
    return evaluate(this.orgs.aggregator, `${PROGRAMS}:GetEnrollment`, { enrollmentId });
  }

  async signedAccept(fresh: FreshEnrollment, nonce: string): Promise<{ payload: Record<string, unknown>; signature: string }> {
    const offered = (await this.enrollment(fresh.enrollmentId)).enrollment;
    const payload = { type: ACTION_ACCEPT_ENROLLMENT, ...this.target(), nonce, ...enrollmentTerms(offered as EnrollmentTerms) };
    return { payload, signature: signPayload(payload as never, fresh.site.privateKey) };
  }

  /** A real proof of `periodIndex` from the genesis head (or `prev`), with the site's readings. */
  async prove(fresh: FreshEnrollment, periodIndex: number, readings: bigint[], prev = 0n, fingerprintSalt = randomSalt()): Promise<DeviationProof> {
    const input = buildDeviationInput({
      circuitId: SMALL_CIRCUIT_ID,
      prevFingerprint: prev,
      periodIndex,
      readings,
      requestProfile: fresh.profile,
      commitmentSalt: fresh.commitmentSalt,
      fingerprintSalt,
    });
    return proveDeviation(SMALL_CIRCUIT_ID, input, this.artifacts);
  }

  /** The prosumer-signed SubmitPeriod argument for a proof (the signature covers proof and signals). */
  signedSubmission(fresh: FreshEnrollment, periodIndex: number, proof: unknown, publicSignals: string[], signer = fresh.site, hash?: string) {
    const payload = {
      type: ACTION_SUBMIT_PERIOD,
      ...this.target(),
      enrollmentId: fresh.enrollmentId,
      meterId: signer.meterId,
      prosumerId: signer.prosumerId,
      circuitId: this.circuitId,
      periodIndex,
      submissionHash: hash ?? submissionHash(proof as never, publicSignals),
    };
    return { payload, signature: signPayload(payload as never, signer.privateKey), proof, publicSignals };
  }

  /** Also track ids an attack created (or tried to), so the snapshot covers them. */
  track(kind: 'meter' | 'enrollment' | 'order', id: string): void {
    (kind === 'meter' ? this.#meters : kind === 'enrollment' ? this.#enrollments : this.#orders).add(id);
  }

  /**
   * Everything an attack could change: every account's balance (escrows included), the
   * supply, and every enrollment, meter and order this suite created or tried to create,
   * and the world's verification key.
   */
  async snapshot(): Promise<LedgerSnapshot> {
    const contract = this.orgs.dso;
    const { accounts } = await evaluate<{ accounts: { accountId: string; balance: string }[] }>(contract, `${TOKENS}:GetBalances`, {});
    const read = async (tx: string, arg: Record<string, string>): Promise<unknown> => {
      try {
        return await evaluate(contract, tx, arg);
      } catch (err) {
        return { missing: (err as Error).message.includes('[NOT_FOUND]') || /NOT_FOUND/.test(JSON.stringify((err as { details?: unknown }).details ?? '')) };
      }
    };
    const enrollments: Record<string, unknown> = {};
    for (const id of this.#enrollments) enrollments[id] = await read(`${PROGRAMS}:GetEnrollment`, { enrollmentId: id });
    const meters: Record<string, unknown> = {};
    for (const id of this.#meters) meters[id] = await read(`${METERS}:GetMeter`, { meterId: id });
    const orders: Record<string, unknown> = {};
    for (const id of this.#orders) orders[id] = await read(`${MARKET}:GetFlexOrder`, { orderId: id });
    return {
      accounts: Object.fromEntries(accounts.map((a) => [a.accountId, a.balance])),
      supply: await evaluate(contract, `${TOKENS}:GetSupply`, {}),
      enrollments: stripClock(enrollments),
      meters,
      orders,
      keys: await read(`${VERIFIERS}:GetVerificationKey`, { circuitId: this.circuitId }),
    };
  }
}

/**
 * The hash a prosumer would sign over a proof and signals that the circuits library
 * refuses to hash (non-canonical, off the curve): the same canonical layout, unchecked.
 */
export function uncheckedSubmissionHash(proof: Record<string, unknown>, publicSignals: string[]): string {
  const { curve, pi_a, pi_b, pi_c, protocol } = proof;
  return createHash('sha256').update(JSON.stringify({ proof: { curve, pi_a, pi_b, pi_c, protocol }, publicSignals }), 'utf8').digest('hex');
}

/** GetEnrollment's `nextPeriod` follows the clock, not the ledger: leave it out of comparisons. */
function stripClock(enrollments: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [id, view] of Object.entries(enrollments)) {
    if (view && typeof view === 'object' && 'nextPeriod' in view) {
      const { nextPeriod: _clock, ...rest } = view as Record<string, unknown>;
      out[id] = rest;
    } else {
      out[id] = view;
    }
  }
  return out;
}

/**
 * A snapshot two reads agree on, 400 ms apart: the reading peer may not have committed
 * the last block of a set-up step another organisation submitted yet.
 */
async function settledSnapshot(world: World): Promise<LedgerSnapshot> {
  let last = await world.snapshot();
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 400));
    const next = await world.snapshot();
    if (isDeepStrictEqual(next, last)) return next;
    last = next;
  }
  return last;
}

/** Runs an attack and asserts that the ledger snapshot is the same before and after. */
export async function assertLedgerUnchanged(world: World, attack: () => Promise<void>): Promise<void> {
  const before = await settledSnapshot(world);
  await attack();
  const after = await settledSnapshot(world);
  assert.deepEqual(after, before, 'the attack changed the ledger');
}

export type { Contract };
