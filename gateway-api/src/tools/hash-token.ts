/**
 * `flexproof-gateway hash-token [TOKEN | -] [--json]`: a bearer token for a user and the
 * sha256 the gateway's FLEXPROOF_GATEWAY_TOKENS must hold for it. Labelled lines (or one
 * JSON object), so a script picks the value it wants by name, not by line number.
 */
import { hashToken, newToken } from '../auth/bearer-tokens';

export interface HashedToken {
  token: string;
  sha256: string;
}

/** The token given (surrounding whitespace and a trailing newline from a file or stdin dropped), or a new random one. */
export function hashedToken(given?: string): HashedToken {
  const token = given === undefined ? newToken() : given.trim();
  if (token === '') throw new Error('hash-token: the token is empty');
  return { token, sha256: hashToken(token) };
}

export function formatHashedToken(value: HashedToken, json: boolean): string {
  if (json) return `${JSON.stringify(value)}\n`;
  return `token: ${value.token}\nsha256: ${value.sha256}\n`;
}
