/**
 * `flexproof-edge readings`: the prosumer's own view of what the store holds. The site's
 * sealed documents are fetched through the gateway (ciphertext:
 * GET /v1/edge/meters/:meterId/sealed-periods) and opened here with the sealing key, so
 * it works from any machine that has the config and `sealing-key.pem`, and shows what an
 * auditor opening the same document sees. Nothing opened is logged.
 */
import { checkSealedShape, isSealedDataError, openPeriod, sealedContentHash, type PeriodPlace } from '@flexproof/protocol';
import { EdgeError } from './errors';
import type { GatewayPort } from './gateway-port';
import type { SealingKey } from './sealing-key';

export interface OwnPeriodReadings extends PeriodPlace {
  /** Interval energies (imported), Wh, decimal strings, as sealed. */
  readings: string[];
  /** Exported energy per interval, as sealed (net energy enrollments only). */
  exportReadings?: string[];
  /** The period's fingerprint salt, as sealed (shown only with --json). */
  fingerprintSalt: string;
  /** Sum of the readings, Wh (imported). */
  totalWh: string;
  /** Net energy enrollments: sum of the exports, and import minus export (may be negative), Wh. */
  exportTotalWh?: string;
  netWh?: string;
  /** sha256 of the stored document, as recomputed here. */
  contentHash: string;
  /** False when the store reports another content hash than the document it returned. */
  storeHashMatches: boolean;
  uploadedAt: string;
}

/**
 * Opens the site's sealed document for `place`. Throws EdgeError SEALED_DOCUMENT_MISSING
 * (the store lists none for the period) or SEALED_DOCUMENT_UNREADABLE (details.sealedCode:
 * NOT_A_RECIPIENT: sealed to another sealing key; UNREADABLE: altered; MISPLACED: a
 * document made for another meter, enrollment or period; MALFORMED). A gateway failure is
 * the GatewayError.
 */
export async function readOwnPeriod(gateway: Pick<GatewayPort, 'getSealedPeriods'>, sealingKey: SealingKey, place: PeriodPlace): Promise<OwnPeriodReadings> {
  const answer = await gateway.getSealedPeriods(place.meterId, place.enrollmentId);
  const periods: unknown[] = Array.isArray(answer?.periods) ? answer.periods : [];
  const found = periods.find(
    (d): d is { jwe: unknown; contentHash?: unknown; uploadedAt?: unknown; enrollmentId?: unknown; periodIndex?: unknown } =>
      typeof d === 'object' && d !== null && (d as { periodIndex?: unknown }).periodIndex === place.periodIndex && (d as { enrollmentId?: unknown }).enrollmentId === place.enrollmentId,
  );
  const where = `period ${place.periodIndex} of enrollment ${place.enrollmentId}`;
  if (found === undefined) {
    throw new EdgeError('SEALED_DOCUMENT_MISSING', `the store holds no sealed document for ${where} (not settled or not uploaded yet?)`, { details: { ...place } });
  }
  try {
    const opened = await openPeriod(found.jwe, sealingKey.privateKey, place);
    const contentHash = sealedContentHash(checkSealedShape(found.jwe, place));
    const sum = (values: readonly string[]): bigint => values.reduce((total, r) => total + BigInt(r), 0n);
    const exports = opened.exportReadings;
    return {
      ...place,
      readings: opened.readings,
      fingerprintSalt: opened.fingerprintSalt,
      totalWh: sum(opened.readings).toString(),
      ...(exports !== undefined ? { exportReadings: exports, exportTotalWh: sum(exports).toString(), netWh: (sum(opened.readings) - sum(exports)).toString() } : {}),
      contentHash,
      storeHashMatches: found.contentHash === contentHash,
      uploadedAt: typeof found.uploadedAt === 'string' ? found.uploadedAt : '',
    };
  } catch (error) {
    if (!isSealedDataError(error)) throw error;
    const why: Record<string, string> = {
      NOT_A_RECIPIENT: "it is not sealed to this site's sealing key (made with an earlier sealing-key.pem?)",
      UNREADABLE: 'it does not decrypt: it was altered after the site sealed it',
      MISPLACED: 'it was made for another meter, enrollment or period and moved here',
      MALFORMED: 'it is not a sealed period document',
    };
    throw new EdgeError('SEALED_DOCUMENT_UNREADABLE', `the stored document for ${where} cannot be opened: ${why[error.code] ?? error.code} (${error.message})`, {
      details: { ...place, sealedCode: error.code, ...(error.field !== undefined ? { field: error.field } : {}) },
      cause: error,
    });
  }
}

/** Text for a terminal: the readings and their total, never the salt. */
export function formatOwnPeriod(r: OwnPeriodReadings): string {
  return [
    `enrollment ${r.enrollmentId}, period ${r.periodIndex} (meter ${r.meterId}): sealed document stored ${r.uploadedAt || '(time unknown)'}, content hash ${r.contentHash}` +
      (r.storeHashMatches ? '' : " (the store reports another hash)"),
    `  readings (Wh): ${r.readings.join(' ')}   total ${r.totalWh} Wh`,
    ...(r.exportReadings !== undefined ? [`  exported (Wh): ${r.exportReadings.join(' ')}   total ${r.exportTotalWh ?? ''} Wh   net ${r.netWh ?? ''} Wh`] : []),
  ].join('\n');
}
