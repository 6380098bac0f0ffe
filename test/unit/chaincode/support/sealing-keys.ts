/** Texts that look like, or are close to, an auditor's public key but must be refused. */
import { ECDH, generateKeyPairSync } from 'node:crypto';

function p256() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { privateKey, der, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

function pemOf(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The same P-256 key as an SPKI DER with a compressed point (valid, but not the canonical form). */
function compressedSpki(der: Buffer): Buffer {
  const point = der.subarray(der.length - 65);
  const compressed = ECDH.convertKey(point, 'prime256v1', undefined, undefined, 'compressed') as Buffer;
  const algorithm = der.subarray(2, 2 + 2 + der[3]!); // AlgorithmIdentifier SEQUENCE, tag and length included
  const bitString = Buffer.concat([Buffer.from([0x03, compressed.length + 1, 0x00]), compressed]);
  const body = Buffer.concat([algorithm, bitString]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** Keys and texts that are not one EC P-256 public key in SPKI PEM. */
export function badSealingKeys(): [string, string][] {
  const key = p256();
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const k256 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const ed25519 = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const x25519 = generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const pkcs8 = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const sec1 = key.privateKey.export({ type: 'sec1', format: 'pem' }).toString();
  const pkcs8Der = key.privateKey.export({ type: 'pkcs8', format: 'der' });
  return [
    ['a P-256 private key (PKCS#8)', pkcs8],
    ['a P-256 private key (SEC1)', sec1],
    ['a private key armoured as PUBLIC KEY', pemOf('PUBLIC KEY', pkcs8Der)],
    ['a P-384 key', p384],
    ['a secp256k1 key', k256],
    ['an Ed25519 key', ed25519],
    ['an X25519 key', x25519],
    ['an RSA key', rsa],
    ['the key armoured as a CERTIFICATE', pemOf('CERTIFICATE', key.der)],
    ['two keys', key.pem + p256().pem],
    ['bytes after the key', pemOf('PUBLIC KEY', Buffer.concat([key.der, Buffer.from([0, 0])]))],
    ['a compressed point', pemOf('PUBLIC KEY', compressedSpki(key.der))],
    ['text around the block', `my key:\n${key.pem}`],
    ['not base64', '-----BEGIN PUBLIC KEY-----\n' + '!'.repeat(64) + '\n-----END PUBLIC KEY-----\n'],
    ['base64 of nothing in particular', pemOf('PUBLIC KEY', Buffer.alloc(91, 7))],
    ['garbage', 'x'.repeat(200)],
  ];
}
