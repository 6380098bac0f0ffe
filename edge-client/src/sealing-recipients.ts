/**
 * Whom a period document is sealed to (issue 12, S4), decided from the gateway's answer to
 * GET /v1/edge/auditor-keys without trusting it: pure, no I/O.
 *
 *   - always the site's own sealing key, first;
 *   - every auditor key the answer lists as `active` whose `keyHash` is the hash this
 *     edge computes from its `publicKeyPem` (sealingKeyHash: sha256 of the DER SPKI) and
 *     whose key is a P-256 public key; anything else is refused (listed with the reason);
 *   - of those, only the auditors in the config's `auditors` allowlist when it is set.
 *
 * What the hash check does and does not give: the ledger approves an auditor key by its
 * hash (both organisations), so a record whose PEM does not hash to its keyHash is not the
 * key the ledger approved and is never used. A gateway that makes up a whole record (its
 * own key, its own hash) passes this check; the `auditors` allowlist is the defence
 * against that (a made-up auditor id is not on it), and a gateway that leaves an auditor
 * out only stops that auditor from reading, never lets anyone else read.
 */
import { SEALED_LIMITS, checkSealingPublicKey, sealingKeyHash, type SealingRecipient } from '@flexproof/protocol';
import { EdgeError } from './errors';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const KEY_HASH = /^[0-9a-f]{64}$/;

export type AuditorKeyRefusal = 'BAD_RECORD' | 'BAD_PUBLIC_KEY' | 'KEY_HASH_MISMATCH' | 'DUPLICATE_AUDITOR' | 'DUPLICATE_KEY';

export interface RecipientChoice {
  /** The keys to seal to: the site's own first, then the chosen auditors by auditorId. */
  recipients: SealingRecipient[];
  /** The auditors sealed to, with the key hashes (the kids of their entries). */
  auditors: { auditorId: string; keyHash: string }[];
  /** Records not used because they fail a check; `auditorId` only when it is a valid id. */
  refused: { index: number; auditorId?: string; reason: AuditorKeyRefusal; claimedKeyHash?: string; computedKeyHash?: string }[];
  /** Active, checked auditors left out because the allowlist does not name them. */
  notAllowed: string[];
  /** Auditors the allowlist names that the answer has no usable active key for. */
  allowedWithoutKey: string[];
}

/**
 * Throws EdgeError AUDITOR_KEYS_INVALID when the answer is not `{ keys: [...] }` or when
 * more auditors are chosen than a document can hold (the caller retries later).
 */
export function chooseRecipients(answer: unknown, own: { publicKeyPem: string; keyHash: string }, allowlist?: readonly string[]): RecipientChoice {
  const keys = isRecord(answer) ? answer.keys : undefined;
  if (!Array.isArray(keys)) {
    throw new EdgeError('AUDITOR_KEYS_INVALID', 'the gateway answered GET /v1/edge/auditor-keys without a keys list');
  }
  const refused: RecipientChoice['refused'] = [];
  const checked = new Map<string, { auditorId: string; publicKeyPem: string; keyHash: string }>();
  const hashes = new Set<string>([own.keyHash]);
  (keys as unknown[]).forEach((record, index) => {
    if (!isRecord(record) || typeof record.auditorId !== 'string' || !ID.test(record.auditorId)) {
      refused.push({ index, reason: 'BAD_RECORD' });
      return;
    }
    const auditorId = record.auditorId;
    // The route lists active keys only; anything else is skipped, not sealed to.
    if (record.status !== 'active') return;
    if (typeof record.keyHash !== 'string' || !KEY_HASH.test(record.keyHash)) {
      refused.push({ index, auditorId, reason: 'BAD_RECORD' });
      return;
    }
    let computed: string;
    try {
      checkSealingPublicKey(record.publicKeyPem);
      computed = sealingKeyHash(record.publicKeyPem as string);
    } catch {
      refused.push({ index, auditorId, reason: 'BAD_PUBLIC_KEY', claimedKeyHash: record.keyHash });
      return;
    }
    if (computed !== record.keyHash) {
      refused.push({ index, auditorId, reason: 'KEY_HASH_MISMATCH', claimedKeyHash: record.keyHash, computedKeyHash: computed });
      return;
    }
    if (checked.has(auditorId)) {
      refused.push({ index, auditorId, reason: 'DUPLICATE_AUDITOR', claimedKeyHash: record.keyHash });
      return;
    }
    // One entry per key: a key listed twice (or the site's own key listed as an auditor's) is used once.
    if (hashes.has(computed)) {
      refused.push({ index, auditorId, reason: 'DUPLICATE_KEY', claimedKeyHash: record.keyHash });
      return;
    }
    hashes.add(computed);
    checked.set(auditorId, { auditorId, publicKeyPem: record.publicKeyPem as string, keyHash: computed });
  });

  const all = [...checked.values()].sort((a, b) => (a.auditorId < b.auditorId ? -1 : a.auditorId > b.auditorId ? 1 : 0));
  const allowed = allowlist === undefined ? all : all.filter((a) => allowlist.includes(a.auditorId));
  const maxAuditors = SEALED_LIMITS.maxRecipients - 1;
  if (allowed.length > maxAuditors) {
    throw new EdgeError(
      'AUDITOR_KEYS_INVALID',
      `${allowed.length} auditor keys would be recipients, a sealed document holds at most ${maxAuditors} besides the site's own: name the auditors this site consents to in the config's auditors list`,
      { details: { auditors: allowed.length, max: maxAuditors } },
    );
  }
  return {
    recipients: [{ publicKeyPem: own.publicKeyPem }, ...allowed.map((a) => ({ publicKeyPem: a.publicKeyPem }))],
    auditors: allowed.map((a) => ({ auditorId: a.auditorId, keyHash: a.keyHash })),
    refused,
    notAllowed: allowlist === undefined ? [] : all.filter((a) => !allowlist.includes(a.auditorId)).map((a) => a.auditorId),
    allowedWithoutKey: allowlist === undefined ? [] : allowlist.filter((id) => !checked.has(id)),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
