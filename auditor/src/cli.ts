#!/usr/bin/env node
/**
 * flexproof-audit: the auditor's own audit of an enrollment, with its own private key.
 * See `flexproof-audit --help`.
 * Exit codes: 0 every verified period matches, 1 a period fails (mismatch, unreadable,
 * missingData), 2 usage, configuration, gateway or connection error.
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import {
  checkSealingPrivateKey,
  GatewayClient,
  GatewayError,
  generateSealingKeyPair,
  isSealedDataError,
  parseGatewayUrl,
  sealingKeyHash,
} from '@flexproof/protocol';
import { auditPassed, auditSealedEnrollment, circuitShapeOf, VERDICTS, type AuditCircuits, type EnrollmentAudit } from './audit';
import { AUDIT_RETRY, readEnrollmentView, readSealedPeriods } from './ledger-answers';

export const EXIT_PASSED = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export const HELP = `flexproof-audit: opens an enrollment's sealed period documents with the auditor's own
private key, recomputes every verified period's fingerprint and compares it with the ledger.

Usage:
  flexproof-audit --gateway URL --token-file FILE --key-file FILE --enrollment ID
                  [--request-file FILE] [--json]
  flexproof-audit keygen --out FILE
  flexproof-audit --help

Options:
  --gateway URL       an organisation's gateway (env FLEXPROOF_AUDIT_GATEWAY)
  --token-file FILE   file holding the auditor's bearer token (env FLEXPROOF_AUDIT_TOKEN_FILE)
  --key-file FILE     the auditor's P-256 private key, PEM (env FLEXPROOF_AUDIT_KEY_FILE)
  --enrollment ID     the enrollment to audit
  --request-file FILE the enrollment's request, JSON { "requestProfile": [24 Wh values],
                      "commitmentSalt": "..." } (the aggregator's or DSO's copy): it must
                      open the ledger's requestCommitment; each period's deviation and
                      direction are then recomputed from the sealed readings and compared
  --json              print the audit as JSON instead of a table
  --out FILE          (keygen) where to write the new private key (0600); the public key
                      goes to FILE.pub and is printed with its keyHash, for ProposeAuditorKey
  -h, --help          this help

The fingerprint (and deviation) are computed by the enrollment's circuit: v1 (flexdev-v1-*)
from the import readings, v2 net energy (flexnet-v2-*) from import and export.
Per period: match, mismatch (opens, but the data inside does not give the ledger's
fingerprint, or with --request-file its deviation), unreadable (does not open: tampered, not sealed to this key, or made for
another place), missingData (verified on the ledger, no document), notVerified (no
verified settlement to compare with).
Exit codes: 0 every verified period matches, 1 some period fails, 2 usage or connection error.
`;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** For tests: the gateway client's fetch and sleep (the protocol's GatewayClient). */
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

class UsageError extends Error {}

export async function runAuditCli(argv: readonly string[], io: CliIo): Promise<number> {
  // --help answers at once, whatever else is on the line.
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(HELP);
    return EXIT_PASSED;
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: {
        gateway: { type: 'string' },
        'token-file': { type: 'string' },
        'key-file': { type: 'string' },
        enrollment: { type: 'string' },
        'request-file': { type: 'string' },
        json: { type: 'boolean', default: false },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
    const [command, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected argument: ${extra[0] ?? ''}`);
    if (command === 'keygen') return keygen(values.out, io);
    if (command !== undefined) throw new UsageError(`unknown command: ${command} (try --help)`);
    if (values.out !== undefined) throw new UsageError('--out belongs to keygen');
    return await audit(
      {
        gateway: values.gateway ?? io.env.FLEXPROOF_AUDIT_GATEWAY,
        tokenFile: values['token-file'] ?? io.env.FLEXPROOF_AUDIT_TOKEN_FILE,
        keyFile: values['key-file'] ?? io.env.FLEXPROOF_AUDIT_KEY_FILE,
        enrollment: values.enrollment,
        requestFile: values['request-file'],
        json: values.json === true,
      },
      io,
    );
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      io.stderr(`flexproof-audit: ${(error as Error).message}\n(see flexproof-audit --help)\n`);
      return EXIT_USAGE;
    }
    if (error instanceof GatewayError) {
      io.stderr(`flexproof-audit: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

interface AuditOptions {
  gateway: string | undefined;
  tokenFile: string | undefined;
  keyFile: string | undefined;
  enrollment: string | undefined;
  requestFile: string | undefined;
  json: boolean;
}

async function audit(options: AuditOptions, io: CliIo): Promise<number> {
  const missing = [
    options.gateway === undefined ? '--gateway (or FLEXPROOF_AUDIT_GATEWAY)' : undefined,
    options.tokenFile === undefined ? '--token-file (or FLEXPROOF_AUDIT_TOKEN_FILE)' : undefined,
    options.keyFile === undefined ? '--key-file (or FLEXPROOF_AUDIT_KEY_FILE)' : undefined,
    options.enrollment === undefined ? '--enrollment' : undefined,
  ].filter((m): m is string => m !== undefined);
  const { gateway, tokenFile, keyFile, enrollment } = options;
  if (missing.length > 0 || gateway === undefined || tokenFile === undefined || keyFile === undefined || enrollment === undefined) {
    throw new UsageError(`missing ${missing.join(', ')}`);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(enrollment)) throw new UsageError('--enrollment must be an enrollment id');

  try {
    parseGatewayUrl(gateway);
  } catch (error) {
    throw new UsageError(`--gateway ${(error as Error).message.replace(/^gatewayUrl: /, '')}`);
  }
  const token = readToken(tokenFile);
  const privateKey = readPrivateKey(keyFile, io);
  const client = new GatewayClient({
    baseUrl: gateway,
    token,
    retry: AUDIT_RETRY,
    ...(io.fetch ? { fetch: io.fetch } : {}),
    ...(io.sleep ? { sleep: io.sleep } : {}),
    onRetry: (line) => io.stderr(`flexproof-audit: ${line}\n`),
  });

  const requestFile = options.requestFile !== undefined ? readRequestFile(options.requestFile) : undefined;
  const view = await readEnrollmentView(client, enrollment);
  // Loaded here, not at start: @flexproof/circuits brings snarkjs, which --help and usage
  // errors do not need.
  const circuits = await import('@flexproof/circuits');
  // A view without a circuit id comes from a gateway older than the v2 circuits: every enrollment there is v1.
  const circuitId = view.enrollment.circuitId ?? circuits.SMALL_CIRCUIT_ID;
  const shape = circuitShapeOf(circuitId);
  if (!circuits.isCircuitId(shape)) {
    throw new GatewayError('unexpected', 200, 'BAD_ANSWER', `the enrollment's circuit ${circuitId} is not one this auditor knows (${circuits.CIRCUIT_IDS.join(', ')}): update flexproof-audit`);
  }
  let request: { requestProfile: readonly string[] } | undefined;
  if (requestFile !== undefined) {
    let commitment: string;
    try {
      commitment = circuits.requestCommitmentFor(shape, requestFile.commitmentSalt, requestFile.requestProfile).toString();
    } catch (error) {
      const name = (error as { details?: { name?: unknown } }).details?.name;
      throw new UsageError(`--request-file: ${typeof name === 'string' ? `${name}: ` : ''}not a request profile and salt of ${shape} (${(error as { code?: string }).code ?? 'invalid'})`);
    }
    if (commitment !== view.enrollment.requestCommitment) {
      throw new UsageError("--request-file: the profile and salt do not open the ledger's requestCommitment of this enrollment");
    }
    request = { requestProfile: requestFile.requestProfile };
  }
  const stored = await readSealedPeriods(client, view.enrollment.meterId, enrollment);
  const result = await auditSealedEnrollment({
    enrollment: { ...view.enrollment, circuitId },
    ledgerPeriods: view.periods,
    documents: stored.filter((d) => d.enrollmentId === enrollment),
    privateKeyPem: privateKey,
    circuits: circuits as AuditCircuits,
    ...(request !== undefined ? { request } : {}),
  });
  io.stdout(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatAudit(result));
  return auditPassed(result) ? EXIT_PASSED : EXIT_FAILED;
}

/** The request file: { requestProfile: 24 integers (numbers or decimal strings), commitmentSalt }. Its values are never echoed. */
function readRequestFile(file: string): { requestProfile: string[]; commitmentSalt: string } {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--request-file: cannot read ${file} as JSON (${error instanceof SyntaxError ? 'not JSON' : errnoCode(error)})`);
  }
  const v = value as { requestProfile?: unknown; commitmentSalt?: unknown } | null;
  const isInteger = (x: unknown): boolean => (typeof x === 'number' && Number.isSafeInteger(x)) || (typeof x === 'string' && /^-?(0|[1-9][0-9]*)$/.test(x));
  if (v === null || typeof v !== 'object' || !Array.isArray(v.requestProfile) || v.requestProfile.length !== 24 || !v.requestProfile.every(isInteger)) {
    throw new UsageError(`--request-file: ${file}.requestProfile must be 24 integers (Wh)`);
  }
  if (typeof v.commitmentSalt !== 'string' || !/^(0|[1-9][0-9]*)$/.test(v.commitmentSalt)) {
    throw new UsageError(`--request-file: ${file}.commitmentSalt must be a decimal string`);
  }
  return { requestProfile: (v.requestProfile as (string | number)[]).map(String), commitmentSalt: v.commitmentSalt };
}

function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--token-file: cannot read ${file} (${errnoCode(error)})`);
  }
  const token = text.trim();
  // The gateway's rule for a bearer token (printable ASCII, at most 512 characters).
  if (!/^[\x21-\x7e]{1,512}$/.test(token)) throw new UsageError(`--token-file: ${file} must hold one bearer token (printable ASCII, no spaces)`);
  return token;
}

function readPrivateKey(file: string, io: CliIo): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
    // Like ssh: a private key others can read is worth a warning, not a refusal.
    if ((statSync(file).mode & 0o077) !== 0) {
      io.stderr(`flexproof-audit: warning: ${file} is readable by others than its owner (chmod 600 it)\n`);
    }
  } catch (error) {
    throw new UsageError(`--key-file: cannot read ${file} (${errnoCode(error)})`);
  }
  try {
    return checkSealingPrivateKey(pem, '--key-file');
  } catch (error) {
    if (isSealedDataError(error)) throw new UsageError(`--key-file: ${file} must hold a P-256 (EC) private key in PEM`);
    throw error;
  }
}

function keygen(out: string | undefined, io: CliIo): number {
  if (out === undefined) throw new UsageError('keygen needs --out FILE');
  const publicFile = `${out}.pub`;
  const { privateKeyPem, publicKeyPem } = generateSealingKeyPair();
  try {
    // 'wx': never overwrite a key that may already be registered on the ledger.
    writeFileSync(out, privateKeyPem, { mode: 0o600, flag: 'wx' });
    chmodSync(out, 0o600);
  } catch (error) {
    throw new UsageError(`keygen: cannot create ${out} (${errnoCode(error)}; an existing key is never overwritten)`);
  }
  try {
    writeFileSync(publicFile, publicKeyPem, { mode: 0o644, flag: 'wx' });
  } catch (error) {
    throw new UsageError(`keygen: wrote ${out} but cannot create ${publicFile} (${errnoCode(error)})`);
  }
  io.stdout(
    `private key: ${path.resolve(out)} (0600: it opens every document sealed to this key; keep it off the gateways)\n` +
      `public key:  ${path.resolve(publicFile)}\n` +
      `keyHash:     ${sealingKeyHash(publicKeyPem)}\n` +
      `publicKeyPem:\n${publicKeyPem}`,
  );
  return EXIT_PASSED;
}

/** The audit as a table, one line per period, and a summary line. */
export function formatAudit(audit: EnrollmentAudit): string {
  const circuit = audit.circuitId !== undefined ? `, circuit ${audit.circuitId}` : '';
  const lines = [`enrollment ${audit.enrollmentId}, meter ${audit.meterId}${circuit}${audit.deviationsChecked ? ' (deviations recomputed from the request)' : ''}`, `${'period'.padEnd(7)}${'outcome'.padEnd(14)}${'verdict'.padEnd(13)}note`];
  for (const p of audit.periods) {
    const note = p.reason === undefined ? '' : p.field === undefined ? p.reason : `${p.reason} (${p.field})`;
    lines.push(`${String(p.periodIndex).padStart(6)} ${(p.outcome ?? 'unsettled').padEnd(14)}${p.verdict.padEnd(13)}${note}`.trimEnd());
  }
  const counts = VERDICTS.map((v) => `${audit.summary[v]} ${v}`).join(', ');
  lines.push(`summary: ${counts}: ${auditPassed(audit) ? 'PASSED' : 'FAILED'}`);
  return `${lines.join('\n')}\n`;
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

function errnoCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'error';
}

if (require.main === module) {
  runAuditCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // An unexpected failure: its name and message only (no stack with local data).
      const e = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      process.stderr.write(`flexproof-audit: unexpected error: ${e}\n`);
      process.exitCode = EXIT_USAGE;
    },
  );
}
