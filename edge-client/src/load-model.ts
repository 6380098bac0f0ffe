/**
 * A household's electric load over a day, for the meter simulator: base load (night
 * floor, morning and evening activity, a fridge cycling), a heat pump that cycles with a
 * duty depending on the hour, an EV charging in the evening, and noise. Optionally it
 * follows a request profile (24 hourly energies) with a compliance c in [0, 1]: each
 * hour's energy becomes c·requested + (1−c)·natural, the shape within the hour kept.
 * Time is the simulated time of day in hours [0, 24). Power in W, energy in Wh (floats
 * here; the meter register is an integer).
 *
 * With `solar`, the household also generates (a clear-sky sine between sunrise and
 * sunset): its power is net, consumption minus generation, and negative when it exports
 * (at noon). Following a request then changes the consumption only, never the sun: an
 * hour asked for more (less export at noon) gets c·(requested − natural) added evenly
 * over the hour (the washing machine run at noon), an hour asked for less has its
 * consumption scaled down by that much (load deferred), because scaling a net power that
 * changes sign within the hour would make no physical sense.
 */

export interface LoadModelOptions {
  /** Seed of the noise (same seed, same day). */
  seed?: number;
  /** Relative noise amplitude (default 0.05). */
  noise?: number;
  heatPump?: boolean;
  ev?: { startHour: number; hours: number; powerW: number } | false;
  follow?: { requestProfileWh: readonly number[]; compliance: number };
  /** Rooftop solar: peak generation (W) at the middle of the day between sunriseHour (default 6) and sunsetHour (default 20). */
  solar?: { peakW: number; sunriseHour?: number; sunsetHour?: number };
}

const HOURS = 24;

export class LoadModel {
  readonly #options: Required<Omit<LoadModelOptions, 'follow' | 'ev' | 'solar'>> & Pick<LoadModelOptions, 'follow'> & { ev: LoadModelOptions['ev'] };
  readonly #solar: { peakW: number; sunriseHour: number; sunsetHour: number } | undefined;
  readonly #random: () => number;
  readonly #scale: number[];
  /** With solar: W added to the load in each hour to follow the request (asked for more). */
  readonly #shiftW: number[];
  /** With solar: factor on the consumption in each hour to follow the request (asked for less). */
  readonly #consumptionScale: number[];

  constructor(options: LoadModelOptions = {}) {
    this.#options = {
      seed: options.seed ?? 1,
      noise: options.noise ?? 0.05,
      heatPump: options.heatPump ?? true,
      ev: options.ev ?? { startHour: 18, hours: 2.5, powerW: 3700 },
      follow: options.follow,
    };
    if (options.solar) {
      const { peakW, sunriseHour = 6, sunsetHour = 20 } = options.solar;
      if (!(peakW >= 0 && Number.isFinite(peakW))) throw new RangeError('solar.peakW is a non-negative number (W)');
      if (!(sunriseHour >= 0 && sunriseHour < sunsetHour && sunsetHour <= HOURS)) throw new RangeError('solar: 0 <= sunriseHour < sunsetHour <= 24');
      this.#solar = { peakW, sunriseHour, sunsetHour };
    }
    this.#random = mulberry32(this.#options.seed);
    this.#scale = new Array<number>(HOURS).fill(1);
    this.#shiftW = new Array<number>(HOURS).fill(0);
    this.#consumptionScale = new Array<number>(HOURS).fill(1);
    const follow = this.#options.follow;
    if (follow) {
      if (follow.requestProfileWh.length !== HOURS) throw new RangeError(`a request profile has ${HOURS} values`);
      if (!(follow.compliance >= 0 && follow.compliance <= 1)) throw new RangeError('compliance is in [0, 1]');
      for (let h = 0; h < HOURS; h++) {
        const natural = this.naturalHourWh(h);
        const target = follow.compliance * (follow.requestProfileWh[h] ?? 0) + (1 - follow.compliance) * natural;
        if (this.#solar) {
          const change = target - natural;
          const consumption = this.#hourAverage(h, (t) => this.consumptionW(t));
          if (change >= 0) this.#shiftW[h] = change;
          else this.#consumptionScale[h] = consumption > 0 ? Math.max(0, (consumption + change) / consumption) : 0;
        } else {
          this.#scale[h] = natural > 0 ? target / natural : 0;
        }
      }
    }
  }

  /** Whether the household generates (its power may be negative: export). */
  get hasSolar(): boolean {
    return this.#solar !== undefined;
  }

  /** Solar generation (W) at a time of day: 0 without solar and at night. */
  generationW(hourOfDay: number): number {
    const solar = this.#solar;
    if (!solar) return 0;
    const t = ((hourOfDay % HOURS) + HOURS) % HOURS;
    if (t <= solar.sunriseHour || t >= solar.sunsetHour) return 0;
    return solar.peakW * Math.sin((Math.PI * (t - solar.sunriseHour)) / (solar.sunsetHour - solar.sunriseHour));
  }

  /** Deterministic power (no noise) at a time of day, before following a request: consumption minus solar generation. */
  naturalPowerW(hourOfDay: number): number {
    return this.consumptionW(hourOfDay) - this.generationW(hourOfDay);
  }

  /** Deterministic consumption (no noise, no solar) at a time of day. */
  consumptionW(hourOfDay: number): number {
    const t = ((hourOfDay % HOURS) + HOURS) % HOURS;
    const bump = (centre: number, width: number, height: number): number => height * Math.exp(-(((t - centre) / width) ** 2));
    let power = 180 + bump(7.5, 1.2, 450) + bump(13, 1.5, 200) + bump(19.5, 2, 650);
    // Fridge: 40-minute cycle, on a third of the time.
    power += (t * 60) % 40 < 13 ? 90 : 0;
    if (this.#options.heatPump) {
      const duty = t < 6 || t >= 22 ? 0.25 : t < 9 || t >= 17 ? 0.6 : 0.35;
      power += (t * 60) % 30 < 30 * duty ? 1200 : 0;
    }
    const ev = this.#options.ev;
    if (ev && t >= ev.startHour && t < ev.startHour + ev.hours) power += ev.powerW;
    return power;
  }

  /** Energy of one hour of the natural profile (Wh; with solar net, negative when it exports), by numeric integration (one step per simulated 6 s). */
  naturalHourWh(hour: number): number {
    return this.#hourAverage(hour, (t) => this.naturalPowerW(t));
  }

  #hourAverage(hour: number, powerW: (t: number) => number): number {
    const steps = 600;
    let sum = 0;
    for (let i = 0; i < steps; i++) sum += powerW(hour + (i + 0.5) / steps);
    return sum / steps;
  }

  /** Power at a time of day with the request followed and noise applied (with solar: net, negative when exporting). */
  powerW(hourOfDay: number): number {
    const t = ((hourOfDay % HOURS) + HOURS) % HOURS;
    const noise = 1 + this.#options.noise * (2 * this.#random() - 1);
    if (this.#solar) {
      // The sun is not noisy at this scale; the consumption is.
      const h = Math.floor(t);
      return this.consumptionW(t) * (this.#consumptionScale[h] ?? 1) * noise + (this.#shiftW[h] ?? 0) - this.generationW(t);
    }
    const scale = this.#scale[Math.floor(t)] ?? 1;
    return Math.max(0, this.naturalPowerW(t) * scale * noise);
  }
}

/** Small seeded PRNG (mulberry32), [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
