#!/usr/bin/env node
/**
 * flexproof: the operator command line of an organisation (DSO or aggregator) or an
 * auditor, on the typed gateway client of @flexproof/protocol. See `flexproof --help`.
 *
 * Arguments are parsed with node:util parseArgs (strict: an unknown flag is an error, not
 * ignored), which needs no dependency and is what flexproof-audit uses too.
 *
 * Exit codes: 0 done; 1 refused (by the gateway or ledger, 4xx, or by a check of this
 * tool: a key the ledger would refuse, a key review that does not match, a supply audit
 * that does not balance); 2 usage (flags, configuration, unreadable files); 3 unavailable
 * (no connection, or 503 until the retry deadline); 4 unexpected (any other failure).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { GatewayClient, GatewayError, VerificationKeyFormError, type GatewayErrorKind } from '@flexproof/protocol';
import { COMMANDS, type Command, type CommandContext, type OptionSpec } from './commands';
import { readToken, resolveConfig, type ResolvedConfig } from './config';
import { render } from './output';
import { CheckRefused, UsageError } from './usage-error';

export const EXIT = { ok: 0, refused: 1, usage: 2, unavailable: 3, unexpected: 4 } as const;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Where `--token-file -` reads the token. */
  stdin?: NodeJS.ReadableStream;
  cwd?: string;
  /** Ends a followed event stream (Ctrl-C). */
  signal?: AbortSignal;
  /** For tests: the client's fetch and sleep. */
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  profile: { type: 'string', value: 'FILE', description: 'profile JSON { gatewayUrl, tokenFile, org } (env FLEXPROOF_PROFILE)' },
  gateway: { type: 'string', value: 'URL', description: "the organisation's gateway (env FLEXPROOF_GATEWAY_URL)" },
  'token-file': { type: 'string', value: 'FILE', description: 'bearer token file, mode 0600; - reads stdin (env FLEXPROOF_TOKEN_FILE)' },
  json: { type: 'boolean', description: 'print the answer as JSON' },
  deadline: { type: 'string', value: 'SECONDS', description: 'give up retrying a busy or unreachable gateway after this long (default 60)' },
  'idempotency-key': { type: 'string', value: 'KEY', description: 'for a write: the Idempotency-Key to send (default: a new one per command); rerun with the same key after a crash' },
  help: { type: 'boolean', description: 'help for the command' },
};
const GLOBAL_WITH_VALUE = new Set(Object.entries(GLOBAL_OPTIONS).filter(([, o]) => o.type === 'string').map(([n]) => `--${n}`));

const GLOBAL_FLAGS = new Set(['-h', ...Object.keys(GLOBAL_OPTIONS).map((n) => `--${n}`)]);

const GROUPS = [...new Set(COMMANDS.map((c) => c.group))];

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const cwd = io.cwd ?? process.cwd();
  let command: Command | undefined;
  try {
    const [group, action, rest] = splitCommand(argv);
    const wantsHelp = rest.includes('--help') || rest.includes('-h');
    if (group === undefined) {
      if (wantsHelp || argv.length === 0) {
        io.stdout(mainHelp());
        return argv.length === 0 ? EXIT.usage : EXIT.ok;
      }
      throw new UsageError('no command given (see flexproof --help)');
    }
    if (!GROUPS.includes(group)) throw new UsageError(`unknown command: ${group} (commands: ${GROUPS.join(', ')})`);
    const inGroup = COMMANDS.filter((c) => c.group === group);
    const grouped = inGroup.some((c) => c.action !== undefined);
    if (grouped && action === undefined) {
      if (wantsHelp) {
        io.stdout(groupHelp(group));
        return EXIT.ok;
      }
      throw new UsageError(`${group}: which action? (${inGroup.map((c) => c.action).join(', ')}; see flexproof ${group} --help)`);
    }
    command = grouped ? inGroup.find((c) => c.action === action) : inGroup[0];
    if (!command) throw new UsageError(`unknown command: ${group} ${action ?? ''} (${group}: ${inGroup.map((c) => c.action).join(', ')})`);
    const args = grouped ? rest : [...(action === undefined ? [] : [action]), ...rest];
    if (wantsHelp) {
      io.stdout(commandHelp(command));
      return EXIT.ok;
    }
    return await runCommand(command, args, io, cwd);
  } catch (error) {
    return report(error, command, io);
  }
}

/**
 * Group and action are the first two words, before any flag of the command's own (global
 * flags and their values may come first: `flexproof --profile dso.json tokens supply`).
 */
function splitCommand(argv: readonly string[]): [string | undefined, string | undefined, string[]] {
  const rest: string[] = [];
  const words: string[] = [];
  let inCommandArgs = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a.startsWith('-')) {
      rest.push(a);
      if (GLOBAL_WITH_VALUE.has(a)) {
        if (i + 1 < argv.length) rest.push(argv[++i] as string);
      } else if (!GLOBAL_FLAGS.has(a)) {
        inCommandArgs = true;
      }
      continue;
    }
    if (!inCommandArgs && words.length < 2) words.push(a);
    else rest.push(a);
  }
  return [words[0], words[1], rest];
}

async function runCommand(command: Command, args: readonly string[], io: CliIo, cwd: string): Promise<number> {
  if (args.some((a) => a === '--token' || a.startsWith('--token='))) {
    throw new UsageError('--token: a token is never an argument (other users of this host can read argv): put it in a file (chmod 600) and pass --token-file FILE, or pass --token-file - and write it to stdin');
  }
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, spec] of Object.entries({ ...GLOBAL_OPTIONS, ...command.options })) {
    options[name] = { type: spec.type, ...(name === 'help' ? { short: 'h' } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed as { values: Record<string, string | boolean | undefined>; positionals: string[] };
  const bounds = command.positionals ?? { min: 0, max: 0 };
  if (positionals.length > bounds.max) throw new UsageError(`unexpected argument: ${positionals[bounds.max] ?? ''}`);
  if (positionals.length < bounds.min) throw new UsageError(`${command.args ?? 'an argument'}: is required`);
  for (const [name, spec] of Object.entries(command.options ?? {})) {
    if (spec.required && (values[name] === undefined || values[name] === '')) throw new UsageError(`--${name}: is required`);
  }
  const deadlineText = typeof values.deadline === 'string' ? values.deadline : undefined;
  if (deadlineText !== undefined && !/^[0-9]{1,5}$/.test(deadlineText)) throw new UsageError('--deadline: must be a whole number of seconds');
  const idempotencyKey = typeof values['idempotency-key'] === 'string' ? values['idempotency-key'] : undefined;
  if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,200}$/.test(idempotencyKey)) {
    throw new UsageError('--idempotency-key: must be 1 to 200 printable ASCII characters without spaces');
  }
  const json = values.json === true;
  let config: ResolvedConfig | undefined;
  const configOnce = (): ResolvedConfig =>
    (config ??= resolveConfig(
      {
        profile: typeof values.profile === 'string' ? values.profile : undefined,
        gateway: typeof values.gateway === 'string' ? values.gateway : undefined,
        tokenFile: typeof values['token-file'] === 'string' ? values['token-file'] : undefined,
      },
      io.env,
      cwd,
    ));
  let client: GatewayClient | undefined;
  const notice = (line: string) => io.stderr(`flexproof: ${line}\n`);
  const ctx: CommandContext = {
    values,
    positionals,
    cwd,
    json,
    signal: io.signal,
    write: idempotencyKey === undefined ? {} : { idempotencyKey },
    emit: (text) => io.stdout(text),
    notice,
    org: async () => configOnce().org,
    client: async () => {
      if (client) return client;
      const resolved = configOnce();
      const token = await readToken(resolved.tokenFile, io.stdin);
      client = new GatewayClient({
        baseUrl: resolved.gatewayUrl,
        token,
        retry: deadlineText === undefined ? {} : { deadlineMs: Number(deadlineText) * 1000 },
        ...(io.fetch ? { fetch: io.fetch } : {}),
        ...(io.sleep ? { sleep: io.sleep } : {}),
        onRetry: notice,
      });
      return client;
    },
  };
  const out = await command.run(ctx);
  if (typeof out === 'number') return out;
  io.stdout(render(out, json));
  return EXIT.ok;
}

const EXIT_OF_KIND: Record<GatewayErrorKind, number> = { refused: EXIT.refused, unavailable: EXIT.unavailable, unexpected: EXIT.unexpected };

function report(error: unknown, command: Command | undefined, io: CliIo): number {
  const name = command ? `flexproof ${command.group}${command.action ? ` ${command.action}` : ''}` : 'flexproof';
  if (error instanceof UsageError) {
    io.stderr(`${name}: ${error.message}\n(see ${name} --help)\n`);
    return EXIT.usage;
  }
  if (error instanceof CheckRefused || error instanceof VerificationKeyFormError) {
    io.stderr(`${name}: refused: ${error.message}\n`);
    return EXIT.refused;
  }
  if (error instanceof GatewayError) {
    const what = error.kind === 'refused' ? 'refused' : error.kind === 'unavailable' ? 'unavailable' : 'unexpected answer';
    io.stderr(`${name}: ${what}: ${error.message}${error.txId ? ` (txId ${error.txId})` : ''}\n`);
    return EXIT_OF_KIND[error.kind];
  }
  io.stderr(`${name}: unexpected error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
  return EXIT.unexpected;
}

// ---- help ------------------------------------------------------------------------------

function optionLines(options: Record<string, OptionSpec>): string[] {
  const entries = Object.entries(options).map(([name, o]) => [`--${name}${o.value ? ` ${o.value}` : ''}`, `${o.description}${o.required ? ' (required)' : ''}`] as const);
  const width = Math.max(0, ...entries.map(([flag]) => flag.length));
  return entries.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`);
}

function usageOf(c: Command): string {
  const required = Object.entries(c.options ?? {})
    .filter(([, o]) => o.required)
    .map(([n, o]) => `--${n} ${o.value ?? ''}`.trimEnd());
  return ['flexproof', c.group, c.action, ...required, c.args, '[options]'].filter((p) => p !== undefined).join(' ');
}

export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => `${c.group} ${c.action ?? ''}`.length));
  return [
    'flexproof: the operator command line of a flexproof organisation, on its gateway.',
    '',
    'Usage: flexproof COMMAND [ACTION] [options]      flexproof COMMAND [ACTION] --help',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${`${c.group} ${c.action ?? ''}`.padEnd(width)}  ${c.summary}`),
    '',
    'Options of every command:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'Configuration: a profile file (--profile or FLEXPROOF_PROFILE), then FLEXPROOF_GATEWAY_URL and',
    'FLEXPROOF_TOKEN_FILE, then the flags; a later one wins. The token is read from its file (mode',
    '0600) or stdin, never from an argument.',
    '',
    'Exit codes: 0 done; 1 refused (by the ledger or gateway, 4xx, or by a check of this tool);',
    '2 usage; 3 unavailable (no connection, or 503 until the deadline); 4 unexpected.',
    '',
  ].join('\n');
}

function groupHelp(group: string): string {
  const inGroup = COMMANDS.filter((c) => c.group === group);
  return [`flexproof ${group}:`, '', ...inGroup.map((c) => `  ${usageOf(c)}\n      ${c.summary}`), '', `flexproof ${group} ACTION --help for each action's options.`, ''].join('\n');
}

export function commandHelp(c: Command): string {
  return [
    `Usage: ${usageOf(c)}`,
    '',
    c.summary,
    ...(c.details ? ['', c.details] : []),
    ...(c.options ? ['', 'Options:', ...optionLines(c.options)] : []),
    '',
    'Options of every command:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
  ].join('\n');
}

if (require.main === module) {
  void runCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    stdin: process.stdin,
  }).then((code) => process.exit(code));
}
