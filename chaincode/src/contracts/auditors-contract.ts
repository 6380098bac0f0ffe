import { Context, Info, Returns, Transaction } from 'fabric-contract-api';
import { ChaincodeError } from '../errors';
import { callerMsp, callerRole, txTimeIso } from '../identity';
import { emitEvent, KEY, listIndex, listRecords, readRecord, requireRecord, writeIndex, writeRecord } from '../ledger';
import type { AuditorKeyRecord } from '../model';
import type { PeerClock } from '../peer-clock';
import {
  approveAuditorKey,
  approveAuditorKeyRetirement,
  proposeAuditorKey,
  proposeAuditorKeyRetirement,
} from '../rules/auditors';
import { parseInput, schemas } from '../schemas';
import { canonicalSealingKeyPem, sealingKeyHash } from '../sealing-keys';
import { stableStringify } from '@flexproof/protocol';
import { FlexproofContract } from './flexproof-contract';

function requireAuditorKey(ctx: Context, auditorId: string): Promise<AuditorKeyRecord> {
  return requireRecord<AuditorKeyRecord>(ctx, KEY.auditorKey, [auditorId], `auditor ${auditorId}`);
}

/** The auditor id already registered with this key hash (any status), if any. */
async function keyHolder(ctx: Context, keyHash: string): Promise<string | undefined> {
  const [entry] = await listIndex(ctx, KEY.auditorKeyByHash, [keyHash]);
  return entry?.[1];
}

/**
 * Auditor registry: the EC P-256 public keys edges seal raw period data to (issue 12,
 * T9), by auditor id, under two-organisation governance (one organisation proposes a
 * key or its retirement, the other approves naming the key hash). Only public keys are
 * kept; the auditors hold their private keys.
 */
@Info({ title: 'Auditors', description: 'Auditor sealing keys by auditor id, proposed by one organisation, approved by the other' })
export class AuditorsContract extends FlexproofContract {
  /** `clock` is a seam for tests; Fabric constructs the contract with the peer's clock. */
  constructor(clock?: PeerClock) {
    super('org.flexproof.auditors', clock);
  }

  /**
   * Either organisation: proposes the public key of a new auditor id. The key must be an
   * EC P-256 public key in SPKI PEM (BAD_INPUT naming publicKeyPem otherwise; a private
   * key is refused, never stored); it is stored in canonical PEM and named by
   * `sealingKeyHash`. A key already registered under another id is refused (CONFLICT).
   */
  @Transaction()
  @Returns('string')
  public async ProposeAuditorKey(ctx: Context, inputJson: string): Promise<string> {
    const msp = callerMsp(ctx);
    const { auditorId, publicKeyPem, description } = parseInput(schemas.ProposeAuditorKeyInput, inputJson);
    const canonicalPem = canonicalSealingKeyPem(publicKeyPem);
    if (canonicalPem === undefined) {
      throw new ChaincodeError(
        'BAD_INPUT',
        'publicKeyPem: must be one EC P-256 (prime256v1) public key in SPKI PEM ("BEGIN PUBLIC KEY", uncompressed point); private keys, certificates, other curves and key types are refused',
      );
    }
    const keyHash = sealingKeyHash(canonicalPem);
    const existing = await readRecord<AuditorKeyRecord>(ctx, KEY.auditorKey, [auditorId]);
    const record = proposeAuditorKey(
      existing,
      await keyHolder(ctx, keyHash),
      { auditorId, publicKeyPem: canonicalPem, keyHash, description },
      msp,
      txTimeIso(ctx),
    );
    await writeRecord(ctx, KEY.auditorKey, [auditorId], record);
    await writeIndex(ctx, KEY.auditorKeyByHash, [keyHash, auditorId]);
    emitEvent(ctx, 'AuditorKeyProposed', { auditorId, keyHash, proposedBy: msp });
    return stableStringify(record);
  }

  /** The other organisation: approves a proposed key, naming its hash; edges seal to it from then on. */
  @Transaction()
  @Returns('string')
  public async ApproveAuditorKey(ctx: Context, inputJson: string): Promise<string> {
    const msp = callerMsp(ctx);
    const { auditorId, keyHash } = parseInput(schemas.ApproveAuditorKeyInput, inputJson);
    const record = approveAuditorKey(await requireAuditorKey(ctx, auditorId), keyHash, msp, txTimeIso(ctx));
    await writeRecord(ctx, KEY.auditorKey, [auditorId], record);
    emitEvent(ctx, 'AuditorKeyActivated', { auditorId, keyHash, approvedBy: msp });
    return stableStringify(record);
  }

  /** Either organisation: proposes retiring an active auditor key. */
  @Transaction()
  @Returns('string')
  public async ProposeAuditorKeyRetirement(ctx: Context, inputJson: string): Promise<string> {
    const msp = callerMsp(ctx);
    const { auditorId } = parseInput(schemas.AuditorIdInput, inputJson);
    const record = proposeAuditorKeyRetirement(await requireAuditorKey(ctx, auditorId), msp, txTimeIso(ctx));
    await writeRecord(ctx, KEY.auditorKey, [auditorId], record);
    emitEvent(ctx, 'AuditorKeyRetirementProposed', { auditorId, keyHash: record.keyHash, proposedBy: msp });
    return stableStringify(record);
  }

  /**
   * The other organisation: approves the retirement. Edges stop sealing new periods to
   * the key; what was sealed to it before stays readable with its private key.
   */
  @Transaction()
  @Returns('string')
  public async ApproveAuditorKeyRetirement(ctx: Context, inputJson: string): Promise<string> {
    const msp = callerMsp(ctx);
    const { auditorId } = parseInput(schemas.AuditorIdInput, inputJson);
    const record = approveAuditorKeyRetirement(await requireAuditorKey(ctx, auditorId), msp, txTimeIso(ctx));
    await writeRecord(ctx, KEY.auditorKey, [auditorId], record);
    emitEvent(ctx, 'AuditorKeyRetired', { auditorId, keyHash: record.keyHash, retiredBy: msp });
    return stableStringify(record);
  }

  /** Either organisation: one auditor's key record. */
  @Transaction(false)
  @Returns('string')
  public async GetAuditorKey(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    const { auditorId } = parseInput(schemas.AuditorIdInput, inputJson);
    return stableStringify(await requireAuditorKey(ctx, auditorId));
  }

  /**
   * Either organisation: every auditor key record, in auditor id order, with its status,
   * hash and public key (small, and what an edge needs to seal: one call for all).
   */
  @Transaction(false)
  @Returns('string')
  public async ListAuditorKeys(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    parseInput(schemas.EmptyInput, inputJson);
    return stableStringify({ keys: await listRecords<AuditorKeyRecord>(ctx, KEY.auditorKey, []) });
  }
}
