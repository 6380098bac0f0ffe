#!/usr/bin/env node
/**
 * Process entry of the gateway: reads the configuration (every problem listed), starts
 * the instance, stops it cleanly on SIGINT/SIGTERM.
 *
 *   flexproof-gateway              start (settings from the environment, see --help)
 *   flexproof-gateway hash-token [TOKEN | -] [--json]
 *                                  print a token (new, given, or read from stdin) and the sha256 to configure
 *   flexproof-gateway --help
 */
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, SETTINGS } from './config';
import { startGateway } from './instance';
import { formatHashedToken, hashedToken } from './tools/hash-token';

const SHUTDOWN_TIMEOUT_MS = 10_000;

function usage(): string {
  const width = Math.max(...SETTINGS.map((s) => s.name.length));
  return [
    'flexproof gateway: the REST API of one organisation (aggregator or DSO)',
    '',
    'usage: flexproof-gateway [--help | hash-token [TOKEN | -] [--json]]',
    '',
    'hash-token prints a bearer token (a new random one; TOKEN; or, with -, the one read from',
    'stdin, which keeps it out of the process list) and the sha256 to list in',
    'FLEXPROOF_GATEWAY_TOKENS, as "token: ..." and "sha256: ..." lines, or one JSON object',
    '{"token","sha256"} with --json. The gateway keeps only the sha256; the user keeps the token.',
    '',
    'settings (environment variables, or keys of the JSON file FLEXPROOF_GATEWAY_CONFIG):',
    ...SETTINGS.map((s) => `  ${s.name.padEnd(width)}  ${s.meaning} [default: ${s.default}]`),
    '',
    'example (npx runs the bin from node_modules/.bin; on the PATH, drop it):',
    '  TOKEN=$(npx flexproof-gateway hash-token | sed -n "s/^token: //p")          # give it to the user',
    '  SHA256=$(printf %s "$TOKEN" | npx flexproof-gateway hash-token - | sed -n "s/^sha256: //p")',
    '  FLEXPROOF_GATEWAY_ORG=dso FLEXPROOF_GATEWAY_TOKENS="[{\\"name\\":\\"ops\\",\\"role\\":\\"dso\\",\\"sha256\\":\\"$SHA256\\"}]" npx flexproof-gateway',
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage());
    return;
  }
  if (argv[0] === 'hash-token') {
    const args = argv.slice(1);
    const json = args.includes('--json');
    const rest = args.filter((a) => a !== '--json');
    if (rest.length > 1 || rest.some((a) => a.startsWith('--'))) {
      console.error(`hash-token takes one TOKEN (or - for stdin) and --json\n\n${usage()}`);
      process.exitCode = 2;
      return;
    }
    const given = rest[0] === '-' ? readFileSync(0, 'utf8') : rest[0];
    let value;
    try {
      value = hashedToken(given);
    } catch (err) {
      console.error((err as Error).message);
      process.exitCode = 2;
      return;
    }
    process.stdout.write(formatHashedToken(value, json));
    return;
  }
  if (argv.length > 0) {
    console.error(`unknown argument ${argv[0]}\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${err.message}\n\nRun with --help for every setting.`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  const instance = await startGateway(config);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    instance.app.log.info(`${signal}: shutting down`);
    const force = setTimeout(() => {
      instance.app.log.error('shutdown timed out; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    force.unref();
    instance.close().then(
      () => clearTimeout(force),
      (err: unknown) => {
        instance.app.log.error({ err }, 'shutdown failed');
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`gateway failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
