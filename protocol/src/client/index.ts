// The one typed client of the gateway API (organisation and edge calls), its retry policy
// and its error type.
export { GatewayClient, EdgeGatewayClient, type GatewayClientOptions, type EdgeGatewayClientOptions, type WriteOptions, type SignedBody } from './gateway-client';
export { GatewayError, isGatewayError, type GatewayErrorKind } from './gateway-error';
export { Transport, JsonText, DEFAULT_RETRY_POLICY, parseGatewayUrl, type RetryPolicy, type TransportOptions, type HttpCall } from './transport';
export { readEventStream } from './sse';
export type * from './types';
// The gateway's own error codes (beside the chaincode's, in ../errors.ts): what a
// GatewayError's `code` is when the gateway, not the chaincode, refused or failed.
export { GATEWAY_ERROR_CODES, GATEWAY_ERROR_STATUS, isGatewayErrorCode, type GatewayErrorCode } from '../errors';
