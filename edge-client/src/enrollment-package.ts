/**
 * `flexproof-edge enroll PACKAGE` (issue 16): a site adds an enrollment from the package the
 * aggregator sealed to its sealing key (protocol enrollment-package.ts), so no profile, salt
 * or 76-digit commitment is pasted by hand.
 *
 * Nothing in the package is taken on trust. Before the config changes:
 *   1. it opens with this site's sealing key and names this site's meter;
 *   2. its profile and salt open its request commitment under its circuit (@flexproof/circuits);
 *   3. the enrollment the ledger holds (read through the gateway) has the package's terms,
 *      field by field, and this site's prosumer id; it is still offered, accepted or active;
 *   4. the terms are within the site's acceptPolicy (accept-policy.ts) where it sets them.
 * Then the enrollment (circuit, timing, profile, salt, commitment) is added to the config
 * file atomically (temp file, fsync, rename; mode 0600), once: an enrollment id already in
 * the config is refused. The economic terms are not copied: the ledger holds them and
 * auto-accept checks them against the policy, as for any enrollment.
 *
 * Errors are EdgeError, naming the field and the rule; the profile, salt and commitment
 * are never in a message (a differing commitment is named, not printed).
 */
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { circuitShape, isCircuitId, requestCommitmentFor } from '@flexproof/circuits';
import {
  ENROLLMENT_PACKAGE_LIMITS,
  SealedDataError,
  openEnrollmentPackage,
  type EnrollmentPackage,
  type EnrollmentPackageTerms,
} from '@flexproof/protocol';
import { commitmentDifferences, missingPolicyTerms, policyRefusals, type TermRefusal } from './accept-policy';
import { loadConfig, parseConfig, type AcceptPolicyTerm, type EnrollmentConfig } from './config';
import { writeFileAtomicSync } from './durable-file';
import { EdgeError } from './errors';
import type { EnrollmentView, GatewayPort } from './gateway-port';
import type { SealingKey } from './sealing-key';

/** The file a prosumer gives the aggregator: the public half of the sealing key (SPKI PEM). */
export const SEALING_PUBLIC_KEY_FILE = 'sealing-key.pub.pem';

/** Ledger statuses an enrollment can still be proven in; any other (cancelled, excluded, closed) is not worth adding. */
const ENROLLABLE_STATUSES = new Set(['offered', 'accepted', 'active']);

export interface EnrollFromPackageOptions {
  configFile: string;
  packageFile: string;
  /** The site's sealing key (loadSealingKey(config.sealingKeyFile)): the package is sealed to it. */
  sealingKey: Pick<SealingKey, 'privateKey'>;
  /** The ledger's view of enrollments, through the gateway (the CLI's HttpGateway or FailoverGateway). */
  ledger: Pick<GatewayPort, 'getEnrollment'>;
  /** For the config's FLEXPROOF_EDGE_* overrides (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface EnrollResult {
  enrollmentId: string;
  meterId: string;
  orderId: string;
  circuitId: string;
  startTime: string;
  /** The ledger's status of the enrollment when it was added. */
  ledgerStatus: string;
  /** The acceptPolicy terms the site leaves unset: the offer then waits for `flexproof-edge accept`. */
  missingPolicyTerms: AcceptPolicyTerm[];
  /** Whether `run` will accept the offer by itself (offered, the config's autoAccept, every policy term set). */
  autoAccept: boolean;
  configFile: string;
}

/** Why an enrollment package was refused (EdgeError TERMS_MISMATCH details.reason). */
export type EnrollRefusalReason = 'commitment' | 'ledger' | 'status' | 'policy';

export async function enrollFromPackage(options: EnrollFromPackageOptions): Promise<EnrollResult> {
  const configFile = path.resolve(options.configFile);
  const env = options.env ?? process.env;
  const config = loadConfig(configFile, env);
  const pkg = await openPackage(options.packageFile, options.sealingKey, config.meterId);
  const { terms } = pkg;

  if (config.enrollments.some((e) => e.enrollmentId === terms.enrollmentId)) {
    throw new EdgeError('USAGE', `enrollment ${terms.enrollmentId} is already in ${configFile}: nothing changed (an enrollment is added once)`, {
      details: { enrollmentId: terms.enrollmentId, reason: 'already-enrolled' },
    });
  }
  checkCommitment(pkg);

  const view = await options.ledger.getEnrollment(terms.enrollmentId);
  const site = { meterId: config.meterId, prosumerId: config.prosumerId };
  const ledgerDiffers = [...ledgerDifferences(view, terms), ...commitmentDifferences(view, site, candidateConfig(pkg)).filter((r) => r.term === 'prosumerId')];
  if (ledgerDiffers.length > 0) {
    throw refused('ledger', terms.enrollmentId, "the ledger's enrollment differs from the package (the offer was changed, or the package is not for it)", ledgerDiffers);
  }
  const status = view.enrollment.status;
  if (!ENROLLABLE_STATUSES.has(status)) {
    throw refused('status', terms.enrollmentId, `the ledger's enrollment is ${status}: nothing left to prove`, [{ term: 'status', rule: `is ${status}, not offered, accepted or active` }]);
  }

  // The raw file is edited, not the parsed config: the FLEXPROOF_EDGE_* overrides and the
  // defaults filled in by parseConfig stay out of it, and its other fields stay as written.
  const raw = readRawConfig(configFile);
  const enrollments = Array.isArray(raw.enrollments) ? raw.enrollments : [];
  const updated = { ...raw, enrollments: [...enrollments, configEntry(pkg)] };
  // The new file must load as `run` will read it: checked before it replaces the old one.
  const reloaded = parseConfig(updated, { baseDir: path.dirname(configFile), env });
  const added = reloaded.enrollments.find((e) => e.enrollmentId === terms.enrollmentId) as EnrollmentConfig;
  const outside = policyRefusals(view, added.acceptPolicy);
  if (outside.length > 0) throw refused('policy', terms.enrollmentId, "the terms are outside this site's acceptPolicy", outside);
  writeFileAtomicSync(configFile, `${JSON.stringify(updated, null, 2)}\n`, 0o600);

  const missing = missingPolicyTerms(added.acceptPolicy);
  return {
    enrollmentId: terms.enrollmentId,
    meterId: terms.meterId,
    orderId: terms.orderId,
    circuitId: terms.circuitId,
    startTime: added.startTime,
    ledgerStatus: status,
    missingPolicyTerms: missing,
    autoAccept: status === 'offered' && reloaded.autoAccept && missing.length === 0,
    configFile,
  };
}

/** What `flexproof-edge enroll` prints: the enrollment added and what happens next. No secret. */
export function formatEnrollResult(result: EnrollResult): string {
  const lines = [
    `added enrollment ${result.enrollmentId} (meter ${result.meterId}, order ${result.orderId}, circuit ${result.circuitId}, from ${result.startTime}) to ${result.configFile}`,
    `the ledger has it as ${result.ledgerStatus}; its terms equal the package's and are within the acceptPolicy where it sets them`,
  ];
  if (result.ledgerStatus === 'offered') {
    lines.push(
      result.autoAccept
        ? '`flexproof-edge run` accepts it (restart run if it is running: the config is read at start)'
        : `not accepted automatically (${result.missingPolicyTerms.length > 0 ? `the acceptPolicy does not set ${result.missingPolicyTerms.join(', ')}` : 'autoAccept is off'}): run \`flexproof-edge accept --enrollment ${result.enrollmentId}\``,
    );
  } else {
    lines.push('restart `flexproof-edge run` if it is running: the config is read at start');
  }
  return `${lines.join('\n')}\n`;
}

/** Writes the public half of the sealing key for the aggregator (mode 0644: it is public). */
export function writeSealingPublicKey(key: Pick<SealingKey, 'publicKeyPem'>, file: string): void {
  writeFileAtomicSync(file, key.publicKeyPem, 0o644);
}

// ---------------------------------------------------------------------------------------

async function openPackage(file: string, sealingKey: Pick<SealingKey, 'privateKey'>, meterId: string): Promise<EnrollmentPackage> {
  const where = `enrollment package ${file}`;
  let text: string;
  try {
    if (statSync(file).size > ENROLLMENT_PACKAGE_LIMITS.maxPackageJsonChars) {
      throw new EdgeError('SEALED_DOCUMENT_UNREADABLE', `${where}: larger than any enrollment package`, { details: { file } });
    }
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    if (cause instanceof EdgeError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new EdgeError('SEALED_DOCUMENT_MISSING', `${where}: cannot read it (${code})`, { cause, details: { file } });
  }
  let jwe: unknown;
  try {
    jwe = JSON.parse(text);
  } catch {
    throw new EdgeError('SEALED_DOCUMENT_UNREADABLE', `${where}: not JSON (a package is the JSON of a JWE)`, { details: { file } });
  }
  try {
    return await openEnrollmentPackage(jwe, sealingKey.privateKey, { meterId });
  } catch (cause) {
    if (!(cause instanceof SealedDataError)) throw cause;
    const hint =
      cause.code === 'NOT_A_RECIPIENT'
        ? `: it was sealed to another key; give the aggregator this site's ${SEALING_PUBLIC_KEY_FILE} (flexproof-edge sealing-key)`
        : cause.code === 'MISPLACED'
          ? `: it is for another meter than ${meterId}`
          : '';
    throw new EdgeError('SEALED_DOCUMENT_UNREADABLE', `${where}: ${cause.message}${hint}`, {
      cause,
      details: { file, code: cause.code, ...(cause.field !== undefined ? { field: cause.field } : {}) },
    });
  }
}

function checkCommitment(pkg: EnrollmentPackage): void {
  const { terms } = pkg;
  const shape = terms.circuitId.split('.')[0];
  if (!isCircuitId(shape)) {
    throw refused('commitment', terms.enrollmentId, 'the package names a circuit this edge cannot prove', [
      { term: 'circuitId', rule: 'must be a known circuit shape, optionally with a .suffix' },
    ]);
  }
  let opened: string;
  try {
    opened = requestCommitmentFor(shape, pkg.commitmentSalt, pkg.requestProfile).toString();
  } catch (error) {
    // The circuits' messages name the position and the range, never the value.
    const rule = `${(error as Error).message} (circuit ${shape}${circuitShape(shape).kind === 'net' ? '' : ': consumption only, no negative value'})`;
    throw refused('commitment', terms.enrollmentId, "the package's request profile is out of its circuit's range", [{ term: 'requestProfile', rule }]);
  }
  if (opened !== terms.requestCommitment) {
    throw refused('commitment', terms.enrollmentId, "the package's profile and salt do not open its request commitment", [
      { term: 'requestCommitment', rule: 'is not the commitment of the package’s request profile and salt' },
    ]);
  }
}

/** Each term of the package that the ledger's record does not hold as written. */
export function ledgerDifferences(view: EnrollmentView, terms: EnrollmentPackageTerms): TermRefusal[] {
  const e = view.enrollment as Record<string, unknown>;
  const out: TermRefusal[] = [];
  for (const term of Object.keys(terms) as (keyof EnrollmentPackageTerms)[]) {
    const mine = terms[term];
    const ledger = e[term];
    if (term === 'requestCommitment') {
      // Public, but the only trace of the private profile: named, not printed.
      if (ledger !== mine) out.push({ term, rule: "the ledger's commitment is not the package's" });
    } else if (term === 'startTime') {
      if (typeof ledger !== 'string' || Date.parse(ledger) !== Date.parse(mine as string)) out.push({ term, rule: `the ledger has ${JSON.stringify(ledger)}, the package ${JSON.stringify(mine)}` });
    } else if (term === 'flexWh') {
      const flex = mine as string[];
      if (!Array.isArray(ledger) || ledger.length !== flex.length) out.push({ term, rule: `the ledger has no list of ${flex.length} values` });
      else flex.forEach((v, p) => {
        if (ledger[p] !== v) out.push({ term: `flexWh[${p}]`, rule: `the ledger has ${JSON.stringify(ledger[p])}, the package ${JSON.stringify(v)}` });
      });
    } else if (ledger !== mine) {
      out.push({ term, rule: `the ledger has ${JSON.stringify(ledger)}, the package ${JSON.stringify(mine)}` });
    }
  }
  return out;
}

function refused(reason: EnrollRefusalReason, enrollmentId: string, what: string, refusals: TermRefusal[]): EdgeError {
  return new EdgeError('TERMS_MISMATCH', `enrollment ${enrollmentId} not added: ${what}; nothing changed:\n${refusals.map((r) => `  ${r.term}: ${r.rule}`).join('\n')}`, {
    details: { enrollmentId, reason, refusals },
  });
}

/** The config entry of the package: what the edge proves against (the economics stay on the ledger). */
function configEntry(pkg: EnrollmentPackage): Record<string, unknown> {
  const { terms } = pkg;
  return {
    enrollmentId: terms.enrollmentId,
    circuitId: terms.circuitId,
    startTime: terms.startTime,
    periodSeconds: terms.periodSeconds,
    graceSeconds: terms.graceSeconds,
    requestProfile: [...pkg.requestProfile],
    commitmentSalt: pkg.commitmentSalt,
    requestCommitment: terms.requestCommitment,
  };
}

/** The package as an EnrollmentConfig, for accept-policy's comparison of the commitments. */
function candidateConfig(pkg: EnrollmentPackage): EnrollmentConfig {
  const { terms } = pkg;
  const shape = terms.circuitId.split('.')[0];
  return {
    enrollmentId: terms.enrollmentId,
    circuitId: terms.circuitId,
    shape: shape as EnrollmentConfig['shape'],
    startTime: terms.startTime,
    periodSeconds: terms.periodSeconds,
    graceSeconds: terms.graceSeconds,
    requestProfile: pkg.requestProfile,
    commitmentSalt: pkg.commitmentSalt,
    requestCommitment: terms.requestCommitment,
    acceptPolicy: {},
  };
}

function readRawConfig(file: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    // loadConfig read this very file a moment ago: another writer is at work.
    throw new EdgeError('CONFIG_INVALID', `config file ${file} changed while enrolling: run enroll again`, { cause, details: { file } });
  }
  return raw as Record<string, unknown>;
}
