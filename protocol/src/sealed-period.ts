/**
 * Sealed period documents (issue 12, THREATS.md T9): the raw readings and fingerprint salt
 * of one (meter, enrollment, period), encrypted at the edge to the prosumer's own sealing
 * key and to each auditor key it allows, before anything leaves the site.
 *
 * Format: JWE (RFC 7516) General JSON Serialization made and opened by `jose` (panva/jose,
 * on node:crypto). Every recipient entry wraps the one content key with ECDH-ES+A256KW on
 * P-256; the content is A256GCM. No construction of our own: we only choose what goes in
 * the headers.
 *
 *   protected header  { enc: "A256GCM", cty: "flexproof.period.v1", fpm: meterId,
 *                       fpe: enrollmentId, fpp: periodIndex }
 *                     The JWE uses it as the AES-GCM associated data, so the place a
 *                     document names cannot be changed without the document failing to open.
 *   recipient header  { alg: "ECDH-ES+A256KW", kid: sealingKeyHash(recipient key), epk }
 *                     (not integrity protected: a changed kid only makes an opener miss its
 *                     entry, a changed epk or encrypted_key makes the unwrap fail)
 *   plaintext         canonical JSON of { v: 1, meterId, enrollmentId, periodIndex,
 *                     readings: [decimal strings], exportReadings?: [decimal strings],
 *                     fingerprintSalt: decimal string }
 *                     readings are the imported energy of each interval; exportReadings,
 *                     the exported energy of each interval, only in the documents of a
 *                     net energy (v2) enrollment: same length as readings; absent means
 *                     no export (all zero), so every document made before it existed
 *                     reads as it did.
 *
 * The place is in the plaintext as well as in the header, so a document that decrypts but
 * was made for another place (an honest edge never does this; someone who holds a
 * recipient's public key can) is still refused as MISPLACED.
 *
 * Errors name the field and the rule, never a reading, a salt, a key or any plaintext.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { GeneralEncrypt, generalDecrypt, type GeneralJWE } from 'jose';
import { canonicalJson } from './canonical-json';

/** Content type of a sealed period document, in its protected header. */
export const SEALED_PERIOD_CTY = 'flexproof.period.v1';
/** Key management of every recipient entry. */
export const SEALED_PERIOD_ALG = 'ECDH-ES+A256KW';
/** Content encryption. */
export const SEALED_PERIOD_ENC = 'A256GCM';

/** Bounds a checker applies before any crypto, so a document's size is known from its shape. */
export const SEALED_LIMITS = {
  /** Recipient entries in one document (the prosumer and up to 15 auditors). */
  maxRecipients: 16,
  /** Characters of the base64url ciphertext (64 KiB). */
  maxCiphertextChars: 64 * 1024,
  /** Characters of the base64url protected header. */
  maxProtectedChars: 1024,
  /** Readings in one period (one a second over a quarter hour would be 900). */
  maxReadings: 1024,
  /** Decimal digits of one reading (an unsigned 64-bit value has 20). */
  maxReadingDigits: 20,
  /** Decimal digits of a fingerprint salt (the BN254 scalar field has 77). */
  maxSaltDigits: 78,
  /** Characters of a public key PEM (a P-256 SPKI PEM has 178). */
  maxPemChars: 4096,
  /**
   * Characters of the JSON of the largest document the checker accepts (16 recipients, a
   * 64 KiB ciphertext, a 1 KiB protected header come to about 71,200): for a route's body limit.
   */
  maxDocumentJsonChars: 72 * 1024,
  /** Periods of a day: periodIndex is 0 to 23. */
  periodsPerDay: 24,
} as const;

/** The ledger's rule for meter and enrollment ids: the pattern of `Id` in schemas/primitives.ts. */
const PLACE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const KEY_HASH = /^[0-9a-f]{64}$/;
/** A member name that is safe to repeat in an error (anything else is not echoed). */
const PRINTABLE_NAME = /^[A-Za-z0-9_]{1,32}$/;

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** AES key wrap (RFC 3394) of a 256-bit content key. */
const WRAPPED_KEY_BYTES = 40;
/** A P-256 coordinate. */
const COORDINATE_BYTES = 32;

export interface PeriodPlace {
  meterId: string;
  enrollmentId: string;
  periodIndex: number;
}

export interface PeriodPlaintext extends PeriodPlace {
  v: 1;
  /** Imported energy of each interval, Wh (decimal). */
  readings: string[];
  /** Exported energy of each interval, Wh (decimal), as long as `readings`; absent: none exported (all zero). */
  exportReadings?: string[];
  fingerprintSalt: string;
}

/** What the edge seals for one period. */
export interface PeriodDocument extends PeriodPlace {
  readings: string[];
  /** Net energy (v2) enrollments: the exported energy of each interval, as long as `readings`. */
  exportReadings?: string[];
  fingerprintSalt: string;
}

/** The ephemeral P-256 public key of one recipient entry (JWK). */
export interface SealedEphemeralKey {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
}

export interface SealedRecipientEntry {
  header: { alg: typeof SEALED_PERIOD_ALG; kid: string; epk: SealedEphemeralKey };
  encrypted_key: string;
}

/** A sealed period document: JWE General JSON Serialization, nothing else. */
export interface SealedPeriodJwe {
  protected: string;
  iv: string;
  ciphertext: string;
  tag: string;
  recipients: SealedRecipientEntry[];
}

/** The decoded protected header of a sealed period document. */
export interface SealedProtectedHeader {
  enc: typeof SEALED_PERIOD_ENC;
  cty: typeof SEALED_PERIOD_CTY;
  fpm: string;
  fpe: string;
  fpp: number;
}

/** A key to seal to: a P-256 public key in SPKI PEM. */
export interface SealingRecipient {
  publicKeyPem: string;
}

export type SealedDataErrorCode = 'NOT_A_RECIPIENT' | 'UNREADABLE' | 'MISPLACED' | 'MALFORMED';

/**
 * Why a sealed document was refused. `field` is a path such as
 * `jwe.recipients[0].encrypted_key` or `plaintext.readings[3]`; `rule` says what it must be.
 * Neither ever holds a value taken from the document's plaintext or a key.
 */
export class SealedDataError extends Error {
  override readonly name = 'SealedDataError';
  readonly code: SealedDataErrorCode;
  readonly field?: string;
  readonly rule: string;

  constructor(code: SealedDataErrorCode, field: string | undefined, rule: string) {
    super(field === undefined ? rule : `${field} ${rule}`);
    this.code = code;
    this.rule = rule;
    if (field !== undefined) this.field = field;
  }
}

export function isSealedDataError(error: unknown): error is SealedDataError {
  return error instanceof SealedDataError;
}

// ---------------------------------------------------------------------------------------
// Keys

/** A fresh P-256 key pair for sealing (private PKCS#8 PEM, public SPKI PEM). */
export function generateSealingKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/**
 * The P-256 public key in an SPKI PEM, or SealedDataError MALFORMED naming `field`.
 * A private key PEM is refused (rather than its public half derived) so that a caller that
 * mixes the two up finds out, instead of publishing a hash of a key it meant to keep.
 */
export function checkSealingPublicKey(publicKeyPem: unknown, field = 'publicKeyPem'): KeyObject {
  const rule = 'must be a P-256 (EC) public key in SPKI PEM';
  if (typeof publicKeyPem !== 'string' || publicKeyPem.length > SEALED_LIMITS.maxPemChars) {
    throw new SealedDataError('MALFORMED', field, rule);
  }
  if (!publicKeyPem.includes('-----BEGIN PUBLIC KEY-----') || publicKeyPem.includes('PRIVATE KEY')) {
    throw new SealedDataError('MALFORMED', field, rule);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: publicKeyPem, format: 'pem' });
  } catch {
    throw new SealedDataError('MALFORMED', field, rule);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new SealedDataError('MALFORMED', field, rule);
  }
  return key;
}

/** S3: sha256 (hex) of the DER SPKI bytes of a P-256 public key: the `kid` of its entries. */
export function sealingKeyHash(publicKeyPem: string): string {
  return keyHashOf(checkSealingPublicKey(publicKeyPem));
}

export function keyHashOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

/**
 * The plaintext of a structurally checked multi-recipient JWE (sealed period or
 * enrollment package), from the entry whose kid is this private key's hash. Shared by
 * both formats; not exported from the package.
 */
export async function decryptForRecipient(jwe: SealedPeriodJwe, privateKey: KeyObject): Promise<Uint8Array> {
  const kid = keyHashOf(createPublicKey(privateKey));
  const entry = jwe.recipients.find((r) => r.header.kid === kid);
  if (entry === undefined) {
    throw new SealedDataError('NOT_A_RECIPIENT', 'jwe.recipients', 'has no entry whose kid is the hash of this key');
  }
  try {
    const { protected: protectedHeader, iv, ciphertext, tag } = jwe;
    const result = await generalDecrypt({ protected: protectedHeader, iv, ciphertext, tag, recipients: [entry] }, privateKey, {
      keyManagementAlgorithms: [SEALED_PERIOD_ALG],
      contentEncryptionAlgorithms: [SEALED_PERIOD_ENC],
    });
    return result.plaintext;
  } catch {
    // jose's reason is not passed on: one answer for every failure, whatever was changed.
    throw new SealedDataError('UNREADABLE', 'jwe', 'does not decrypt with this key (its integrity check fails)');
  }
}

/**
 * The P-256 private key in a PEM (PKCS#8 or SEC1) or KeyObject, or SealedDataError
 * MALFORMED naming `field`. The message never holds any part of the key.
 */
export function checkSealingPrivateKey(privateKey: unknown, field = 'privateKey'): KeyObject {
  const rule = 'must be a P-256 (EC) private key (PKCS#8 or SEC1 PEM, or a KeyObject)';
  let key: KeyObject;
  if (typeof privateKey === 'string') {
    try {
      key = createPrivateKey({ key: privateKey, format: 'pem' });
    } catch {
      throw new SealedDataError('MALFORMED', field, rule);
    }
  } else if (isKeyObject(privateKey)) {
    key = privateKey;
  } else {
    throw new SealedDataError('MALFORMED', field, rule);
  }
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new SealedDataError('MALFORMED', field, rule);
  }
  return key;
}

function isKeyObject(value: unknown): value is KeyObject {
  return typeof value === 'object' && value !== null && typeof (value as KeyObject).export === 'function' && 'type' in value;
}

// ---------------------------------------------------------------------------------------
// Sealing

/**
 * The recipients of a sealed document, checked: 1 to `max` distinct P-256 public keys,
 * each with its key hash as `kid`. Bad input: MALFORMED naming `recipients[i]...`.
 */
export function checkRecipients(recipients: unknown, max: number): { key: KeyObject; kid: string; field: string }[] {
  if (!Array.isArray(recipients) || recipients.length < 1 || recipients.length > max) {
    throw new SealedDataError('MALFORMED', 'recipients', `must list 1 to ${max} keys`);
  }
  const keys = recipients.map((r: unknown, i) => {
    const field = `recipients[${i}].publicKeyPem`;
    if (!isPlainObject(r)) throw new SealedDataError('MALFORMED', `recipients[${i}]`, 'must be { publicKeyPem }');
    const key = checkSealingPublicKey(r.publicKeyPem, field);
    return { key, kid: keyHashOf(key), field };
  });
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k.kid)) throw new SealedDataError('MALFORMED', k.field, 'must name each key once');
    seen.add(k.kid);
  }
  return keys;
}

/**
 * A general JWE of `plaintext` (canonical JSON) under `header`, one ECDH-ES+A256KW entry
 * per key, named by its kid: the one encryption of sealed periods and enrollment packages.
 */
export async function encryptToRecipients(plaintext: unknown, header: Record<string, unknown>, keys: readonly { key: KeyObject; kid: string }[]): Promise<GeneralJWE> {
  const encrypt = new GeneralEncrypt(new TextEncoder().encode(canonicalJson(plaintext))).setProtectedHeader({ ...header });
  for (const { key, kid } of keys) encrypt.addRecipient(key).setUnprotectedHeader({ alg: SEALED_PERIOD_ALG, kid });
  // jose writes a lone recipient's ephemeral key (epk) into the protected header instead of
  // the recipient's own header. For one document shape whatever the number of recipients,
  // a single-recipient document is made with a second, throwaway recipient whose entry is
  // then dropped: the content key and ciphertext are the same, and the throwaway private
  // key is never kept anywhere.
  if (keys.length === 1) {
    const throwaway = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    encrypt.addRecipient(throwaway).setUnprotectedHeader({ alg: SEALED_PERIOD_ALG, kid: keyHashOf(throwaway) });
  }
  const made: GeneralJWE = await encrypt.encrypt();
  made.recipients = made.recipients.slice(0, keys.length);
  return made;
}

/**
 * Seals one period's readings and fingerprint salt to every recipient. The recipients are
 * the prosumer's own sealing key and the auditor keys the edge read from the ledger; each
 * is named by its key hash so an opener finds its own entry.
 * Bad input throws SealedDataError MALFORMED naming the field (`doc.readings[2]`,
 * `recipients[1].publicKeyPem`), never echoing a value.
 */
export async function sealPeriod(doc: PeriodDocument, recipients: SealingRecipient[]): Promise<SealedPeriodJwe> {
  if (!isPlainObject(doc)) throw new SealedDataError('MALFORMED', 'doc', 'must be an object');
  const place = checkPlace(doc, 'doc', 'MALFORMED');
  const readings = checkReadings(doc.readings, 'doc.readings', 'MALFORMED');
  const exportReadings = doc.exportReadings === undefined ? undefined : checkExportReadings(doc.exportReadings, readings.length, 'doc.exportReadings', 'MALFORMED');
  const fingerprintSalt = checkDecimal(doc.fingerprintSalt, SEALED_LIMITS.maxSaltDigits, 'doc.fingerprintSalt', 'MALFORMED');

  const keys = checkRecipients(recipients, SEALED_LIMITS.maxRecipients);

  const plaintext: PeriodPlaintext = { v: 1, ...place, readings, ...(exportReadings !== undefined ? { exportReadings } : {}), fingerprintSalt };
  const header: SealedProtectedHeader = {
    enc: SEALED_PERIOD_ENC,
    cty: SEALED_PERIOD_CTY,
    fpm: place.meterId,
    fpe: place.enrollmentId,
    fpp: place.periodIndex,
  };
  const made = await encryptToRecipients(plaintext, { ...header }, keys);
  // Our own output passes our own checker, or we find out here rather than at the gateway.
  return checkSealedShape(made, place);
}

// ---------------------------------------------------------------------------------------
// Opening

/**
 * Opens a sealed period document with a recipient's private key, for the place it was read
 * from. Throws SealedDataError:
 *   NOT_A_RECIPIENT  no entry carries this key's hash as kid;
 *   UNREADABLE       not a well-formed sealed document, or decryption or its integrity
 *                    check fails (any changed byte of protected, iv, ciphertext, tag,
 *                    encrypted_key or epk), or the plaintext is not a v1 period document;
 *   MISPLACED        it decrypts but its protected header or plaintext names another meter,
 *                    enrollment or period than `expected`;
 *   MALFORMED        `privateKey` or `expected` itself is not usable (the caller's input).
 */
export async function openPeriod(jwe: unknown, privateKeyPem: string | KeyObject, expected: PeriodPlace): Promise<PeriodPlaintext> {
  const privateKey = checkSealingPrivateKey(privateKeyPem);
  const place = checkPlace(expected, 'expected', 'MALFORMED');

  let checked: { jwe: SealedPeriodJwe; header: SealedProtectedHeader };
  try {
    checked = checkStructure(jwe);
  } catch (error) {
    if (error instanceof SealedDataError) throw new SealedDataError('UNREADABLE', error.field, error.rule);
    throw error;
  }

  const plaintextBytes = await decryptForRecipient(checked.jwe, privateKey);

  checkHeaderPlace(checked.header, place);
  return readPlaintext(plaintextBytes, place);
}

function readPlaintext(bytes: Uint8Array, expected: PeriodPlace): PeriodPlaintext {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new SealedDataError('UNREADABLE', 'plaintext', 'must be UTF-8 JSON');
  }
  if (!isPlainObject(value)) throw new SealedDataError('UNREADABLE', 'plaintext', 'must be a JSON object');
  const places: [keyof PeriodPlace, unknown][] = [
    ['meterId', value.meterId],
    ['enrollmentId', value.enrollmentId],
    ['periodIndex', value.periodIndex],
  ];
  for (const [name, actual] of places) {
    if (actual !== expected[name]) {
      throw new SealedDataError('MISPLACED', `plaintext.${name}`, `must name the ${placeNoun(name)} it was read for`);
    }
  }
  checkMembers(value, ['v', 'meterId', 'enrollmentId', 'periodIndex', 'readings', 'fingerprintSalt'], 'plaintext', 'UNREADABLE', ['exportReadings']);
  if (value.v !== 1) throw new SealedDataError('UNREADABLE', 'plaintext.v', 'must be 1');
  const readings = checkReadings(value.readings, 'plaintext.readings', 'UNREADABLE');
  const exportReadings =
    value.exportReadings === undefined ? undefined : checkExportReadings(value.exportReadings, readings.length, 'plaintext.exportReadings', 'UNREADABLE');
  return {
    v: 1,
    meterId: expected.meterId,
    enrollmentId: expected.enrollmentId,
    periodIndex: expected.periodIndex,
    readings,
    ...(exportReadings !== undefined ? { exportReadings } : {}),
    fingerprintSalt: checkDecimal(value.fingerprintSalt, SEALED_LIMITS.maxSaltDigits, 'plaintext.fingerprintSalt', 'UNREADABLE'),
  };
}

// ---------------------------------------------------------------------------------------
// Shape (no crypto)

/**
 * The shape of a sealed period document, without any crypto (for the gateway, which never
 * holds a key): the JWE members and nothing else, canonical base64url of the right sizes,
 * 1 to 16 recipients with distinct kids, and a protected header whose cty is
 * flexproof.period.v1 and whose fpm/fpe/fpp equal `expected`.
 * Throws SealedDataError MALFORMED with `field` (e.g. `jwe.recipients[0].encrypted_key`)
 * and a rule, or MISPLACED (`jwe.protected.fpp`) for a document made for another place.
 * Returns a fresh copy holding only the checked members.
 */
export function checkSealedShape(jwe: unknown, expected: PeriodPlace): SealedPeriodJwe {
  const place = checkPlace(expected, 'expected', 'MALFORMED');
  const checked = checkStructure(jwe);
  checkHeaderPlace(checked.header, place);
  return checked.jwe;
}

/** sha256 (hex) of the canonical (sorted-key) JSON of a sealed document. */
export function sealedContentHash(jwe: SealedPeriodJwe): string {
  return createHash('sha256').update(canonicalJson(jwe), 'utf8').digest('hex');
}

function checkStructure(jwe: unknown): { jwe: SealedPeriodJwe; header: SealedProtectedHeader } {
  if (!isPlainObject(jwe)) throw new SealedDataError('MALFORMED', 'jwe', 'must be a JWE in General JSON Serialization (an object)');
  checkMembers(jwe, ['protected', 'iv', 'ciphertext', 'tag', 'recipients'], 'jwe', 'MALFORMED');

  const protectedHeader = checkBase64url(jwe.protected, 'jwe.protected', { maxChars: SEALED_LIMITS.maxProtectedChars });
  const header = checkProtectedHeader(protectedHeader.bytes);
  const iv = checkBase64url(jwe.iv, 'jwe.iv', { bytes: IV_BYTES });
  const tag = checkBase64url(jwe.tag, 'jwe.tag', { bytes: TAG_BYTES });
  const ciphertext = checkBase64url(jwe.ciphertext, 'jwe.ciphertext', { maxChars: SEALED_LIMITS.maxCiphertextChars });

  if (!Array.isArray(jwe.recipients) || jwe.recipients.length < 1 || jwe.recipients.length > SEALED_LIMITS.maxRecipients) {
    throw new SealedDataError('MALFORMED', 'jwe.recipients', `must be an array of 1 to ${SEALED_LIMITS.maxRecipients} entries`);
  }
  const kids = new Set<string>();
  const recipients = (jwe.recipients as unknown[]).map((entry, i): SealedRecipientEntry => {
    const at = `jwe.recipients[${i}]`;
    if (!isPlainObject(entry)) throw new SealedDataError('MALFORMED', at, 'must be { header, encrypted_key }');
    checkMembers(entry, ['header', 'encrypted_key'], at, 'MALFORMED');
    const h = entry.header;
    if (!isPlainObject(h)) throw new SealedDataError('MALFORMED', `${at}.header`, 'must be { alg, kid, epk }');
    checkMembers(h, ['alg', 'kid', 'epk'], `${at}.header`, 'MALFORMED');
    if (h.alg !== SEALED_PERIOD_ALG) throw new SealedDataError('MALFORMED', `${at}.header.alg`, `must be ${SEALED_PERIOD_ALG}`);
    if (typeof h.kid !== 'string' || !KEY_HASH.test(h.kid)) {
      throw new SealedDataError('MALFORMED', `${at}.header.kid`, 'must be a key hash (64 lowercase hex digits)');
    }
    if (kids.has(h.kid)) throw new SealedDataError('MALFORMED', `${at}.header.kid`, 'must differ from every other entry’s kid');
    kids.add(h.kid);
    const epk = h.epk;
    if (!isPlainObject(epk)) throw new SealedDataError('MALFORMED', `${at}.header.epk`, 'must be a P-256 public JWK { kty, crv, x, y }');
    checkMembers(epk, ['kty', 'crv', 'x', 'y'], `${at}.header.epk`, 'MALFORMED');
    if (epk.kty !== 'EC') throw new SealedDataError('MALFORMED', `${at}.header.epk.kty`, 'must be EC');
    if (epk.crv !== 'P-256') throw new SealedDataError('MALFORMED', `${at}.header.epk.crv`, 'must be P-256');
    const x = checkBase64url(epk.x, `${at}.header.epk.x`, { bytes: COORDINATE_BYTES });
    const y = checkBase64url(epk.y, `${at}.header.epk.y`, { bytes: COORDINATE_BYTES });
    const encryptedKey = checkBase64url(entry.encrypted_key, `${at}.encrypted_key`, { bytes: WRAPPED_KEY_BYTES });
    return {
      header: { alg: SEALED_PERIOD_ALG, kid: h.kid, epk: { kty: 'EC', crv: 'P-256', x: x.text, y: y.text } },
      encrypted_key: encryptedKey.text,
    };
  });

  return {
    jwe: { protected: protectedHeader.text, iv: iv.text, ciphertext: ciphertext.text, tag: tag.text, recipients },
    header,
  };
}

function checkProtectedHeader(bytes: Buffer): SealedProtectedHeader {
  const field = 'jwe.protected';
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new SealedDataError('MALFORMED', field, 'must be base64url of a UTF-8 JSON object');
  }
  if (!isPlainObject(value)) throw new SealedDataError('MALFORMED', field, 'must be base64url of a JSON object');
  checkMembers(value, ['enc', 'cty', 'fpm', 'fpe', 'fpp'], field, 'MALFORMED');
  if (value.enc !== SEALED_PERIOD_ENC) throw new SealedDataError('MALFORMED', `${field}.enc`, `must be ${SEALED_PERIOD_ENC}`);
  if (value.cty !== SEALED_PERIOD_CTY) throw new SealedDataError('MALFORMED', `${field}.cty`, `must be ${SEALED_PERIOD_CTY}`);
  const place = checkPlace(
    { meterId: value.fpm, enrollmentId: value.fpe, periodIndex: value.fpp },
    field,
    'MALFORMED',
    { meterId: 'fpm', enrollmentId: 'fpe', periodIndex: 'fpp' },
  );
  return { enc: SEALED_PERIOD_ENC, cty: SEALED_PERIOD_CTY, fpm: place.meterId, fpe: place.enrollmentId, fpp: place.periodIndex };
}

function checkHeaderPlace(header: SealedProtectedHeader, expected: PeriodPlace): void {
  if (header.fpm !== expected.meterId) throw new SealedDataError('MISPLACED', 'jwe.protected.fpm', 'must name the meter it was read for');
  if (header.fpe !== expected.enrollmentId) {
    throw new SealedDataError('MISPLACED', 'jwe.protected.fpe', 'must name the enrollment it was read for');
  }
  if (header.fpp !== expected.periodIndex) throw new SealedDataError('MISPLACED', 'jwe.protected.fpp', 'must name the period it was read for');
}

// ---------------------------------------------------------------------------------------
// Field checks

function checkPlace(
  value: unknown,
  at: string,
  code: SealedDataErrorCode,
  names: Record<keyof PeriodPlace, string> = { meterId: 'meterId', enrollmentId: 'enrollmentId', periodIndex: 'periodIndex' },
): PeriodPlace {
  if (!isPlainObject(value)) throw new SealedDataError(code, at, 'must be { meterId, enrollmentId, periodIndex }');
  const { meterId, enrollmentId, periodIndex } = value;
  const idRule = 'must be an id (a letter or digit, then up to 127 of A-Z a-z 0-9 . _ -)';
  if (typeof meterId !== 'string' || !PLACE_ID.test(meterId)) throw new SealedDataError(code, `${at}.${names.meterId}`, idRule);
  if (typeof enrollmentId !== 'string' || !PLACE_ID.test(enrollmentId)) {
    throw new SealedDataError(code, `${at}.${names.enrollmentId}`, idRule);
  }
  if (typeof periodIndex !== 'number' || !Number.isInteger(periodIndex) || periodIndex < 0 || periodIndex >= SEALED_LIMITS.periodsPerDay) {
    throw new SealedDataError(code, `${at}.${names.periodIndex}`, `must be an integer from 0 to ${SEALED_LIMITS.periodsPerDay - 1}`);
  }
  return { meterId, enrollmentId, periodIndex };
}

function checkReadings(value: unknown, at: string, code: SealedDataErrorCode): string[] {
  if (!Array.isArray(value) || value.length < 1 || value.length > SEALED_LIMITS.maxReadings) {
    throw new SealedDataError(code, at, `must be an array of 1 to ${SEALED_LIMITS.maxReadings} decimal strings`);
  }
  return (value as unknown[]).map((r, i) => checkDecimal(r, SEALED_LIMITS.maxReadingDigits, `${at}[${i}]`, code));
}

/** Exported energies: the same rules as readings, one per interval (as many as the readings). */
function checkExportReadings(value: unknown, intervals: number, at: string, code: SealedDataErrorCode): string[] {
  const exportReadings = checkReadings(value, at, code);
  if (exportReadings.length !== intervals) throw new SealedDataError(code, at, 'must have one value per interval (as many as readings)');
  return exportReadings;
}

function checkDecimal(value: unknown, maxDigits: number, at: string, code: SealedDataErrorCode): string {
  // The value itself is never put in the message: it is a reading or a salt.
  if (typeof value !== 'string' || value.length < 1 || value.length > maxDigits || !/^(0|[1-9][0-9]*)$/.test(value)) {
    throw new SealedDataError(code, at, `must be a decimal string (no sign, no leading zero, at most ${maxDigits} digits)`);
  }
  return value;
}

/**
 * A base64url string without padding that is the canonical encoding of its bytes (the
 * unused low bits of its last character are zero), so one document has one spelling and
 * one content hash, and any changed character changes the bytes.
 */
function checkBase64url(value: unknown, at: string, size: { bytes?: number; maxChars?: number }): { text: string; bytes: Buffer } {
  const sizeRule =
    size.bytes !== undefined ? `of ${size.bytes} bytes` : `of at most ${size.maxChars ?? 0} characters`;
  const rule = `must be base64url (no padding, canonical) ${sizeRule}`;
  if (typeof value !== 'string' || value.length === 0) throw new SealedDataError('MALFORMED', at, rule);
  if (size.maxChars !== undefined && value.length > size.maxChars) throw new SealedDataError('MALFORMED', at, rule);
  if (size.bytes !== undefined && value.length !== Math.ceil((size.bytes * 4) / 3)) throw new SealedDataError('MALFORMED', at, rule);
  if (!BASE64URL.test(value) || value.length % 4 === 1) throw new SealedDataError('MALFORMED', at, rule);
  const bytes = Buffer.from(value, 'base64url');
  if (bytes.toString('base64url') !== value) throw new SealedDataError('MALFORMED', at, rule);
  return { text: value, bytes };
}

function checkMembers(value: Record<string, unknown>, required: readonly string[], at: string, code: SealedDataErrorCode, optional: readonly string[] = []): void {
  for (const name of required) {
    if (!Object.prototype.hasOwnProperty.call(value, name)) throw new SealedDataError(code, `${at}.${name}`, 'is required');
  }
  const allowed = [...required, ...optional];
  for (const name of Object.keys(value)) {
    if (!allowed.includes(name)) {
      const where = PRINTABLE_NAME.test(name) ? `${at}.${name}` : at;
      throw new SealedDataError(code, where, `is not a member here (allowed: ${allowed.join(', ')})`);
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function placeNoun(name: keyof PeriodPlace): string {
  return name === 'meterId' ? 'meter' : name === 'enrollmentId' ? 'enrollment' : 'period';
}
