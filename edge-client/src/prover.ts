/**
 * The prover port and its default adapter: snarkjs in this process through
 * @flexproof/circuits. For the small shape (4 readings) a proof takes well under a
 * second, short enough not to starve the MQTT loop; a meter message arriving meanwhile
 * waits in the socket buffer and is acknowledged after.
 *
 * The artifacts must be those of the ledger's key (the consortium's set-up). They are
 * never built silently: fresh dev artifacts would not match the ledger, and every proof
 * made with them would be found invalid on the ledger (escrow forfeited). Only with
 * `devArtifacts` (`run --dev-artifacts`, development networks) are missing ones built.
 */
import {
  artifactsDir,
  checkArtifactIntegrity,
  ensureArtifacts,
  isCircuitError,
  loadArtifacts,
  proveDeviation,
  readVerificationKey,
  type CircuitArtifacts,
  type CircuitId,
  type AnyDeviationInput,
  type DeviationProof,
  type VerificationKey,
} from '@flexproof/circuits';
import { EdgeError } from './errors';
import type { Logger } from './log';
import { silentLogger } from './log';

export interface ProverPort {
  prove(circuitId: CircuitId, input: AnyDeviationInput): Promise<DeviationProof>;
  /** The verification key of the artifacts this prover proves with. */
  verificationKey(circuitId: CircuitId): Promise<VerificationKey>;
}

export interface CircuitsProverOptions {
  logger?: Logger;
  /** Build missing or corrupt artifacts (a throw-away dev set-up). Off: refuse with ARTIFACTS_MISSING. */
  devArtifacts?: boolean;
  /** Artifact cache root (default $FLEXPROOF_CACHE or ~/.cache/flexproof). */
  cacheRoot?: string;
}

export class CircuitsProver implements ProverPort {
  readonly #artifacts = new Map<CircuitId, Promise<CircuitArtifacts>>();
  readonly #keys = new Map<CircuitId, VerificationKey>();
  readonly #options: CircuitsProverOptions;
  readonly #logger: Logger;

  constructor(options: CircuitsProverOptions | Logger = {}) {
    // A Logger alone (the former signature) means dev artifacts may be built, as before.
    this.#options = 'info' in options ? { logger: options, devArtifacts: true } : options;
    this.#logger = this.#options.logger ?? silentLogger;
  }

  /** Loads the artifacts of a shape (and, with devArtifacts, builds them the first time on this machine). */
  async prepare(circuitId: CircuitId): Promise<CircuitArtifacts> {
    let artifacts = this.#artifacts.get(circuitId);
    if (!artifacts) {
      artifacts = this.#load(circuitId);
      this.#artifacts.set(circuitId, artifacts);
      artifacts.catch(() => this.#artifacts.delete(circuitId));
    }
    return artifacts;
  }

  async #load(circuitId: CircuitId): Promise<CircuitArtifacts> {
    const cache = this.#options.cacheRoot !== undefined ? { cacheRoot: this.#options.cacheRoot } : {};
    if (this.#options.devArtifacts) {
      return ensureArtifacts(circuitId, {
        ...cache,
        onProgress: (event) => this.#logger.info('prover.artifacts-setup', { circuitId, step: event.step, message: event.message }),
      });
    }
    try {
      const artifacts = loadArtifacts(circuitId, cache);
      await checkArtifactIntegrity(artifacts);
      return artifacts;
    } catch (error) {
      if (!isCircuitError(error, 'ARTIFACTS_MISSING') && !isCircuitError(error, 'ARTIFACTS_CORRUPT')) throw error;
      const dir = artifactsDir(circuitId, cache);
      const what = isCircuitError(error, 'ARTIFACTS_MISSING') ? 'missing' : 'corrupt';
      throw new EdgeError(
        'ARTIFACTS_MISSING',
        `the proving artifacts of ${circuitId} are ${what} in ${dir}: install the consortium's ceremony bundle there with \`flexproof-edge artifacts install BUNDLE\` ` +
          `(they must match the ledger's verification key), or start with --dev-artifacts to build throw-away dev ones (development networks only)`,
        { cause: error, details: { circuitId, dir, flag: '--dev-artifacts' } },
      );
    }
  }

  async verificationKey(circuitId: CircuitId): Promise<VerificationKey> {
    let key = this.#keys.get(circuitId);
    if (!key) {
      key = readVerificationKey(await this.prepare(circuitId));
      this.#keys.set(circuitId, key);
    }
    return key;
  }

  async prove(circuitId: CircuitId, input: AnyDeviationInput): Promise<DeviationProof> {
    return proveDeviation(circuitId, input, await this.prepare(circuitId));
  }
}
