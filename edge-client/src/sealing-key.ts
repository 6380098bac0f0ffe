/**
 * The site's sealing key (issue 12, THREATS.md T9): a P-256 key pair in `sealing-key.pem`
 * (PKCS#8, mode 0600) beside the site key. Every period document the edge uploads is
 * sealed to its public half (and to the auditors' keys), so the prosumer can read its own
 * data back from the store on any machine that holds this file.
 *
 * It is a key of its own, not the site key, even when the site key is P-256: the site key
 * is registered with the DSO and only signs; this one only agrees keys (ECDH). Keeping the
 * two apart means neither use can weaken the other, and either can be replaced without
 * touching the other (a new sealing key needs no DSO; a new site key does not make the
 * stored documents unreadable).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { checkSealingPrivateKey, generateSealingKeyPair, sealingKeyHash } from '@flexproof/protocol';
import { EdgeError } from './errors';
import type { Logger } from './log';

/** The file name of the sealing key when the config does not name one: beside the site key. */
export const SEALING_KEY_FILE = 'sealing-key.pem';

export interface SealingKey {
  privateKey: KeyObject;
  /** SPKI PEM: the recipient the edge seals to. */
  publicKeyPem: string;
  /** sha256 hex of the DER SPKI: the `kid` of the site's entry in every sealed document. */
  keyHash: string;
}

/** Creates the key file (refuses to overwrite one) and returns the key. */
export function createSealingKey(file: string): SealingKey {
  const { privateKeyPem } = generateSealingKeyPair();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new EdgeError('KEY_EXISTS', `sealing key file ${file} already exists; it opens every document this site sealed, keep it`, {
        details: { file },
      });
    }
    throw error;
  }
  try {
    writeSync(fd, privateKeyPem);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return fromPrivateKey(checkSealingPrivateKey(privateKeyPem));
}

/** Loads the key file; refuses a file others may read, or a key that is not P-256. */
export function loadSealingKey(file: string): SealingKey {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    throw new EdgeError('KEY_MISSING', `sealing key file ${file} does not exist: run \`flexproof-edge init\` (or \`run\`, which creates it)`, {
      details: { file },
    });
  }
  if ((mode & 0o077) !== 0) {
    throw new EdgeError('KEY_PERMISSIONS', `sealing key file ${file} is readable by others (mode ${(mode & 0o777).toString(8)}): chmod 600 it`, {
      details: { file },
    });
  }
  let privateKey: KeyObject;
  try {
    privateKey = checkSealingPrivateKey(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new EdgeError('KEY_INVALID', `sealing key file ${file} does not hold a P-256 (EC) private key in PEM`, { cause, details: { file } });
  }
  return fromPrivateKey(privateKey);
}

/**
 * The sealing key, created when the file is missing (`run` on a site set up before issue
 * 12). A new key cannot open documents sealed to an earlier one: the log says so.
 */
export function ensureSealingKey(file: string, logger: Logger): SealingKey & { created: boolean } {
  try {
    return { ...loadSealingKey(file), created: false };
  } catch (error) {
    if (!(error instanceof EdgeError) || error.code !== 'KEY_MISSING') throw error;
  }
  const key = createSealingKey(file);
  logger.warn('sealing-key.created', {
    file,
    keyHash: key.keyHash,
    note: 'no sealing key was found, a new one was made (mode 600): back it up; documents sealed to an earlier sealing key do not open with this one',
  });
  return { ...key, created: true };
}

function fromPrivateKey(privateKey: KeyObject): SealingKey {
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return { privateKey, publicKeyPem, keyHash: sealingKeyHash(publicKeyPem) };
}
