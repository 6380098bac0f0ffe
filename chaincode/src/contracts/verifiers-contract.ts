import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import { callerMsp, callerRole, txTimeIso } from '../identity';
import { emitEvent, KEY, listRecords, readRecord, requireRecord, writeRecord } from '../ledger';
import type { VerificationKeyRecord } from '../model';
import { approveKey, approveRetirement, proposeKey, proposeRetirement, verificationKeyHash } from '../rules/verifiers';
import {
  ApproveVerificationKeyInput,
  CircuitIdInput,
  EmptyInput,
  parseInput,
  ProposeVerificationKeyInput,
} from '../schemas';
import { stableStringify } from '../stable-json';

function requireKey(ctx: Context, circuitId: string): Promise<VerificationKeyRecord> {
  return requireRecord<VerificationKeyRecord>(ctx, KEY.verificationKey, [circuitId], `circuit ${circuitId}`);
}

/**
 * Verifier registry: Groth16 verification keys by circuit id, under two-organisation
 * governance (one organisation proposes a key or its retirement, the other approves).
 */
@Info({ title: 'Verifiers', description: 'Verification keys by circuit id, proposed by one organisation, approved by the other' })
export class VerifiersContract extends Contract {
  constructor() {
    super('org.flexproof.verifiers');
  }

  /** Either organisation: proposes the verification key of a new circuit id. */
  @Transaction()
  @Returns('string')
  public async ProposeVerificationKey(ctx: Context, inputJson: string): Promise<string> {
    const msp = callerMsp(ctx);
    const { circuitId, verificationKey } = parseInput(ProposeVerificationKeyInput, inputJson);
    const existing = await readRecord<VerificationKeyRecord>(ctx, KEY.verificationKey, [circuitId]);
    const keyHash = verificationKeyHash(verificationKey);
    const record = proposeKey(existing, circuitId, verificationKey, keyHash, msp, txTimeIso(ctx));
    await writeRecord(ctx, KEY.verificationKey, [circuitId], record);
    emitEvent(ctx, 'VerificationKeyProposed', { circuitId, keyHash, proposedBy: msp });
    return stableStringify(record);
  }

  /** The other organisation: approves a proposed key, naming its hash; the key becomes active. */
  @Transaction()
  @Returns('string')
  public async ApproveVerificationKey(ctx: Context, inputJson: string): Promise<string> {
    const msp = callerMsp(ctx);
    const { circuitId, keyHash } = parseInput(ApproveVerificationKeyInput, inputJson);
    const record = approveKey(await requireKey(ctx, circuitId), keyHash, msp, txTimeIso(ctx));
    await writeRecord(ctx, KEY.verificationKey, [circuitId], record);
    emitEvent(ctx, 'VerificationKeyActivated', { circuitId, keyHash, approvedBy: msp });
    return stableStringify(record);
  }

  /** Either organisation: proposes retiring an active key. */
  @Transaction()
  @Returns('string')
  public async ProposeVerificationKeyRetirement(ctx: Context, inputJson: string): Promise<string> {
    const msp = callerMsp(ctx);
    const { circuitId } = parseInput(CircuitIdInput, inputJson);
    const record = proposeRetirement(await requireKey(ctx, circuitId), msp, txTimeIso(ctx));
    await writeRecord(ctx, KEY.verificationKey, [circuitId], record);
    emitEvent(ctx, 'VerificationKeyRetirementProposed', { circuitId, proposedBy: msp });
    return stableStringify(record);
  }

  /** The other organisation: approves the retirement; submissions naming the circuit are refused from then on. */
  @Transaction()
  @Returns('string')
  public async ApproveVerificationKeyRetirement(ctx: Context, inputJson: string): Promise<string> {
    const msp = callerMsp(ctx);
    const { circuitId } = parseInput(CircuitIdInput, inputJson);
    const record = approveRetirement(await requireKey(ctx, circuitId), msp, txTimeIso(ctx));
    await writeRecord(ctx, KEY.verificationKey, [circuitId], record);
    emitEvent(ctx, 'VerificationKeyRetired', { circuitId, retiredBy: msp });
    return stableStringify(record);
  }

  /** Either organisation: one circuit's key record. */
  @Transaction(false)
  @Returns('string')
  public async GetVerificationKey(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    const { circuitId } = parseInput(CircuitIdInput, inputJson);
    return stableStringify(await requireKey(ctx, circuitId));
  }

  /** Either organisation: every circuit with its status (keys omitted; fetch one with GetVerificationKey). */
  @Transaction(false)
  @Returns('string')
  public async ListVerificationKeys(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    parseInput(EmptyInput, inputJson);
    const records = await listRecords<VerificationKeyRecord>(ctx, KEY.verificationKey, []);
    return stableStringify({ keys: records.map(({ verificationKey: _omitted, ...rest }) => rest) });
  }
}
