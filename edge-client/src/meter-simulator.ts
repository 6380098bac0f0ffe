/**
 * The meter simulator: integrates a LoadModel into a cumulative register and publishes
 * it to MQTT in the meter message format, QoS 1. A model with solar drives a
 * bidirectional meter: positive net power adds to the import register, negative to the
 * export register, and every message carries both. Simulated time runs `acceleration`
 * times faster than real time; message timestamps are real (wall-clock) time, because
 * the edge client measures periods by the wall clock. To follow an enrollment whose
 * periods last `periodSeconds`, use acceleration = 3600 / periodSeconds and start the
 * simulated day at the enrollment's start.
 */
import { connect, type MqttClient } from 'mqtt';
import type { LoadModel } from './load-model';
import { formatMeterMessage, type MeterReading } from './meter-message';
import { mqttAuthOptions, type MqttTlsOptions } from './meter-subscription';

export interface SimulatorOptions {
  url: string;
  topic: string;
  model: LoadModel;
  /** Simulated seconds per real second. */
  acceleration: number;
  /** Real time at which the simulated day is at `simStartHour` (default: now). */
  realStartMs?: number;
  simStartHour?: number;
  /** Real milliseconds between messages. */
  intervalMs: number;
  initialRegisterWh?: number;
  /** The export register's start (a bidirectional meter; default 0). Used when the model has solar. */
  initialExportRegisterWh?: number;
  clientId?: string;
  /** The meter's broker account (a broker that authenticates publishers needs it). */
  username?: string;
  password?: string;
  tls?: MqttTlsOptions;
  /** Called after the broker acknowledged each message. */
  onPublished?: (reading: MeterReading) => void;
  now?: () => number;
}

export class MeterSimulator {
  readonly #options: SimulatorOptions;
  readonly #client: MqttClient;
  readonly #realStartMs: number;
  #registerWh: number;
  /** undefined: a meter without an export register (a model without solar). */
  #exportRegisterWh: number | undefined;
  #lastMs: number;
  #timer: NodeJS.Timeout | undefined;
  #published = 0;

  constructor(options: SimulatorOptions) {
    this.#options = options;
    this.#registerWh = options.initialRegisterWh ?? 1_000_000;
    this.#exportRegisterWh = options.model.hasSolar ? (options.initialExportRegisterWh ?? 0) : undefined;
    this.#lastMs = this.#now();
    this.#realStartMs = options.realStartMs ?? this.#lastMs;
    this.#client = connect(options.url, {
      clientId: options.clientId ?? `flexproof-meter-sim-${process.pid}`,
      clean: true,
      reconnectPeriod: 500,
      // Messages published while the broker is down are queued and sent on reconnect.
      queueQoSZero: false,
      ...mqttAuthOptions(options),
    });
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  get published(): number {
    return this.#published;
  }

  /** Simulated hour of day at a real time. */
  hourOfDay(realMs: number): number {
    return (this.#options.simStartHour ?? 0) + ((realMs - this.#realStartMs) / 1000) * this.#options.acceleration / 3600;
  }

  /** Advances the register to now and returns the reading (not yet published). */
  advance(): MeterReading {
    const now = this.#now();
    const from = this.#lastMs;
    // Integrate in steps of at most one simulated minute, so cycling loads are sampled.
    const stepMs = Math.max(1, Math.min(now - from, 60_000 / this.#options.acceleration));
    for (let t = from; t < now; t += stepMs) {
      const dt = Math.min(stepMs, now - t);
      const hours = (dt / 1000) * this.#options.acceleration / 3600;
      const energy = this.#options.model.powerW(this.hourOfDay(t + dt / 2)) * hours;
      if (energy >= 0 || this.#exportRegisterWh === undefined) this.#registerWh += Math.max(0, energy);
      else this.#exportRegisterWh -= energy;
    }
    this.#lastMs = now;
    return {
      ts: now,
      importWh: BigInt(Math.floor(this.#registerWh)),
      ...(this.#exportRegisterWh !== undefined ? { exportWh: BigInt(Math.floor(this.#exportRegisterWh)) } : {}),
    };
  }

  async publish(reading: MeterReading): Promise<void> {
    await this.#client.publishAsync(this.#options.topic, formatMeterMessage(reading), { qos: 1 });
    this.#published++;
    this.#options.onPublished?.(reading);
  }

  /** Publishes every intervalMs until stop(). */
  start(): void {
    const tick = (): void => {
      const reading = this.advance();
      this.publish(reading).catch(() => undefined);
      this.#timer = setTimeout(tick, this.#options.intervalMs);
    };
    tick();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    // Not connected (broker down, credentials refused): nothing in flight can be delivered, so do not wait for it.
    await this.#client.endAsync(!this.#client.connected);
  }
}
