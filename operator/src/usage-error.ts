/**
 * A command line the CLI cannot run as given: a bad flag or value, missing configuration,
 * an unreadable file. Exit code 2; the message names the flag or field and the rule.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * A check of the CLI's own refused the action before anything was sent, or a review
 * found a difference: a local verification key the ledger would refuse, or a local key
 * whose hash is not the proposal's. Exit code 1, like a refusal by the ledger.
 */
export class CheckRefused extends Error {
  override readonly name = 'CheckRefused';
}
