/**
 * For tests and the demo only, never a route: an insider with the store's admin
 * credentials editing sealed documents directly in the CouchDB-protocol store. The
 * insider cannot read a document, nor make one the auditor's key would open for this
 * place with other readings; it can only break or move ciphertext. The audit must then
 * report exactly the altered periods as unreadable.
 *
 * The edit also rewrites the document's contentHash to match, as a careful insider
 * would: the store's own bookkeeping then looks consistent, and only opening the
 * document with a recipient's key shows the change.
 */
import nano from 'nano';
import { sealedContentHash, type SealedPeriodJwe } from '@flexproof/protocol';
import { meterDatabaseName, periodDocumentId, type SealedPeriodDocument } from './store/sealed-periods';
import { basicAuthorization, splitCredentials, type StoreCredentials } from './store/store-credentials';

export interface SealedDocumentPlace {
  meterId: string;
  enrollmentId: string;
  periodIndex: number;
}

/**
 * How to alter the document:
 *   'flip-ciphertext'                     one bit of the ciphertext's first byte flipped (it stays
 *                                         well-formed base64url; its AES-GCM tag no longer checks)
 *   { replaceWithPeriod: N }              this period's document takes period N's JWE (a copy;
 *                                         period N stays as it was): only this hour is altered
 *   { swapWithPeriod: N }                 the JWEs of this period and period N are exchanged
 *                                         (both hours are altered)
 */
export type SealedTamper = 'flip-ciphertext' | { replaceWithPeriod: number } | { swapWithPeriod: number };

type Stored = SealedPeriodDocument & { _id: string; _rev: string };

/**
 * Alters one stored sealed document in place. `store` is the store's URL with its admin
 * credentials as user information (GatewayInstance.storeUrl), or a bare URL with
 * `credentials`.
 */
export async function tamperWithSealedDocument(
  store: string | { url: string; credentials: StoreCredentials },
  target: SealedDocumentPlace,
  how: SealedTamper,
): Promise<void> {
  const { url, credentials } = typeof store === 'string' ? splitCredentials(store) : store;
  const server = nano({ url, headers: credentials ? { Authorization: basicAuthorization(credentials) } : {} });
  const db = server.use<Stored>(meterDatabaseName(target.meterId));
  const doc = await db.get(periodDocumentId(target.enrollmentId, target.periodIndex));
  if (how === 'flip-ciphertext') {
    await db.insert(withJwe(doc, flipFirstCiphertextBit(doc.jwe)));
    return;
  }
  const otherIndex = 'replaceWithPeriod' in how ? how.replaceWithPeriod : how.swapWithPeriod;
  if (otherIndex === target.periodIndex) throw new Error('tamperWithSealedDocument: the other period must differ from the target');
  const other = await db.get(periodDocumentId(target.enrollmentId, otherIndex));
  await db.insert(withJwe(doc, other.jwe));
  if ('swapWithPeriod' in how) await db.insert(withJwe(other, doc.jwe));
}

function withJwe(doc: Stored, jwe: SealedPeriodJwe): Stored {
  return { ...doc, jwe, contentHash: sealedContentHash(jwe) };
}

function flipFirstCiphertextBit(jwe: SealedPeriodJwe): SealedPeriodJwe {
  const bytes = Buffer.from(jwe.ciphertext, 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  return { ...jwe, ciphertext: bytes.toString('base64url') };
}
