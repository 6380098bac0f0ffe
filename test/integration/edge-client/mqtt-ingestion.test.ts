// Ingestion over a real broker: Mosquitto (Debian package, installed by the test set-up
// when missing) for MQTT 3.1.1 and 5, and the embedded aedes broker. Readings are
// acknowledged only once durable, bad messages never stop the client, and a broker
// restart loses no reading.
import assert from 'node:assert/strict';
import { connectAsync } from 'mqtt';
import { EdgeNode } from '../../../edge-client/src/edge-node';
import { startEmbeddedBroker } from '../../../edge-client/src/embedded-broker';
import { LoadModel } from '../../../edge-client/src/load-model';
import { memoryLogger } from '../../../edge-client/src/log';
import { MeterSimulator } from '../../../edge-client/src/meter-simulator';
import { MeterSubscription } from '../../../edge-client/src/meter-subscription';
import type { MeterReading } from '../../../edge-client/src/meter-message';
import { CircuitsProver } from '../../../edge-client/src/prover';
import { FakeGateway } from '../../unit/edge-client/support/fake-gateway';
import { makeSite, type TestSite } from '../../unit/edge-client/support/site';
import { Mosquitto } from './support/mosquitto';

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Running {
  site: TestSite;
  node: EdgeNode;
  subscription: MeterSubscription;
  logger: ReturnType<typeof memoryLogger>;
}

async function startEdge(url: string, protocolVersion: 4 | 5 = 4): Promise<Running> {
  const site = makeSite({ startMs: Date.now() + 3_600_000, mqttUrl: url });
  const logger = memoryLogger();
  const node = await EdgeNode.open({
    config: site.config,
    siteKey: site.siteKey,
    gateway: new FakeGateway(site.siteKey.publicKeyPem),
    prover: new CircuitsProver(),
    logger,
  });
  const subscription = MeterSubscription.start({
    url,
    topic: site.config.mqtt.topic,
    clientId: site.config.mqtt.clientId,
    protocolVersion,
    reconnectPeriodMs: 200,
    onMessage: (payload) => node.ingest(payload),
    onFatal: (error) => {
      throw error;
    },
    logger,
  });
  const running = { site, node, subscription, logger };
  try {
    await until(() => logger.lines.some((l) => l.event === 'mqtt.subscribed'), 10_000, 'the subscription');
  } catch (error) {
    await stopEdge(running);
    throw error;
  }
  return running;
}

async function stopEdge(r: Running | undefined): Promise<void> {
  if (!r) return;
  await r.subscription.stop();
  await r.node.close();
  r.site.cleanup();
}

describe('edge-client: ingestion over MQTT (Mosquitto)', function () {
  this.timeout(60_000);
  let broker: Mosquitto;
  let edge: Running | undefined;
  before(async () => {
    broker = await Mosquitto.start();
  });
  after(async () => {
    await broker?.destroy();
  });
  afterEach(async () => {
    await stopEdge(edge);
    edge = undefined;
    if (!broker.running) await broker.restart();
  });

  for (const protocolVersion of [4, 5] as const) {
    it(`stores valid readings and drops bad ones without losing the connection (MQTT ${protocolVersion === 4 ? '3.1.1' : '5'})`, async () => {
      edge = await startEdge(broker.url, protocolVersion);
      const publisher = await connectAsync(broker.url, { protocolVersion });
      const topic = edge.site.config.mqtt.topic;
      const t = Date.now() - 10_000;
      const messages = [
        `{"ts":${t},"registerWh":1000}`,
        'not json',
        `{"ts":${t + 1000},"registerWh":-1}`,
        `{"ts":${t + 1000},"registerWh":"lots"}`,
        `{"ts":${t},"registerWh":1000}`,
        `{"ts":${t - 1000},"registerWh":1000}`,
        `{"ts":${t + 2000},"registerWh":999}`,
        `{"ts":${t + 3000},"registerWh":"1010"}`,
      ];
      for (const m of messages) await publisher.publishAsync(topic, m, { qos: 1 });
      await publisher.endAsync();
      await until(() => edge!.node.counters.accepted + edge!.node.counters.dropped === messages.length, 10_000, 'every message');
      assert.deepEqual(edge.node.readings.readings.map((r) => r.registerWh), [1000n, 1010n]);
      assert.equal(edge.node.counters.dropped, 6);
      assert.ok(edge.subscription.connected);
    });
  }

  it('loses no reading when the broker restarts: the simulator queues, the edge reconnects and resumes its session', async () => {
    edge = await startEdge(broker.url);
    const acked: MeterReading[] = [];
    const simulator = new MeterSimulator({
      url: broker.url,
      topic: edge.site.config.mqtt.topic,
      model: new LoadModel({ seed: 3 }),
      acceleration: 720,
      intervalMs: 50,
      onPublished: (r) => acked.push(r),
    });
    try {
      simulator.start();
      await until(() => acked.length >= 20, 10_000, 'readings before the restart');
      await broker.stop();
      await new Promise((r) => setTimeout(r, 1500));
      await broker.restart();
      await until(() => acked.length >= 80, 20_000, 'readings after the restart');
    } finally {
      await simulator.stop();
    }
    await until(() => edge!.node.readings.readings.length >= acked.length, 10_000, 'every acknowledged reading stored');
    const stored = new Set(edge.node.readings.readings.map((r) => r.ts));
    const missing = acked.filter((r) => !stored.has(r.ts));
    assert.deepEqual(missing, [], 'every reading the broker acknowledged is in the edge store');
    assert.ok(edge.logger.lines.some((l) => l.event === 'mqtt.offline'), 'the edge saw the broker go away');
    assert.equal(edge.node.counters.dropped, 0);
  });
});

describe('edge-client: ingestion over the embedded broker (aedes)', function () {
  this.timeout(30_000);
  it('runs a broker in the edge process for single-box sites', async () => {
    const broker = await startEmbeddedBroker({ port: 0, logger: memoryLogger() });
    let edge: Running | undefined;
    try {
      edge = await startEdge(broker.url);
      const publisher = await connectAsync(broker.url);
      const t = Date.now() - 5000;
      for (let i = 0; i < 10; i++) await publisher.publishAsync(edge.site.config.mqtt.topic, JSON.stringify({ ts: t + i * 100, registerWh: 500 + i }), { qos: 1 });
      await publisher.endAsync();
      await until(() => edge!.node.readings.readings.length === 10, 10_000, 'ten readings');
    } finally {
      await stopEdge(edge);
      await broker.close();
    }
  });
});
