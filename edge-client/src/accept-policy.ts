/**
 * What a site agrees to sign when it accepts an enrollment (threat T3): a pure decision
 * over the ledger's offer and the site's configuration, used by auto-accept in the
 * pipeline and by `flexproof-edge accept`.
 *
 * Two kinds of terms:
 * - commitments: meter, prosumer, circuit, request commitment, start time, period and
 *   grace seconds. They must equal the config's, whatever anyone confirms: the edge
 *   cannot prove against anything else.
 * - economics: reward (at least `minReward`), penalty rate (at most `maxRatePerWh`),
 *   tolerance (at least `minToleranceWh`), flexibility per period (at most `maxFlexWh[p]`)
 *   and the order (exactly `orderId`). Auto-accept signs only when every one of them is
 *   named by the policy and the offer is within it; a term the policy leaves out means
 *   the site never agreed to any value of it, so the offer waits for a person
 *   (`flexproof-edge accept`).
 */
import { ACCEPT_POLICY_TERMS, type AcceptPolicy, type AcceptPolicyTerm, type EnrollmentConfig } from './config';
import type { EnrollmentView } from './gateway-port';
import {
  ACTION_ACCEPT_ENROLLMENT,
  enrollmentTerms,
  type AcceptEnrollmentPayload,
  type EnrollmentTerms,
  type LedgerTarget,
} from './prosumer-signing';

/** One term of an offer the site will not sign, and why. Values are public ledger terms, never secrets. */
export interface TermRefusal {
  /** The ledger's field: reward, ratePerWh, toleranceWh, flexWh[3], orderId, circuitId, startTime, ... */
  term: string;
  rule: string;
}

export type AcceptDecision =
  | { kind: 'accept' }
  /** A commitment differs from the config: never signed. */
  | { kind: 'terms-mismatch'; refusals: TermRefusal[] }
  /** The policy leaves these terms out: no auto-accept. */
  | { kind: 'no-policy'; missing: AcceptPolicyTerm[] }
  | { kind: 'outside-policy'; refusals: TermRefusal[] };

export interface SiteIdentity {
  meterId: string;
  prosumerId: string;
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

function decimal(value: unknown): bigint | undefined {
  return typeof value === 'string' && DECIMAL.test(value) && value.length <= 78 ? BigInt(value) : undefined;
}

/** The commitments of the offer that differ from the configuration. */
export function commitmentDifferences(view: EnrollmentView, site: SiteIdentity, config: EnrollmentConfig): TermRefusal[] {
  const e = view.enrollment;
  const out: TermRefusal[] = [];
  const same = (term: string, ledger: unknown, expected: unknown): void => {
    if (ledger !== expected) out.push({ term, rule: `the ledger has ${JSON.stringify(ledger)}, the config ${JSON.stringify(expected)}` });
  };
  same('enrollmentId', e.enrollmentId, config.enrollmentId);
  same('meterId', e.meterId, site.meterId);
  same('prosumerId', e.prosumerId, site.prosumerId);
  same('circuitId', e.circuitId, config.circuitId);
  // The commitment is public, but it is the only trace of the private profile: name it, do not print it.
  if (e.requestCommitment !== config.requestCommitment) out.push({ term: 'requestCommitment', rule: 'the ledger commitment is not opened by the configured request profile and salt' });
  if (typeof e.startTime !== 'string' || Date.parse(e.startTime) !== Date.parse(config.startTime)) same('startTime', e.startTime, config.startTime);
  same('periodSeconds', e.periodSeconds, config.periodSeconds);
  same('graceSeconds', e.graceSeconds, config.graceSeconds);
  return out;
}

/** The policy terms that are not set. */
export function missingPolicyTerms(policy: AcceptPolicy): AcceptPolicyTerm[] {
  return ACCEPT_POLICY_TERMS.filter((t) => policy[t] === undefined);
}

/** The economic terms of the offer outside the policy (only terms the policy sets are checked). */
export function policyRefusals(view: EnrollmentView, policy: AcceptPolicy): TermRefusal[] {
  const e = view.enrollment;
  const out: TermRefusal[] = [];
  const bound = (term: 'reward' | 'ratePerWh' | 'toleranceWh', limit: string | undefined, name: AcceptPolicyTerm, atLeast: boolean): void => {
    if (limit === undefined) return;
    const value = decimal(e[term]);
    if (value === undefined) out.push({ term, rule: 'missing on the ledger or not a non-negative integer' });
    else if (atLeast ? value < BigInt(limit) : value > BigInt(limit)) {
      out.push({ term, rule: `${value} is ${atLeast ? 'below' : 'above'} the policy's ${name} ${limit}` });
    }
  };
  bound('reward', policy.minReward, 'minReward', true);
  bound('ratePerWh', policy.maxRatePerWh, 'maxRatePerWh', false);
  bound('toleranceWh', policy.minToleranceWh, 'minToleranceWh', true);
  if (policy.maxFlexWh !== undefined) {
    const flex = e.flexWh;
    if (!Array.isArray(flex) || flex.length !== policy.maxFlexWh.length) {
      out.push({ term: 'flexWh', rule: `not a list of ${policy.maxFlexWh.length} values on the ledger` });
    } else {
      flex.forEach((v, p) => {
        const value = decimal(v);
        const cap = BigInt(policy.maxFlexWh?.[p] ?? '0');
        if (value === undefined) out.push({ term: `flexWh[${p}]`, rule: 'not a non-negative integer on the ledger' });
        else if (value > cap) out.push({ term: `flexWh[${p}]`, rule: `${value} is above the policy's maxFlexWh[${p}] ${cap}` });
      });
    }
  }
  if (policy.orderId !== undefined && e.orderId !== policy.orderId) {
    out.push({ term: 'orderId', rule: `the ledger has ${JSON.stringify(e.orderId)}, the policy ${JSON.stringify(policy.orderId)}` });
  }
  return out;
}

/** Whether auto-accept may sign this offer. */
export function decideAutoAccept(view: EnrollmentView, site: SiteIdentity, config: EnrollmentConfig): AcceptDecision {
  const mismatch = commitmentDifferences(view, site, config);
  if (mismatch.length > 0) return { kind: 'terms-mismatch', refusals: mismatch };
  // Terms the policy sets are checked even when others are missing, so the log says everything at once.
  const refusals = policyRefusals(view, config.acceptPolicy);
  if (refusals.length > 0) return { kind: 'outside-policy', refusals };
  const missing = missingPolicyTerms(config.acceptPolicy);
  if (missing.length > 0) return { kind: 'no-policy', missing };
  return { kind: 'accept' };
}

/** The AcceptEnrollment payload over the ledger's terms (call only after the checks above). */
export function acceptancePayload(view: EnrollmentView, ledger: LedgerTarget, nonce: string): AcceptEnrollmentPayload {
  return {
    type: ACTION_ACCEPT_ENROLLMENT,
    channel: ledger.channel,
    chaincode: ledger.chaincode,
    nonce,
    ...enrollmentTerms(view.enrollment as unknown as EnrollmentTerms),
  };
}

/** One line of the table `flexproof-edge accept` shows: the ledger's term beside the policy's. */
export interface TermLine {
  term: string;
  ledger: string;
  policy: string;
  ok: boolean;
}

export function termsTable(view: EnrollmentView, site: SiteIdentity, config: EnrollmentConfig): TermLine[] {
  const e = view.enrollment;
  const p = config.acceptPolicy;
  const refusals = new Set([...commitmentDifferences(view, site, config), ...policyRefusals(view, p)].map((r) => r.term.replace(/\[\d+\]$/, '')));
  const line = (term: string, ledger: unknown, policy: string): TermLine => ({
    term,
    ledger: Array.isArray(ledger) ? ledger.join(' ') : String(ledger ?? '(none)'),
    policy,
    ok: !refusals.has(term) && policy !== '(not set)',
  });
  const flexCap = p.maxFlexWh === undefined ? '(not set)' : new Set(p.maxFlexWh).size === 1 ? `at most ${p.maxFlexWh[0]} each period` : `at most ${p.maxFlexWh.join(' ')}`;
  return [
    line('orderId', e.orderId, p.orderId === undefined ? '(not set)' : `exactly ${p.orderId}`),
    line('reward', e.reward, p.minReward === undefined ? '(not set)' : `at least ${p.minReward}`),
    line('ratePerWh', e.ratePerWh, p.maxRatePerWh === undefined ? '(not set)' : `at most ${p.maxRatePerWh}`),
    line('toleranceWh', e.toleranceWh, p.minToleranceWh === undefined ? '(not set)' : `at least ${p.minToleranceWh}`),
    line('flexWh', e.flexWh, flexCap),
    line('circuitId', e.circuitId, `exactly ${config.circuitId} (config)`),
    line('requestCommitment', e.requestCommitment === config.requestCommitment ? 'opened by the configured profile' : 'NOT opened by the configured profile', 'the configured profile and salt'),
    line('startTime', e.startTime, `exactly ${config.startTime} (config)`),
    line('periodSeconds', e.periodSeconds, `exactly ${config.periodSeconds} (config)`),
    line('graceSeconds', e.graceSeconds, `exactly ${config.graceSeconds} (config)`),
    line('meterId', e.meterId, `exactly ${site.meterId} (config)`),
    line('prosumerId', e.prosumerId, `exactly ${site.prosumerId} (config)`),
  ];
}
