/** An EdgeNode on a controlled clock with a FakeGateway and the real prover (small circuit). */
import { readVerificationKey, ensureArtifacts, SMALL_CIRCUIT_ID, type CircuitId, type VerificationKey } from '@flexproof/circuits';
import { CircuitsProver, EdgeNode, memoryLogger, type ProverPort } from '@flexproof/edge-client';
import { FakeGateway } from './fake-gateway';
import { makeSite, type TestSite, type TestSiteOptions } from './site';

export const T0 = Date.parse('2026-06-01T00:00:00Z');
export const HOUR = 3_600_000;
export const prover = new CircuitsProver();
const vkeys = new Map<CircuitId, VerificationKey>();

export async function verificationKey(shape: CircuitId = SMALL_CIRCUIT_ID): Promise<VerificationKey> {
  let key = vkeys.get(shape);
  if (!key) {
    key = readVerificationKey(await ensureArtifacts(shape));
    vkeys.set(shape, key);
  }
  return key;
}

export class Harness {
  now = T0;
  node!: EdgeNode;
  logger = memoryLogger();
  register = 1_000_000;
  /** The export register, once feedNet has sent one. */
  exportRegister = 500_000;

  private constructor(
    readonly site: TestSite,
    readonly gateway: FakeGateway,
  ) {}

  /** The prover the node uses (a test may wrap the real one). */
  prover: ProverPort = prover;

  static async create(options: Partial<TestSiteOptions> & { verify?: boolean; gateway?: FakeGateway; prover?: ProverPort } = {}): Promise<Harness> {
    const site = makeSite({ startMs: T0, ...options });
    const gateway =
      options.gateway ??
      new FakeGateway(site.siteKey.publicKeyPem, { ledgerKey: await verificationKey(site.config.enrollments[0]?.shape), circuitId: site.enrollment.circuitId, verifyProofs: options.verify === true });
    if (!options.gateway) gateway.addEnrollment(site.enrollment);
    const h = new Harness(site, gateway);
    if (options.prover) h.prover = options.prover;
    await h.open();
    return h;
  }

  async open(): Promise<void> {
    this.node = await EdgeNode.open({
      config: this.site.config,
      siteKey: this.site.siteKey,
      gateway: this.gateway,
      prover: this.prover,
      logger: this.logger,
      now: () => this.now,
    });
  }

  /** Meter messages every 15 minutes through `hours` hours from the current register, `whPerQuarter` each. */
  async feed(fromMs: number, toMs: number, whPerQuarter = 250): Promise<void> {
    for (let ts = fromMs; ts <= toMs; ts += HOUR / 4) {
      this.now = Math.max(this.now, ts);
      const outcome = await this.node.ingest(JSON.stringify({ ts, registerWh: this.register }));
      if (outcome.ok) this.register += whPerQuarter;
    }
  }

  /** Like feed, from a meter with an export register: both registers, `importPerQuarter` and `exportPerQuarter` Wh each. */
  async feedNet(fromMs: number, toMs: number, importPerQuarter: number, exportPerQuarter: number): Promise<void> {
    for (let ts = fromMs; ts <= toMs; ts += HOUR / 4) {
      this.now = Math.max(this.now, ts);
      const outcome = await this.node.ingest(JSON.stringify({ ts, importWh: this.register, exportWh: this.exportRegister }));
      if (outcome.ok) {
        this.register += importPerQuarter;
        this.exportRegister += exportPerQuarter;
      }
    }
  }

  /** Moves the clock and lets the node do everything due (several rounds, so retries happen). */
  async advance(toMs: number, rounds = 3): Promise<void> {
    this.now = Math.max(this.now, toMs);
    for (let i = 0; i < rounds; i++) await this.node.stepOnce();
  }

  /** Steps with the clock moving 1 s each round until `done` or the round limit. */
  async stepUntil(done: () => boolean, rounds = 50): Promise<void> {
    for (let i = 0; i < rounds && !done(); i++) {
      this.now += 1000;
      await this.node.stepOnce();
    }
  }

  period(p: number) {
    return this.node.state.period('enr-1', p);
  }

  async close(): Promise<void> {
    await this.node.close();
  }

  cleanup(): void {
    this.site.cleanup();
  }
}
