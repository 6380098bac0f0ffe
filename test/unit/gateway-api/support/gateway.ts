/** Builds a gateway app for route tests: fake ledger, store of the test's choice, known tokens. */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { generateSealingKeyPair, sealedContentHash, sealPeriod, type PeriodPlace, type SealedPeriodJwe } from '@flexproof/protocol';
import {
  buildApp,
  hashToken,
  signEdgeRequest,
  type AppDependencies,
  type SealedPeriodDocument,
  type SealedPeriodInput,
  type SealedPeriodStore,
  StoreConflict,
  StoreUnavailable,
} from '@flexproof/gateway-api';
import { FakeLedgerForTests, type FakeMeter } from './fake-ledger';

export const TOKENS = {
  dso: 'dso-token-0123456789abcdef0123456789',
  aggregator: 'aggregator-token-0123456789abcdef0123',
  auditor: 'auditor-token-0123456789abcdef01234567',
} as const;

export function bearer(role: keyof typeof TOKENS): Record<string, string> {
  return { authorization: `Bearer ${TOKENS[role]}` };
}

/** Tokens of all three roles (a test app may mix them; the config check is tested apart). */
export const TOKEN_ENTRIES = (Object.keys(TOKENS) as (keyof typeof TOKENS)[]).map((role) => ({
  name: `${role}-user`,
  role,
  sha256: hashToken(TOKENS[role]),
}));

/** An in-memory sealed-period store for route tests that do not test the store itself. */
export class MemorySealedStoreForTests implements SealedPeriodStore {
  readonly docs = new Map<string, SealedPeriodDocument>();
  down = false;

  async putSealedPeriod(input: SealedPeriodInput): Promise<'created' | 'unchanged'> {
    if (this.down) throw new StoreUnavailable('fake store is down');
    const key = `${input.meterId}/${input.enrollmentId}/${input.periodIndex}`;
    const existing = this.docs.get(key);
    const contentHash = sealedContentHash(input.jwe);
    if (existing) {
      if (existing.contentHash === contentHash) return 'unchanged';
      throw new StoreConflict(input.meterId, input.enrollmentId, input.periodIndex);
    }
    this.docs.set(key, { ...input, contentHash, uploadedAt: new Date(0).toISOString() });
    return 'created';
  }

  async listSealedPeriods(meterId: string, enrollmentId: string): Promise<SealedPeriodDocument[]> {
    if (this.down) throw new StoreUnavailable('fake store is down');
    return [...this.docs.values()]
      .filter((d) => d.meterId === meterId && d.enrollmentId === enrollmentId)
      .sort((a, b) => a.periodIndex - b.periodIndex);
  }

  async ping(): Promise<void> {
    if (this.down) throw new StoreUnavailable('fake store is down');
  }
}

/** A prosumer's and an auditor's sealing key pairs, made once per test process (P-256). */
export const SEALING_KEYS = { prosumer: generateSealingKeyPair(), auditor: generateSealingKeyPair() };

/** A period's plaintext as an edge would seal it: readings and salt that the tests look for in answers and files. */
export function periodPlaintext(place: PeriodPlace, seed = 0): { readings: string[]; fingerprintSalt: string } {
  return {
    readings: [0, 1, 2, 3].map((i) => String(731_000 + 97 * place.periodIndex + 13 * i + seed)),
    fingerprintSalt: String(918_273_645_546_372_819n + BigInt(place.periodIndex) + BigInt(seed)),
  };
}

/** A sealed document for a place, to the test prosumer's and auditor's keys. */
export async function sealedFor(place: PeriodPlace, seed = 0): Promise<SealedPeriodJwe> {
  return sealPeriod({ ...place, ...periodPlaintext(place, seed) }, [
    { publicKeyPem: SEALING_KEYS.prosumer.publicKeyPem },
    { publicKeyPem: SEALING_KEYS.auditor.publicKeyPem },
  ]);
}

export interface TestGateway {
  app: FastifyInstance;
  ledger: FakeLedgerForTests;
  store: SealedPeriodStore;
}

/** The MSP ids of the two organisations, as the network names them. */
export const MSP_IDS = { dso: 'DsoMSP', aggregator: 'AggregatorMSP' } as const;

/** A test gateway: the DSO's (MSP id DsoMSP) unless overridden. */
export async function buildTestGateway(overrides: Partial<AppDependencies> = {}): Promise<TestGateway> {
  const ledger = (overrides.ledger as FakeLedgerForTests | undefined) ?? new FakeLedgerForTests();
  const store = overrides.store ?? new MemorySealedStoreForTests();
  const org = overrides.org ?? 'dso';
  const app = await buildApp({
    org,
    mspId: MSP_IDS[org],
    ledger,
    store,
    tokens: TOKEN_ENTRIES,
    ...overrides,
  });
  return { app, ledger, store };
}

export interface TestMeter {
  meter: FakeMeter;
  privateKey: KeyObject;
}

/** A meter with a fresh key pair (ECDSA P-256 by default), registered in the fake ledger. */
export function registerTestMeter(ledger: FakeLedgerForTests, meterId: string, keyType: 'ec-p256' | 'ed25519' = 'ec-p256'): TestMeter {
  const { publicKey, privateKey } =
    keyType === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const meter: FakeMeter = {
    meterId,
    prosumerId: `prosumer-of-${meterId}`,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyType,
    congestionPoint: 'cp-1',
    status: 'active',
    nonce: '0',
  };
  ledger.meters.set(meterId, meter);
  return { meter, privateKey };
}

/** inject() options of a request signed by a meter's key, for the DSO's gateway unless `gatewayMspId` says otherwise. */
export function signed(
  m: TestMeter,
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  body?: unknown,
  options: { now?: number; nonce?: string; gatewayMspId?: string } = {},
): { method: 'GET' | 'POST' | 'PUT'; url: string; headers: Record<string, string>; payload?: string } {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const { gatewayMspId = MSP_IDS.dso, ...signing } = options;
  const headers = signEdgeRequest({ gatewayMspId, method, pathWithQuery: url, body: payload ?? '' }, m.meter.meterId, m.privateKey, signing);
  return {
    method,
    url,
    headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(payload === undefined ? {} : { payload }),
  };
}
