/**
 * Parsing of JSON request bodies that no body can crash. Three rules, each a 400 naming it:
 *
 * - nesting at most MAX_JSON_DEPTH levels, counted over the raw bytes before anything is
 *   parsed, in one loop: a body that passes cannot overflow any recursive walk after it
 *   (JSON.stringify of the transaction argument, ajv, the response serialiser), and one
 *   that fails costs one pass over its bytes;
 * - valid JSON (V8's JSON.parse is iterative, so it never overflows either);
 * - no `__proto__` key and no `constructor.prototype` anywhere, checked by
 *   secure-json-parse's iterative scan (Fastify's own parser library).
 *
 * Unknown fields are the schemas' business (every body schema has
 * additionalProperties: false); this module only guarantees the value is safe to look at.
 */
import { scan } from 'secure-json-parse';
import { ApiError } from './errors';

/** The deepest nesting of arrays and objects a body may have (a Groth16 proof needs 4). */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * The deepest nesting in JSON text, or MAX+1 as soon as it is exceeded. Works on bytes:
 * the six ASCII bytes it looks at never occur inside a multi-byte UTF-8 sequence.
 * Malformed text gives some number; JSON.parse refuses it afterwards.
 */
export function jsonDepth(raw: Uint8Array, max = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > max) return deepest;
      }
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
  }
  return deepest;
}

/** The parsed body; ApiError 400 BAD_INPUT naming the broken rule. */
export function parseJsonBody(raw: Buffer, maxDepth = MAX_JSON_DEPTH): unknown {
  if (jsonDepth(raw, maxDepth) > maxDepth) {
    throw new ApiError(400, 'BAD_INPUT', `body: nested deeper than ${maxDepth} levels of arrays and objects`);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ApiError(400, 'BAD_INPUT', 'body: not valid JSON');
  }
  if (value !== null && typeof value === 'object') {
    try {
      scan(value as Record<string, unknown>, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      throw new ApiError(400, 'BAD_INPUT', 'body: a "__proto__" key or a "constructor" object with "prototype" is not allowed (prototype pollution)');
    }
  }
  return value;
}
