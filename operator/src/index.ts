// @flexproof/operator: the `flexproof` command line, and its parts for tests and scripts.
export { runCli, mainHelp, commandHelp, EXIT, type CliIo } from './cli';
export { COMMANDS, type Command } from './commands';
export { readLocalKey, readBundleKey, readKeyOrBundle, circuitIdProblem, reviewKey, type LocalKey, type KeyReview } from './keys';
export { resolveConfig, readProfile, readToken, type ResolvedConfig, type ProfileFile } from './config';
export { UsageError, CheckRefused } from './usage-error';
