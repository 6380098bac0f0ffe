#!/usr/bin/env node
// npm run ceremony -w @flexproof/circuits -- <command> [options]
// Production trusted set-up: each organisation contributes to phase 2 in turn, and anyone
// verifies the chain of contributions against the r1cs (recompiled from this checkout)
// and the powers of tau. Step-by-step guide: circuits/README.md.

import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as snarkjs from 'snarkjs';
import { MANIFEST_FILE, checkArtifactIntegrity, loadArtifactsFrom, sha256File } from '../artifacts';
import { BUNDLE_MANIFEST_FILE, type BundleBeacon, sameJson, verificationKeyOfZkey, writeBundle } from '../bundle';
import { CIRCUIT_IDS, CircuitId, assertCircuitId } from '../circuit-ids';
import { circuitSourceHash, toolVersions } from '../circuit-source';
import { CircuitError } from '../errors';
import { compileCircuit } from '../setup/compile';
import { type Contribution, contributionsFromReport, contributorProblem, describeContributions } from '../setup/contributions';
import { ARTIFACT_FILES, finishArtifactDir, hex, requiredPower, selfCheck } from '../setup/steps';

const USAGE = `usage: npm run ceremony -w @flexproof/circuits -- <command> [options]

Phase 1 (powers of tau), when the organisations run their own instead of using a public one:
  ptau-new        --power P --out FILE                  start a BN254 powers of tau of 2^P
  ptau-contribute --in FILE --out FILE --name NAME      add a contribution (fresh entropy); the input is
                                                        verified first
  ptau-finalize   --in FILE --out FILE [--beacon HEX [--iterations N]]
                                                        optional public beacon, then prepare for phase 2
  ptau-verify     --in FILE                             check every phase 1 contribution

Phase 2 (per circuit shape: ${CIRCUIT_IDS.join(', ')}):
  init        --circuit ID --ptau FILE --dir DIR        compile, write DIR/circuit_0000.zkey and DIR/ceremony.json
  contribute  --circuit ID --ptau FILE --in ZKEY --out ZKEY --name NAME
                                                        verify ZKEY's whole chain against the r1cs recompiled
                                                        from this checkout and the ptau, then add this
                                                        organisation's contribution; prints its hash
  verify      --circuit ID --ptau FILE --zkey ZKEY [--dir DIR]
                                                        recompile the r1cs from this checkout and check the
                                                        zkey's whole chain of contributions against it and the ptau
  finalize    --dir DIR --zkey ZKEY --ptau FILE [--beacon HEX [--iterations N]]
                                                        verify, optional beacon, then write DIR/circuit.zkey,
                                                        verification_key.json and manifest.json (kind "ceremony");
                                                        needs contributions from at least two different names
                                                        (the beacon does not count)
  publish     --dir DIR --out BUNDLE [--ptau FILE]      verify the finalized chain again (r1cs recompiled, ptau), then
                                                        write the deployable bundle directory BUNDLE: circuit.wasm,
                                                        circuit.zkey, verification_key.json, circuit.r1cs and bundle.json
                                                        (format flexproof.bundle.v1: sha256 of every file, contributions,
                                                        beacon, canonical verification key hash); refused if BUNDLE exists
                                                        (--force replaces an earlier bundle, nothing else); without
                                                        --ptau, the file ceremony.json names is looked for in the
                                                        current directory, beside DIR and in DIR

Options:
  --entropy TEXT  extra entropy mixed with 32 bytes from node:crypto (contribute commands)
  --force         overwrite output files that exist (refused otherwise)
  --help          this text

Paths are relative to the directory the command was typed in (with npm run -w, where npm
was invoked). An output may not be an input file.`;

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
  force: { type: 'boolean' },
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
 * A path as the user typed it. \`npm run ceremony -w\` runs this in the package directory,
 * so relative paths are taken from where npm was invoked (INIT_CWD). Only then: an
 * INIT_CWD inherited from some other npm script that started \`node ceremony.js\` is not
 * where the paths were typed.
 */
function userPath(file: string): string {
  const underNpm = process.env.npm_lifecycle_event === 'ceremony' && process.env.INIT_CWD !== undefined && process.env.INIT_CWD !== '';
  return path.resolve(underNpm ? (process.env.INIT_CWD as string) : process.cwd(), file);
}

/** The same file, whichever way it is named (a symlink, ./x, x). */
function sameFile(a: string, b: string): boolean {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  return real(a) === real(b);
}

/**
 * Where a command may write: not over one of its inputs (contribute --in X --out X would
 * destroy the only copy of X), and not over an existing file unless --force.
 */
function output(values: Values, file: string, inputs: string[]): string {
  const resolved = userPath(file);
  for (const input of inputs) {
    if (sameFile(resolved, input)) fail(`the output ${resolved} is an input of this command: write to another file`);
  }
  if (existsSync(resolved) && values.force !== true) fail(`${resolved} exists: give another output file, or --force to overwrite it`);
  return resolved;
}

function existing(file: string): string {
  const resolved = userPath(file);
  if (!existsSync(resolved)) fail(`no such file: ${resolved}`);
  return resolved;
}

/**
 * Runs a snarkjs check and keeps what it printed: snarkjs 0.7.6 reports some failures of
 * a zkey's contribution chain (e.g. "INVALID(0): Inconsistent transcript") with
 * console.log rather than its logger, and they belong in the failure message.
 */
async function capturingConsole<T>(lines: string[], run: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = (...args: unknown[]) => {
    const line = args.map(String).join(' ').trim();
    if (line !== '') lines.push(line);
    log(`  ${line}`);
  };
  try {
    return await run();
  } finally {
    console.log = log;
  }
}

/** The reasons snarkjs gave for a failed check, for the failure message. */
function reasons(errors: string[], printed: string[]): string {
  const invalid = printed.filter((l) => /INVALID|does not match|not match|error/i.test(l));
  const all = [...errors, ...invalid];
  return all.length > 0 ? `: snarkjs says: ${all.join('; ')}` : ' (snarkjs gave no reason)';
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

/** Runs snarkjs' full check of a zkey; returns the contributions it reports (oldest first), or throws with snarkjs' reason. */
async function verifyZkey(r1csPath: string, ptau: string, zkey: string): Promise<Contribution[]> {
  return (await verifyZkeyReport(r1csPath, ptau, zkey)).contributions;
}

/** verifyZkey with the verifier's info lines (the beacon's generator and iterations are only there). */
async function verifyZkeyReport(r1csPath: string, ptau: string, zkey: string): Promise<{ contributions: Contribution[]; infos: string[] }> {
  const errors: string[] = [];
  const infos: string[] = [];
  const printed: string[] = [];
  let ok: boolean;
  try {
    ok = await capturingConsole(printed, () => snarkjs.zKey.verifyFromR1cs(r1csPath, ptau, zkey, reportLogger(errors, infos)));
  } catch (error) {
    fail(`zkey ${zkey} cannot be checked: snarkjs says: ${(error as Error).message}`);
  }
  if (ok! !== true) fail(`zkey ${zkey} does NOT match the r1cs and the powers of tau${reasons(errors, printed)}`);
  return { contributions: contributionsFromReport(infos), infos };
}

/**
 * The beacon of a verified chain for the bundle: its contribution hash, and the generator
 * and iterations snarkjs reports after it ("Beacon generator: ..", "Beacon iterations
 * Exp: .."). A chain may end with one beacon; one elsewhere is not what finalize makes.
 */
function beaconOf(contributions: Contribution[], infos: string[]): BundleBeacon | null {
  const beacons = contributions.filter((c) => c.beacon);
  if (beacons.length === 0) return null;
  if (beacons.length > 1 || !(contributions[contributions.length - 1] as Contribution).beacon) {
    fail(`the chain has a beacon before the last contribution (${describeContributions(contributions)}): finalize applies the beacon last`);
  }
  const generator = infos.find((l) => l.startsWith('Beacon generator: '))?.slice('Beacon generator: '.length).trim().toLowerCase();
  const iterations = Number(infos.find((l) => l.startsWith('Beacon iterations Exp: '))?.slice('Beacon iterations Exp: '.length));
  if (generator === undefined || !/^([0-9a-f]{2})+$/.test(generator) || !Number.isInteger(iterations)) fail('snarkjs did not report the beacon\'s generator and iterations');
  return { hash: (beacons[0] as Contribution).hash, generator: generator as string, iterations };
}


/**
 * snarkjs' check of a powers of tau file and every contribution in it, or a failure with
 * its reason. `fresh: 'allowed'` (ptau-contribute) also takes the file ptau-new wrote,
 * which has no contribution for snarkjs to check yet: the first contributor's own
 * contribution is what makes it secret, and ptau-verify checks the whole chain later.
 */
async function verifyPtau(file: string, fresh: 'allowed' | 'refused' = 'refused'): Promise<void> {
  const errors: string[] = [];
  const printed: string[] = [];
  let ok: boolean;
  try {
    ok = await capturingConsole(printed, () => snarkjs.powersOfTau.verify(file, reportLogger(errors)));
  } catch (error) {
    fail(`powers of tau ${file} cannot be checked: snarkjs says: ${(error as Error).message}`);
  }
  if (ok! !== true) {
    const noContribution = [...errors, ...printed].some((line) => line.includes('has no contribution'));
    if (noContribution && fresh === 'allowed') {
      console.log(`${file} has no contribution yet (as ptau-new wrote it): this is the first`);
      return;
    }
    fail(`powers of tau ${file} does NOT verify${reasons(errors, printed)}`);
  }
}

/**
 * The ceremony's powers of tau: --ptau, or else the file ceremony.json names (by its
 * name, as init recorded it) where a ceremony keeps it: the caller's directory, beside
 * DIR, or in DIR. Whichever it is, its sha256 must be the one init recorded.
 */
async function ceremonyPtau(given: string | undefined, dir: string, state: CeremonyState): Promise<string> {
  if (given !== undefined) {
    const file = existing(given);
    if ((await sha256File(file)) !== state.ptau.sha256) fail(`${file} is not the powers of tau of the ceremony (sha256 ${state.ptau.sha256})`);
    return file;
  }
  const candidates = [userPath(state.ptau.file), path.join(path.dirname(dir), state.ptau.file), path.join(dir, state.ptau.file)];
  for (const file of [...new Set(candidates)]) {
    if (existsSync(file) && (await sha256File(file)) === state.ptau.sha256) return file;
  }
  return fail(`the ceremony's powers of tau ${state.ptau.file} (sha256 ${state.ptau.sha256}) is not in ${[...new Set(candidates.map(path.dirname))].join(', ')}: give --ptau FILE`);
}

const commands: Record<string, (values: Values) => Promise<void>> = {
  async 'ptau-new'(values) {
    const [power, out] = required(values, 'power', 'out');
    const p = Number(power);
    if (!Number.isInteger(p) || p < 8 || p > 28) fail('--power must be 8..28');
    const outFile = output(values, out as string, []);
    const curve = await snarkjs.curves.getCurveFromName('bn128');
    await snarkjs.powersOfTau.newAccumulator(curve, p, outFile, reportLogger());
    console.log(`powers of tau 2^${p} started: ${outFile}; pass it to the first contributor`);
  },

  async 'ptau-contribute'(values) {
    const [input, out, name] = required(values, 'in', 'out', 'name');
    const inFile = existing(input as string);
    const outFile = output(values, out as string, [inFile]);
    await verifyPtau(inFile, 'allowed');
    const hash = await snarkjs.powersOfTau.contribute(inFile, outFile, name as string, mixedEntropy(values.entropy), reportLogger());
    printHash(`phase 1 contribution of "${name}" written to ${outFile}; publish this hash:`, hash);
  },

  async 'ptau-finalize'(values) {
    const [input, out] = required(values, 'in', 'out');
    let source = existing(input as string);
    const outFile = output(values, out as string, [source]);
    const beacon = beaconArgs(values);
    // A file without any contribution has tau = 1 for all to see: never prepare it.
    await verifyPtau(source);
    const tmp = `${outFile}.beacon.tmp`;
    if (beacon) {
      const hash = await snarkjs.powersOfTau.beacon(source, tmp, 'final beacon', beacon.beacon, beacon.iterations, reportLogger());
      if (!(hash instanceof Uint8Array)) fail('snarkjs refused the beacon');
      source = tmp;
    }
    console.log('preparing phase 2 (minutes: 2^12 about 1-2, 2^13 about 3-5 on 2 cores)');
    await snarkjs.powersOfTau.preparePhase2(source, outFile, reportLogger());
    rmSync(tmp, { force: true });
    console.log(`phase 1 final: ${outFile} (sha256 ${await sha256File(outFile)})`);
  },

  async 'ptau-verify'(values) {
    const [input] = required(values, 'in');
    const file = existing(input as string);
    await verifyPtau(file);
    console.log(`OK: every phase 1 contribution of ${file} verifies`);
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
  npm run ceremony -w @flexproof/circuits -- contribute --circuit ${circuitId} --ptau ${ptau} --in ${zkey0} --out circuit_0001.zkey --name "<MSP id>"`);
  },

  async contribute(values) {
    const [id, ptauArg, input, out, name] = required(values, 'circuit', 'ptau', 'in', 'out', 'name');
    const circuitId = assertCircuitId(id);
    const ptau = existing(ptauArg as string);
    const inFile = existing(input as string);
    const outFile = output(values, out as string, [inFile, ptau]);
    // Contributing to a zkey that is not this circuit's, or whose chain is broken, would
    // waste the contribution (and the ceremony's turn): check it first, as verify does.
    console.log(`checking ${inFile} against ${circuitId} recompiled from this checkout and the powers of tau`);
    const { r1csPath, cleanup } = await recompile(circuitId);
    let earlier: Contribution[];
    try {
      earlier = await verifyZkey(r1csPath, ptau, inFile);
    } finally {
      cleanup();
    }
    if (earlier.some((c) => c.beacon)) fail(`${inFile} already ends with a beacon: contributions come before the final beacon`);
    console.log(`input OK: ${earlier.length} earlier contribution(s)${earlier.length > 0 ? `: ${describeContributions(earlier)}` : ''}`);
    const hash = await snarkjs.zKey.contribute(inFile, outFile, name as string, mixedEntropy(values.entropy), reportLogger());
    if (!(hash instanceof Uint8Array)) fail(`snarkjs refused to contribute to ${inFile}`);
    printHash(`contribution of "${name}" written to ${outFile}; publish this hash, then pass the file on:`, hash);
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
      console.log(`OK: ${zkeyArg} is a valid phase 2 of ${circuitId} (r1cs sha256 ${r1csSha256}) with ${contributions.length} contribution(s): ${describeContributions(contributions)}`);
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
    const finalFiles = [ARTIFACT_FILES.zkey, ARTIFACT_FILES.verificationKey, MANIFEST_FILE, ...(beacon ? ['circuit_beacon.zkey'] : [])];
    for (const file of finalFiles) output(values, path.join(dir, file), [zkey, ptauFile]);
    if (beacon) {
      const beaconZkey = path.join(dir, 'circuit_beacon.zkey');
      const hash = await snarkjs.zKey.beacon(zkey, beaconZkey, 'final beacon', beacon.beacon, beacon.iterations, reportLogger());
      if (!(hash instanceof Uint8Array)) fail('snarkjs refused the beacon');
      printHash('beacon applied:', hash);
      zkey = beaconZkey;
    }
    console.log('verifying the whole chain before publishing');
    let contributions: Contribution[];
    try {
      contributions = await verifyZkey(path.join(dir, ARTIFACT_FILES.r1cs), ptauFile, zkey);
      const problem = contributorProblem(contributions);
      if (problem !== undefined) fail(problem);
    } catch (error) {
      // Nothing of a refused finalize stays behind to be mistaken for a result.
      if (beacon) rmSync(path.join(dir, 'circuit_beacon.zkey'), { force: true });
      throw error;
    }
    copyFileSync(zkey, path.join(dir, ARTIFACT_FILES.zkey));
    const artifacts = await finishArtifactDir(dir, {
      kind: 'ceremony',
      circuitId,
      constraints: state.constraints,
      ptau: { file: ptauFile, power: state.ptau.power, origin: `ceremony ptau ${state.ptau.file}` },
      contributions: contributions.map(({ name, hash }) => ({ name, hash })),
    });
    console.log('self-check: prove and verify a random period');
    await selfCheck(artifacts);
    console.log(`final artifacts of ${circuitId} in ${dir} (${MANIFEST_FILE}); register ${ARTIFACT_FILES.verificationKey} with the verifier registry`);
  },

  async publish(values) {
    const [dirArg, outArg] = required(values, 'dir', 'out');
    const dir = existing(dirArg as string);
    const state = JSON.parse(readFileSync(existing(path.join(dir, 'ceremony.json')), 'utf8')) as CeremonyState;
    const circuitId = assertCircuitId(state.circuitId);
    if (state.sourceHash !== circuitSourceHash(circuitId)) fail('this checkout compiles other sources than the ceremony started with');
    const ptauFile = await ceremonyPtau(values.ptau, dir, state);
    let artifacts;
    try {
      artifacts = loadArtifactsFrom(dir);
      await checkArtifactIntegrity(artifacts);
    } catch (error) {
      if (error instanceof CircuitError && error.code === 'ARTIFACTS_MISSING') fail(`${dir} holds no finalized ceremony (${error.message}): run finalize first`);
      if (error instanceof CircuitError && error.code === 'ARTIFACTS_CORRUPT') fail(`${dir}: ${error.message}: a file changed since finalize`);
      throw error;
    }
    if (artifacts.manifest.kind !== 'ceremony' || artifacts.circuitId !== circuitId) fail(`${dir}/${MANIFEST_FILE} is not the finalized ceremony of ${circuitId}`);
    // Checked before minutes of verification: where the bundle goes, and that it destroys nothing.
    const out = userPath(outArg as string);
    for (const input of [dir, ptauFile]) {
      if (sameFile(out, input) || `${path.resolve(input)}${path.sep}`.startsWith(`${out}${path.sep}`)) fail(`the output ${out} is (or holds) an input of this command (${input}): write the bundle elsewhere`);
    }
    if (existsSync(out) && values.force !== true) fail(`${out} exists: give another output directory, or --force to replace the bundle there`);
    if (existsSync(out) && !existsSync(path.join(out, BUNDLE_MANIFEST_FILE))) fail(`${out} exists and is not a bundle (no ${BUNDLE_MANIFEST_FILE}): --force replaces only an earlier bundle`);

    console.log(`verifying the finalized chain again: ${circuitId} recompiled from this checkout, ${artifacts.zkeyPath} against it and the powers of tau`);
    const { r1csPath, cleanup } = await recompile(circuitId);
    let report: { contributions: Contribution[]; infos: string[] };
    try {
      const r1csSha256 = await sha256File(r1csPath);
      if (r1csSha256 !== state.r1csSha256) fail(`the ceremony's r1cs (${state.r1csSha256}) is not the one this checkout compiles (${r1csSha256})`);
      if (artifacts.manifest.files.r1cs.sha256 !== r1csSha256) fail(`${artifacts.r1csPath} is not the r1cs this checkout compiles`);
      report = await verifyZkeyReport(r1csPath, ptauFile, artifacts.zkeyPath);
    } finally {
      cleanup();
    }
    const problem = contributorProblem(report.contributions);
    if (problem !== undefined) fail(problem);
    const beacon = beaconOf(report.contributions, report.infos);
    const recorded = JSON.stringify(artifacts.manifest.contributions.map(({ name, hash }) => ({ name, hash })));
    if (recorded !== JSON.stringify(report.contributions.map(({ name, hash }) => ({ name, hash })))) {
      fail(`the contributions in ${MANIFEST_FILE} are not those in the zkey (${describeContributions(report.contributions)})`);
    }
    const derived = await verificationKeyOfZkey(artifacts.zkeyPath);
    if (!sameJson(derived, JSON.parse(readFileSync(artifacts.verificationKeyPath, 'utf8')))) {
      fail(`${artifacts.verificationKeyPath} is not the verification key of ${artifacts.zkeyPath}`);
    }
    const bundle = await writeBundle(
      out,
      {
        circuitId,
        files: { wasm: artifacts.wasmPath, zkey: artifacts.zkeyPath, verificationKey: artifacts.verificationKeyPath, r1cs: artifacts.r1csPath },
        contributions: report.contributions.filter((c) => !c.beacon).map(({ name, hash }) => ({ name, hash })),
        beacon,
        constraints: state.constraints,
        ptau: { sha256: state.ptau.sha256, power: state.ptau.power },
      },
      { force: values.force === true },
    );
    const m = bundle.manifest;
    console.log(`bundle of ${circuitId} written to ${out} (${BUNDLE_MANIFEST_FILE}, format ${m.format}):
  verificationKeyHash ${m.verificationKeyHash}
  r1cs sha256         ${m.r1csSha256}
  contributions       ${m.contributions.map((c) => `"${c.name}" ${c.hash.slice(0, 16)}…`).join(', ')}
  beacon              ${m.beacon ? `${m.beacon.generator} (2^${m.beacon.iterations} iterations), hash ${m.beacon.hash.slice(0, 16)}…` : 'none'}
next: one organisation proposes the key, the other reviews it and approves (the circuit id is the shape, or the shape with a .suffix):
  flexproof keys propose --circuit ${circuitId} --bundle ${out}
  flexproof keys review  --circuit ${circuitId} --bundle ${out}
  flexproof keys approve --circuit ${circuitId} --bundle ${out}
then at every site: flexproof-edge artifacts install ${out} --config site.json`);
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
