/**
 * The subcommands: one entry per organisation action of the gateway API, each a thin
 * translation from flags to one typed client call (@flexproof/protocol's GatewayClient).
 * Field rules are the gateway's: the CLI checks only what it must to build the request
 * (and, for keys, what review needs), so the two cannot disagree.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { sealingKeyHash, type AuditorKeyRecord, type GatewayClient, type OfferEnrollmentInput, type WriteOptions } from '@flexproof/protocol';
import { errnoCode } from './config';
import { PACKAGE_OFFER_OPTIONS, offerWithPackage } from './enroll';
import { circuitIdProblem, readBundleKey, readKeyOrBundle, readLocalKey, reviewKey, type LocalKey } from './keys';
import { render, type Printable } from './output';
import { CheckRefused, UsageError } from './usage-error';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** Shown in help after the flag, e.g. ID. */
  value?: string;
  description: string;
  required?: boolean;
}

export interface CommandContext {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** The configured client (reads the profile and token on first use). */
  client(): Promise<GatewayClient>;
  /** The organisation's MSP id from the profile, when it names one. */
  org(): Promise<string | undefined>;
  write: WriteOptions;
  cwd: string;
  signal: AbortSignal | undefined;
  /** For `events`: one line out as soon as it is known. */
  emit(line: string): void;
  json: boolean;
  notice(line: string): void;
}

export interface Command {
  group: string;
  action?: string;
  summary: string;
  /** Positional arguments as shown in usage, e.g. `ACCOUNT...`. */
  args?: string;
  positionals?: { min: number; max: number };
  options?: Record<string, OptionSpec>;
  details?: string;
  /** False for commands that never call the gateway (keys hash). */
  gateway?: boolean;
  run(ctx: CommandContext): Promise<Printable | number>;
}

const str = (ctx: CommandContext, name: string): string => {
  const v = ctx.values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name}: is required`);
  return v;
};
const opt = (ctx: CommandContext, name: string): string | undefined => {
  const v = ctx.values[name];
  return typeof v === 'string' ? v : undefined;
};
const arg = (ctx: CommandContext, index: number, name: string): string => {
  const v = ctx.positionals[index];
  if (v === undefined || v === '') throw new UsageError(`${name}: is required`);
  return v;
};

/** 24 hourly Wh values: `--wh 100,0,...` (decimal integers), checked for count and form only. */
function whList(ctx: CommandContext, name: string): string[] {
  const values = str(ctx, name).split(',').map((v) => v.trim());
  if (values.length !== 24) throw new UsageError(`--${name}: must list 24 values (Wh per hourly period, comma-separated), got ${values.length}`);
  values.forEach((v, i) => {
    if (!/^(0|[1-9][0-9]{0,39})$/.test(v)) throw new UsageError(`--${name}: value ${i + 1} (${JSON.stringify(v.slice(0, 20))}) must be a non-negative integer (Wh)`);
  });
  return values;
}

function periodIndex(ctx: CommandContext, name: string): number {
  const v = str(ctx, name);
  if (!/^([0-9]|1[0-9]|2[0-3])$/.test(v)) throw new UsageError(`--${name}: must be a period (hour) 0 to 23`);
  return Number(v);
}

function readJsonFile(file: string, cwd: string, flag: string): unknown {
  let text: string;
  try {
    text = readFileSync(path.resolve(cwd, file), 'utf8');
  } catch (error) {
    throw new UsageError(`${flag} ${file}: cannot read it (${errnoCode(error)})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`${flag} ${file}: not valid JSON`);
  }
}

function readTextFile(file: string, cwd: string, flag: string): string {
  try {
    return readFileSync(path.resolve(cwd, file), 'utf8');
  } catch (error) {
    throw new UsageError(`${flag} ${file}: cannot read it (${errnoCode(error)})`);
  }
}

const record = (data: unknown): Printable => ({ data });
const list = (data: unknown, rows: readonly Record<string, unknown>[], columns: readonly string[]): Printable => ({
  data,
  list: { rows, columns },
});

const ACCOUNT_AMOUNT = {
  account: { type: 'string', value: 'ACCOUNT', description: 'org:<MSP id>, or a prosumer or escrow account', required: true },
  amount: { type: 'string', value: 'N', description: 'token base units, a positive integer', required: true },
} as const satisfies Record<string, OptionSpec>;
const CIRCUIT = { circuit: { type: 'string', value: 'ID', description: 'circuit id, e.g. flexdev-v1-r4', required: true } } as const satisfies Record<string, OptionSpec>;
const KEY_COLUMNS = ['circuitId', 'status', 'keyHash', 'proposedBy'];
const KEY_SOURCE = {
  ...CIRCUIT,
  bundle: { type: 'string', value: 'DIR', description: 'a ceremony bundle directory (`ceremony publish`) instead of FILE: checked whole, its verification key used' },
} as const satisfies Record<string, OptionSpec>;
const KEY_SOURCE_ARGS = '(FILE | --bundle DIR)';

/**
 * The local key a keys command compares or sends: FILE, or the key of --bundle DIR
 * (whose shape must be the circuit id's).
 */
async function localKeyOf(ctx: CommandContext): Promise<LocalKey> {
  const file = ctx.positionals[0];
  const bundle = opt(ctx, 'bundle');
  if ((file === undefined) === (bundle === undefined)) {
    throw new UsageError('give exactly one of FILE (a verification_key.json) and --bundle DIR (a ceremony bundle)');
  }
  if (bundle === undefined) return readLocalKey(file as string, ctx.cwd);
  const circuitId = str(ctx, 'circuit');
  const local = await readBundleKey(bundle, ctx.cwd);
  const problem = circuitIdProblem(circuitId, local.bundle as NonNullable<LocalKey['bundle']>);
  if (problem !== undefined) throw new UsageError(problem);
  return local;
}

/** The bundle's ceremony in a few lines, for the reviewer to compare with the published hashes. */
function bundleLines(local: LocalKey): string[] {
  const b = local.bundle;
  if (b === undefined) return [];
  return [
    `bundle shape ${b.circuitShape}, ${b.constraints} constraints, created ${b.createdAt}`,
    ...b.contributions.map((c) => `  contribution "${c.name}" ${c.hash}`),
    b.beacon ? `  beacon ${b.beacon.generator} (2^${b.beacon.iterations} iterations) ${b.beacon.hash}` : '  no beacon',
  ];
}

/** An auditor's P-256 public key file and its key hash (sha256 of the DER SPKI, as the ledger and the edges compute it). */
function readAuditorKey(ctx: CommandContext): { file: string; publicKeyPem: string; keyHash: string } {
  const file = str(ctx, 'public-key');
  const publicKeyPem = readTextFile(file, ctx.cwd, '--public-key');
  let keyHash: string;
  try {
    keyHash = sealingKeyHash(publicKeyPem);
  } catch {
    // The message never quotes the file: a private key given by mistake stays out of the output.
    throw new UsageError(`--public-key ${file}: must be an EC P-256 public key in SPKI PEM (-----BEGIN PUBLIC KEY-----), e.g. the auditor's \`flexproof-audit\` key`);
  }
  return { file, publicKeyPem, keyHash };
}

const AUDITOR = { auditor: { type: 'string', value: 'ID', description: 'auditor id', required: true } } as const satisfies Record<string, OptionSpec>;
const AUDITOR_KEY_FILE = {
  'public-key': { type: 'string', value: 'PEM_FILE', description: "the auditor's sealing public key, EC P-256 SPKI PEM", required: true },
} as const satisfies Record<string, OptionSpec>;

export const COMMANDS: readonly Command[] = [
  // ---- tokens -----------------------------------------------------------------------
  {
    group: 'tokens',
    action: 'mint',
    summary: 'Mint tokens into an account (DSO)',
    options: ACCOUNT_AMOUNT,
    run: async (ctx) => record(await (await ctx.client()).mint({ account: str(ctx, 'account'), amount: str(ctx, 'amount') }, ctx.write)),
  },
  {
    group: 'tokens',
    action: 'burn',
    summary: 'Burn tokens of an account (DSO)',
    options: ACCOUNT_AMOUNT,
    run: async (ctx) => record(await (await ctx.client()).burn({ account: str(ctx, 'account'), amount: str(ctx, 'amount') }, ctx.write)),
  },
  {
    group: 'tokens',
    action: 'transfer',
    summary: "Transfer tokens from the organisation's own account (DSO, aggregator)",
    options: {
      to: { type: 'string', value: 'ACCOUNT', description: 'the receiving account', required: true },
      amount: ACCOUNT_AMOUNT.amount,
    },
    run: async (ctx) => record(await (await ctx.client()).transfer({ to: str(ctx, 'to'), amount: str(ctx, 'amount') }, ctx.write)),
  },
  {
    group: 'tokens',
    action: 'balance',
    summary: 'Balance of accounts (default: the profile organisation\'s own, org:<org>)',
    args: '[ACCOUNT...]',
    positionals: { min: 0, max: 1000 },
    run: async (ctx) => {
      const client = await ctx.client();
      let accounts = ctx.positionals;
      if (accounts.length === 0) {
        const org = await ctx.org();
        if (org === undefined) throw new UsageError('ACCOUNT: is required (or set org in the profile to default to org:<org>)');
        accounts = [`org:${org}`];
      }
      if (accounts.length === 1) {
        const one = await client.balance(accounts[0] as string);
        return list(one, [one], ['accountId', 'balance']);
      }
      const many = await client.balances(accounts);
      return list(many, many.accounts, ['accountId', 'balance']);
    },
  },
  {
    group: 'tokens',
    action: 'supply',
    summary: 'Minted, burned and outstanding tokens',
    run: async (ctx) => record(await (await ctx.client()).supply()),
  },
  {
    group: 'tokens',
    action: 'audit',
    summary: 'Check the supply invariant over every account (exit 1 when it does not hold)',
    run: async (ctx) => {
      const audit = await (await ctx.client()).supplyAudit();
      if (audit.imbalance !== '0') {
        throw new CheckRefused(`the supply invariant does not hold: minted ${audit.minted} - burned ${audit.burned} - balances ${audit.balances} = ${audit.imbalance}`);
      }
      return record(audit);
    },
  },
  // ---- meters -----------------------------------------------------------------------
  {
    group: 'meters',
    action: 'register',
    summary: "Register a meter with its prosumer's public key (DSO)",
    options: {
      meter: { type: 'string', value: 'ID', description: 'meter id', required: true },
      prosumer: { type: 'string', value: 'ID', description: 'prosumer id', required: true },
      'public-key': { type: 'string', value: 'FILE', description: "the site's public key, SPKI PEM (Ed25519 or EC P-256)", required: true },
      'congestion-point': { type: 'string', value: 'ID', description: 'the congestion point the meter is behind', required: true },
    },
    run: async (ctx) =>
      record(
        await (await ctx.client()).registerMeter(
          {
            meterId: str(ctx, 'meter'),
            prosumerId: str(ctx, 'prosumer'),
            publicKeyPem: readTextFile(str(ctx, 'public-key'), ctx.cwd, '--public-key'),
            congestionPoint: str(ctx, 'congestion-point'),
          },
          ctx.write,
        ),
      ),
  },
  {
    group: 'meters',
    action: 'suspend',
    summary: 'Suspend a meter (DSO)',
    args: 'METER',
    positionals: { min: 1, max: 1 },
    options: { reason: { type: 'string', value: 'TEXT', description: 'why (public, on the ledger)', required: true } },
    run: async (ctx) => record(await (await ctx.client()).suspendMeter(arg(ctx, 0, 'METER'), str(ctx, 'reason'), ctx.write)),
  },
  {
    group: 'meters',
    action: 'reactivate',
    summary: 'Reactivate a suspended meter (DSO)',
    args: 'METER',
    positionals: { min: 1, max: 1 },
    options: { reason: { type: 'string', value: 'TEXT', description: 'why (public, on the ledger)', required: true } },
    run: async (ctx) => record(await (await ctx.client()).reactivateMeter(arg(ctx, 0, 'METER'), str(ctx, 'reason'), ctx.write)),
  },
  {
    group: 'meters',
    action: 'show',
    summary: 'A meter record',
    args: 'METER',
    positionals: { min: 1, max: 1 },
    run: async (ctx) => record(await (await ctx.client()).meter(arg(ctx, 0, 'METER'))),
  },
  // ---- market -----------------------------------------------------------------------
  {
    group: 'market',
    action: 'request',
    summary: 'Ask for flexibility at a congestion point on a day (DSO)',
    options: {
      request: { type: 'string', value: 'ID', description: 'request id', required: true },
      'congestion-point': { type: 'string', value: 'ID', description: 'congestion point', required: true },
      day: { type: 'string', value: 'YYYY-MM-DD', description: 'the day (UTC)', required: true },
      wh: { type: 'string', value: 'LIST', description: '24 comma-separated Wh values, one per hour', required: true },
    },
    run: async (ctx) =>
      record(
        await (await ctx.client()).createFlexRequest(
          { requestId: str(ctx, 'request'), congestionPoint: str(ctx, 'congestion-point'), day: str(ctx, 'day'), requestedWh: whList(ctx, 'wh') },
          ctx.write,
        ),
      ),
  },
  {
    group: 'market',
    action: 'close',
    summary: 'Stop taking offers for a request (DSO)',
    args: 'REQUEST',
    positionals: { min: 1, max: 1 },
    run: async (ctx) => record(await (await ctx.client()).closeFlexRequest(arg(ctx, 0, 'REQUEST'), ctx.write)),
  },
  {
    group: 'market',
    action: 'offer',
    summary: 'Offer flexibility for a request (aggregator)',
    options: {
      request: { type: 'string', value: 'ID', description: 'the request answered', required: true },
      offer: { type: 'string', value: 'ID', description: 'offer id', required: true },
      wh: { type: 'string', value: 'LIST', description: '24 comma-separated Wh values offered, one per hour', required: true },
      price: { type: 'string', value: 'N', description: 'price, token base units', required: true },
    },
    run: async (ctx) =>
      record(
        await (await ctx.client()).submitFlexOffer(
          str(ctx, 'request'),
          { offerId: str(ctx, 'offer'), offeredWh: whList(ctx, 'wh'), price: str(ctx, 'price') },
          ctx.write,
        ),
      ),
  },
  {
    group: 'market',
    action: 'order',
    summary: "Accept an offer as an order; its price moves from the DSO's account into escrow (DSO)",
    options: {
      offer: { type: 'string', value: 'ID', description: 'the offer accepted', required: true },
      order: { type: 'string', value: 'ID', description: 'order id', required: true },
    },
    details: 'The DSO account (org:DsoMSP) must hold the price: mint it first with `flexproof tokens mint`.',
    run: async (ctx) => record(await (await ctx.client()).acceptFlexOffer(str(ctx, 'offer'), str(ctx, 'order'), ctx.write)),
  },
  {
    group: 'market',
    action: 'settle',
    summary: 'Settle an order from the verified deviations of its enrollments (DSO, aggregator)',
    args: 'ORDER',
    positionals: { min: 1, max: 1 },
    run: async (ctx) => record(await (await ctx.client()).settleFlexOrder(arg(ctx, 0, 'ORDER'), ctx.write)),
  },
  {
    group: 'market',
    action: 'show',
    summary: 'A request with its offers and orders (--request), or an order with its enrollments (--order)',
    options: {
      request: { type: 'string', value: 'ID', description: 'a request id' },
      order: { type: 'string', value: 'ID', description: 'an order id' },
    },
    run: async (ctx) => {
      const request = opt(ctx, 'request');
      const order = opt(ctx, 'order');
      if ((request === undefined) === (order === undefined)) throw new UsageError('give exactly one of --request ID and --order ID');
      const client = await ctx.client();
      if (request !== undefined) {
        const view = await client.flexRequest(request);
        return { data: view, heading: [`request ${view.request.requestId}: ${view.request.status}`], list: { rows: [...view.offers, ...view.orders], columns: ['offerId', 'orderId', 'status', 'price'] } };
      }
      const view = await client.flexOrder(order as string);
      return { data: view, heading: [`order ${view.order.orderId}: ${view.order.status}`], list: { rows: view.enrollments, columns: ['enrollmentId', 'meterId', 'status'] } };
    },
  },
  // ---- verification keys --------------------------------------------------------------
  {
    group: 'keys',
    action: 'hash',
    summary: 'The canonical hash of a verification key file or a ceremony bundle: what the ledger records when it is proposed with `keys propose`',
    args: 'FILE|BUNDLE',
    positionals: { min: 1, max: 1 },
    gateway: false,
    details:
      "FILE is snarkjs's verification_key.json (with vk_alphabeta_12) or the normalised form: both give the same hash. The key is checked as the chaincode checks it (shape, points, G2 subgroup, IC length) first. BUNDLE is a directory written by `ceremony publish`: the whole bundle is checked (every file's sha256, the key derived again from the zkey, its canonical hash equal to bundle.json's verificationKeyHash) and its key's hash printed.",
    run: async (ctx) => {
      const local = await readKeyOrBundle(arg(ctx, 0, 'FILE'), ctx.cwd);
      if (!ctx.json) return { data: local.keyHash, heading: [] };
      return record({
        file: local.file,
        form: local.form,
        keyHash: local.keyHash,
        ...(local.bundle ? { bundle: { circuitShape: local.bundle.circuitShape, contributions: local.bundle.contributions, beacon: local.bundle.beacon, createdAt: local.bundle.createdAt } } : {}),
      });
    },
  },
  {
    group: 'keys',
    action: 'propose',
    summary: 'Check a verification key (file or ceremony bundle) locally, then propose it in canonical form for a new circuit id',
    args: KEY_SOURCE_ARGS,
    positionals: { min: 0, max: 1 },
    options: KEY_SOURCE,
    details:
      "Refused before sending when the key would not pass the chaincode's check, or when the bundle fails its integrity check or is of another shape than the circuit id (ID is the bundle's shape, or the shape with a .suffix, e.g. flexdev-v1-r4.ceremony2). The answer's keyHash must equal `flexproof keys hash FILE|BUNDLE`.",
    run: async (ctx) => {
      const local = await localKeyOf(ctx);
      const answer = await (await ctx.client()).proposeVerificationKey(str(ctx, 'circuit'), local.canonical, ctx.write);
      if (answer.result.keyHash !== local.keyHash) {
        ctx.notice(`warning: the ledger recorded keyHash ${answer.result.keyHash}, not ${local.keyHash} computed here`);
      }
      return record(answer);
    },
  },
  {
    group: 'keys',
    action: 'review',
    summary: "Show a circuit's proposed key beside a local file or ceremony bundle; exit 1 unless their hashes match",
    args: KEY_SOURCE_ARGS,
    positionals: { min: 0, max: 1 },
    options: KEY_SOURCE,
    details: 'With --bundle, also lists the ceremony\'s contributions and beacon: check your organisation\'s published contribution hash is among them.',
    run: async (ctx) => {
      const local = await localKeyOf(ctx);
      const review = reviewKey(await (await ctx.client()).verificationKey(str(ctx, 'circuit')), local);
      const out = { data: local.bundle ? { ...review, bundle: local.bundle } : review, heading: [...reviewLines(review), ...bundleLines(local)] };
      if (!review.matches) {
        ctx.emit(render(out, ctx.json));
        throw new CheckRefused(`the key of ${review.circuitId} on the ledger is not ${review.file}: ${review.problems.join('; ')}`);
      }
      return out;
    },
  },
  {
    group: 'keys',
    action: 'approve',
    summary: "Approve a circuit's proposed key, only if a local file's (or ceremony bundle's) hash equals the proposal's",
    args: KEY_SOURCE_ARGS,
    positionals: { min: 0, max: 1 },
    options: KEY_SOURCE,
    details: 'Sends the hash computed here from FILE (or the checked bundle), never the one the proposal carries.',
    run: async (ctx) => {
      const local = await localKeyOf(ctx);
      const client = await ctx.client();
      const circuitId = str(ctx, 'circuit');
      const review = reviewKey(await client.verificationKey(circuitId), local);
      if (!review.matches) throw new CheckRefused(`not approved: ${review.problems.join('; ')}`);
      return record(await client.approveVerificationKey(circuitId, local.keyHash, ctx.write));
    },
  },
  {
    group: 'keys',
    action: 'retire',
    summary: 'Propose retiring an active key (--approve: approve the other organisation\'s proposal)',
    options: { ...CIRCUIT, approve: { type: 'boolean', description: 'approve a proposed retirement instead of proposing one' } },
    run: async (ctx) => {
      const client = await ctx.client();
      const circuitId = str(ctx, 'circuit');
      return record(
        ctx.values.approve === true
          ? await client.approveVerificationKeyRetirement(circuitId, ctx.write)
          : await client.proposeVerificationKeyRetirement(circuitId, ctx.write),
      );
    },
  },
  {
    group: 'keys',
    action: 'list',
    summary: 'Every circuit id with its key status and hash',
    run: async (ctx) => {
      const answer = await (await ctx.client()).verificationKeys();
      return list(answer, answer.keys, KEY_COLUMNS);
    },
  },
  // ---- auditor keys -------------------------------------------------------------------
  {
    group: 'auditor-keys',
    action: 'hash',
    summary: "The key hash of an auditor's public key file (sha256 of its DER SPKI): what the ledger records and approvals name",
    args: 'PEM_FILE',
    positionals: { min: 1, max: 1 },
    gateway: false,
    run: async (ctx) => {
      const key = readAuditorKey({ ...ctx, values: { ...ctx.values, 'public-key': arg(ctx, 0, 'PEM_FILE') } });
      return ctx.json ? record({ file: key.file, keyHash: key.keyHash }) : { data: key.keyHash, heading: [] };
    },
  },
  {
    group: 'auditor-keys',
    action: 'propose',
    summary: "Propose an auditor's sealing public key under a new auditor id (the other organisation approves)",
    options: {
      ...AUDITOR,
      ...AUDITOR_KEY_FILE,
      description: { type: 'string', value: 'TEXT', description: 'who the auditor is (public, on the ledger; 1 to 200 characters)' },
    },
    details:
      "Once approved, every edge seals each period's raw readings to this key as well: the auditor can read every prosumer's data from then on. The answer's keyHash must equal `flexproof auditor-keys hash PEM_FILE`; give that hash to the approving organisation out of band.",
    run: async (ctx) => {
      const key = readAuditorKey(ctx);
      const description = opt(ctx, 'description');
      const answer = await (await ctx.client()).proposeAuditorKey(
        { auditorId: str(ctx, 'auditor'), publicKeyPem: key.publicKeyPem, ...(description === undefined ? {} : { description }) },
        ctx.write,
      );
      if (answer.result.keyHash !== key.keyHash) ctx.notice(`warning: the ledger recorded keyHash ${answer.result.keyHash}, not ${key.keyHash} computed here`);
      return record(answer);
    },
  },
  {
    group: 'auditor-keys',
    action: 'approve',
    summary: "Approve a proposed auditor key, only if a local public key file's hash equals the proposal's",
    options: { ...AUDITOR, ...AUDITOR_KEY_FILE },
    details:
      "PEM_FILE is the auditor's public key as received from the auditor (not from the proposing organisation). Sends the hash computed here from it, never the one the proposal carries; refused, with nothing sent, when the proposal's keyHash or the key it holds is another.",
    run: async (ctx) => {
      const key = readAuditorKey(ctx);
      const auditorId = str(ctx, 'auditor');
      const client = await ctx.client();
      const proposal = (await client.auditorKeys()).keys.find((k) => k.auditorId === auditorId);
      const problems = auditorKeyProblems(proposal, auditorId, key);
      if (problems.length > 0) throw new CheckRefused(`not approved: ${problems.join('; ')}`);
      return record(await client.approveAuditorKey(auditorId, key.keyHash, ctx.write));
    },
  },
  {
    group: 'auditor-keys',
    action: 'retire',
    summary: "Propose retiring an active auditor key (--approve: approve the other organisation's proposal)",
    options: { ...AUDITOR, approve: { type: 'boolean', description: 'approve a proposed retirement instead of proposing one' } },
    details:
      'Once the retirement is approved, edges stop sealing new periods to this key; what was sealed to it before stays readable by its holder. The other organisation approves with --approve.',
    run: async (ctx) => {
      const client = await ctx.client();
      const auditorId = str(ctx, 'auditor');
      return record(
        ctx.values.approve === true
          ? await client.approveAuditorKeyRetirement(auditorId, ctx.write)
          : await client.proposeAuditorKeyRetirement(auditorId, ctx.write),
      );
    },
  },
  {
    group: 'auditor-keys',
    action: 'list',
    summary: 'Every auditor key with its status and hash (edges seal to the active ones)',
    run: async (ctx) => {
      const answer = await (await ctx.client()).auditorKeys();
      return list(answer, answer.keys, ['auditorId', 'status', 'keyHash', 'proposedBy', 'description']);
    },
  },
  // ---- enrollments ------------------------------------------------------------------
  {
    group: 'enrollments',
    action: 'offer',
    summary: 'Offer an enrollment of a meter under an order, and write its enrollment package for the prosumer (aggregator)',
    options: {
      terms: { type: 'string', value: 'FILE', description: 'JSON: the terms as POST /v1/enrollments takes them (the form without a package)' },
      ...PACKAGE_OFFER_OPTIONS,
    },
    details: [
      'With --profile-file: reads the request profile, draws the commitment salt, computes the request commitment, offers the enrollment with the terms given as flags and writes the enrollment package (terms, profile and salt, sealed to --recipient-key) to --out (required: --enrollment --meter --order --circuit --reward --rate --tolerance --flex-wh --start --recipient-key --out), for `flexproof-edge enroll PACKAGE` at the site. The profile and salt are never printed.',
      '',
      'With --terms FILE instead: FILE holds { enrollmentId, orderId, meterId, circuitId, requestCommitment, reward, ratePerWh, toleranceWh, flexWh[24], startTime, periodSeconds?, graceSeconds? } and no secret; the profile and salt then reach the site some other way.',
    ].join('\n'),
    run: async (ctx) => {
      const termsFile = opt(ctx, 'terms');
      if ((termsFile === undefined) === (opt(ctx, 'profile-file') === undefined)) {
        throw new UsageError('give --profile-file FILE with the terms as flags (writes an enrollment package), or --terms FILE (terms only), not both');
      }
      if (termsFile === undefined) return offerWithPackage(ctx);
      const stray = Object.keys(PACKAGE_OFFER_OPTIONS).find((name) => opt(ctx, name) !== undefined);
      if (stray !== undefined) throw new UsageError(`--${stray}: is a flag of the --profile-file form; with --terms FILE every term is in the file`);
      const terms = readJsonFile(termsFile, ctx.cwd, '--terms');
      if (terms === null || typeof terms !== 'object' || Array.isArray(terms)) throw new UsageError('--terms: must hold one JSON object');
      for (const secret of ['requestProfile', 'commitmentSalt', 'salt']) {
        if (secret in terms) throw new UsageError(`--terms: ${secret}: must not be in the terms (it is secret; only its commitment goes to the ledger)`);
      }
      return record(await (await ctx.client()).offerEnrollment(terms as OfferEnrollmentInput, ctx.write));
    },
  },
  {
    group: 'enrollments',
    action: 'fund',
    summary: 'Deposit the reward of accepted enrollments into escrow; they become active (aggregator)',
    args: 'ENROLLMENT...',
    positionals: { min: 1, max: 256 },
    run: async (ctx) => {
      const client = await ctx.client();
      if (ctx.positionals.length === 1) return record(await client.fundEnrollment(ctx.positionals[0] as string, ctx.write));
      const answer = await client.fundEnrollments(ctx.positionals, ctx.write);
      return list(answer, answer.result.enrollments, ['enrollmentId', 'status']);
    },
  },
  {
    group: 'enrollments',
    action: 'cancel',
    summary: 'Withdraw an enrollment that is not funded yet (aggregator)',
    args: 'ENROLLMENT',
    positionals: { min: 1, max: 1 },
    run: async (ctx) => record(await (await ctx.client()).cancelEnrollment(arg(ctx, 0, 'ENROLLMENT'), ctx.write)),
  },
  {
    group: 'enrollments',
    action: 'close',
    summary: 'Close an enrollment whose periods are all settled; the rest of the escrow goes to the prosumer',
    args: 'ENROLLMENT',
    positionals: { min: 1, max: 1 },
    run: async (ctx) => record(await (await ctx.client()).closeEnrollment(arg(ctx, 0, 'ENROLLMENT'), ctx.write)),
  },
  {
    group: 'enrollments',
    action: 'claim',
    summary: 'Claim a period nobody submitted before its deadline (aggregator)',
    args: 'ENROLLMENT',
    positionals: { min: 1, max: 1 },
    options: { period: { type: 'string', value: 'N', description: 'the period (hour) 0 to 23', required: true } },
    run: async (ctx) => record(await (await ctx.client()).claimMissedPeriod(arg(ctx, 0, 'ENROLLMENT'), periodIndex(ctx, 'period'), ctx.write)),
  },
  {
    group: 'enrollments',
    action: 'show',
    summary: 'An enrollment with each period (end, deadline, outcome), its escrow and the next period due',
    args: 'ENROLLMENT',
    positionals: { min: 1, max: 1 },
    run: async (ctx) => {
      const view = await (await ctx.client()).enrollment(arg(ctx, 0, 'ENROLLMENT'));
      const e = view.enrollment;
      const rows = view.periods.map((p) => ({ periodIndex: p.periodIndex, endTime: p.endTime, deadline: p.deadline, outcome: p.result?.outcome ?? null }));
      return {
        data: view,
        heading: [`enrollment ${e.enrollmentId} (meter ${e.meterId}, order ${e.orderId}): ${e.status}; escrow ${view.escrow}; next period ${view.nextPeriod ?? '-'}`],
        list: { rows, columns: ['periodIndex', 'endTime', 'deadline', 'outcome'] },
      };
    },
  },
  // ---- events -----------------------------------------------------------------------
  {
    group: 'events',
    summary: 'Follow the chaincode events (server-sent events), one line per event, until interrupted',
    options: {
      enrollment: { type: 'string', value: 'ID', description: 'only events of this enrollment' },
      meter: { type: 'string', value: 'ID', description: 'only events of this meter' },
      'from-block': { type: 'string', value: 'N', description: 'replay from this block (the first column of an earlier line)' },
      limit: { type: 'string', value: 'N', description: 'stop after N events' },
    },
    details: 'Each line: block, event name, payload (JSON). With --json, one JSON object per line. If the stream breaks, resume with --from-block.',
    run: async (ctx) => {
      const limitText = opt(ctx, 'limit');
      if (limitText !== undefined && !/^[1-9][0-9]{0,8}$/.test(limitText)) throw new UsageError('--limit: must be a positive integer');
      const limit = limitText === undefined ? Infinity : Number(limitText);
      const filter = {
        ...(opt(ctx, 'enrollment') === undefined ? {} : { enrollmentId: opt(ctx, 'enrollment') }),
        ...(opt(ctx, 'meter') === undefined ? {} : { meterId: opt(ctx, 'meter') }),
        ...(opt(ctx, 'from-block') === undefined ? {} : { fromBlock: opt(ctx, 'from-block') }),
      };
      let seen = 0;
      const stop = new AbortController();
      const signal = ctx.signal ? AbortSignal.any([ctx.signal, stop.signal]) : stop.signal;
      for await (const e of (await ctx.client()).events(filter, signal)) {
        if (e.event === 'ready') {
          ctx.notice('listening for events (Ctrl-C to stop)');
          continue;
        }
        ctx.emit(ctx.json ? `${JSON.stringify(e)}\n` : `${e.id ?? '-'}  ${e.event}  ${JSON.stringify(e.data)}\n`);
        if (++seen >= limit) {
          stop.abort();
          break;
        }
      }
      return 0;
    },
  },
];

function reviewLines(r: ReturnType<typeof reviewKey>): string[] {
  const rows: [string, string][] = [
    ['circuit', `${r.circuitId} (${r.status}${r.proposedBy ? `, proposed by ${r.proposedBy}` : ''})`],
    ['proposal keyHash', r.ledgerKeyHash],
    ['hash of the ledger key', r.ledgerKeyCanonicalHash ?? '-'],
    [`hash of ${r.file}`, r.localKeyHash],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return [
    ...rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`),
    r.matches ? "match: the proposal is this file's key" : `DIFFERENT: ${r.problems.join('; ')}`,
  ];
}

/** Why a proposal is not the local auditor key, one sentence each (empty when it is, and still to approve). */
function auditorKeyProblems(proposal: AuditorKeyRecord | undefined, auditorId: string, key: { file: string; keyHash: string }): string[] {
  if (proposal === undefined) return [`no key is proposed under auditor id ${auditorId}`];
  const problems: string[] = [];
  if (proposal.status !== 'proposed') problems.push(`the key of auditor ${auditorId} is ${proposal.status}, not proposed`);
  if (proposal.keyHash !== key.keyHash) problems.push(`${key.file} hashes to ${key.keyHash}, the proposal's keyHash is ${proposal.keyHash}`);
  let heldHash: string | undefined;
  try {
    heldHash = sealingKeyHash(proposal.publicKeyPem);
  } catch {
    problems.push('the proposal holds no EC P-256 public key');
  }
  if (heldHash !== undefined && heldHash !== key.keyHash) problems.push(`the key the proposal holds hashes to ${heldHash}, not ${key.keyHash}`);
  return problems;
}
