// The part of snarkjs 0.7.6 this package calls (snarkjs ships no type declarations).
// Internal: no exported signature of this package mentions these types.
declare module 'snarkjs' {
  export interface Logger {
    error(message: string): void;
    warn(message: string): void;
    info(message: string): void;
    debug(message: string): void;
  }

  /**
   * A BN254 curve engine of ffjavascript (only the members used here). Points are the
   * engine's byte forms (Montgomery coordinates, affine or Jacobian); `prepareG1` and
   * `prepareG2` take Jacobian points; `millerLoop` gives an element of Fq12 before the
   * final exponentiation.
   */
  export interface Bn128Curve {
    r: bigint;
    G1: {
      fromObject(point: bigint[]): Uint8Array;
      toJacobian(point: Uint8Array): Uint8Array;
      add(a: Uint8Array, b: Uint8Array): Uint8Array;
      neg(point: Uint8Array): Uint8Array;
      timesScalar(point: Uint8Array, scalar: bigint): Uint8Array;
      isZero(point: Uint8Array): boolean;
      zero: Uint8Array;
    };
    /** The target group of the pairing, Fq12 written as [[[c, c], [c, c], [c, c]], [[c, c], [c, c], [c, c]]]. */
    Gt: {
      toObject(element: Uint8Array): bigint[][][];
      mul(a: Uint8Array, b: Uint8Array): Uint8Array;
      eq(a: Uint8Array, b: Uint8Array): boolean;
      one: Uint8Array;
    };
    /** The optimal ate pairing with its final exponentiation, as snarkjs computes vk_alphabeta_12. */
    pairing(g1: Uint8Array, g2: Uint8Array): Uint8Array;
    prepareG1(point: Uint8Array): Uint8Array;
    prepareG2(point: Uint8Array): Uint8Array;
    millerLoop(preparedG1: Uint8Array, preparedG2: Uint8Array): Uint8Array;
    finalExponentiation(element: Uint8Array): Uint8Array;
    G2: {
      fromObject(point: bigint[][]): Uint8Array;
      toJacobian(point: Uint8Array): Uint8Array;
      add(a: Uint8Array, b: Uint8Array): Uint8Array;
      neg(point: Uint8Array): Uint8Array;
      eq(a: Uint8Array, b: Uint8Array): boolean;
      timesScalar(point: Uint8Array, scalar: bigint): Uint8Array;
      isZero(point: Uint8Array): boolean;
    };
    terminate(): Promise<void>;
  }

  export interface SnarkjsProof {
    pi_a: string[];
    pi_b: string[][];
    pi_c: string[];
    protocol: string;
    curve: string;
  }

  export interface MemFile {
    type: 'mem';
    data?: Uint8Array;
  }

  export const curves: {
    getCurveFromName(name: string, options?: { singleThread?: boolean }): Promise<Bn128Curve>;
  };

  export const groth16: {
    prove(
      zkeyFileName: string,
      witness: MemFile | string,
      logger?: Logger,
      options?: { singleThread?: boolean },
    ): Promise<{ proof: SnarkjsProof; publicSignals: string[] }>;
    verify(verificationKey: unknown, publicSignals: string[], proof: unknown, logger?: Logger): Promise<boolean>;
  };

  export const wtns: {
    calculate(input: unknown, wasmFileName: string, witness: MemFile | string, options?: unknown): Promise<void>;
  };

  export const r1cs: {
    info(r1csFileName: string, logger?: Logger): Promise<{ nConstraints: number; nPubInputs: number; nOutputs: number; nPrvInputs: number; nVars: number }>;
  };

  export const powersOfTau: {
    newAccumulator(curve: Bn128Curve, power: number, fileName: string, logger?: Logger): Promise<unknown>;
    contribute(oldPtau: string, newPtau: string, name: string, entropy: string, logger?: Logger): Promise<Uint8Array>;
    beacon(oldPtau: string, newPtau: string, name: string, beaconHash: string, iterationsExp: number, logger?: Logger): Promise<Uint8Array>;
    preparePhase2(oldPtau: string, newPtau: string, logger?: Logger): Promise<void>;
    verify(ptau: string, logger?: Logger): Promise<boolean>;
  };

  export const zKey: {
    newZKey(r1cs: string, ptau: string, zkey: string, logger?: Logger): Promise<unknown>;
    contribute(oldZkey: string, newZkey: string, name: string, entropy: string, logger?: Logger): Promise<Uint8Array>;
    beacon(oldZkey: string, newZkey: string, name: string, beaconHash: string, iterationsExp: number, logger?: Logger): Promise<Uint8Array>;
    verifyFromR1cs(r1cs: string, ptau: string, zkey: string, logger?: Logger): Promise<boolean>;
    exportVerificationKey(zkey: string, logger?: Logger): Promise<Record<string, unknown>>;
  };
}
