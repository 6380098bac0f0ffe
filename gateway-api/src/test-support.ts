/**
 * For tests and the demo only, never a route: alters a stored period directly in the
 * CouchDB-protocol store (with the store's own URL, i.e. its admin access), the way an
 * insider with database access would. The audit must then report that period, and only
 * it, as a mismatch.
 */
import nano from 'nano';
import { meterDatabaseName, periodDocumentId, type PeriodReadings } from './store/raw-readings';

export async function tamperWithStoredReadings(
  storeUrl: string,
  target: { meterId: string; enrollmentId: string; periodIndex: number },
  alter: (readings: string[]) => string[],
): Promise<void> {
  const db = nano({ url: storeUrl }).use<PeriodReadings>(meterDatabaseName(target.meterId));
  const doc = await db.get(periodDocumentId(target.enrollmentId, target.periodIndex));
  await db.insert({ ...doc, readings: alter([...doc.readings]) });
}
