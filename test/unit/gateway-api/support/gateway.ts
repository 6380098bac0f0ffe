/** Builds a gateway app for route tests: fake ledger, store of the test's choice, known tokens. */
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  buildApp,
  hashToken,
  signEdgeRequest,
  type AppDependencies,
  type FingerprintFn,
  type PeriodReadings,
  type PeriodReadingsInput,
  type RawReadingsStore,
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

/** An in-memory raw-data store for route tests that do not test the store itself. */
export class MemoryReadingsStoreForTests implements RawReadingsStore {
  readonly docs = new Map<string, PeriodReadings>();
  down = false;

  async putPeriod(input: PeriodReadingsInput): Promise<'created' | 'unchanged'> {
    const key = `${input.meterId}/${input.enrollmentId}/${input.periodIndex}`;
    const existing = this.docs.get(key);
    const hash = JSON.stringify([input.readings, input.fingerprintSalt]);
    if (existing) {
      if (JSON.stringify([existing.readings, existing.fingerprintSalt]) === hash) return 'unchanged';
      throw new StoreConflict(input.meterId, input.enrollmentId, input.periodIndex);
    }
    this.docs.set(key, { ...input, contentHash: hash, uploadedAt: new Date(0).toISOString() });
    return 'created';
  }

  async listPeriods(meterId: string, enrollmentId?: string): Promise<PeriodReadings[]> {
    return [...this.docs.values()].filter((d) => d.meterId === meterId && (enrollmentId === undefined || d.enrollmentId === enrollmentId));
  }

  async ping(): Promise<void> {
    if (this.down) {
      throw new StoreUnavailable('fake store is down');
    }
  }
}

/** A stand-in fingerprint for route tests: sha256 over the inputs (the real one is tested in the audit suite). */
export const fakeFingerprintForTests: FingerprintFn = (prev, salt, periodIndex, readings) => {
  const digest = createHash('sha256').update(JSON.stringify([String(prev), String(salt), periodIndex, readings.map(String)])).digest('hex');
  return BigInt(`0x${digest.slice(0, 60)}`);
};

export interface TestGateway {
  app: FastifyInstance;
  ledger: FakeLedgerForTests;
  store: RawReadingsStore;
}

/** The MSP ids of the two organisations, as the network names them. */
export const MSP_IDS = { dso: 'DsoMSP', aggregator: 'AggregatorMSP' } as const;

/** A test gateway: the DSO's (MSP id DsoMSP) unless overridden. */
export async function buildTestGateway(overrides: Partial<AppDependencies> = {}): Promise<TestGateway> {
  const ledger = (overrides.ledger as FakeLedgerForTests | undefined) ?? new FakeLedgerForTests();
  const store = overrides.store ?? new MemoryReadingsStoreForTests();
  const org = overrides.org ?? 'dso';
  const app = await buildApp({
    org,
    mspId: MSP_IDS[org],
    ledger,
    store,
    tokens: TOKEN_ENTRIES,
    fingerprint: async () => fakeFingerprintForTests,
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
