/**
 * The phase 2 contributions of a zkey as snarkjs 0.7.6's verifier reports them, and the
 * ceremony's rule on who must have contributed. Kept apart from the CLI so the rule is
 * tested on its own.
 */

export interface Contribution {
  name: string;
  hash: string;
  /** A beacon (snarkjs type 1): public randomness, nobody's secret, so not an organisation's contribution. */
  beacon: boolean;
}

/**
 * The contributions, oldest first, from the verifier's info lines: each is reported,
 * newest first, as "contribution #i name:" with its hash in hex words, and a beacon is
 * followed by "Beacon generator: ..." (the type is read from the file, not from the name:
 * anyone may name a contribution "final beacon").
 */
export function contributionsFromReport(infos: readonly string[]): Contribution[] {
  const found: (Contribution & { index: number })[] = [];
  for (const line of infos) {
    const match = /^contribution #(\d+) (.*):\n([\s0-9a-f]+)$/.exec(line);
    if (match) found.push({ index: Number(match[1]), name: (match[2] ?? '').trim(), hash: (match[3] ?? '').replace(/\s/g, ''), beacon: false });
    else if (line.startsWith('Beacon generator:') && found.length > 0) (found[found.length - 1] as Contribution).beacon = true;
  }
  return found.sort((a, b) => a.index - b.index).map(({ name, hash, beacon }) => ({ name, hash, beacon }));
}

export function describeContributions(contributions: readonly Contribution[]): string {
  return contributions.map((c) => (c.beacon ? `beacon "${c.name}"` : `"${c.name}"`)).join(', ');
}

/** At least this many differently named contributors besides any beacon. */
export const MIN_CONTRIBUTORS = 2;

/**
 * Why a chain may not be finalised, or undefined. The set-up is safe if one contributor's
 * secret is gone, so each organisation must contribute: a beacon is public and protects
 * nothing on its own, and one name twice is still one organisation.
 */
export function contributorProblem(contributions: readonly Contribution[]): string | undefined {
  const names = new Set(contributions.filter((c) => !c.beacon).map((c) => c.name));
  if (names.size >= MIN_CONTRIBUTORS) return undefined;
  return `only ${names.size} contributor name(s) (${describeContributions(contributions) || 'none'}): each organisation must contribute, under its own name; the beacon does not count`;
}
