/**
 * The chaincode under test, loaded from its TypeScript sources (not dist/), so the
 * unit suites never run against a stale build. Every test imports the chaincode's own
 * names (contracts, rules, ledger, its error class and ports) from here; what a client
 * shares with it (prosumer signing, record types, error codes, settings) is imported
 * from @flexproof/protocol, the one place it is defined.
 */
// fabric-contract-api logs every decorator at info level; the suites only need warnings.
process.env.CORE_CHAINCODE_LOGGING_LEVEL ??= 'warning';

export * from '../../../../chaincode/src/index';
export * as rules from '../../../../chaincode/src/rules/index';
export * as ledger from '../../../../chaincode/src/ledger';
export { orgRolesFrom } from '../../../../chaincode/src/identity';
