import { Context, Info, Returns, Transaction } from 'fabric-contract-api';
import { ChaincodeError } from '../errors';
import { callerRole, requireRole, txTimeIso } from '../identity';
import { emitEvent, KEY, listIndex, readRecord, recordExists, requireRecord, writeIndex, writeRecord } from '../ledger';
import type { Meter, ProsumerRecord } from '../model';
import type { PeerClock } from '../peer-clock';
import { authorizeMeterKey } from '../prosumer-auth';
import { parseInput, schemas } from '../schemas';
import { prosumerKeyType, stableStringify } from '@flexproof/protocol';
import { FlexproofContract } from './flexproof-contract';

/**
 * Meter registry. The DSO registers each meter with its prosumer's public key; that key
 * is what every signed prosumer action is checked against. A prosumer id is bound to the
 * key of its first meter; a meter with another key under it needs the prosumer's
 * authorization, signed by the bound key.
 */
@Info({ title: 'Meters', description: 'Meter registry: meters, prosumer keys, congestion points' })
export class MetersContract extends FlexproofContract {
  /** `clock` is a seam for tests; Fabric constructs the contract with the peer's clock. */
  constructor(clock?: PeerClock) {
    super('org.flexproof.meters', clock);
  }

  /**
   * DSO: registers a meter with its prosumer's public key (ECDSA P-256 or Ed25519, SPKI
   * PEM). The first meter of a prosumer binds the prosumer id to its key; a meter with
   * another key needs `authorization` signed by the bound key.
   */
  @Transaction()
  @Returns('string')
  public async RegisterMeter(ctx: Context, inputJson: string): Promise<string> {
    requireRole(ctx, 'dso', 'RegisterMeter');
    const input = parseInput(schemas.RegisterMeterInput, inputJson);
    const keyType = prosumerKeyType(input.publicKeyPem);
    if (!keyType) {
      throw new ChaincodeError('BAD_INPUT', 'publicKeyPem: must be an ECDSA P-256 or Ed25519 public key in PEM');
    }
    if (await recordExists(ctx, KEY.meter, [input.meterId])) {
      throw new ChaincodeError('CONFLICT', `meter ${input.meterId} is already registered`);
    }
    const now = txTimeIso(ctx);
    const prosumer = await readRecord<ProsumerRecord>(ctx, KEY.prosumer, [input.prosumerId]);
    const nextProsumer = authorizeMeterKey(prosumer, { ...input, keyType }, ctx.stub.getChannelID(), now);
    const meter: Meter = {
      meterId: input.meterId,
      prosumerId: input.prosumerId,
      publicKeyPem: input.publicKeyPem,
      keyType,
      congestionPoint: input.congestionPoint,
      status: 'active',
      nonce: '0',
      registeredAt: now,
      updatedAt: now,
    };
    await writeRecord(ctx, KEY.meter, [meter.meterId], meter);
    await writeIndex(ctx, KEY.meterByCongestionPoint, [meter.congestionPoint, meter.meterId]);
    if (nextProsumer) await writeRecord(ctx, KEY.prosumer, [meter.prosumerId], nextProsumer);
    emitEvent(ctx, 'MeterRegistered', {
      meterId: meter.meterId,
      prosumerId: meter.prosumerId,
      congestionPoint: meter.congestionPoint,
      authorized: input.authorization !== undefined,
    });
    return stableStringify(meter);
  }

  /** DSO: suspends an active meter (no new enrollments until reactivated). */
  @Transaction()
  @Returns('string')
  public async SuspendMeter(ctx: Context, inputJson: string): Promise<string> {
    requireRole(ctx, 'dso', 'SuspendMeter');
    const input = parseInput(schemas.MeterStatusChangeInput, inputJson);
    const meter = await requireRecord<Meter>(ctx, KEY.meter, [input.meterId], `meter ${input.meterId}`);
    if (meter.status !== 'active') {
      throw new ChaincodeError(meter.status === 'excluded' ? 'EXCLUDED' : 'CONFLICT', `meter is ${meter.status}`);
    }
    const next: Meter = { ...meter, status: 'suspended', statusReason: input.reason, updatedAt: txTimeIso(ctx) };
    await writeRecord(ctx, KEY.meter, [meter.meterId], next);
    emitEvent(ctx, 'MeterSuspended', { meterId: meter.meterId, prosumerId: meter.prosumerId });
    return stableStringify(next);
  }

  /** DSO: reactivates a suspended meter. An excluded meter stays excluded. */
  @Transaction()
  @Returns('string')
  public async ReactivateMeter(ctx: Context, inputJson: string): Promise<string> {
    requireRole(ctx, 'dso', 'ReactivateMeter');
    const input = parseInput(schemas.MeterStatusChangeInput, inputJson);
    const meter = await requireRecord<Meter>(ctx, KEY.meter, [input.meterId], `meter ${input.meterId}`);
    if (meter.status !== 'suspended') {
      throw new ChaincodeError(meter.status === 'excluded' ? 'EXCLUDED' : 'CONFLICT', `meter is ${meter.status}`);
    }
    const next: Meter = { ...meter, status: 'active', statusReason: input.reason, updatedAt: txTimeIso(ctx) };
    await writeRecord(ctx, KEY.meter, [meter.meterId], next);
    emitEvent(ctx, 'MeterReactivated', { meterId: meter.meterId, prosumerId: meter.prosumerId });
    return stableStringify(next);
  }

  /** Either organisation: one meter. */
  @Transaction(false)
  @Returns('string')
  public async GetMeter(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    const { meterId } = parseInput(schemas.MeterIdInput, inputJson);
    return stableStringify(await requireRecord<Meter>(ctx, KEY.meter, [meterId], `meter ${meterId}`));
  }

  /** Either organisation: a prosumer id with the key it is bound to and its authorization nonce. */
  @Transaction(false)
  @Returns('string')
  public async GetProsumer(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    const { prosumerId } = parseInput(schemas.ProsumerIdInput, inputJson);
    return stableStringify(await requireRecord<ProsumerRecord>(ctx, KEY.prosumer, [prosumerId], `prosumer ${prosumerId}`));
  }

  /** Either organisation: the meters at a congestion point, by meter id. */
  @Transaction(false)
  @Returns('string')
  public async ListMetersByCongestionPoint(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    const { congestionPoint } = parseInput(schemas.CongestionPointInput, inputJson);
    const meters: Meter[] = [];
    for (const [, meterId] of await listIndex(ctx, KEY.meterByCongestionPoint, [congestionPoint])) {
      const meter = meterId === undefined ? undefined : await readRecord<Meter>(ctx, KEY.meter, [meterId]);
      if (meter) meters.push(meter);
    }
    return stableStringify({ congestionPoint, meters });
  }
}
