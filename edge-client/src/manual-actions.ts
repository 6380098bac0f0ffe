/**
 * The prosumer's explicit actions (`flexproof-edge accept`, `flexproof-edge withdraw`):
 * what is about to be signed is shown, and signed only on confirmation. The commitments
 * of an enrollment (circuit, request commitment, timing, meter) must equal the config
 * whatever the confirmation, and the ledger's verification key must be the site's own:
 * a person cannot confirm their way into proofs the ledger would find invalid.
 */
import type { KeyObject } from 'node:crypto';
import { acceptancePayload, commitmentDifferences, missingPolicyTerms, policyRefusals, termsTable, type TermRefusal } from './accept-policy';
import type { EdgeConfig } from './config';
import { EdgeError } from './errors';
import type { GatewayPort } from './gateway-port';
import { localKeyHash, lookUpLedgerKey } from './ledger-key';
import { ACTION_WITHDRAW, signPayload, type WithdrawPayload } from './prosumer-signing';
import type { ProverPort } from './prover';

export interface ManualActionContext {
  config: EdgeConfig;
  gateway: GatewayPort;
  privateKey: KeyObject;
  /** Asked once, after everything is shown; true signs. */
  confirm: (question: string) => Promise<boolean>;
  /** Where the terms and outcome are written (stdout). */
  out: (text: string) => void;
  /** Nonces are this clock's milliseconds (strictly increasing per meter on the ledger). */
  now?: () => number;
}

export type AcceptOutcome =
  | { signed: true; result: unknown }
  | { signed: false; reason: 'not-offered' | 'terms-mismatch' | 'key-mismatch' | 'unavailable' | 'not-confirmed'; status?: string; refusals?: TermRefusal[]; message?: string };

export async function acceptByHand(ctx: ManualActionContext & { prover: ProverPort }, enrollmentId: string): Promise<AcceptOutcome> {
  const { config, out } = ctx;
  const enrollment = config.enrollments.find((e) => e.enrollmentId === enrollmentId);
  if (!enrollment) throw new EdgeError('USAGE', `enrollment ${enrollmentId} is not in the config: add it (with its request profile and salt) first`, { details: { enrollmentId } });
  const view = await ctx.gateway.getEnrollment(enrollmentId);
  const site = { meterId: config.meterId, prosumerId: config.prosumerId };
  out(`enrollment ${enrollmentId} on the ledger: ${view.enrollment.status}\n\n`);
  out(formatTermsTable(termsTable(view, site, enrollment)));
  const mismatch = commitmentDifferences(view, site, enrollment);
  if (mismatch.length > 0) {
    out(`\nREFUSED: the ledger's terms differ from the config, so this site cannot prove them; nothing signed:\n${mismatch.map((m) => `  ${m.term}: ${m.rule}`).join('\n')}\n`);
    return { signed: false, reason: 'terms-mismatch', refusals: mismatch };
  }
  if (view.enrollment.status !== 'offered') {
    out(`\nnothing to accept: the enrollment is ${view.enrollment.status}, not offered\n`);
    return { signed: false, reason: 'not-offered', status: view.enrollment.status };
  }
  const own = localKeyHash(await ctx.prover.verificationKey(enrollment.shape));
  const key = await lookUpLedgerKey(ctx.gateway, enrollmentId, { circuitId: enrollment.circuitId, localKeyHash: own });
  if (!key.ok) {
    if ('unavailable' in key) {
      const message = (key.error as Error).message;
      out(`\nthe ledger's verification key could not be fetched (${message}); nothing signed, try again\n`);
      return { signed: false, reason: 'unavailable', message };
    }
    out(`\nREFUSED: ${key.reason}; nothing signed\n`);
    return { signed: false, reason: 'key-mismatch', message: key.reason };
  }
  out(`\nthe ledger's verification key of ${enrollment.circuitId} is this site's (hash ${key.keyHash})\n`);
  const outside = policyRefusals(view, enrollment.acceptPolicy);
  const missing = missingPolicyTerms(enrollment.acceptPolicy);
  if (outside.length > 0) out(`\nOUTSIDE your acceptPolicy:\n${outside.map((r) => `  ${r.term}: ${r.rule}`).join('\n')}\n`);
  if (missing.length > 0) out(`\nyour acceptPolicy does not set: ${missing.join(', ')}\n`);
  if (!(await ctx.confirm(`Sign the acceptance of enrollment ${enrollmentId} with these terms?`))) {
    out('not confirmed: nothing signed\n');
    return { signed: false, reason: 'not-confirmed' };
  }
  const payload = acceptancePayload(view, config.ledger, String((ctx.now ?? Date.now)()));
  const result = await ctx.gateway.acceptEnrollment(enrollmentId, JSON.stringify({ payload, signature: signPayload(payload, ctx.privateKey) }));
  out(`signed and sent: enrollment ${enrollmentId} accepted${txIdOf(result)}\n`);
  return { signed: true, result };
}

export type WithdrawOutcome = { signed: true; result: unknown } | { signed: false; reason: 'not-confirmed' };

/** Withdraws (burns) `amount` token base units of the prosumer's account for off-chain redemption. */
export async function withdrawByHand(ctx: ManualActionContext, amount: string): Promise<WithdrawOutcome> {
  if (!/^[1-9][0-9]{0,77}$/.test(amount)) throw new EdgeError('USAGE', '--amount: a positive integer (token base units)', { details: { field: 'amount' } });
  const { config } = ctx;
  const payload: WithdrawPayload = {
    type: ACTION_WITHDRAW,
    channel: config.ledger.channel,
    chaincode: config.ledger.chaincode,
    meterId: config.meterId,
    prosumerId: config.prosumerId,
    amount,
    nonce: String((ctx.now ?? Date.now)()),
  };
  ctx.out(`withdraw ${amount} from the account of prosumer ${config.prosumerId} (meter ${config.meterId}) on ${config.ledger.channel}/${config.ledger.chaincode}\n`);
  if (!(await ctx.confirm('Sign this withdrawal?'))) {
    ctx.out('not confirmed: nothing signed\n');
    return { signed: false, reason: 'not-confirmed' };
  }
  const result = await ctx.gateway.withdraw(JSON.stringify({ payload, signature: signPayload(payload, ctx.privateKey) }));
  ctx.out(`signed and sent: withdrawal of ${amount}${txIdOf(result)}\n`);
  return { signed: true, result };
}

function txIdOf(result: unknown): string {
  const txId = (result as { txId?: unknown } | undefined)?.txId;
  return typeof txId === 'string' ? ` (tx ${txId})` : '';
}

export function formatTermsTable(lines: ReturnType<typeof termsTable>): string {
  const width = Math.max(...lines.map((l) => l.term.length));
  const ledgerWidth = Math.min(40, Math.max(...lines.map((l) => l.ledger.length)));
  const rows = lines.map((l) => `  ${l.ok ? '  ' : '! '}${l.term.padEnd(width)}  ${l.ledger.padEnd(ledgerWidth)}  ${l.policy}`);
  return `  ${'  '}${'term'.padEnd(width)}  ${'ledger'.padEnd(ledgerWidth)}  policy / config\n${rows.join('\n')}\n`;
}
