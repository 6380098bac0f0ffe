/**
 * The chaincode under test, loaded from its TypeScript sources (not dist/), so the
 * unit suites never run against a stale build. Every test imports it from here.
 */
// fabric-contract-api logs every decorator at info level; the suites only need warnings.
process.env.CORE_CHAINCODE_LOGGING_LEVEL ??= 'warning';

export * from '../../../../chaincode/src/index';
export * as rules from '../../../../chaincode/src/rules/index';
export * as ledger from '../../../../chaincode/src/ledger';
export { orgRolesFrom } from '../../../../chaincode/src/identity';
