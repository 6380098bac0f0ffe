#!/usr/bin/env node
/**
 * Process entry of the gateway: reads the configuration (every problem listed), starts
 * the instance, stops it cleanly on SIGINT/SIGTERM.
 *
 *   flexproof-gateway              start (settings from the environment, see --help)
 *   flexproof-gateway hash-token   print a new random token and the sha256 to configure
 *   flexproof-gateway --help
 */
import { hashToken, newToken } from './auth/bearer-tokens';
import { ConfigError, loadConfig, SETTINGS } from './config';
import { startGateway } from './instance';

const SHUTDOWN_TIMEOUT_MS = 10_000;

function usage(): string {
  const width = Math.max(...SETTINGS.map((s) => s.name.length));
  return [
    'flexproof gateway: the REST API of one organisation (aggregator or DSO)',
    '',
    'usage: flexproof-gateway [--help | hash-token [TOKEN]]',
    '',
    'settings (environment variables, or keys of the JSON file FLEXPROOF_GATEWAY_CONFIG):',
    ...SETTINGS.map((s) => `  ${s.name.padEnd(width)}  ${s.meaning} [default: ${s.default}]`),
    '',
    'example:',
    '  TOKEN=$(flexproof-gateway hash-token | head -1)   # prints the token, then its sha256',
    '  FLEXPROOF_GATEWAY_ORG=dso FLEXPROOF_GATEWAY_TOKENS=\'[{"name":"ops","role":"dso","sha256":"<sha256>"}]\' flexproof-gateway',
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage());
    return;
  }
  if (argv[0] === 'hash-token') {
    const token = argv[1] ?? newToken();
    console.log(token);
    console.log(hashToken(token));
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
