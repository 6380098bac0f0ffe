/**
 * Canonical JSON: keys sorted (UTF-16 code unit order, as Array.prototype.sort) at every
 * level, no whitespace. Two parties that hold the same value produce the same bytes, so a
 * hash of them (a sealed document's content hash) means the same thing everywhere.
 *
 * Built as a string rather than by copying into sorted objects, so a key named
 * `__proto__` is written as data and never touches a prototype.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
      const record = value as Record<string, unknown>;
      const members: string[] = [];
      for (const key of Object.keys(record).sort()) {
        const item = record[key];
        // As JSON.stringify: a member whose value is undefined is not written.
        if (item !== undefined) members.push(`${JSON.stringify(key)}:${canonicalJson(item)}`);
      }
      return `{${members.join(',')}}`;
    }
    default:
      throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
  }
}

/**
 * The chaincode's sorted-key JSON (moved here from chaincode/src/stable-json.ts): what it
 * writes to world state, so every endorsing peer writes the same bytes, and what a
 * prosumer signs (prosumer-signing.ts canonicalEncoding). Kept beside canonicalJson, not
 * merged into it, because the two differ in output, and the bytes the ledger holds and
 * the signatures already made must not change:
 * - keys that are array indices ("0", "9", "10") come first in ascending numeric order
 *   (JavaScript's own-key order), where canonicalJson sorts every key as a string;
 * - an own key `__proto__` (JSON.parse makes one) is dropped, where canonicalJson writes it;
 * - NaN, Infinity, and undefined or a function in an array are written as null, where
 *   canonicalJson throws; an own `toJSON` member is called, as JSON.stringify does.
 * On JSON values with neither kind of key (every record, view and signed payload: their
 * keys are field names) the two give the same text (test/unit/protocol/canonical-json.test.ts).
 */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value as Record<string, unknown>).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}
