// The shapes that cross the edge, the gateways and the chaincode, defined once: TypeBox
// schemas, with each TypeScript type derived from its schema (Static<>).
export * from './primitives';
export * from './inputs';
export * from './records';
export * from './views';
export * from './events';
export * from './gateway';
