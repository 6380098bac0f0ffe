#!/usr/bin/env node
// npm run setup -w @flexproof/circuits [-- <circuitId>...]
// Builds the dev artifacts of the small shapes (v1 and v2), or of the shapes named, when missing.

import { CIRCUIT_IDS, CircuitId, SMALL_CIRCUIT_ID, SMALL_NET_CIRCUIT_ID, assertCircuitId } from '../circuit-ids';
import { cacheRoot } from '../artifacts';
import { CircuitError } from '../errors';
import { buildDevArtifacts } from '../setup/dev-setup';

const USAGE = `usage: flexproof-circuits-setup [--json] [circuitId...]

Builds the dev artifacts (wasm, zkey, verification key, manifest) of each circuit named,
${SMALL_CIRCUIT_ID} and ${SMALL_NET_CIRCUIT_ID} when none is, unless the cache already holds them for this source.
Cache: ${cacheRoot()}/circuits (FLEXPROOF_CACHE overrides the root).
Circuits: ${CIRCUIT_IDS.join(', ')}.
  --json   one JSON object per line on stdout (used by ensureArtifacts)`;

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1).padStart(6)}s`;

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const json = argv.includes('--json');
  const ids: CircuitId[] = argv.filter((a) => a !== '--json').map(assertCircuitId);
  // The 15-minute shape of each version: both share the 2^12 powers of tau, and the demo
  // and the tests use both. The 60-reading shapes are built when named (or on first use).
  if (ids.length === 0) ids.push(SMALL_CIRCUIT_ID, SMALL_NET_CIRCUIT_ID);
  const started = Date.now();
  for (const circuitId of ids) {
    await buildDevArtifacts(circuitId, {
      onProgress: (event) => {
        if (json) console.log(JSON.stringify({ type: 'progress', ...event }));
        else console.log(`[setup ${seconds(Date.now() - started)}] ${event.circuitId} ${event.step}: ${event.message}`);
      },
    });
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const code = error instanceof CircuitError ? error.code : 'SETUP_FAILED';
    const message = error instanceof Error ? error.message : String(error);
    if (process.argv.includes('--json')) console.log(JSON.stringify({ type: 'error', code, message }));
    console.error(`circuits setup failed [${code}]: ${message}`);
    if (error instanceof CircuitError && typeof error.details.output === 'string') console.error(error.details.output);
    // The set-up's snarkjs calls keep worker threads alive: leave explicitly.
    process.exit(1);
  },
);
