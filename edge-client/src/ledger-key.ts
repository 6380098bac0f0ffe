/**
 * The edge's check of the ledger's verification key (threat T4): before it accepts an
 * enrollment and before each submission, the edge fetches the key the ledger holds for
 * the enrollment's circuit (gateway route of protocol P4) and signs nothing unless
 *
 * - the record is for the enrollment's circuit and its key is active,
 * - the record's keyHash is the hash of the key it carries (chaincode
 *   verificationKeyHash: sha256 of the sorted-key JSON), and
 * - that hash is the hash of the edge's own verification key (the artifacts it proves
 *   with, in the normalised form `readVerificationKey` gives, which is what the
 *   organisations propose).
 *
 * A prover whose key is not the ledger's makes proofs the chaincode finds invalid, and an
 * invalid proof forfeits the escrow: the prosumer would pay for the network's mistake.
 */
import { checkVerificationKey, type VerificationKey } from '@flexproof/circuits';
import { verificationKeyHash } from '@flexproof/protocol';
import { GatewayError, type GatewayPort, type LedgerVerificationKey } from './gateway-port';

export type LedgerKeyCheck =
  | { ok: true; verificationKey: VerificationKey; keyHash: string }
  | { ok: false; reason: string };

/** The pure check of a ledger key record against the circuit and the edge's own key hash. */
export function checkLedgerKey(record: LedgerVerificationKey, expected: { circuitId: string; localKeyHash: string }): LedgerKeyCheck {
  if (typeof record !== 'object' || record === null) return { ok: false, reason: 'the gateway sent no key record' };
  if (record.circuitId !== expected.circuitId) {
    return { ok: false, reason: `the ledger key is for circuit ${JSON.stringify(record.circuitId)}, the enrollment's circuit is ${expected.circuitId}` };
  }
  if (record.status !== 'active') return { ok: false, reason: `the ledger key of ${expected.circuitId} is ${JSON.stringify(record.status)}, not active` };
  let verificationKey: VerificationKey;
  try {
    verificationKey = checkVerificationKey(record.verificationKey);
  } catch (error) {
    return { ok: false, reason: `the ledger key of ${expected.circuitId} is malformed (${(error as Error).message})` };
  }
  const carried = verificationKeyHash(record.verificationKey);
  if (carried !== record.keyHash) {
    return { ok: false, reason: `the ledger key record's keyHash ${String(record.keyHash).slice(0, 16)}… is not the hash of the key it carries (${carried.slice(0, 16)}…)` };
  }
  if (record.keyHash !== expected.localKeyHash) {
    return {
      ok: false,
      reason: `the ledger key of ${expected.circuitId} (hash ${record.keyHash.slice(0, 16)}…) is not this site's verification key (hash ${expected.localKeyHash.slice(0, 16)}…): the site's proving artifacts are not the ledger's`,
    };
  }
  return { ok: true, verificationKey, keyHash: record.keyHash };
}

export type LedgerKeyLookup = LedgerKeyCheck | { ok: false; unavailable: true; error: unknown };

/**
 * Fetches and checks the ledger's key. A network, gateway or ledger outage (retryable) is
 * `unavailable`; a refused lookup (no key registered, 403, 404) is a failed check: there
 * is no key to prove against.
 */
export async function lookUpLedgerKey(
  gateway: GatewayPort,
  enrollmentId: string,
  expected: { circuitId: string; localKeyHash: string },
): Promise<LedgerKeyLookup> {
  let record: LedgerVerificationKey;
  try {
    record = await gateway.getVerificationKey(enrollmentId);
  } catch (error) {
    if (error instanceof GatewayError && !error.retryable) {
      return { ok: false, reason: `the gateway refused the key lookup (${error.status ?? ''} ${error.code}: ${error.message})` };
    }
    return { ok: false, unavailable: true, error };
  }
  return checkLedgerKey(record, expected);
}

/** The hash the ledger must hold for a key the edge proves with. */
export function localKeyHash(verificationKey: VerificationKey): string {
  return verificationKeyHash(verificationKey);
}
