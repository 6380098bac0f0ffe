/**
 * Organisation users authenticate with a bearer token. The configuration holds only the
 * sha256 of each token (tokens are long random strings, so a fast hash is enough), the
 * user's name for the logs, and its role.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const ORG_ROLES = ['dso', 'aggregator', 'auditor'] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

export interface TokenEntry {
  /** Who holds the token (shown in logs, never the token). */
  name: string;
  role: OrgRole;
  /** sha256 of the token, lower-case hex. */
  sha256: string;
}

export interface OrgUser {
  name: string;
  role: OrgRole;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random token (32 bytes, base64url): what an operator hands to a user. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export class BearerTokens {
  readonly #entries: { digest: Buffer; user: OrgUser }[];

  constructor(entries: readonly TokenEntry[]) {
    this.#entries = entries.map((e) => ({ digest: Buffer.from(e.sha256, 'hex'), user: { name: e.name, role: e.role } }));
  }

  /** The user of an `Authorization: Bearer <token>` header, or undefined. */
  authenticate(authorization: string | undefined): OrgUser | undefined {
    const match = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(authorization ?? '');
    if (!match?.[1]) return undefined;
    const digest = createHash('sha256').update(match[1], 'utf8').digest();
    let found: OrgUser | undefined;
    // Compare against every entry in constant time, so timing says nothing about which matched.
    for (const entry of this.#entries) {
      if (timingSafeEqual(entry.digest, digest)) found = entry.user;
    }
    return found;
  }
}
