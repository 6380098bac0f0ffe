// Runs the circom 2 compiler (the circom2 npm package, WebAssembly) in a child process:
// its WASI runtime ends the process when done, and it must not take the caller along.

import { spawn } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CircuitId } from '../circuit-ids';
import { CIRCOM_DIR, COMPILER_FLAGS, mainCircuitSource, packageDir } from '../circuit-source';
import { CircuitError } from '../errors';

export interface CompiledCircuit {
  r1csPath: string;
  wasmPath: string;
  /** Compiler output, for logs. */
  log: string;
}

/** Longest common ancestor directory of absolute paths. */
function commonAncestor(paths: string[]): string {
  const split = paths.map((p) => path.resolve(p).split(path.sep));
  const first = split[0] ?? [];
  let length = 0;
  while (length < first.length && split.every((parts) => parts[length] === first[length])) length++;
  return first.slice(0, length).join(path.sep) || path.sep;
}

/** Compiles the shape's main component into outDir as circuit.r1cs and circuit.wasm. */
export async function compileCircuit(circuitId: CircuitId, outDir: string): Promise<CompiledCircuit> {
  mkdirSync(outDir, { recursive: true });
  const mainPath = path.join(outDir, 'circuit.circom');
  writeFileSync(mainPath, mainCircuitSource(circuitId));
  // circomlib's circuits are included as "circomlib/circuits/...", so the include path is
  // the node_modules directory holding circomlib.
  const libraryRoot = path.dirname(packageDir('circomlib'));
  // circom2 resolves include paths only below its working directory (a "../" include
  // path is not found), so it runs from a directory above both.
  const cwd = commonAncestor([CIRCOM_DIR, libraryRoot]);
  const args = [
    path.join(packageDir('circom2'), 'cli.js'),
    mainPath,
    ...COMPILER_FLAGS,
    '--r1cs',
    '--wasm',
    '-o',
    outDir,
    '-l',
    path.relative(cwd, CIRCOM_DIR) || '.',
    '-l',
    path.relative(cwd, libraryRoot) || '.',
  ];
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  // Strip terminal colours from the compiler's report.
  // eslint-disable-next-line no-control-regex
  log = log.replace(/\u001b\[[0-9;]*m/g, '');
  const wasmBuilt = path.join(outDir, 'circuit_js', 'circuit.wasm');
  if (exitCode !== 0 || !log.includes('Everything went okay')) {
    throw new CircuitError('COMPILE_FAILED', `circom2 failed to compile ${circuitId}`, {
      details: { circuitId, exitCode, output: log.split('\n').slice(-20).join('\n') },
    });
  }
  const wasmPath = path.join(outDir, 'circuit.wasm');
  renameSync(wasmBuilt, wasmPath);
  rmSync(path.join(outDir, 'circuit_js'), { recursive: true, force: true });
  return { r1csPath: path.join(outDir, 'circuit.r1cs'), wasmPath, log };
}
