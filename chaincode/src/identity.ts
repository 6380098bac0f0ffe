import type { Context } from 'fabric-contract-api';
import { ChaincodeError } from './errors';

/** The organisations of the consortium, by MSP ID. */
export const AGGREGATOR_MSP = 'AggregatorMSP';
export const DSO_MSP = 'DsoMSP';
export const MEMBER_MSPS: readonly string[] = [AGGREGATOR_MSP, DSO_MSP];

export type OrgRole = 'aggregator' | 'dso';

/**
 * The caller's role, derived only from its verified Fabric identity (MSP ID), never
 * from anything in the request.
 */
export function callerRole(ctx: Context): OrgRole {
  const mspId = ctx.clientIdentity.getMSPID();
  if (mspId === AGGREGATOR_MSP) return 'aggregator';
  if (mspId === DSO_MSP) return 'dso';
  throw new ChaincodeError('FORBIDDEN', `organisation ${mspId} is not a member of this consortium`);
}

/** Transaction time in ISO 8601, from the proposal timestamp (deterministic on every peer). */
export function txTimeIso(ctx: Context): string {
  const ts = ctx.stub.getTxTimestamp();
  const seconds = Number(ts.seconds.toString());
  const millis = seconds * 1000 + Math.floor(ts.nanos / 1e6);
  return new Date(millis).toISOString();
}

/** The caller's MSP ID, once it is known to be a member of the consortium. */
export function callerMsp(ctx: Context): string {
  callerRole(ctx);
  return ctx.clientIdentity.getMSPID();
}

/** Refuses the transaction unless the caller's organisation has the given role. */
export function requireRole(ctx: Context, role: OrgRole, action: string): void {
  const actual = callerRole(ctx);
  if (actual !== role) {
    throw new ChaincodeError('FORBIDDEN', `${action}: only the ${role === 'dso' ? 'DSO' : 'aggregator'} may do this`);
  }
}

/** Transaction time in milliseconds since the epoch, from the proposal timestamp. */
export function txTimeMs(ctx: Context): number {
  const ts = ctx.stub.getTxTimestamp();
  return Number(ts.seconds.toString()) * 1000 + Math.floor(ts.nanos / 1e6);
}
