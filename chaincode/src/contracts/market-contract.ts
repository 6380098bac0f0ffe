import { Context, Info, Returns, Transaction } from 'fabric-contract-api';
import { ChaincodeError } from '../errors';
import { callerMsp, callerRole, DSO_MSP, requireRole, txTimeIso, txTimeMs } from '../identity';
import {
  applyTokenMovements,
  emitEvent,
  KEY,
  listIndex,
  readRecord,
  recordExists,
  requireRecord,
  writeIndex,
  writeRecord,
} from '../ledger';
import type { Enrollment, FlexOffer, FlexOrder, FlexRequest } from '../model';
import type { PeerClock } from '../peer-clock';
import { orderEscrow, orgAccount } from '../rules/accounts';
import {
  assertOrderSettleable,
  dayEndMs,
  deliveredPerPeriod,
  orderSettlementMovements,
  splitOrderPrice,
} from '../rules/market';
import { parseInput, schemas } from '../schemas';
import { stableStringify } from '@flexproof/protocol';
import { FlexproofContract } from './flexproof-contract';

async function enrollmentsOfOrder(ctx: Context, orderId: string): Promise<Enrollment[]> {
  const out: Enrollment[] = [];
  for (const [, enrollmentId] of await listIndex(ctx, KEY.enrollmentByOrder, [orderId])) {
    const e = enrollmentId === undefined ? undefined : await readRecord<Enrollment>(ctx, KEY.enrollment, [enrollmentId]);
    if (e) out.push(e);
  }
  return out;
}

/**
 * Flexibility market between the DSO and aggregators (after USEF): FlexRequest ->
 * FlexOffer -> FlexOrder (price escrowed) -> order settlement from verified deviations.
 */
@Info({ title: 'Market', description: 'Flexibility requests, offers, orders and order settlement' })
export class MarketContract extends FlexproofContract {
  /** `clock` is a seam for tests; Fabric constructs the contract with the peer's clock. */
  constructor(clock?: PeerClock) {
    super('org.flexproof.market', clock);
  }

  /** DSO: asks for flexibility at a congestion point on a day, per hourly ISP (Wh). */
  @Transaction()
  @Returns('string')
  public async CreateFlexRequest(ctx: Context, inputJson: string): Promise<string> {
    requireRole(ctx, 'dso', 'CreateFlexRequest');
    const input = parseInput(schemas.CreateFlexRequestInput, inputJson);
    dayEndMs(input.day);
    if (await recordExists(ctx, KEY.request, [input.requestId])) {
      throw new ChaincodeError('CONFLICT', `flexibility request ${input.requestId} already exists`);
    }
    const request: FlexRequest = { ...input, status: 'open', createdAt: txTimeIso(ctx) };
    await writeRecord(ctx, KEY.request, [request.requestId], request);
    emitEvent(ctx, 'FlexRequestCreated', {
      requestId: request.requestId,
      congestionPoint: request.congestionPoint,
      day: request.day,
    });
    return stableStringify(request);
  }

  /** DSO: stops taking offers for a request (existing orders are unaffected). */
  @Transaction()
  @Returns('string')
  public async CloseFlexRequest(ctx: Context, inputJson: string): Promise<string> {
    requireRole(ctx, 'dso', 'CloseFlexRequest');
    const { requestId } = parseInput(schemas.FlexRequestIdInput, inputJson);
    const request = await requireRecord<FlexRequest>(ctx, KEY.request, [requestId], `flexibility request ${requestId}`);
    if (request.status !== 'open') throw new ChaincodeError('CONFLICT', `request ${requestId} is already closed`);
    const next: FlexRequest = { ...request, status: 'closed' };
    await writeRecord(ctx, KEY.request, [requestId], next);
    emitEvent(ctx, 'FlexRequestClosed', { requestId });
    return stableStringify(next);
  }

  /** Aggregator: offers flexibility per ISP (Wh) for a price (token base units). */
  @Transaction()
  @Returns('string')
  public async SubmitFlexOffer(ctx: Context, inputJson: string): Promise<string> {
    requireRole(ctx, 'aggregator', 'SubmitFlexOffer');
    const input = parseInput(schemas.SubmitFlexOfferInput, inputJson);
    const request = await requireRecord<FlexRequest>(
      ctx,
      KEY.request,
      [input.requestId],
      `flexibility request ${input.requestId}`,
    );
    if (request.status !== 'open') throw new ChaincodeError('RULE_VIOLATION', `request ${input.requestId} is closed`);
    if (await recordExists(ctx, KEY.offer, [input.offerId])) {
      throw new ChaincodeError('CONFLICT', `offer ${input.offerId} already exists`);
    }
    const offer: FlexOffer = {
      ...input,
      aggregatorMsp: callerMsp(ctx),
      status: 'submitted',
      createdAt: txTimeIso(ctx),
    };
    await writeRecord(ctx, KEY.offer, [offer.offerId], offer);
    await writeIndex(ctx, KEY.offerByRequest, [offer.requestId, offer.offerId]);
    emitEvent(ctx, 'FlexOfferSubmitted', { offerId: offer.offerId, requestId: offer.requestId, price: offer.price });
    return stableStringify(offer);
  }

  /** DSO: accepts an offer as a FlexOrder; the price moves from org:DsoMSP into the order escrow. */
  @Transaction()
  @Returns('string')
  public async AcceptFlexOffer(ctx: Context, inputJson: string): Promise<string> {
    requireRole(ctx, 'dso', 'AcceptFlexOffer');
    const { orderId, offerId } = parseInput(schemas.AcceptFlexOfferInput, inputJson);
    const offer = await requireRecord<FlexOffer>(ctx, KEY.offer, [offerId], `offer ${offerId}`);
    if (offer.status !== 'submitted') throw new ChaincodeError('CONFLICT', `offer ${offerId} is already accepted`);
    const request = await requireRecord<FlexRequest>(ctx, KEY.request, [offer.requestId], `request ${offer.requestId}`);
    if (request.status !== 'open') throw new ChaincodeError('RULE_VIOLATION', `request ${request.requestId} is closed`);
    if (await recordExists(ctx, KEY.order, [orderId])) {
      throw new ChaincodeError('CONFLICT', `order ${orderId} already exists`);
    }
    const order: FlexOrder = {
      orderId,
      requestId: offer.requestId,
      offerId,
      aggregatorMsp: offer.aggregatorMsp,
      day: request.day,
      offeredWh: offer.offeredWh,
      enrolledWh: offer.offeredWh.map(() => '0'),
      price: offer.price,
      status: 'open',
      createdAt: txTimeIso(ctx),
    };
    await applyTokenMovements(ctx, [{ from: orgAccount(DSO_MSP), to: orderEscrow(orderId), amount: BigInt(offer.price) }]);
    await writeRecord(ctx, KEY.offer, [offerId], { ...offer, status: 'accepted' });
    await writeRecord(ctx, KEY.order, [orderId], order);
    await writeIndex(ctx, KEY.orderByRequest, [order.requestId, orderId]);
    emitEvent(ctx, 'FlexOrderCreated', { orderId, offerId, requestId: order.requestId, price: order.price });
    return stableStringify(order);
  }

  /**
   * Either organisation, once every enrollment of the order is final (the DSO also waits
   * for the end of the day plus the clock skew): splits the escrowed price into price - penalty for the
   * aggregator and the penalty back to the DSO.
   */
  @Transaction()
  @Returns('string')
  public async SettleFlexOrder(ctx: Context, inputJson: string): Promise<string> {
    const role = callerRole(ctx);
    const { orderId } = parseInput(schemas.FlexOrderIdInput, inputJson);
    const order = await requireRecord<FlexOrder>(ctx, KEY.order, [orderId], `order ${orderId}`);
    if (order.status !== 'open') throw new ChaincodeError('CONFLICT', `order ${orderId} is already settled`);
    if (role === 'aggregator' && callerMsp(ctx) !== order.aggregatorMsp) {
      throw new ChaincodeError('FORBIDDEN', 'only the aggregator of the order may settle it');
    }
    const enrollments = await enrollmentsOfOrder(ctx, orderId);
    assertOrderSettleable(
      enrollments.map((e) => e.status),
      role === 'aggregator',
      txTimeMs(ctx),
      dayEndMs(order.day),
      this.clock.maxSkewSeconds * 1000,
    );
    const offeredWh = order.offeredWh.map((v) => BigInt(v));
    const delivered = deliveredPerPeriod(
      enrollments.map((e) => ({ status: e.status, flexWh: e.flexWh.map((v) => BigInt(v)), results: e.results })),
      offeredWh,
    );
    const split = splitOrderPrice(BigInt(order.price), offeredWh, delivered);
    await applyTokenMovements(
      ctx,
      orderSettlementMovements(split, orderEscrow(orderId), orgAccount(order.aggregatorMsp), orgAccount(DSO_MSP)),
    );
    const settled: FlexOrder = {
      ...order,
      status: 'settled',
      settlement: {
        deliveredWh: delivered.map(String),
        deficiencyWh: split.deficiencyWh.map(String),
        penalty: split.penalty.toString(),
        toAggregator: split.toAggregator.toString(),
        toDso: split.toDso.toString(),
        settledAt: txTimeIso(ctx),
        txId: ctx.stub.getTxID(),
      },
    };
    await writeRecord(ctx, KEY.order, [orderId], settled);
    emitEvent(ctx, 'FlexOrderSettled', {
      orderId,
      requestId: order.requestId,
      penalty: split.penalty.toString(),
      toAggregator: split.toAggregator.toString(),
    });
    return stableStringify(settled);
  }

  /** Either organisation: a request with its offers and orders. */
  @Transaction(false)
  @Returns('string')
  public async GetFlexRequest(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    const { requestId } = parseInput(schemas.FlexRequestIdInput, inputJson);
    const request = await requireRecord<FlexRequest>(ctx, KEY.request, [requestId], `flexibility request ${requestId}`);
    const offers: FlexOffer[] = [];
    for (const [, offerId] of await listIndex(ctx, KEY.offerByRequest, [requestId])) {
      const offer = offerId === undefined ? undefined : await readRecord<FlexOffer>(ctx, KEY.offer, [offerId]);
      if (offer) offers.push(offer);
    }
    const orders: FlexOrder[] = [];
    for (const [, orderId] of await listIndex(ctx, KEY.orderByRequest, [requestId])) {
      const order = orderId === undefined ? undefined : await readRecord<FlexOrder>(ctx, KEY.order, [orderId]);
      if (order) orders.push(order);
    }
    return stableStringify({ request, offers, orders });
  }

  /** Either organisation: an order with the ids and status of its enrollments. */
  @Transaction(false)
  @Returns('string')
  public async GetFlexOrder(ctx: Context, inputJson: string): Promise<string> {
    callerRole(ctx);
    const { orderId } = parseInput(schemas.FlexOrderIdInput, inputJson);
    const order = await requireRecord<FlexOrder>(ctx, KEY.order, [orderId], `order ${orderId}`);
    const enrollments = (await enrollmentsOfOrder(ctx, orderId)).map((e) => ({
      enrollmentId: e.enrollmentId,
      meterId: e.meterId,
      status: e.status,
    }));
    return stableStringify({ order, enrollments });
  }
}
