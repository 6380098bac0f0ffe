import { Type } from '@sinclair/typebox';
import type { Services } from '../services/services';

export const StoredPeriod = Type.Object(
  {
    enrollmentId: Type.String(),
    periodIndex: Type.Integer(),
    readings: Type.Array(Type.String(), { description: 'interval energies, Wh' }),
    fingerprintSalt: Type.String(),
    contentHash: Type.String(),
    uploadedAt: Type.String(),
  },
  { additionalProperties: false },
);

export const StoredPeriods = Type.Object(
  { meterId: Type.String(), periods: Type.Array(StoredPeriod) },
  { additionalProperties: false },
);

export async function storedPeriodsOf(services: Services, meterId: string, enrollmentId?: string) {
  const periods = await services.store.listPeriods(meterId, enrollmentId);
  return {
    meterId,
    periods: periods.map((p) => ({
      enrollmentId: p.enrollmentId,
      periodIndex: p.periodIndex,
      readings: p.readings,
      fingerprintSalt: p.fingerprintSalt,
      contentHash: p.contentHash,
      uploadedAt: p.uploadedAt,
    })),
  };
}
