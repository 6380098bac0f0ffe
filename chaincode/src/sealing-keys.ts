/**
 * Sealing keys as the auditor registry takes them (issue 12, T9): raw period data is
 * sealed (JWE, ECDH-ES+A256KW) to the prosumer's own sealing key and to every active
 * auditor key, EC P-256 public keys in SPKI PEM named by `sealingKeyHash`. The ledger's
 * auditor records carry that hash; the JWE recipient entries use it as `kid`.
 *
 * Stricter than the protocol's checkSealingPublicKey / sealingKeyHash (sealed-period.ts),
 * which the edge and the auditor use: the ledger stores one text per key, so here a PEM
 * that node:crypto would read but that is not the canonical form of exactly one key is
 * refused. On a canonical PEM (all the ledger holds) the two hashes are equal.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

const SPKI_PEM = /^-----BEGIN PUBLIC KEY-----\r?\n((?:[A-Za-z0-9+/=]+\r?\n)+)-----END PUBLIC KEY-----$/;

/**
 * The DER SPKI of an EC P-256 public key given as one SPKI PEM block, or undefined.
 * Strict on purpose, so one key has one text and one hash: a private key (in any
 * armour) is refused rather than reduced to its public half, and so are certificates,
 * other curves and key types, explicit curve parameters, compressed points and bytes
 * after the key (node:crypto would otherwise accept several of these silently).
 */
function sealingKeyDer(publicKeyPem: string): Buffer | undefined {
  const match = SPKI_PEM.exec(publicKeyPem.trim());
  if (!match?.[1]) return undefined;
  const base64 = match[1].replace(/\r?\n/g, '');
  const der = Buffer.from(base64, 'base64');
  if (der.length === 0 || der.toString('base64') !== base64) return undefined;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return undefined;
  // Rebuilt from the bare coordinates, the DER is the named-curve, uncompressed form;
  // anything else (trailing bytes, compressed point) differs from it.
  const canonical = createPublicKey({ key: key.export({ format: 'jwk' }), format: 'jwk' }).export({ type: 'spki', format: 'der' });
  return canonical.equals(der) ? canonical : undefined;
}

/**
 * The canonical SPKI PEM (as node:crypto exports it: LF line breaks, 64 columns, final
 * newline) of an EC P-256 public key, or undefined if `publicKeyPem` is not exactly one
 * (see sealingKeyDer for what is refused).
 */
export function canonicalSealingKeyPem(publicKeyPem: string): string | undefined {
  const der = sealingKeyDer(publicKeyPem);
  return der && createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * Key hash of a sealing or auditor public key: sha256 (hex) of its DER SPKI bytes. Throws
 * a TypeError if `publicKeyPem` is not an EC P-256 public key in SPKI PEM (the message
 * never holds the input, which may be a private key sent by mistake).
 */
export function sealingKeyHash(publicKeyPem: string): string {
  const der = sealingKeyDer(publicKeyPem);
  if (!der) throw new TypeError('publicKeyPem: must be an EC P-256 public key in SPKI PEM');
  return createHash('sha256').update(der).digest('hex');
}
