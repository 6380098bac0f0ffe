/**
 * Where the CLI finds its gateway and token, in layers (a later layer wins):
 *
 *   1. a profile file, `--profile FILE` or FLEXPROOF_PROFILE: JSON
 *      { "gatewayUrl": "http://127.0.0.1:8081", "tokenFile": "dso.token", "org": "DsoMSP" }
 *      (tokenFile relative to the profile's directory; org optional, the organisation's
 *      MSP id, used for defaults such as its own account org:<org>)
 *   2. the environment: FLEXPROOF_GATEWAY_URL, FLEXPROOF_TOKEN_FILE
 *   3. the flags --gateway URL, --token-file FILE (`-` reads the token from stdin)
 *
 * The token itself is never an argument (argv is visible to every user of the host and
 * kept in shell history): it is read from a file that only its owner may read (mode
 * 0600 or stricter), or from stdin.
 */
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { MSP_ID_PATTERN, parseGatewayUrl } from '@flexproof/protocol';
import { UsageError } from './usage-error';

export interface ProfileFile {
  gatewayUrl?: string;
  tokenFile?: string;
  org?: string;
}

export interface ResolvedConfig {
  gatewayUrl: string;
  /** A path, or '-' for stdin. */
  tokenFile: string;
  org?: string;
}

const PROFILE_KEYS = new Set(['gatewayUrl', 'tokenFile', 'org']);

export function readProfile(file: string, cwd: string): ProfileFile {
  const full = path.resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (error) {
    throw new UsageError(`profile ${file}: cannot read it (${errnoCode(error)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`profile ${file}: not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`profile ${file}: must be a JSON object { gatewayUrl, tokenFile, org }`);
  }
  const record = parsed as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!PROFILE_KEYS.has(key)) throw new UsageError(`profile ${file}: ${key}: unknown key (allowed: ${[...PROFILE_KEYS].join(', ')})`);
  }
  const out: ProfileFile = {};
  for (const key of ['gatewayUrl', 'tokenFile', 'org'] as const) {
    const value = record[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') throw new UsageError(`profile ${file}: ${key}: must be a non-empty string`);
    out[key] = value;
  }
  if (out.tokenFile !== undefined && out.tokenFile !== '-') out.tokenFile = path.resolve(path.dirname(full), out.tokenFile);
  if (out.org !== undefined && !MSP_ID_PATTERN.test(out.org)) throw new UsageError(`profile ${file}: org: must be an MSP id such as DsoMSP`);
  return out;
}

export function resolveConfig(
  flags: { profile?: string; gateway?: string; tokenFile?: string },
  env: Record<string, string | undefined>,
  cwd: string,
): ResolvedConfig {
  const profileFile = flags.profile ?? nonEmpty(env.FLEXPROOF_PROFILE);
  const profile = profileFile === undefined ? {} : readProfile(profileFile, cwd);
  const gatewayUrl = flags.gateway ?? nonEmpty(env.FLEXPROOF_GATEWAY_URL) ?? profile.gatewayUrl;
  const tokenFile = flags.tokenFile ?? nonEmpty(env.FLEXPROOF_TOKEN_FILE) ?? profile.tokenFile;
  const missing = [
    gatewayUrl === undefined ? 'the gateway URL (--gateway, FLEXPROOF_GATEWAY_URL or a profile\'s gatewayUrl)' : undefined,
    tokenFile === undefined ? 'the token file (--token-file, FLEXPROOF_TOKEN_FILE or a profile\'s tokenFile)' : undefined,
  ].filter((m): m is string => m !== undefined);
  if (missing.length > 0 || gatewayUrl === undefined || tokenFile === undefined) {
    throw new UsageError(`missing ${missing.join(' and ')}`);
  }
  try {
    parseGatewayUrl(gatewayUrl);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return { gatewayUrl, tokenFile: tokenFile === '-' ? '-' : path.resolve(cwd, tokenFile), ...(profile.org === undefined ? {} : { org: profile.org }) };
}

/** The bearer token: first line of the file (or of stdin), which must be private to its owner. */
export async function readToken(tokenFile: string, stdin: NodeJS.ReadableStream | undefined): Promise<string> {
  let text: string;
  if (tokenFile === '-') {
    if (!stdin) throw new UsageError('--token-file -: no standard input to read the token from');
    text = await readAll(stdin);
  } else {
    let mode: number;
    try {
      mode = statSync(tokenFile).mode;
    } catch (error) {
      throw new UsageError(`token file ${tokenFile}: cannot read it (${errnoCode(error)})`);
    }
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new UsageError(`token file ${tokenFile}: must be readable by its owner only (mode ${(mode & 0o777).toString(8)}; run chmod 600 on it)`);
    }
    try {
      text = readFileSync(tokenFile, 'utf8');
    } catch (error) {
      throw new UsageError(`token file ${tokenFile}: cannot read it (${errnoCode(error)})`);
    }
  }
  const token = (text.split(/\r?\n/)[0] ?? '').trim();
  // The gateway's rule for a bearer token. The message never echoes what was read.
  if (!/^[\x21-\x7e]{1,512}$/.test(token)) {
    throw new UsageError(`token ${tokenFile === '-' ? 'on stdin' : `file ${tokenFile}`}: the first line must be one bearer token (1 to 512 printable ASCII characters, no spaces)`);
  }
  return token;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

export function errnoCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'unreadable';
}
