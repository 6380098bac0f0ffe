// The one typed client of the gateway API (organisation and edge calls), its retry policy
// and its error type.
export { GatewayClient, EdgeGatewayClient, type GatewayClientOptions, type EdgeGatewayClientOptions, type WriteOptions } from './gateway-client';
export { GatewayError, isGatewayError, type GatewayErrorKind } from './gateway-error';
export { Transport, DEFAULT_RETRY_POLICY, parseGatewayUrl, type RetryPolicy, type TransportOptions, type HttpCall } from './transport';
export { readEventStream } from './sse';
export type * from './types';
