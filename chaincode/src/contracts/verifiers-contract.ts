import { Context, Info, Returns, Transaction } from 'fabric-contract-api';
import { canonicalVerificationKey, canonicalVerificationKeyHash, stableStringify } from '@flexproof/protocol';
import { ChaincodeError } from '../errors';
import { callerMsp, callerRole, txTimeIso } from '../identity';
import { emitEvent, KEY, listIndex, listRecords, readRecord, requireRecord, writeRecord } from '../ledger';
import type { VerificationKeyRecord } from '../model';
import type { PeerClock } from '../peer-clock';
import {
  approveKey,
  approveRetirement,
  assertNoLiveEnrollments,
  proposeKey,
  proposeRetirement,
} from '../rules/verifiers';
import { parseInput, schemas } from '../schemas';
import { CircuitsVerificationKeyValidator, VerificationKeyError, type VerificationKeyValidator } from '../verifier-port';
import { FlexproofContract } from './flexproof-contract';

function requireKey(ctx: Context, circuitId: string): Promise<VerificationKeyRecord> {
  return requireRecord<VerificationKeyRecord>(ctx, KEY.verificationKey, [circuitId], `circuit ${circuitId}`);
}

/** Refuses retiring a key that live enrollments (offered, accepted, active) still need. */
async function requireNoLiveEnrollments(ctx: Context, circuitId: string): Promise<void> {
  assertNoLiveEnrollments(circuitId, (await listIndex(ctx, KEY.liveEnrollmentByCircuit, [circuitId])).length);
}

/**
 * Verifier registry: Groth16 verification keys by circuit id, under two-organisation
 * governance (one organisation proposes a key or its retirement, the other approves).
 */
@Info({ title: 'Verifiers', description: 'Verification keys by circuit id, proposed by one organisation, approved by the other' })
export class VerifiersContract extends FlexproofContract {
  private readonly keyValidator: VerificationKeyValidator;

  /** `keyValidator` and `clock` are seams for tests; Fabric constructs the contract with the defaults. */
  constructor(keyValidator: VerificationKeyValidator = new CircuitsVerificationKeyValidator(), clock?: PeerClock) {
    super('org.flexproof.verifiers', clock);
    this.keyValidator = keyValidator;
  }

  /**
   * Either organisation: proposes the verification key of a new circuit id. The key must
   * be a valid Groth16 key for the deviation circuit (BAD_INPUT naming the field); it is
   * stored and hashed exactly as given.
   */
  @Transaction()
  @Returns('string')
  public async ProposeVerificationKey(ctx: Context, inputJson: string): Promise<string> {
    const msp = callerMsp(ctx);
    const { circuitId, verificationKey } = parseInput(schemas.ProposeVerificationKeyInput, inputJson);
    try {
      await this.keyValidator.validate(verificationKey);
    } catch (err) {
      if (!(err instanceof VerificationKeyError)) throw err;
      const field = err.path === '$' ? 'verificationKey' : `verificationKey.${err.path}`;
      throw new ChaincodeError('BAD_INPUT', `${field}: ${err.rule}`);
    }
    const existing = await readRecord<VerificationKeyRecord>(ctx, KEY.verificationKey, [circuitId]);
    // The canonical form (without snarkjs's derived vk_alphabeta_12, checked above): the
    // raw verification_key.json and its normalised form are one key with one hash, the
    // hash `flexproof keys hash FILE` prints for the reviewer (the protocol's one function).
    const canonical = canonicalVerificationKey(verificationKey);
    const keyHash = canonicalVerificationKeyHash(canonical);
    const record = proposeKey(existing, circuitId, canonical, keyHash, msp, txTimeIso(ctx));
    await writeRecord(ctx, KEY.verificationKey, [circuitId], record);
    emitEvent(ctx, 'VerificationKeyProposed', { circuitId, keyHash, proposedBy: msp });
    return stableStringify(record);
  }

  /** The other organisation: approves a proposed key, naming its hash; the key becomes active. */
  @Transaction()
  @Returns('string')
  public async ApproveVerificationKey(ctx: Context, inputJson: string): Promise<string> {
    const msp = callerMsp(ctx);
    const { circuitId, keyHash } = parseInput(schemas.ApproveVerificationKeyInput, inputJson);
    const record = approveKey(await requireKey(ctx, circuitId), keyHash, msp, txTimeIso(ctx));
    await writeRecord(ctx, KEY.verificationKey, [circuitId], record);
    emitEvent(ctx, 'VerificationKeyActivated', { circuitId, keyHash, approvedBy: msp });
    return stableStringify(record);
  }

  /** Either organisation: proposes retiring an active key that no live enrollment uses. */
  @Transaction()
  @Returns('string')
  public async ProposeVerificationKeyRetirement(ctx: Context, inputJson: string): Promise<string> {
    const msp = callerMsp(ctx);
    const { circuitId } = parseInput(schemas.CircuitIdInput, inputJson);
    const key = await requireKey(ctx, circuitId);
    await requireNoLiveEnrollments(ctx, circuitId);
    const record = proposeRetirement(key, msp, txTimeIso(ctx));
    await writeRecord(ctx, KEY.verificationKey, [circuitId], record);
    emitEvent(ctx, 'VerificationKeyRetirementProposed', { circuitId, proposedBy: msp });
    return stableStringify(record);
  }

  /**
   * The other organisation: approves the retirement, if still no live enrollment uses the
   * key (one may have been offered since the proposal); submissions naming the circuit
   * are refused from then on.
   */
  @Transaction()
  @Returns('string')
  public async ApproveVerificationKeyRetirement(ctx: Context, inputJson: string): Promise<string> {
    const msp = callerMsp(ctx);
    const { circuitId } = parseInput(schemas.CircuitIdInput, inputJson);
    const key = await requireKey(ctx, circuitId);
    await requireNoLiveEnrollments(ctx, circuitId);
    const record = approveRetirement(key, msp, txTimeIso(ctx));
    await writeRecord(ctx, KEY.verificationKey, [circuitId], record);
    emitEvent(ctx, 'VerificationKeyRetired', { circuitId, retiredBy: msp });
    return stableStringify(record);
  }

  /** Either organisation: one circuit's key record. */
  @Transaction(false)
  @Returns('string')
  public async GetVerificationKey(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    const { circuitId } = parseInput(schemas.CircuitIdInput, inputJson);
    return stableStringify(await requireKey(ctx, circuitId));
  }

  /** Either organisation: every circuit with its status (keys omitted; fetch one with GetVerificationKey). */
  @Transaction(false)
  @Returns('string')
  public async ListVerificationKeys(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    parseInput(schemas.EmptyInput, inputJson);
    const records = await listRecords<VerificationKeyRecord>(ctx, KEY.verificationKey, []);
    return stableStringify({ keys: records.map(({ verificationKey: _omitted, ...rest }) => rest) });
  }
}
