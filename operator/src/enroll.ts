/**
 * `flexproof enrollments offer --profile-file ...` (issue 16): the aggregator's side of an
 * enrollment package. It reads the request profile from a file, draws the commitment salt,
 * computes the request commitment, offers the enrollment with that commitment through the
 * gateway, and writes the package (terms, profile, salt; protocol enrollment-package.ts)
 * sealed to the site's sealing public key, for the prosumer's `flexproof-edge enroll`.
 *
 * The profile and salt exist only in this process and in the sealed file: never in argv
 * (the profile comes from a file, the salt is drawn here), never on stdout or stderr, and
 * never in an error message (a bad value is named by its position).
 *
 * The package is written (mode 0600, never over an existing file) before the offer is sent:
 * if the offer went through and the write came after, a failed write would leave an
 * enrollment on the ledger whose salt nobody has. A refused offer removes the file; an
 * offer whose outcome is unknown (gateway unavailable) keeps it and says how to tell.
 */
import { closeSync, fsyncSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { CIRCUIT_IDS, circuitShape, isCircuitId, randomSalt, requestCommitmentFor, type CircuitId } from '@flexproof/circuits';
import {
  GatewayError,
  SealedDataError,
  canonicalJson,
  checkEnrollmentPackage,
  checkSealingPublicKey,
  sealEnrollmentPackage,
  sealingKeyHash,
  type EnrollmentPackage,
  type EnrollmentPackageTerms,
} from '@flexproof/protocol';
import type { CommandContext, OptionSpec } from './commands';
import { errnoCode } from './config';
import type { Printable } from './output';
import { UsageError } from './usage-error';

/** The flags of the package form of `enrollments offer` (the `--terms FILE` form is the other). */
export const PACKAGE_OFFER_OPTIONS = {
  'profile-file': { type: 'string', value: 'FILE', description: 'JSON array of 24 integers: requested Wh per hour (v2 circuits: negative = export); private, sealed into the package' },
  enrollment: { type: 'string', value: 'ID', description: 'enrollment id' },
  meter: { type: 'string', value: 'ID', description: 'the meter enrolled' },
  order: { type: 'string', value: 'ID', description: 'the order the enrollment belongs to' },
  circuit: { type: 'string', value: 'ID', description: 'circuit id on the ledger, e.g. flexdev-v1-r4 (a shape, optionally .suffix)' },
  reward: { type: 'string', value: 'N', description: 'reward, token base units' },
  rate: { type: 'string', value: 'N', description: 'penalty per Wh of deviation beyond the tolerance, token base units' },
  tolerance: { type: 'string', value: 'WH', description: 'tolerance, Wh' },
  'flex-wh': { type: 'string', value: 'LIST', description: '24 comma-separated Wh of flexibility, one per hour' },
  start: { type: 'string', value: 'ISO', description: 'start of period 0, ISO 8601 UTC (e.g. 2025-06-01T00:00:00Z)' },
  'period-seconds': { type: 'string', value: 'S', description: 'seconds per period (default 3600)' },
  'grace-seconds': { type: 'string', value: 'S', description: 'seconds after a period ends to submit it (default 900)' },
  'recipient-key': { type: 'string', value: 'FILE', description: "the site's sealing public key, sealing-key.pub.pem (from `flexproof-edge sealing-key`)" },
  out: { type: 'string', value: 'FILE', description: 'where to write the sealed package (mode 0600; an existing file is never replaced)' },
} as const satisfies Record<string, OptionSpec>;

const REQUIRED = ['enrollment', 'meter', 'order', 'circuit', 'reward', 'rate', 'tolerance', 'flex-wh', 'start', 'recipient-key', 'out'] as const;

/** Which flag a term of the package comes from, to name it in an error. */
const FLAG_OF_TERM: Record<keyof EnrollmentPackageTerms, string> = {
  enrollmentId: '--enrollment',
  orderId: '--order',
  meterId: '--meter',
  circuitId: '--circuit',
  requestCommitment: '--profile-file',
  reward: '--reward',
  ratePerWh: '--rate',
  toleranceWh: '--tolerance',
  flexWh: '--flex-wh',
  startTime: '--start',
  periodSeconds: '--period-seconds',
  graceSeconds: '--grace-seconds',
};

const DEFAULT_PERIOD_SECONDS = 3600;
const DEFAULT_GRACE_SECONDS = 900;
/** The profile file is a small JSON array; anything larger is not one. */
const MAX_PROFILE_FILE_BYTES = 16 * 1024;

export async function offerWithPackage(ctx: CommandContext): Promise<Printable> {
  const flag = (name: string): string | undefined => {
    const v = ctx.values[name];
    return typeof v === 'string' ? v : undefined;
  };
  for (const name of REQUIRED) if (flag(name) === undefined || flag(name) === '') throw new UsageError(`--${name}: is required with --profile-file`);
  const need = (name: (typeof REQUIRED)[number]): string => flag(name) as string;

  const circuitId = need('circuit');
  const shape = circuitId.split('.')[0];
  if (!isCircuitId(shape)) throw new UsageError(`--circuit: must be a known circuit shape (${CIRCUIT_IDS.join(', ')}), optionally with a .suffix`);
  const requestProfile = readProfileFile(flag('profile-file') as string, ctx.cwd, shape);

  const recipientFile = need('recipient-key');
  const recipientPem = readText(recipientFile, ctx.cwd, '--recipient-key');
  try {
    checkSealingPublicKey(recipientPem, 'recipient');
  } catch {
    throw new UsageError(`--recipient-key ${recipientFile}: must be a P-256 public key in SPKI PEM (the site's sealing-key.pub.pem, printed by \`flexproof-edge sealing-key\`)`);
  }
  const out = path.resolve(ctx.cwd, need('out'));

  const salt = randomSalt().toString();
  let requestCommitment: string;
  try {
    requestCommitment = requestCommitmentFor(shape, salt, requestProfile).toString();
  } catch (error) {
    // The circuits' messages name the position and the range, never the value.
    throw new UsageError(`--profile-file: ${(error as Error).message}`);
  }

  const terms: EnrollmentPackageTerms = {
    enrollmentId: need('enrollment'),
    orderId: need('order'),
    meterId: need('meter'),
    circuitId,
    requestCommitment,
    reward: need('reward'),
    ratePerWh: need('rate'),
    toleranceWh: need('tolerance'),
    flexWh: need('flex-wh').split(',').map((v) => v.trim()),
    startTime: isoStart(need('start')),
    periodSeconds: seconds(flag('period-seconds'), 'period-seconds', DEFAULT_PERIOD_SECONDS),
    graceSeconds: seconds(flag('grace-seconds'), 'grace-seconds', DEFAULT_GRACE_SECONDS),
  };
  let pkg: EnrollmentPackage;
  try {
    pkg = checkEnrollmentPackage({ terms, requestProfile, commitmentSalt: salt });
  } catch (error) {
    throw usageOfPackageError(error);
  }
  const jwe = await sealEnrollmentPackage(pkg, [{ publicKeyPem: recipientPem }]);
  const client = await ctx.client();
  writeNewPrivateFile(out, `${canonicalJson(jwe)}\n`);

  let answer;
  try {
    answer = await client.offerEnrollment(pkg.terms, ctx.write);
  } catch (error) {
    if (error instanceof GatewayError && error.kind === 'refused') {
      // Nothing was recorded: a package for an enrollment the ledger does not hold is only a trap.
      unlinkSync(out);
    } else {
      ctx.notice(
        `the offer's outcome is unknown; the package is kept in ${out}: if \`flexproof enrollments show ${pkg.terms.enrollmentId}\` finds the enrollment, send the package to the prosumer, otherwise delete it and run this again`,
      );
    }
    throw error;
  }
  const recipientKeyHash = sealingKeyHash(recipientPem);
  ctx.notice(`sealed the package for enrollment ${pkg.terms.enrollmentId} to key ${recipientKeyHash} in ${out}: the prosumer checks that hash (flexproof-edge sealing-key) and runs flexproof-edge enroll on the file`);
  return { data: { ...answer, package: { file: out, recipientKeyHash } } };
}

/** The request profile: a JSON array of 24 integers (numbers or decimal strings), as decimal strings. */
export function readProfileFile(file: string, cwd: string, shape: CircuitId): string[] {
  const text = readText(file, cwd, '--profile-file');
  if (Buffer.byteLength(text) > MAX_PROFILE_FILE_BYTES) throw new UsageError(`--profile-file ${file}: larger than ${MAX_PROFILE_FILE_BYTES} bytes, not a profile`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`--profile-file ${file}: not valid JSON`);
  }
  const signed = circuitShape(shape).kind === 'net';
  const kind = signed ? 'integers (Wh; negative for export)' : 'non-negative integers (Wh)';
  if (!Array.isArray(parsed) || parsed.length !== 24) throw new UsageError(`--profile-file ${file}: must be a JSON array of 24 ${kind}, one per hour`);
  const pattern = signed ? /^(0|-?[1-9][0-9]{0,19})$/ : /^(0|[1-9][0-9]{0,19})$/;
  return (parsed as unknown[]).map((v, i) => {
    const decimal = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : typeof v === 'string' ? v : undefined;
    // The value is private: only its position is named.
    if (decimal === undefined || !pattern.test(decimal)) throw new UsageError(`--profile-file ${file}: value ${i + 1} (hour ${i}) must be one of ${kind}`);
    return decimal;
  });
}

function readText(file: string, cwd: string, flagName: string): string {
  try {
    return readFileSync(path.resolve(cwd, file), 'utf8');
  } catch (error) {
    throw new UsageError(`${flagName} ${file}: cannot read it (${errnoCode(error)})`);
  }
}

/** An explicit UTC time as the ledger stores it; a time without a zone would be read as local time, so none is guessed. */
function isoStart(value: string): string {
  if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,3})?)?Z$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new UsageError('--start: must be an ISO 8601 UTC time ending in Z, e.g. 2025-06-01T00:00:00Z');
  }
  return new Date(Date.parse(value)).toISOString();
}

function seconds(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^[0-9]{1,6}$/.test(value)) throw new UsageError(`--${name}: must be a whole number of seconds`);
  return Number(value);
}

function usageOfPackageError(error: unknown): unknown {
  if (!(error instanceof SealedDataError) || error.field === undefined) return error;
  const term = /^package\.terms\.([A-Za-z]+)(\[(\d+)\])?$/.exec(error.field);
  if (term?.[1] !== undefined && term[1] in FLAG_OF_TERM) {
    const flagName = FLAG_OF_TERM[term[1] as keyof EnrollmentPackageTerms];
    return new UsageError(`${flagName}: ${term[3] !== undefined ? `value ${Number(term[3]) + 1} ` : ''}${error.rule}`);
  }
  return new UsageError(`${error.field}: ${error.rule}`);
}

/** Creates `file` with mode 0600 (refusing an existing one) and syncs it to disk. */
function writeNewPrivateFile(file: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') throw new UsageError(`--out ${file}: already exists (a package is never overwritten: its salt may be the only copy)`);
    throw new UsageError(`--out ${file}: cannot create it (${errnoCode(error)})`);
  }
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
