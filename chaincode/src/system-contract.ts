import { Context, Info, Transaction, Returns } from 'fabric-contract-api';
import { FlexproofContract } from './contracts/flexproof-contract';
import { ChaincodeError } from './errors';
import { callerRole, txTimeIso } from './identity';
import type { PeerClock } from './peer-clock';
import { parseInput, schemas } from './schemas';
import { CHAINCODE_NAME } from './server-settings';
import { stableStringify } from '@flexproof/protocol';

export { CHAINCODE_NAME } from './server-settings';
export const CHAINCODE_VERSION = '0.1.0';

/** What `Heartbeat` stores for each organisation: the last transaction it endorsed and committed. */
export interface HeartbeatRecord {
  mspId: string;
  role: string;
  note: string;
  txId: string;
  time: string;
}

const HEARTBEAT_PREFIX = 'heartbeat';
/**
 * Operational transactions: a liveness check of the whole endorsement path for each
 * organisation. Used by `network:up`, the demo and the network test suite.
 */
@Info({ title: 'System', description: 'Liveness of the flexproof chaincode and of each organisation' })
export class SystemContract extends FlexproofContract {
  /** `clock` is a seam for tests; Fabric constructs the contract with the peer's clock. */
  constructor(clock?: PeerClock) {
    super('org.flexproof.system', clock);
  }

  /** Name and version of the running chaincode, and who is asking. */
  @Transaction(false)
  @Returns('string')
  public async Ping(ctx: Context): Promise<string> {
    return stableStringify({
      chaincode: CHAINCODE_NAME,
      version: CHAINCODE_VERSION,
      mspId: ctx.clientIdentity.getMSPID(),
    });
  }

  /** Records a heartbeat for the caller's organisation; argument `{"note": string}`. */
  @Transaction()
  @Returns('string')
  public async RecordHeartbeat(ctx: Context, inputJson: string): Promise<string> {
    const role = callerRole(ctx);
    const { note } = parseInput(schemas.RecordHeartbeatInput, inputJson);
    const mspId = ctx.clientIdentity.getMSPID();
    const record: HeartbeatRecord = { mspId, role, note, txId: ctx.stub.getTxID(), time: txTimeIso(ctx) };
    const key = ctx.stub.createCompositeKey(HEARTBEAT_PREFIX, [mspId]);
    const bytes = Buffer.from(stableStringify(record));
    await ctx.stub.putState(key, bytes);
    ctx.stub.setEvent('HeartbeatRecorded', bytes);
    return stableStringify(record);
  }

  /** The last heartbeat of an organisation; argument `{"mspId": string}`. */
  @Transaction(false)
  @Returns('string')
  public async GetHeartbeat(ctx: Context, inputJson: string): Promise<string> {
    const { mspId } = parseInput(schemas.GetHeartbeatInput, inputJson);
    const bytes = await ctx.stub.getState(ctx.stub.createCompositeKey(HEARTBEAT_PREFIX, [mspId]));
    if (!bytes || bytes.length === 0) {
      throw new ChaincodeError('NOT_FOUND', `no heartbeat recorded for ${mspId}`);
    }
    return Buffer.from(bytes).toString('utf8');
  }
}
