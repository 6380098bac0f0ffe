/**
 * The demo's MQTT broker as a process of its own, so the supervisor can restart it and a
 * fault can kill it apart from everything else: edge-client's embedded broker with the
 * accounts of the run's meters and edge clients.
 *
 *   node demo/dist/broker-process.js ACCOUNTS_FILE PORT
 *
 * ACCOUNTS_FILE (0600, written by the demo) holds the accounts as JSON, passwords
 * included: they are secrets, so they come from a file, never the command line, which
 * any user of the machine can read.
 */
import { readFileSync } from 'node:fs';
import { jsonLogger, startEmbeddedBroker, type BrokerAccount } from '@flexproof/edge-client';

async function main(argv: string[]): Promise<void> {
  const [accountsFile, portArg] = argv;
  const port = Number(portArg);
  if (accountsFile === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error('usage: broker-process ACCOUNTS_FILE PORT (PORT: an integer from 1 to 65535)');
  }
  const accounts = JSON.parse(readFileSync(accountsFile, 'utf8')) as BrokerAccount[];
  if (!Array.isArray(accounts) || accounts.length === 0) throw new Error(`${accountsFile}: a JSON array of broker accounts`);
  const broker = await startEmbeddedBroker({ port, accounts, logger: jsonLogger({ level: 'warn' }) });
  console.log(`broker listening on 127.0.0.1:${broker.port} with ${accounts.length} accounts`);
  const stop = () => void broker.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`broker-process: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
