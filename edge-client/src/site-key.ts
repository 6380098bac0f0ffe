/**
 * The site's signing key pair: created once by `flexproof-edge init`, in a PKCS#8 PEM
 * file readable only by its owner (0600). The DSO registers the public half with the
 * meter; every submission and every gateway request is signed with the private half.
 */
import { createPublicKey, generateKeyPairSync, createPrivateKey, type KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, statSync, writeSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { prosumerKeyType } from './prosumer-signing';
import { EdgeError } from './errors';

export type SiteKeyType = 'ed25519' | 'ec-p256';

export interface SiteKey {
  privateKey: KeyObject;
  publicKeyPem: string;
  type: SiteKeyType;
}

/** Creates the key file (refuses to overwrite one) and returns the key. */
export function createSiteKey(file: string, type: SiteKeyType = 'ed25519'): SiteKey {
  const { privateKey } =
    type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new EdgeError('KEY_EXISTS', `key file ${file} already exists; a site keeps its key (delete it only to re-register with the DSO)`, {
        details: { file },
      });
    }
    throw error;
  }
  try {
    writeSync(fd, pem);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { privateKey, publicKeyPem: publicPem(privateKey), type };
}

/** Loads the key file; refuses a file that others may read (like ssh). */
export function loadSiteKey(file: string): SiteKey {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    throw new EdgeError('KEY_MISSING', `key file ${file} does not exist: run \`flexproof-edge init\``, { details: { file } });
  }
  if ((mode & 0o077) !== 0) {
    throw new EdgeError('KEY_PERMISSIONS', `key file ${file} is readable by others (mode ${(mode & 0o777).toString(8)}): chmod 600 it`, {
      details: { file },
    });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(file));
  } catch (cause) {
    throw new EdgeError('KEY_INVALID', `key file ${file} does not hold a PEM private key`, { cause, details: { file } });
  }
  const publicKeyPem = publicPem(privateKey);
  const type = prosumerKeyType(publicKeyPem);
  if (type === undefined) {
    throw new EdgeError('KEY_INVALID', `key file ${file} holds neither an Ed25519 nor a P-256 key`, { details: { file } });
  }
  return { privateKey, publicKeyPem, type };
}

function publicPem(privateKey: KeyObject): string {
  return createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
}
