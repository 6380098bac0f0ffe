import { Context, Contract } from 'fabric-contract-api';
import { txTimeMs } from '../identity';
import { SYSTEM_PEER_CLOCK, type PeerClock } from '../peer-clock';
import { assertProposalTimeWithinSkew } from '../rules/clock';

/**
 * What every flexproof contract does before any of its transactions, submit or
 * evaluate: refuse a proposal whose timestamp is off this peer's clock by more than the
 * skew (CLOCK_SKEW). Fabric calls `beforeTransaction` itself; it is not a transaction.
 */
export abstract class FlexproofContract extends Contract {
  protected readonly clock: PeerClock;

  protected constructor(name: string, clock: PeerClock = SYSTEM_PEER_CLOCK) {
    super(name);
    this.clock = clock;
  }

  override async beforeTransaction(ctx: Context): Promise<void> {
    assertProposalTimeWithinSkew(txTimeMs(ctx), this.clock.nowMs(), this.clock.maxSkewSeconds);
  }
}
