import type { Context } from 'fabric-contract-api';
import { ChaincodeError } from './errors';

export type OrgRole = 'aggregator' | 'dso';

/**
 * Which MSP ID plays which role. The native network uses AggregatorMSP and DsoMSP; a
 * network whose organisations are named otherwise (the Fabric test-network's Org1MSP
 * and Org2MSP) starts every chaincode server with the same
 * FLEXPROOF_ORG_ROLES="Org1MSP=aggregator,Org2MSP=dso". A server started with a
 * different mapping would endorse differently and fail the endorsement policy.
 */
export function orgRolesFrom(setting: string | undefined): Record<OrgRole, string> {
  const roles: Partial<Record<OrgRole, string>> = {};
  for (const entry of (setting ?? 'AggregatorMSP=aggregator,DsoMSP=dso').split(',')) {
    const [msp, role] = entry.split('=').map((part) => part.trim());
    if (!msp || (role !== 'aggregator' && role !== 'dso') || roles[role]) {
      throw new Error(`FLEXPROOF_ORG_ROLES: "${entry}" must be MSPID=aggregator or MSPID=dso, each role once`);
    }
    roles[role] = msp;
  }
  if (!roles.aggregator || !roles.dso) {
    throw new Error('FLEXPROOF_ORG_ROLES: must name one aggregator and one dso organisation');
  }
  return roles as Record<OrgRole, string>;
}

const ORG_ROLES = orgRolesFrom(process.env.FLEXPROOF_ORG_ROLES);

/** The organisations of the consortium, by MSP ID. */
export const AGGREGATOR_MSP = ORG_ROLES.aggregator;
export const DSO_MSP = ORG_ROLES.dso;
export const MEMBER_MSPS: readonly string[] = [AGGREGATOR_MSP, DSO_MSP];

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
  return new Date(txTimeMs(ctx)).toISOString();
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
