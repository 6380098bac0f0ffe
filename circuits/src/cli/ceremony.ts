#!/usr/bin/env node
// npm run ceremony -w @flexproof/circuits -- <command> [options]
// Production trusted set-up: each organisation contributes to phase 2 in turn, and anyone
// verifies the chain of contributions against the r1cs (recompiled from this checkout)
// and the powers of tau. Step-by-step guide: circuits/README.md.

import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as snarkjs from 'snarkjs';
import { MANIFEST_FILE, sha256File } from '../artifacts';
import { CIRCUIT_IDS, CircuitId, assertCircuitId } from '../circuit-ids';
import { circuitSourceHash, toolVersions } from '../circuit-source';
import { CircuitError } from '../errors';
import { compileCircuit } from '../setup/compile';
import { ARTIFACT_FILES, finishArtifactDir, hex, requiredPower, selfCheck } from '../setup/steps';

const USAGE = `usage: npm run ceremony -w @flexproof/circuits -- <command> [options]

Phase 1 (powers of tau), when the organisations run their own instead of using a public one:
  ptau-new        --power P --out FILE                  start a BN254 powers of tau of 2^P
  ptau-contribute --in FILE --out FILE --name NAME      add a contribution (fresh entropy)
  ptau-finalize   --in FILE --out FILE [--beacon HEX [--iterations N]]
                                                        optional public beacon, then prepare for phase 2
  ptau-verify     --in FILE                             check every phase 1 contribution

Phase 2 (per circuit shape: ${CIRCUIT_IDS.join(', ')}):
  init        --circuit ID --ptau FILE --dir DIR        compile, write DIR/circuit_0000.zkey and DIR/ceremony.json
  contribute  --in ZKEY --out ZKEY --name NAME          add this organisation's contribution; prints its hash
  verify      --circuit ID --ptau FILE --zkey ZKEY [--dir DIR]
                                                        recompile the r1cs from this checkout and check the
                                                        zkey's whole chain of contributions against it and the ptau
  finalize    --dir DIR --zkey ZKEY --ptau FILE [--beacon HEX [--iterations N]]
                                                        verify, optional beacon, then write DIR/circuit.zkey,
                                                        verification_key.json and manifest.json (kind "ceremony")

Options:
  --entropy TEXT  extra entropy mixed with 32 bytes from node:crypto (contribute commands)
  --help          this text`;

const OPTIONS = {
  power: { type: 'string' },
  in: { type: 'string' },
  out: { type: 'string' },
  name: { type: 'string' },
  beacon: { type: 'string' },
  iterations: { type: 'string' },
  circuit: { type: 'string' },
  ptau: { type: 'string' },
  dir: { type: 'string' },
  zkey: { type: 'string' },
  entropy: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

const fail = (message: string): never => {
  throw new CircuitError('CEREMONY_FAILED', message);
};

function required(values: Values, ...names: (keyof Values)[]): string[] {
  const missing = names.filter((n) => typeof values[n] !== 'string' || values[n] === '');
  if (missing.length > 0) fail(`missing ${missing.map((m) => `--${m}`).join(', ')} (see --help)`);
  return names.map((n) => values[n] as string);
}

/**
 * A path as the user typed it: \`npm run -w\` runs scripts in the package directory, so
 * relative paths are taken from where npm was invoked (INIT_CWD).
 */
function userPath(file: string): string {
  return path.resolve(process.env.INIT_CWD ?? process.cwd(), file);
}

function existing(file: string): string {
  const resolved = userPath(file);
  if (!existsSync(resolved)) fail(`no such file: ${resolved}`);
  return resolved;
}

/** Prints snarkjs' report lines (contribution hashes among them); keeps errors for the failure message. */
function reportLogger(errors: string[] = [], infos: string[] = []): snarkjs.Logger {
  return {
    error: (m) => {
      errors.push(m);
      console.error(`  ${m}`);
    },
    warn: (m) => console.log(`  ${m}`),
    info: (m) => {
      infos.push(m);
      console.log(`  ${m.replace(/\n/g, '\n  ')}`);
    },
    debug: () => undefined,
  };
}

function mixedEntropy(extra: string | undefined): string {
  return createHash('sha512').update(randomBytes(32)).update(extra ?? '').digest('hex');
}

function printHash(title: string, hash: Uint8Array): void {
  const h = hex(hash);
  console.log(`${title}\n${[0, 1, 2, 3].map((i) => `    ${h.slice(i * 32, i * 32 + 32).replace(/(.{8})/g, '$1 ').trim()}`).join('\n')}`);
}

function beaconArgs(values: Values): { beacon: string; iterations: number } | undefined {
  if (values.beacon === undefined) return undefined;
  if (!/^([0-9a-fA-F]{2})+$/.test(values.beacon)) fail('--beacon must be hex (a public random value agreed in advance)');
  const iterations = Number(values.iterations ?? '10');
  if (!Number.isInteger(iterations) || iterations < 10 || iterations > 63) fail('--iterations must be 10..63 (2^N hash iterations)');
  return { beacon: values.beacon as string, iterations };
}

interface CeremonyState {
  circuitId: CircuitId;
  sourceHash: string;
  tools: ReturnType<typeof toolVersions>;
  constraints: number;
  r1csSha256: string;
  ptau: { file: string; sha256: string; power: number };
  createdAt: string;
}

async function recompile(circuitId: CircuitId): Promise<{ r1csPath: string; cleanup: () => void }> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'flexproof-ceremony-'));
  const compiled = await compileCircuit(circuitId, tmp);
  return { r1csPath: compiled.r1csPath, cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

/** Runs snarkjs' full check of a zkey; returns the contributions it reports, or throws. */
async function verifyZkey(r1csPath: string, ptau: string, zkey: string): Promise<{ name: string; hash: string }[]> {
  const errors: string[] = [];
  const infos: string[] = [];
  const ok = await snarkjs.zKey.verifyFromR1cs(r1csPath, ptau, zkey, reportLogger(errors, infos));
  if (ok !== true) fail(`zkey ${zkey} does NOT match the r1cs and the powers of tau${errors.length ? `: ${errors.join('; ')}` : ''}`);
  // snarkjs 0.7.6 reports each contribution, newest first, as "contribution #i name:" and
  // its hash in hex words; the manifest lists them oldest first.
  return infos
    .flatMap((line) => {
      const match = /^contribution #(\d+) (.*):\n([\s0-9a-f]+)$/.exec(line);
      return match ? [{ index: Number(match[1]), name: (match[2] ?? '').trim(), hash: (match[3] ?? '').replace(/\s/g, '') }] : [];
    })
    .sort((a, b) => a.index - b.index)
    .map(({ name, hash }) => ({ name, hash }));
}

const commands: Record<string, (values: Values) => Promise<void>> = {
  async 'ptau-new'(values) {
    const [power, out] = required(values, 'power', 'out');
    const p = Number(power);
    if (!Number.isInteger(p) || p < 8 || p > 28) fail('--power must be 8..28');
    const curve = await snarkjs.curves.getCurveFromName('bn128');
    await snarkjs.powersOfTau.newAccumulator(curve, p, userPath(out as string), reportLogger());
    console.log(`powers of tau 2^${p} started: ${out}; pass it to the first contributor`);
  },

  async 'ptau-contribute'(values) {
    const [input, out, name] = required(values, 'in', 'out', 'name');
    const hash = await snarkjs.powersOfTau.contribute(existing(input as string), userPath(out as string), name as string, mixedEntropy(values.entropy), reportLogger());
    printHash(`phase 1 contribution of "${name}" written to ${out}; publish this hash:`, hash);
  },

  async 'ptau-finalize'(values) {
    const [input, out] = required(values, 'in', 'out');
    let source = existing(input as string);
    const beacon = beaconArgs(values);
    const tmp = `${userPath(out as string)}.beacon.tmp`;
    if (beacon) {
      const hash = await snarkjs.powersOfTau.beacon(source, tmp, 'final beacon', beacon.beacon, beacon.iterations, reportLogger());
      if (!(hash instanceof Uint8Array)) fail('snarkjs refused the beacon');
      source = tmp;
    }
    console.log('preparing phase 2 (minutes: 2^12 about 1-2, 2^13 about 3-5 on 2 cores)');
    await snarkjs.powersOfTau.preparePhase2(source, userPath(out as string), reportLogger());
    rmSync(tmp, { force: true });
    console.log(`phase 1 final: ${out} (sha256 ${await sha256File(out as string)})`);
  },

  async 'ptau-verify'(values) {
    const [input] = required(values, 'in');
    const errors: string[] = [];
    if ((await snarkjs.powersOfTau.verify(existing(input as string), reportLogger(errors))) !== true) {
      fail(`powers of tau ${input} does NOT verify${errors.length ? `: ${errors.join('; ')}` : ''}`);
    }
    console.log(`OK: every phase 1 contribution of ${input} verifies`);
  },

  async init(values) {
    const [id, ptauArg, dirArg] = required(values, 'circuit', 'ptau', 'dir');
    const circuitId = assertCircuitId(id);
    const ptau = existing(ptauArg as string);
    const dir = userPath(dirArg as string);
    if (existsSync(path.join(dir, 'ceremony.json'))) fail(`${dir} already holds a ceremony`);
    mkdirSync(dir, { recursive: true });
    console.log(`compiling ${circuitId}`);
    const compiled = await compileCircuit(circuitId, dir);
    const info = await snarkjs.r1cs.info(compiled.r1csPath);
    const zkey0 = path.join(dir, 'circuit_0000.zkey');
    console.log(`${info.nConstraints} constraints (needs 2^${requiredPower(info)}); initial zkey from the powers of tau`);
    const created = await snarkjs.zKey.newZKey(compiled.r1csPath, ptau, zkey0, reportLogger());
    if (!existsSync(zkey0) || !(created instanceof Uint8Array)) fail('snarkjs could not create the initial zkey (is the powers of tau large enough and prepared for phase 2?)');
    const state: CeremonyState = {
      circuitId,
      sourceHash: circuitSourceHash(circuitId),
      tools: toolVersions(),
      constraints: info.nConstraints,
      r1csSha256: await sha256File(compiled.r1csPath),
      ptau: { file: path.basename(ptau), sha256: await sha256File(ptau), power: requiredPower(info) },
      createdAt: new Date().toISOString(),
    };
    writeFileSync(path.join(dir, 'ceremony.json'), `${JSON.stringify(state, null, 2)}\n`);
    console.log(`ceremony for ${circuitId} ready in ${dir}:
  r1cs sha256 ${state.r1csSha256}
  ptau sha256 ${state.ptau.sha256}
next: the first organisation runs
  npm run ceremony -w @flexproof/circuits -- contribute --in ${zkey0} --out circuit_0001.zkey --name "<MSP id>"`);
  },

  async contribute(values) {
    const [input, out, name] = required(values, 'in', 'out', 'name');
    const hash = await snarkjs.zKey.contribute(existing(input as string), userPath(out as string), name as string, mixedEntropy(values.entropy), reportLogger());
    if (!(hash instanceof Uint8Array)) fail(`snarkjs refused to contribute to ${input}`);
    printHash(`contribution of "${name}" written to ${out}; publish this hash, then pass the file on:`, hash);
  },

  async verify(values) {
    const [id, ptauArg, zkeyArg] = required(values, 'circuit', 'ptau', 'zkey');
    const circuitId = assertCircuitId(id);
    console.log(`recompiling ${circuitId} from ${path.resolve(__dirname, '..', '..', 'circom')}`);
    const { r1csPath, cleanup } = await recompile(circuitId);
    try {
      const r1csSha256 = await sha256File(r1csPath);
      if (values.dir !== undefined) {
        const state = JSON.parse(readFileSync(path.join(existing(values.dir), 'ceremony.json'), 'utf8')) as CeremonyState;
        if (state.circuitId !== circuitId) fail(`${values.dir} is a ceremony for ${state.circuitId}`);
        if (state.r1csSha256 !== r1csSha256) fail(`the ceremony's r1cs (${state.r1csSha256}) is not the one this checkout compiles (${r1csSha256})`);
        if (state.ptau.sha256 !== (await sha256File(existing(ptauArg as string)))) fail('the ceremony used another powers of tau file');
      }
      const contributions = await verifyZkey(r1csPath, existing(ptauArg as string), existing(zkeyArg as string));
      console.log(`OK: ${zkeyArg} is a valid phase 2 of ${circuitId} (r1cs sha256 ${r1csSha256}) with ${contributions.length} contribution(s): ${contributions.map((c) => `"${c.name}"`).join(', ')}`);
    } finally {
      cleanup();
    }
  },

  async finalize(values) {
    const [dirArg, zkeyArg, ptauArg] = required(values, 'dir', 'zkey', 'ptau');
    const dir = existing(dirArg as string);
    const state = JSON.parse(readFileSync(path.join(dir, 'ceremony.json'), 'utf8')) as CeremonyState;
    const circuitId = assertCircuitId(state.circuitId);
    if (state.sourceHash !== circuitSourceHash(circuitId)) fail('this checkout compiles other sources than the ceremony started with');
    const ptauFile = existing(ptauArg as string);
    if ((await sha256File(ptauFile)) !== state.ptau.sha256) fail('the ceremony used another powers of tau file');
    let zkey = existing(zkeyArg as string);
    const beacon = beaconArgs(values);
    if (beacon) {
      const beaconZkey = path.join(dir, 'circuit_beacon.zkey');
      const hash = await snarkjs.zKey.beacon(zkey, beaconZkey, 'final beacon', beacon.beacon, beacon.iterations, reportLogger());
      if (!(hash instanceof Uint8Array)) fail('snarkjs refused the beacon');
      printHash('beacon applied:', hash);
      zkey = beaconZkey;
    }
    console.log('verifying the whole chain before publishing');
    const contributions = await verifyZkey(path.join(dir, ARTIFACT_FILES.r1cs), ptauFile, zkey);
    if (contributions.length < 2) fail(`only ${contributions.length} contribution(s): each organisation must contribute`);
    copyFileSync(zkey, path.join(dir, ARTIFACT_FILES.zkey));
    const artifacts = await finishArtifactDir(dir, {
      kind: 'ceremony',
      circuitId,
      constraints: state.constraints,
      ptau: { file: ptauFile, power: state.ptau.power, origin: `ceremony ptau ${state.ptau.file}` },
      contributions,
    });
    console.log('self-check: prove and verify a random period');
    await selfCheck(artifacts);
    console.log(`final artifacts of ${circuitId} in ${dir} (${MANIFEST_FILE}); register ${ARTIFACT_FILES.verificationKey} with the verifier registry`);
  },
};

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return;
  }
  const run = commands[command];
  if (run === undefined) fail(`unknown command ${command} (see --help)`);
  const { values } = parseArgs({ args: rest, options: OPTIONS, strict: true });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  await (run as (v: Values) => Promise<void>)(values as Values);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    const code = error instanceof CircuitError ? error.code : 'CEREMONY_FAILED';
    console.error(`ceremony failed [${code}]: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
