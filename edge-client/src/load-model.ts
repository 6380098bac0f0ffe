/**
 * A household's electric load over a day, for the meter simulator: base load (night
 * floor, morning and evening activity, a fridge cycling), a heat pump that cycles with a
 * duty depending on the hour, an EV charging in the evening, and noise. Optionally it
 * follows a request profile (24 hourly energies) with a compliance c in [0, 1]: each
 * hour's energy becomes c·requested + (1−c)·natural, the shape within the hour kept.
 * Time is the simulated time of day in hours [0, 24). Power in W, energy in Wh (floats
 * here; the meter register is an integer).
 */

export interface LoadModelOptions {
  /** Seed of the noise (same seed, same day). */
  seed?: number;
  /** Relative noise amplitude (default 0.05). */
  noise?: number;
  heatPump?: boolean;
  ev?: { startHour: number; hours: number; powerW: number } | false;
  follow?: { requestProfileWh: readonly number[]; compliance: number };
}

const HOURS = 24;

export class LoadModel {
  readonly #options: Required<Omit<LoadModelOptions, 'follow' | 'ev'>> & Pick<LoadModelOptions, 'follow'> & { ev: LoadModelOptions['ev'] };
  readonly #random: () => number;
  readonly #scale: number[];

  constructor(options: LoadModelOptions = {}) {
    this.#options = {
      seed: options.seed ?? 1,
      noise: options.noise ?? 0.05,
      heatPump: options.heatPump ?? true,
      ev: options.ev ?? { startHour: 18, hours: 2.5, powerW: 3700 },
      follow: options.follow,
    };
    this.#random = mulberry32(this.#options.seed);
    this.#scale = new Array<number>(HOURS).fill(1);
    const follow = this.#options.follow;
    if (follow) {
      if (follow.requestProfileWh.length !== HOURS) throw new RangeError(`a request profile has ${HOURS} values`);
      if (!(follow.compliance >= 0 && follow.compliance <= 1)) throw new RangeError('compliance is in [0, 1]');
      for (let h = 0; h < HOURS; h++) {
        const natural = this.naturalHourWh(h);
        const target = follow.compliance * (follow.requestProfileWh[h] ?? 0) + (1 - follow.compliance) * natural;
        this.#scale[h] = natural > 0 ? target / natural : 0;
      }
    }
  }

  /** Deterministic power (no noise) at a time of day, before following a request. */
  naturalPowerW(hourOfDay: number): number {
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

  /** Energy of one hour of the natural profile (Wh), by numeric integration (one step per simulated 6 s). */
  naturalHourWh(hour: number): number {
    const steps = 600;
    let sum = 0;
    for (let i = 0; i < steps; i++) sum += this.naturalPowerW(hour + (i + 0.5) / steps);
    return sum / steps;
  }

  /** Power at a time of day with the request followed and noise applied. */
  powerW(hourOfDay: number): number {
    const t = ((hourOfDay % HOURS) + HOURS) % HOURS;
    const scale = this.#scale[Math.floor(t)] ?? 1;
    const noise = 1 + this.#options.noise * (2 * this.#random() - 1);
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
