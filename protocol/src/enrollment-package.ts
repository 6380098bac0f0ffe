/**
 * Enrollment packages (issue 16): what an aggregator hands a prosumer so that the site can
 * enroll without anyone pasting a secret by hand: the terms of the enrollment offered on the
 * ledger, the request profile and the salt of its commitment, sealed to the site.
 *
 * Format: the family of the sealed period documents (sealed-period.ts), made and opened by
 * `jose`: JWE General JSON Serialization, every recipient entry ECDH-ES+A256KW on P-256, the
 * content A256GCM.
 *
 *   protected header  { enc: "A256GCM", cty: "flexproof.enrollment.v1", fpm: meterId, fpe: enrollmentId }
 *                     (the AES-GCM associated data: the meter and enrollment a package names
 *                     cannot be changed without it failing to open)
 *   recipient header  { alg: "ECDH-ES+A256KW", kid: sealingKeyHash(recipient key), epk }
 *   plaintext         canonical JSON of { v: 1, terms: { enrollmentId, orderId, meterId,
 *                     circuitId, requestCommitment, reward, ratePerWh, toleranceWh,
 *                     flexWh[24], startTime, periodSeconds, graceSeconds },
 *                     requestProfile: [24 decimal strings, signed for net circuits],
 *                     commitmentSalt: decimal string }
 *
 * The recipient is the site's sealing key (edge-client sealing-key.ts), the key its periods
 * are sealed to. Neither the ledger nor the gateway holds that key (a meter registers only
 * its signing key, which may be Ed25519 and is kept to signing by design), so the prosumer
 * gives the aggregator its public half as a file, `sealing-key.pub.pem`, and confirms its
 * key hash out of band; the aggregator may add its own key as a second recipient to keep a
 * copy it can read.
 *
 * This package knows no circuit: whether the profile and salt open the commitment is
 * checked by the edge with @flexproof/circuits (edge-client enrollment-package.ts). Here:
 * the shape of every field, the ledger's rules for ids and amounts.
 *
 * Errors are SealedDataError (the one error of sealed formats), naming the field and the
 * rule, never a value of the plaintext or a key.
 */
import type { KeyObject } from 'node:crypto';
import {
  SEALED_PERIOD_ALG,
  SEALED_PERIOD_ENC,
  SealedDataError,
  checkRecipients,
  checkSealingPrivateKey,
  decryptForRecipient,
  encryptToRecipients,
  type SealedDataErrorCode,
  type SealedPeriodJwe,
  type SealedRecipientEntry,
  type SealingRecipient,
} from './sealed-period';
import type { OfferEnrollmentInput } from './client/types';

/** Content type of an enrollment package, in its protected header. */
export const ENROLLMENT_PACKAGE_CTY = 'flexproof.enrollment.v1';

export const ENROLLMENT_PACKAGE_LIMITS = {
  /** The site, and a copy for the aggregator, with room. */
  maxRecipients: 4,
  /** base64url characters of the ciphertext: a package is about 3 KB of JSON. */
  maxCiphertextChars: 16 * 1024,
  maxProtectedChars: 1024,
  /** Characters of the JSON of the largest package the opener reads (a file's size bound). */
  maxPackageJsonChars: 24 * 1024,
  /** Digits of a requested energy (sign not counted): a net profile value is below 2^40. */
  maxProfileDigits: 20,
  /** Digits of the salt (the BN254 scalar field has 77). */
  maxSaltDigits: 78,
  periodsPerDay: 24,
} as const;

/**
 * The terms of an enrollment as POST /v1/enrollments takes them, with the timing explicit
 * (the chaincode's defaults are 3600 and 900): the ledger's record of the offer then holds
 * every one of them as written here, and the edge compares them field by field.
 */
export type EnrollmentPackageTerms = Required<OfferEnrollmentInput>;

export interface EnrollmentPackage {
  terms: EnrollmentPackageTerms;
  /** Private: requested energy per hourly period, Wh (decimal strings; negative only for net circuits). */
  requestProfile: string[];
  /** Private: the salt of the request commitment (decimal). */
  commitmentSalt: string;
}

/** A sealed enrollment package: the JWE members of a sealed period document, nothing else. */
export type EnrollmentPackageJwe = SealedPeriodJwe;

export interface EnrollmentPackageHeader {
  enc: typeof SEALED_PERIOD_ENC;
  cty: typeof ENROLLMENT_PACKAGE_CTY;
  fpm: string;
  fpe: string;
}

/**
 * The ledger's rules, as the patterns of schemas/primitives.ts (`Id`, `CircuitId`,
 * `FieldElement`, `PositiveAmount`) define them; repeated here as regular expressions.
 */
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const CIRCUIT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const FIELD_ELEMENT = /^(0|[1-9][0-9]{0,76})$/;
const POSITIVE_AMOUNT = /^[1-9][0-9]{0,39}$/;
const AMOUNT = /^(0|[1-9][0-9]{0,39})$/;
const ISO_TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,3})?Z$/;
const MAX_PERIOD_SECONDS = 86_400;
const MAX_GRACE_SECONDS = 7 * 86_400;

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const KEY_HASH = /^[0-9a-f]{64}$/;
const PRINTABLE_NAME = /^[A-Za-z0-9_]{1,32}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const WRAPPED_KEY_BYTES = 40;
const COORDINATE_BYTES = 32;

const TERM_FIELDS = [
  'enrollmentId',
  'orderId',
  'meterId',
  'circuitId',
  'requestCommitment',
  'reward',
  'ratePerWh',
  'toleranceWh',
  'flexWh',
  'startTime',
  'periodSeconds',
  'graceSeconds',
] as const satisfies readonly (keyof EnrollmentPackageTerms)[];

// ---------------------------------------------------------------------------------------
// Fields

/**
 * A checked copy of a package's contents, or SealedDataError `code` naming the field under
 * `at` (`package.terms.flexWh[3]`, `package.requestProfile[0]`).
 */
export function checkEnrollmentPackage(value: unknown, at = 'package', code: SealedDataErrorCode = 'MALFORMED'): EnrollmentPackage {
  if (!isPlainObject(value)) throw new SealedDataError(code, at, 'must be { terms, requestProfile, commitmentSalt }');
  checkMembers(value, ['terms', 'requestProfile', 'commitmentSalt'], at, code);
  return {
    terms: checkTerms(value.terms, `${at}.terms`, code),
    requestProfile: checkProfile(value.requestProfile, `${at}.requestProfile`, code),
    commitmentSalt: checkDecimal(value.commitmentSalt, ENROLLMENT_PACKAGE_LIMITS.maxSaltDigits, `${at}.commitmentSalt`, code),
  };
}

function checkTerms(value: unknown, at: string, code: SealedDataErrorCode): EnrollmentPackageTerms {
  if (!isPlainObject(value)) throw new SealedDataError(code, at, `must be an object { ${TERM_FIELDS.join(', ')} }`);
  checkMembers(value, TERM_FIELDS, at, code);
  const text = (name: (typeof TERM_FIELDS)[number], pattern: RegExp, rule: string): string => {
    const v = value[name];
    if (typeof v !== 'string' || !pattern.test(v)) throw new SealedDataError(code, `${at}.${name}`, rule);
    return v;
  };
  const integer = (name: 'periodSeconds' | 'graceSeconds', min: number, max: number): number => {
    const v = value[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new SealedDataError(code, `${at}.${name}`, `must be an integer from ${min} to ${max}`);
    return v;
  };
  const idRule = 'must be an id (a letter or digit, then up to 127 of A-Z a-z 0-9 . _ -)';
  const amountRule = 'must be a non-negative integer as a decimal string (at most 40 digits)';
  const terms: EnrollmentPackageTerms = {
    enrollmentId: text('enrollmentId', ID, idRule),
    orderId: text('orderId', ID, idRule),
    meterId: text('meterId', ID, idRule),
    circuitId: text('circuitId', CIRCUIT_ID, 'must be a circuit id (a letter or digit, then up to 63 of A-Z a-z 0-9 . _ -)'),
    requestCommitment: text('requestCommitment', FIELD_ELEMENT, 'must be a field element as a decimal string (at most 77 digits)'),
    reward: text('reward', POSITIVE_AMOUNT, 'must be a positive integer as a decimal string (at most 40 digits)'),
    ratePerWh: text('ratePerWh', AMOUNT, amountRule),
    toleranceWh: text('toleranceWh', AMOUNT, amountRule),
    flexWh: [],
    startTime: text('startTime', ISO_TIME, 'must be an ISO 8601 UTC time (YYYY-MM-DDTHH:MM:SS[.mmm]Z)'),
    periodSeconds: integer('periodSeconds', 1, MAX_PERIOD_SECONDS),
    graceSeconds: integer('graceSeconds', 0, MAX_GRACE_SECONDS),
  };
  if (Number.isNaN(Date.parse(terms.startTime))) throw new SealedDataError(code, `${at}.startTime`, 'must be a real date and time');
  const flex = value.flexWh;
  const periods = ENROLLMENT_PACKAGE_LIMITS.periodsPerDay;
  if (!Array.isArray(flex) || flex.length !== periods) throw new SealedDataError(code, `${at}.flexWh`, `must be an array of ${periods} decimal strings (Wh per period)`);
  terms.flexWh = (flex as unknown[]).map((v, i) => {
    if (typeof v !== 'string' || !AMOUNT.test(v)) throw new SealedDataError(code, `${at}.flexWh[${i}]`, amountRule);
    return v;
  });
  return terms;
}

function checkProfile(value: unknown, at: string, code: SealedDataErrorCode): string[] {
  const periods = ENROLLMENT_PACKAGE_LIMITS.periodsPerDay;
  const digits = ENROLLMENT_PACKAGE_LIMITS.maxProfileDigits;
  if (!Array.isArray(value) || value.length !== periods) throw new SealedDataError(code, at, `must be an array of ${periods} decimal strings (Wh per period)`);
  const pattern = new RegExp(`^(0|-?[1-9][0-9]{0,${digits - 1}})$`);
  return (value as unknown[]).map((v, i) => {
    // Never the value in the message: it is the private profile.
    if (typeof v !== 'string' || !pattern.test(v)) {
      throw new SealedDataError(code, `${at}[${i}]`, `must be an integer as a decimal string (optional minus, no leading zero, at most ${digits} digits)`);
    }
    return v;
  });
}

function checkDecimal(value: unknown, maxDigits: number, at: string, code: SealedDataErrorCode): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > maxDigits || !/^(0|[1-9][0-9]*)$/.test(value)) {
    throw new SealedDataError(code, at, `must be a decimal string (no sign, no leading zero, at most ${maxDigits} digits)`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------
// Sealing and opening

/**
 * Seals a package to the site's sealing key (and any further recipients, e.g. the
 * aggregator's own copy). Bad input: SealedDataError MALFORMED naming the field.
 */
export async function sealEnrollmentPackage(pkg: EnrollmentPackage, recipients: SealingRecipient[]): Promise<EnrollmentPackageJwe> {
  const checked = checkEnrollmentPackage(pkg);
  const keys = checkRecipients(recipients, ENROLLMENT_PACKAGE_LIMITS.maxRecipients);
  const header: EnrollmentPackageHeader = { enc: SEALED_PERIOD_ENC, cty: ENROLLMENT_PACKAGE_CTY, fpm: checked.terms.meterId, fpe: checked.terms.enrollmentId };
  const plaintext = { v: 1, ...checked };
  return checkStructure(await encryptToRecipients(plaintext, { ...header }, keys), 'MALFORMED').jwe;
}

/**
 * Opens a package with a recipient's private key. Throws SealedDataError:
 *   NOT_A_RECIPIENT  no entry carries this key's hash as kid;
 *   UNREADABLE       not a well-formed package, it does not decrypt (any changed byte), or
 *                    its plaintext is not a v1 package (the field is named);
 *   MISPLACED        it opens but names another meter than `expected.meterId`, or its
 *                    header and plaintext name different places;
 *   MALFORMED        the private key or `expected` is not usable.
 */
export async function openEnrollmentPackage(jwe: unknown, privateKey: string | KeyObject, expected: { meterId?: string } = {}): Promise<EnrollmentPackage> {
  const key = checkSealingPrivateKey(privateKey);
  if (expected.meterId !== undefined && (typeof expected.meterId !== 'string' || !ID.test(expected.meterId))) {
    throw new SealedDataError('MALFORMED', 'expected.meterId', 'must be an id');
  }
  const checked = checkStructure(jwe, 'UNREADABLE');
  const bytes = await decryptForRecipient(checked.jwe, key);
  if (expected.meterId !== undefined && checked.header.fpm !== expected.meterId) {
    throw new SealedDataError('MISPLACED', 'jwe.protected.fpm', "must name this site's meter");
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new SealedDataError('UNREADABLE', 'plaintext', 'must be UTF-8 JSON');
  }
  if (!isPlainObject(value)) throw new SealedDataError('UNREADABLE', 'plaintext', 'must be a JSON object');
  checkMembers(value, ['v', 'terms', 'requestProfile', 'commitmentSalt'], 'plaintext', 'UNREADABLE');
  if (value.v !== 1) throw new SealedDataError('UNREADABLE', 'plaintext.v', 'must be 1');
  const { v: _v, ...contents } = value;
  const pkg = checkEnrollmentPackage(contents, 'plaintext', 'UNREADABLE');
  if (pkg.terms.meterId !== checked.header.fpm) throw new SealedDataError('MISPLACED', 'plaintext.terms.meterId', 'must name the meter of the protected header');
  if (pkg.terms.enrollmentId !== checked.header.fpe) {
    throw new SealedDataError('MISPLACED', 'plaintext.terms.enrollmentId', 'must name the enrollment of the protected header');
  }
  return pkg;
}

/** The meter and enrollment a package names, read from its protected header without a key. */
export function enrollmentPackagePlace(jwe: unknown): { meterId: string; enrollmentId: string } {
  const { header } = checkStructure(jwe, 'UNREADABLE');
  return { meterId: header.fpm, enrollmentId: header.fpe };
}

// ---------------------------------------------------------------------------------------
// Shape (no crypto)

function checkStructure(jwe: unknown, code: SealedDataErrorCode): { jwe: EnrollmentPackageJwe; header: EnrollmentPackageHeader } {
  if (!isPlainObject(jwe)) throw new SealedDataError(code, 'jwe', 'must be a JWE in General JSON Serialization (an object)');
  checkMembers(jwe, ['protected', 'iv', 'ciphertext', 'tag', 'recipients'], 'jwe', code);
  const limits = ENROLLMENT_PACKAGE_LIMITS;
  const protectedHeader = checkBase64url(jwe.protected, 'jwe.protected', code, { maxChars: limits.maxProtectedChars });
  const header = checkHeader(protectedHeader.bytes, code);
  const iv = checkBase64url(jwe.iv, 'jwe.iv', code, { bytes: IV_BYTES });
  const tag = checkBase64url(jwe.tag, 'jwe.tag', code, { bytes: TAG_BYTES });
  const ciphertext = checkBase64url(jwe.ciphertext, 'jwe.ciphertext', code, { maxChars: limits.maxCiphertextChars });
  if (!Array.isArray(jwe.recipients) || jwe.recipients.length < 1 || jwe.recipients.length > limits.maxRecipients) {
    throw new SealedDataError(code, 'jwe.recipients', `must be an array of 1 to ${limits.maxRecipients} entries`);
  }
  const kids = new Set<string>();
  const recipients = (jwe.recipients as unknown[]).map((entry, i): SealedRecipientEntry => {
    const at = `jwe.recipients[${i}]`;
    if (!isPlainObject(entry)) throw new SealedDataError(code, at, 'must be { header, encrypted_key }');
    checkMembers(entry, ['header', 'encrypted_key'], at, code);
    const h = entry.header;
    if (!isPlainObject(h)) throw new SealedDataError(code, `${at}.header`, 'must be { alg, kid, epk }');
    checkMembers(h, ['alg', 'kid', 'epk'], `${at}.header`, code);
    if (h.alg !== SEALED_PERIOD_ALG) throw new SealedDataError(code, `${at}.header.alg`, `must be ${SEALED_PERIOD_ALG}`);
    if (typeof h.kid !== 'string' || !KEY_HASH.test(h.kid)) throw new SealedDataError(code, `${at}.header.kid`, 'must be a key hash (64 lowercase hex digits)');
    if (kids.has(h.kid)) throw new SealedDataError(code, `${at}.header.kid`, 'must differ from every other entry’s kid');
    kids.add(h.kid);
    const epk = h.epk;
    if (!isPlainObject(epk)) throw new SealedDataError(code, `${at}.header.epk`, 'must be a P-256 public JWK { kty, crv, x, y }');
    checkMembers(epk, ['kty', 'crv', 'x', 'y'], `${at}.header.epk`, code);
    if (epk.kty !== 'EC') throw new SealedDataError(code, `${at}.header.epk.kty`, 'must be EC');
    if (epk.crv !== 'P-256') throw new SealedDataError(code, `${at}.header.epk.crv`, 'must be P-256');
    const x = checkBase64url(epk.x, `${at}.header.epk.x`, code, { bytes: COORDINATE_BYTES });
    const y = checkBase64url(epk.y, `${at}.header.epk.y`, code, { bytes: COORDINATE_BYTES });
    const encryptedKey = checkBase64url(entry.encrypted_key, `${at}.encrypted_key`, code, { bytes: WRAPPED_KEY_BYTES });
    return {
      header: { alg: SEALED_PERIOD_ALG, kid: h.kid, epk: { kty: 'EC', crv: 'P-256', x: x.text, y: y.text } },
      encrypted_key: encryptedKey.text,
    };
  });
  return { jwe: { protected: protectedHeader.text, iv: iv.text, ciphertext: ciphertext.text, tag: tag.text, recipients }, header };
}

function checkHeader(bytes: Buffer, code: SealedDataErrorCode): EnrollmentPackageHeader {
  const field = 'jwe.protected';
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new SealedDataError(code, field, 'must be base64url of a UTF-8 JSON object');
  }
  if (!isPlainObject(value)) throw new SealedDataError(code, field, 'must be base64url of a JSON object');
  // A sealed period document is of the same family: the content type is checked first, so
  // one passed here is named for what it is rather than for its extra header members.
  if (value.cty !== ENROLLMENT_PACKAGE_CTY) throw new SealedDataError(code, `${field}.cty`, `must be ${ENROLLMENT_PACKAGE_CTY} (this is not an enrollment package)`);
  checkMembers(value, ['enc', 'cty', 'fpm', 'fpe'], field, code);
  if (value.enc !== SEALED_PERIOD_ENC) throw new SealedDataError(code, `${field}.enc`, `must be ${SEALED_PERIOD_ENC}`);
  if (typeof value.fpm !== 'string' || !ID.test(value.fpm)) throw new SealedDataError(code, `${field}.fpm`, 'must be a meter id');
  if (typeof value.fpe !== 'string' || !ID.test(value.fpe)) throw new SealedDataError(code, `${field}.fpe`, 'must be an enrollment id');
  return { enc: SEALED_PERIOD_ENC, cty: ENROLLMENT_PACKAGE_CTY, fpm: value.fpm, fpe: value.fpe };
}

/** Canonical unpadded base64url (one spelling per byte string, so any changed character changes the bytes). */
function checkBase64url(value: unknown, at: string, code: SealedDataErrorCode, size: { bytes?: number; maxChars?: number }): { text: string; bytes: Buffer } {
  const rule = `must be base64url (no padding, canonical) ${size.bytes !== undefined ? `of ${size.bytes} bytes` : `of at most ${size.maxChars ?? 0} characters`}`;
  if (typeof value !== 'string' || value.length === 0) throw new SealedDataError(code, at, rule);
  if (size.maxChars !== undefined && value.length > size.maxChars) throw new SealedDataError(code, at, rule);
  if (size.bytes !== undefined && value.length !== Math.ceil((size.bytes * 4) / 3)) throw new SealedDataError(code, at, rule);
  if (!BASE64URL.test(value) || value.length % 4 === 1) throw new SealedDataError(code, at, rule);
  const bytes = Buffer.from(value, 'base64url');
  if (bytes.toString('base64url') !== value) throw new SealedDataError(code, at, rule);
  return { text: value, bytes };
}

function checkMembers(value: Record<string, unknown>, required: readonly string[], at: string, code: SealedDataErrorCode): void {
  for (const name of required) {
    if (!Object.prototype.hasOwnProperty.call(value, name)) throw new SealedDataError(code, `${at}.${name}`, 'is required');
  }
  for (const name of Object.keys(value)) {
    if (!required.includes(name)) {
      throw new SealedDataError(code, PRINTABLE_NAME.test(name) ? `${at}.${name}` : at, `is not a member here (allowed: ${required.join(', ')})`);
    }
  }
}


function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
