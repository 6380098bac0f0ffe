/**
 * The prover port and its default adapter: snarkjs in this process through
 * @flexproof/circuits. For the small shape (4 readings) a proof takes well under a
 * second, short enough not to starve the MQTT loop; a meter message arriving meanwhile
 * waits in the socket buffer and is acknowledged after.
 */
import {
  ensureArtifacts,
  proveDeviation,
  type CircuitArtifacts,
  type CircuitId,
  type DeviationInput,
  type DeviationProof,
} from '@flexproof/circuits';
import type { Logger } from './log';
import { silentLogger } from './log';

export interface ProverPort {
  prove(circuitId: CircuitId, input: DeviationInput): Promise<DeviationProof>;
}

export class CircuitsProver implements ProverPort {
  readonly #artifacts = new Map<CircuitId, Promise<CircuitArtifacts>>();
  readonly #logger: Logger;

  constructor(logger: Logger = silentLogger) {
    this.#logger = logger;
  }

  /** Loads (or, the first time on this machine, builds) the artifacts of a shape. */
  async prepare(circuitId: CircuitId): Promise<CircuitArtifacts> {
    let artifacts = this.#artifacts.get(circuitId);
    if (!artifacts) {
      artifacts = ensureArtifacts(circuitId, {
        onProgress: (event) => this.#logger.info('prover.artifacts-setup', { circuitId, step: event.step, message: event.message }),
      });
      this.#artifacts.set(circuitId, artifacts);
      artifacts.catch(() => this.#artifacts.delete(circuitId));
    }
    return artifacts;
  }

  async prove(circuitId: CircuitId, input: DeviationInput): Promise<DeviationProof> {
    return proveDeviation(circuitId, input, await this.prepare(circuitId));
  }
}
