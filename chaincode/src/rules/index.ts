/** The domain rules: pure functions over plain data, no Fabric import. */
export * from './accounts';
export * from './amounts';
export * from './auditors';
export * from './clock';
export * from './governance';
export * from './market';
export * from './nonces';
export * from './programs';
export * from './tokens';
export * from './verifiers';
