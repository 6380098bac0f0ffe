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
