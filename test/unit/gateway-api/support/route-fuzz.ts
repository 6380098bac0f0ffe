/**
 * Requests that no gateway route may accept and none may crash on, built with fast-check
 * from the gateway's own OpenAPI document (GET /docs/json, i.e. its TypeBox schemas):
 * for every operation with a body, parameters or a query, a valid request is built from
 * the schemas and then broken in exactly one way that the schemas or the body parser
 * must refuse: a missing or unknown field, a wrong type, an out-of-range number (1e400,
 * 2^64, 1.5), a string past its length or pattern (up to past the body limit), nesting
 * 65 to 10,000 levels deep, a `__proto__` key or `constructor.prototype` (also
 * \u-escaped), broken JSON, the wrong root type, a missing body, a wrong content type, a
 * bad or over-long path parameter, an unknown or duplicated query field, a body on a
 * route that takes none. Each is sent with valid credentials (the caller's bearer token,
 * or an edge signature by the caller's signer), bogus ones, crossed ones or none.
 *
 * Every request is invalid by construction, so the only right answers are 4xx and the
 * ledger must not change: the unit suite sends them to buildApp with the fake ledger
 * (test/unit/gateway-api/route-fuzz.test.ts), the adversarial suite to the running
 * gateways over HTTP. Requests are plain data ({method, url, headers, payload}) usable
 * with `inject` and with `fetch`. Deterministic for a given seed.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';

// ---- the part of OpenAPI 3 the gateway's document uses -------------------------------

export interface JsonSchema {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
}

interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema: JsonSchema;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema: JsonSchema }> };
  security?: Record<string, unknown>[];
  description?: string;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
}

// ---- what the fuzzer produces ------------------------------------------------------

export interface FuzzRequest {
  method: string;
  /** Path with query, percent-encoded as sent. */
  url: string;
  headers: Record<string, string>;
  /** Raw body text, if any. */
  payload?: string;
  /** The operation, e.g. `POST /v1/edge/withdrawals`. */
  operation: string;
  /** How the request was broken, e.g. `body.payload.nonce: wrong type (array)`. */
  mutation: string;
  /** Which credentials it carries. */
  auth: AuthMode;
}

export type AuthMode = 'valid' | 'none' | 'bogus' | 'malformed' | 'crossed';

export interface FuzzOptions {
  openapi: OpenApiDocument;
  count: number;
  seed: number;
  /**
   * Valid bearer tokens of the gateway by role (dso, aggregator, auditor): an organisation
   * route gets the token of a role its description lists ("Roles: dso, aggregator."), so
   * broken requests get past the role check to validation. Without one, only bogus tokens.
   */
  bearerTokens?: Partial<Record<string, string>>;
  /**
   * Signs an edge request validly (a registered meter's key, the gateway's MSP id), so that
   * broken requests get past the signature check to validation; without it, edge routes
   * get only bogus signatures.
   */
  signEdge?: (request: { method: string; pathWithQuery: string; body: string }) => Record<string, string>;
  /** Values for path parameters that exist on the ledger, by parameter name (e.g. meterId). */
  pathValues?: Record<string, string>;
  /** The gateway's body limit, bytes (default 1 MiB): the longest strings go past it. */
  bodyLimit?: number;
  /** Operations to fuzz (default: every operation with a body, a parameter or a query, or POST/PUT). */
  include?: (method: string, path: string) => boolean;
}

/** Nesting depths of the deep-nesting mutations (the gateway refuses above 64). */
export const FUZZ_DEPTHS = [65, 100, 3_000, 10_000] as const;

// ---- entry point -------------------------------------------------------------------

/** `count` broken requests over the document's operations (see the module comment). */
export function fuzzRequests(options: FuzzOptions): FuzzRequest[] {
  const operations = operationsOf(options);
  if (operations.length === 0) throw new Error('fuzzRequests: the document has no operation to fuzz');
  const ctx: Ctx = { bodyLimit: options.bodyLimit ?? 1024 * 1024, pathValues: options.pathValues ?? {} };
  // Routes that take a body are where most can go wrong: twice as likely as the others.
  const plan = fc.oneof(...operations.map((op) => ({ arbitrary: fc.constant(op), weight: op.body ? 2 : 1 }))).chain((op) => planArbitrary(op, ctx));
  const plans = fc.sample(plan, { numRuns: options.count, seed: options.seed });
  return plans.map((p) => withCredentials(p, options));
}

// ---- operations --------------------------------------------------------------------

interface Op {
  method: string;
  path: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  body?: { schema: JsonSchema; required: boolean };
  security: 'bearer' | 'edge' | 'none';
  /** Roles named by the description ("Roles: dso, aggregator."), empty if none. */
  roles: string[];
}

function operationsOf(options: FuzzOptions): Op[] {
  const out: Op[] = [];
  for (const [path, ops] of Object.entries(options.openapi.paths)) {
    for (const [lower, op] of Object.entries(ops)) {
      const method = lower.toUpperCase();
      if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) continue;
      const params = op.parameters ?? [];
      const bodySchema = op.requestBody?.content?.['application/json']?.schema;
      const op_: Op = {
        method,
        path,
        pathParams: params.filter((p) => p.in === 'path'),
        queryParams: params.filter((p) => p.in === 'query'),
        body: bodySchema ? { schema: bodySchema, required: op.requestBody?.required ?? false } : undefined,
        security: op.security?.some((s) => 'edgeSignature' in s) ? 'edge' : op.security?.some((s) => 'bearer' in s) ? 'bearer' : 'none',
        roles: /\bRoles?: ([a-z, ]+)\./.exec(op.description ?? '')?.[1]?.split(/,\s*/) ?? [],
      };
      const interesting = op_.body !== undefined || params.length > 0 || method === 'POST' || method === 'PUT';
      const included = options.include ? options.include(method, path) : interesting;
      if (included) out.push(op_);
    }
  }
  return out;
}

// ---- plans: a valid request, then one break -----------------------------------------

interface Ctx {
  bodyLimit: number;
  pathValues: Record<string, string>;
}

interface Plan {
  op: Op;
  url: string;
  /** Body text, undefined for none. */
  body?: string;
  contentType?: string;
  mutation: string;
  auth: AuthMode;
}

type Mutation =
  | { kind: 'body'; site: Site; breakage: Breakage }
  | { kind: 'bodyRaw'; raw: string; label: string }
  | { kind: 'bodyOmitted' }
  | { kind: 'contentType'; value: string | undefined }
  | { kind: 'bodyNotAllowed'; raw: string; label: string }
  | { kind: 'pathParam'; name: string; raw: string; label: string }
  | { kind: 'query'; raw: string; label: string };

function planArbitrary(op: Op, ctx: Ctx): fc.Arbitrary<Plan> {
  const pathArb = fc.record(
    Object.fromEntries(op.pathParams.map((p) => [p.name, ctx.pathValues[p.name] !== undefined ? fc.constant(ctx.pathValues[p.name] as string) : valid(p.schema)])),
  ) as fc.Arbitrary<Record<string, string>>;
  const queryArb = fc.record(
    Object.fromEntries(op.queryParams.filter((q) => q.required).map((q) => [q.name, ctx.pathValues[q.name] !== undefined ? fc.constant(ctx.pathValues[q.name] as string) : valid(q.schema)])),
  ) as fc.Arbitrary<Record<string, string>>;
  const bodyArb: fc.Arbitrary<unknown> = op.body ? valid(op.body.schema) : fc.constant(undefined);
  const authArb = fc.constantFrom<AuthMode>('valid', 'valid', 'valid', 'none', 'bogus', 'malformed', 'crossed');
  return fc.tuple(pathArb, queryArb, bodyArb, authArb).chain(([pathValues, query, body, auth]) =>
    mutationArbitrary(op, body, ctx).map((mutation) => render(op, pathValues, query, body, mutation, auth)),
  );
}

function mutationArbitrary(op: Op, body: unknown, ctx: Ctx): fc.Arbitrary<Mutation> {
  // Weighted: breaks inside the body are the most varied family.
  const choices: { arbitrary: fc.Arbitrary<Mutation>; weight: number }[] = [];
  if (op.body) {
    const sites = sitesOf(op.body.schema, body, []);
    const breakable = sites.flatMap((site) => breakagesOf(site, ctx).map((breakage) => ({ site, breakage })));
    if (breakable.length > 0) {
      choices.push({ arbitrary: fc.constantFrom(...breakable).map((b): Mutation => ({ kind: 'body', ...b })), weight: 10 });
    }
    choices.push({
      weight: 3,
      arbitrary: fc.constantFrom<Mutation>(
        { kind: 'bodyRaw', raw: '{"a":', label: 'truncated JSON' },
        { kind: 'bodyRaw', raw: "{'a':1}", label: 'single-quoted JSON' },
        { kind: 'bodyRaw', raw: '{"a":NaN}', label: 'NaN literal' },
        { kind: 'bodyRaw', raw: '{} {}', label: 'trailing data' },
        { kind: 'bodyRaw', raw: '\ufeff{}', label: 'byte-order mark' },
        { kind: 'bodyRaw', raw: '[]', label: 'array root' },
        { kind: 'bodyRaw', raw: '"text"', label: 'string root' },
        { kind: 'bodyRaw', raw: '1e400', label: 'number root' },
        { kind: 'bodyRaw', raw: 'null', label: 'null root' },
        { kind: 'bodyRaw', raw: '{"__proto__":{"polluted":true}}', label: '__proto__ at the root' },
        { kind: 'bodyRaw', raw: '{"\\u005f_proto__":{"polluted":true}}', label: 'escaped __proto__ at the root' },
        { kind: 'bodyRaw', raw: '{"constructor":{"prototype":{"polluted":true}}}', label: 'constructor.prototype at the root' },
        ...FUZZ_DEPTHS.map((d): Mutation => ({ kind: 'bodyRaw', raw: '['.repeat(d) + ']'.repeat(d), label: `${d} nested arrays` })),
        ...FUZZ_DEPTHS.map((d): Mutation => ({ kind: 'bodyRaw', raw: `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`, label: `${d} nested objects` })),
        { kind: 'bodyRaw', raw: '['.repeat(10_000), label: '10000 unclosed arrays' },
      ),
    });
    if (op.body.required) choices.push({ weight: 1, arbitrary: fc.constant<Mutation>({ kind: 'bodyOmitted' }) });
    choices.push({
      weight: 1,
      arbitrary: fc.constantFrom<Mutation>(
        { kind: 'contentType', value: 'text/plain' },
        { kind: 'contentType', value: 'application/x-www-form-urlencoded' },
        { kind: 'contentType', value: 'multipart/form-data; boundary=x' },
        { kind: 'contentType', value: 'application/jsonx' },
        { kind: 'contentType', value: 'application/octet-stream' },
        { kind: 'contentType', value: undefined },
      ),
    });
  } else if (op.method !== 'GET') {
    // GET bodies are never read; on other methods a route without a body schema takes none.
    choices.push({
      weight: 2,
      arbitrary: fc.constantFrom<Mutation>(
        { kind: 'bodyNotAllowed', raw: '{"extra":1}', label: 'a field on a route without a body' },
        { kind: 'bodyNotAllowed', raw: '[1]', label: 'an array on a route without a body' },
        { kind: 'bodyNotAllowed', raw: '{"__proto__":{"polluted":true}}', label: '__proto__ on a route without a body' },
        { kind: 'bodyNotAllowed', raw: '['.repeat(10_000) + ']'.repeat(10_000), label: '10000 nested arrays on a route without a body' },
      ),
    });
  }
  for (const p of op.pathParams) {
    const bad = badStrings(p.schema).map(
      (b): Mutation => ({ kind: 'pathParam', name: p.name, raw: b.raw ?? encodeURIComponent(b.value), label: `params.${p.name}: ${b.label}` }),
    );
    if (bad.length > 0) choices.push({ weight: 1, arbitrary: fc.constantFrom(...bad) });
  }
  const queryBreaks: Mutation[] = [
    { kind: 'query', raw: 'unknownField=1', label: 'unknown query field' },
    { kind: 'query', raw: 'constructor=1', label: 'query field "constructor"' },
    { kind: 'query', raw: '__proto__=1', label: 'query field "__proto__"' },
    { kind: 'query', raw: `x=${'a'.repeat(5000)}`, label: 'long unknown query field' },
  ];
  for (const q of op.queryParams) {
    queryBreaks.push({ kind: 'query', raw: `${q.name}=a&${q.name}=b`, label: `querystring.${q.name}: given twice` });
    for (const b of badStrings(q.schema)) {
      if (b.value === '' && !q.required) continue; // an empty optional value may legitimately mean "none"
      queryBreaks.push({ kind: 'query', raw: `${q.name}=${b.raw ?? encodeURIComponent(b.value)}`, label: `querystring.${q.name}: ${b.label}` });
    }
  }
  choices.push({ weight: 1, arbitrary: fc.constantFrom(...queryBreaks) });
  return fc.oneof(...choices);
}

// ---- building the request text -------------------------------------------------------

function render(op: Op, pathValues: Record<string, string>, query: Record<string, string>, body: unknown, m: Mutation, auth: AuthMode): Plan {
  let path = op.path;
  for (const p of op.pathParams) {
    const raw = m.kind === 'pathParam' && m.name === p.name ? m.raw : encodeURIComponent(pathValues[p.name] ?? '');
    path = path.replace(`{${p.name}}`, raw);
  }
  const queryParts = Object.entries(query)
    .filter(([name]) => !(m.kind === 'query' && m.raw.startsWith(`${name}=`)))
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  if (m.kind === 'query') queryParts.push(m.raw);
  const url = queryParts.length > 0 ? `${path}?${queryParts.join('&')}` : path;
  const plan = (text: string | undefined, mutation: string, contentType: string | undefined = text === undefined ? undefined : 'application/json'): Plan => ({
    op,
    url,
    body: text,
    contentType,
    mutation,
    auth,
  });
  const validText = body === undefined ? undefined : JSON.stringify(body);
  switch (m.kind) {
    case 'body': {
      const { text, label } = applyBreakage(body, m.site, m.breakage);
      return plan(text, `${siteName(m.site)}: ${label}`);
    }
    case 'bodyRaw':
      return plan(m.raw, `body: ${m.label}`);
    case 'bodyOmitted':
      return plan(undefined, 'body: missing');
    case 'contentType':
      return { ...plan(validText ?? '{}', `content-type: ${m.value ?? 'none'}`), contentType: m.value };
    case 'bodyNotAllowed':
      return plan(m.raw, `body: ${m.label}`);
    case 'pathParam':
      return plan(validText, m.label);
    case 'query':
      return plan(validText, m.label);
  }
}

/** Stand-ins replaced by raw JSON text after serialisation (text JSON.stringify cannot write). */
const KEY_MARK = '\u0000fuzz-key\u0000';
const VALUE_MARK = '\u0000fuzz-value\u0000';

function applyBreakage(body: unknown, site: Site, breakage: Breakage): { text: string; label: string } {
  const root = structuredClone(body);
  switch (breakage.kind) {
    case 'remove': {
      delete (at(root, site.path) as Record<string, unknown>)[breakage.key];
      return { text: JSON.stringify(root), label: `required field "${breakage.key}" missing` };
    }
    case 'addKey': {
      (at(root, site.path) as Record<string, unknown>)[KEY_MARK] = VALUE_MARK;
      const marked = `${JSON.stringify(KEY_MARK)}:${JSON.stringify(VALUE_MARK)}`;
      return { text: JSON.stringify(root).replace(marked, () => `${breakage.keyText}:${breakage.value}`), label: breakage.label };
    }
    case 'replace': {
      const parent = at(root, site.path.slice(0, -1)) as Record<string | number, unknown>;
      parent[site.path[site.path.length - 1] as string | number] = VALUE_MARK;
      return { text: JSON.stringify(root).replace(JSON.stringify(VALUE_MARK), () => breakage.text), label: breakage.label };
    }
  }
}

function at(root: unknown, path: (string | number)[]): unknown {
  let node = root;
  for (const k of path) node = (node as Record<string | number, unknown>)[k];
  return node;
}

// ---- sites: the places of a valid body a break can go ----------------------------------

interface Site {
  path: (string | number)[];
  schema: JsonSchema;
}

function siteName(site: Site): string {
  return ['body', ...site.path].join('.');
}

function sitesOf(schema: JsonSchema, value: unknown, path: (string | number)[]): Site[] {
  const out: Site[] = [{ path, schema }];
  if (schema.anyOf) return out;
  if (schema.type === 'object' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const child = schema.properties?.[k];
      if (child) out.push(...sitesOf(child, v, [...path, k]));
    }
  } else if (schema.type === 'array' && Array.isArray(value) && schema.items) {
    value.forEach((v, i) => {
      if (i < 2) out.push(...sitesOf(schema.items as JsonSchema, v, [...path, i]));
    });
  }
  return out;
}

type Breakage =
  | { kind: 'remove'; key: string }
  | { kind: 'addKey'; keyText: string; value: string; label: string }
  | { kind: 'replace'; text: string; label: string };

/** Breakages depend only on the schema and whether it is the root: built once per schema (some strings are a megabyte). */
const BREAKAGES = new WeakMap<JsonSchema, Map<string, Breakage[]>>();

function breakagesOf(site: Site, ctx: Ctx): Breakage[] {
  const key = `${site.path.length === 0}\n${ctx.bodyLimit}`;
  let bySchema = BREAKAGES.get(site.schema);
  if (!bySchema) BREAKAGES.set(site.schema, (bySchema = new Map()));
  let out = bySchema.get(key);
  if (!out) bySchema.set(key, (out = computeBreakages(site, ctx)));
  return out;
}

/** The ways to break the value at a site so that the schema (or the parser) must refuse it. */
function computeBreakages(site: Site, ctx: Ctx): Breakage[] {
  const s = site.schema;
  const out: Breakage[] = [];
  const isRoot = site.path.length === 0;
  // Deeper than the parser allows: refused wherever it is, even in an open object.
  for (const d of FUZZ_DEPTHS) {
    if (!isRoot) out.push({ kind: 'replace', text: '['.repeat(d) + ']'.repeat(d), label: `${d} nested arrays` });
  }
  if (s.type === 'object' && !s.anyOf) {
    for (const key of s.required ?? []) out.push({ kind: 'remove', key });
    // Prototype keys are refused by the parser, in open objects too.
    out.push(
      { kind: 'addKey', keyText: '"__proto__"', value: '{"polluted":true}', label: '"__proto__" key' },
      { kind: 'addKey', keyText: '"\\u005f_proto__"', value: '{"polluted":true}', label: 'escaped "__proto__" key' },
      { kind: 'addKey', keyText: '"constructor"', value: '{"prototype":{"polluted":true}}', label: '"constructor.prototype"' },
    );
    if (s.additionalProperties === false) {
      out.push(
        { kind: 'addKey', keyText: '"unknownField"', value: '1', label: 'unknown field "unknownField"' },
        { kind: 'addKey', keyText: '"constructor"', value: '"x"', label: 'unknown field "constructor"' },
        { kind: 'addKey', keyText: '""', value: 'null', label: 'unknown empty-named field' },
        { kind: 'addKey', keyText: JSON.stringify('k'.repeat(2000)), value: '1', label: 'unknown 2000-character field' },
      );
    }
  }
  if (isRoot) return out; // root replacements are the raw-body family
  for (const [text, label] of wrongTypes(s)) out.push({ kind: 'replace', text, label });
  if (s.type === 'integer' || s.type === 'number') {
    const candidates: [string, number][] = [
      ['1e400', Infinity],
      ['-1e400', -Infinity],
      ['18446744073709551616', 2 ** 64],
      ['-9223372036854775809', -(2 ** 63)],
      ['1.5', 1.5],
      ['-1', -1],
      ['1e308', 1e308],
      ['9007199254740993', 2 ** 53],
    ];
    for (const [text, n] of candidates) {
      const outOfRange = (s.minimum !== undefined && n < s.minimum) || (s.maximum !== undefined && n > s.maximum);
      const notInteger = s.type === 'integer' && !Number.isInteger(n);
      if (outOfRange || notInteger || !Number.isFinite(n)) out.push({ kind: 'replace', text, label: `number ${text}` });
    }
  }
  if (s.type === 'string') {
    for (const b of badStrings(s, ctx)) out.push({ kind: 'replace', text: JSON.stringify(b.value), label: b.label });
  }
  if (s.type === 'array') {
    if (s.maxItems !== undefined) {
      out.push({ kind: 'replace', text: JSON.stringify(Array.from({ length: s.maxItems + 1 }, () => sample(s.items))), label: `${s.maxItems + 1} items` });
    }
    if ((s.minItems ?? 0) > 0) out.push({ kind: 'replace', text: '[]', label: 'no items' });
    if (s.items?.type && s.items.type !== 'array') out.push({ kind: 'replace', text: '[[]]', label: 'an array as item' });
  }
  if (s.enum || s.const !== undefined) out.push({ kind: 'replace', text: '"flexproof.not.an.action.v9"', label: 'value outside the enum' });
  return out;
}

function wrongTypes(s: JsonSchema): [string, string][] {
  if (s.anyOf || !s.type) return [];
  const all: [string, string, string][] = [
    ['string', '"a string"', 'wrong type (string)'],
    ['number', '12345', 'wrong type (number)'],
    ['boolean', 'true', 'wrong type (boolean)'],
    ['null', 'null', 'wrong type (null)'],
    ['array', '["a",1]', 'wrong type (array)'],
    ['object', '{"a":1}', 'wrong type (object)'],
  ];
  // 12345 is a valid integer as well as a number.
  return all.filter(([t]) => t !== s.type && !(s.type === 'integer' && t === 'number')).map(([, text, label]) => [text, label]);
}

interface BadString {
  value: string;
  /** Percent-encoded form for URLs when not simply encodeURIComponent(value) (e.g. malformed encodings). */
  raw?: string;
  label: string;
}

/** Strings the schema refuses: past maxLength, short of minLength, off the pattern, huge. */
function badStrings(s: JsonSchema, ctx?: Ctx): BadString[] {
  const limit = ctx?.bodyLimit ?? 1024 * 1024;
  const candidates: BadString[] = [
    { value: '', label: 'empty string' },
    { value: ' ', label: 'a space' },
    { value: '..', label: '".."' },
    { value: '../../etc/passwd', label: 'a path traversal' },
    { value: '__proto__', label: '"__proto__"' },
    { value: '-leading-dash', label: 'leading dash' },
    { value: 'é', label: 'non-ASCII letter' },
    { value: '😀', label: 'an emoji' },
    { value: 'a b', label: 'inner space' },
    { value: 'a\u0000b', label: 'NUL character' },
    { value: 'a\nb', label: 'newline' },
    { value: '1.5', label: 'decimal fraction' },
    { value: '-1', label: 'negative number' },
    { value: '9'.repeat(100), label: '100 digits' },
    { value: 'x'.repeat(129), label: '129 characters' },
    { value: 'x'.repeat(300), label: '300 characters' },
    { value: 'x'.repeat(10_000), label: '10,000 characters' },
  ];
  if (ctx) {
    // Body strings may also be huge: up to just past the body limit (a 413).
    candidates.push({ value: '9'.repeat(100_000), label: '100,000 digits' }, { value: 'x'.repeat(limit + 1), label: `${limit + 1} characters (past the body limit)` });
  } else {
    // URL components only: a malformed percent-encoding.
    candidates.push({ value: '%ZZ', raw: '%ZZ', label: 'malformed percent-encoding' }, { value: '%', raw: '%', label: 'lone percent sign' });
  }
  if (s.maxLength !== undefined) candidates.push({ value: 'a'.repeat(s.maxLength + 1), label: `${s.maxLength + 1} characters (max ${s.maxLength})` });
  if (s.minLength !== undefined && s.minLength > 0) candidates.push({ value: 'a'.repeat(s.minLength - 1), label: `${s.minLength - 1} characters (min ${s.minLength})` });
  return candidates.filter((c) => !stringAllowed(s, c.value));
}

const PATTERNS = new Map<string, RegExp>();

/** The schema's pattern, compiled once, with the 'u' flag as ajv compiles it. */
function patternOf(pattern: string): RegExp {
  let re = PATTERNS.get(pattern);
  if (!re) PATTERNS.set(pattern, (re = new RegExp(pattern, 'u')));
  return re;
}

function stringAllowed(s: JsonSchema, v: string): boolean {
  if (s.type !== undefined && s.type !== 'string') return false;
  if (s.enum && !s.enum.includes(v)) return false;
  if (s.const !== undefined && s.const !== v) return false;
  // Lengths count code points, as ajv does (a UTF-16 length is never smaller).
  const length = v.length > 4 * (s.maxLength ?? Infinity) ? v.length : [...v].length;
  if (s.maxLength !== undefined && length > s.maxLength) return false;
  if (s.minLength !== undefined && length < s.minLength) return false;
  if (s.pattern !== undefined && !patternOf(s.pattern).test(v)) return false;
  return true;
}

// ---- valid values from a schema ------------------------------------------------------

const VALID = new WeakMap<JsonSchema, fc.Arbitrary<unknown>>();

/** Values the schema accepts (the arbitrary is built once per schema: regex arbitraries are costly to build). */
function valid(s: JsonSchema): fc.Arbitrary<unknown> {
  let arb = VALID.get(s);
  if (!arb) VALID.set(s, (arb = buildValid(s)));
  return arb;
}

function buildValid(s: JsonSchema): fc.Arbitrary<unknown> {
  if (s.anyOf && s.anyOf.length > 0) return fc.oneof(...s.anyOf.map(valid));
  if (s.enum && s.enum.length > 0) return fc.constantFrom(...s.enum);
  if (s.const !== undefined) return fc.constant(s.const);
  switch (s.type) {
    case 'string': {
      const min = s.minLength ?? 0;
      const base =
        s.pattern !== undefined
          ? fc.stringMatching(new RegExp(s.pattern))
          : fc.string({ unit: 'grapheme-ascii', minLength: min, maxLength: Math.max(min, Math.min(s.maxLength ?? 20, min + 40)) });
      return base.filter((v) => stringAllowed(s, v));
    }
    case 'integer':
      return fc.integer({ min: s.minimum ?? -1_000_000, max: s.maximum ?? 1_000_000 });
    case 'number':
      return fc.integer({ min: s.minimum ?? -1_000_000, max: s.maximum ?? 1_000_000 });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const min = s.minItems ?? 0;
      const max = Math.min(s.maxItems ?? min + 3, min + 3);
      return fc.array(s.items ? valid(s.items) : fc.string(), { minLength: min, maxLength: max });
    }
    case 'object': {
      const props = s.properties ?? {};
      const required = new Set(s.required ?? []);
      const entries = Object.entries(props);
      if (entries.length === 0) return fc.constant({});
      return fc.record(Object.fromEntries(entries.map(([k, v]) => [k, valid(v)])), {
        requiredKeys: entries.map(([k]) => k).filter((k) => required.has(k)),
      });
    }
    default:
      return fc.constant('x');
  }
}

/** One value valid for a schema, deterministically (for "one item too many" arrays). */
function sample(s: JsonSchema | undefined): unknown {
  if (!s) return 'x';
  return fc.sample(valid(s), { numRuns: 1, seed: 1 })[0];
}

// ---- credentials -----------------------------------------------------------------------

const EDGE = ['x-flexproof-meter', 'x-flexproof-timestamp', 'x-flexproof-nonce', 'x-flexproof-signature'] as const;

function withCredentials(plan: Plan, options: FuzzOptions): FuzzRequest {
  const body = plan.body ?? '';
  const headers: Record<string, string> = {};
  if (plan.contentType !== undefined) headers['content-type'] = plan.contentType;
  const bogusEdge = (): Record<string, string> => ({
    [EDGE[0]]: 'meter-1',
    [EDGE[1]]: String(Date.now()),
    [EDGE[2]]: createHash('sha256').update(`${plan.url}\n${body.length}`).digest('hex').slice(0, 32),
    [EDGE[3]]: Buffer.from(createHash('sha256').update(body).digest()).toString('base64'),
  });
  const malformedEdge = (): Record<string, string> => ({ [EDGE[0]]: '../meter', [EDGE[1]]: 'yesterday', [EDGE[2]]: 'xyz', [EDGE[3]]: '!!!' });
  let auth = plan.auth;
  const edge = plan.op.security === 'edge';
  const tokens = options.bearerTokens ?? {};
  const token = plan.op.roles.map((r) => tokens[r]).find((t) => t !== undefined) ?? Object.values(tokens).find((t) => t !== undefined);
  switch (auth) {
    case 'valid':
      if (edge && options.signEdge) Object.assign(headers, options.signEdge({ method: plan.op.method, pathWithQuery: plan.url, body }));
      else if (!edge && token !== undefined) headers.authorization = `Bearer ${token}`;
      else auth = 'bogus';
      if (auth === 'bogus') Object.assign(headers, edge ? bogusEdge() : { authorization: 'Bearer bogus-token-0123456789abcdef' });
      break;
    case 'bogus':
      Object.assign(headers, edge ? bogusEdge() : { authorization: 'Bearer bogus-token-0123456789abcdef' });
      break;
    case 'malformed':
      Object.assign(headers, edge ? malformedEdge() : { authorization: 'Basic Zm9vOmJhcg==' });
      break;
    case 'crossed':
      // An organisation token on an edge route, an edge signature on an organisation route.
      if (edge) headers.authorization = `Bearer ${token ?? 'bogus-token-0123456789abcdef'}`;
      else Object.assign(headers, options.signEdge ? options.signEdge({ method: plan.op.method, pathWithQuery: plan.url, body }) : bogusEdge());
      break;
    case 'none':
      break;
  }
  return {
    method: plan.op.method,
    url: plan.url,
    headers,
    ...(plan.body === undefined ? {} : { payload: plan.body }),
    operation: `${plan.op.method} ${plan.op.path}`,
    mutation: plan.mutation,
    auth,
  };
}
