// @flexproof/protocol: the formats the edge, the gateways and the auditors share, with no
// Fabric, snarkjs or web framework behind them (importing it loads jose and node:crypto).

export { canonicalJson } from './canonical-json';
export {
  SEALED_PERIOD_CTY,
  SEALED_PERIOD_ALG,
  SEALED_PERIOD_ENC,
  SEALED_LIMITS,
  SealedDataError,
  isSealedDataError,
  generateSealingKeyPair,
  checkSealingPublicKey,
  checkSealingPrivateKey,
  sealingKeyHash,
  sealPeriod,
  openPeriod,
  checkSealedShape,
  sealedContentHash,
} from './sealed-period';
export type {
  PeriodPlace,
  PeriodPlaintext,
  SealedPeriodJwe,
  SealedRecipientEntry,
  SealedEphemeralKey,
  SealedProtectedHeader,
  SealingRecipient,
  SealedDataErrorCode,
} from './sealed-period';
