/** A prosumer site for tests: temp data dir, site key, config, and an enrollment the fake gateway knows. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { assertCircuitId, randomSalt, requestCommitmentFor, SMALL_CIRCUIT_ID } from '@flexproof/circuits';
import { createSealingKey, createSiteKey, parseConfig, type EdgeConfig, type SealingKey, type SiteKey } from '@flexproof/edge-client';
import type { FakeEnrollment } from './fake-gateway';

export interface TestSite {
  dir: string;
  config: EdgeConfig;
  rawConfig: Record<string, unknown>;
  siteKey: SiteKey;
  /** The site's sealing key, made as `init` does (sealing-key.pem beside the site key). */
  sealingKey: SealingKey;
  enrollment: FakeEnrollment;
  cleanup(): void;
}

export interface TestSiteOptions {
  startMs: number;
  periodSeconds?: number;
  graceSeconds?: number;
  closeDelaySeconds?: number;
  mqttUrl?: string;
  gatewayUrl?: string;
  meterId?: string;
  /** Circuit id on the ledger (default the small shape). */
  circuitId?: string;
  /** The enrollment's request profile (default REQUEST_PROFILE); signed for a net energy (v2) circuit. */
  requestProfile?: string[];
  /** Ledger status the fake starts with. */
  status?: string;
  /** The enrollment's acceptPolicy (default: exactly the fake's offer); null: none. */
  acceptPolicy?: Record<string, unknown> | null;
  extra?: Record<string, unknown>;
}

/** A policy the fake's default offer (reward 2400, rate 1, tolerance 10, flexWh 100, order-1) is within. */
export const MATCHING_POLICY = { orderId: 'order-1', minReward: '2400', maxRatePerWh: '1', minToleranceWh: '10', maxFlexWh: '100' };

export const REQUEST_PROFILE = Array.from({ length: 24 }, (_, h) => String(800 + 40 * h));

export function makeSite(options: TestSiteOptions): TestSite {
  const dir = mkdtempSync(path.join(tmpdir(), 'flexproof-edge-'));
  const meterId = options.meterId ?? 'meter-17';
  const commitmentSalt = randomSalt().toString();
  const circuitId = options.circuitId ?? SMALL_CIRCUIT_ID;
  const shape = assertCircuitId(circuitId.split('.')[0]);
  const requestProfile = options.requestProfile ?? REQUEST_PROFILE;
  const commitment = requestCommitmentFor(shape, commitmentSalt, requestProfile).toString();
  const startTime = new Date(options.startMs).toISOString();
  const periodSeconds = options.periodSeconds ?? 3600;
  const graceSeconds = options.graceSeconds ?? 900;
  const rawConfig: Record<string, unknown> = {
    meterId,
    prosumerId: 'prosumer-17',
    keyFile: 'site-key.pem',
    dataDir: 'data',
    mqtt: { url: options.mqttUrl ?? 'mqtt://127.0.0.1:1' },
    gatewayUrl: options.gatewayUrl ?? 'http://127.0.0.1:1',
    siteSecret: '5e'.repeat(32),
    closeDelaySeconds: options.closeDelaySeconds ?? 0,
    retry: { initialMs: 100, maxMs: 400 },
    enrollments: [
      {
        enrollmentId: 'enr-1',
        circuitId,
        startTime,
        periodSeconds,
        graceSeconds,
        requestProfile,
        commitmentSalt,
        requestCommitment: commitment,
        ...(options.acceptPolicy === null ? {} : { acceptPolicy: options.acceptPolicy ?? MATCHING_POLICY }),
      },
    ],
    ...options.extra,
  };
  const config = parseConfig(rawConfig, { baseDir: dir, env: {} });
  const siteKey = createSiteKey(config.keyFile);
  const sealingKey = createSealingKey(config.sealingKeyFile);
  const enrollment: FakeEnrollment = {
    enrollmentId: 'enr-1',
    orderId: 'order-1',
    meterId,
    prosumerId: 'prosumer-17',
    circuitId,
    requestCommitment: commitment,
    reward: '2400',
    ratePerWh: '1',
    toleranceWh: '10',
    flexWh: new Array<string>(24).fill('100'),
    startTime,
    periodSeconds,
    graceSeconds,
    status: options.status ?? 'active',
    chainHead: '0',
  };
  return { dir, config, rawConfig, siteKey, sealingKey, enrollment, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
