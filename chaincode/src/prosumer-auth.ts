import { ChaincodeError } from './errors';
import type { Meter, ProsumerKeyType, ProsumerRecord } from './model';
import { assertFreshNonce } from './rules/nonces';
import { verifyPayloadSignatureCached } from './public-keys';
import { CHAINCODE_NAME } from './server-settings';
import { samePublicKey, type AuthorizeMeterPayload, type LedgerTarget } from '@flexproof/protocol';

/**
 * Refuses (BAD_SIGNATURE) a signed payload made for another channel or another
 * chaincode: the signature binds the prosumer's consent to one ledger, so it cannot be
 * replayed on a second channel or network that registered the same key.
 */
export function requireLedgerTarget(payload: LedgerTarget, channelId: string, chaincodeName: string = CHAINCODE_NAME): void {
  if (payload.channel !== channelId) {
    throw new ChaincodeError('BAD_SIGNATURE', `payload.channel: signed for channel ${payload.channel}, this is channel ${channelId}`);
  }
  if (payload.chaincode !== chaincodeName) {
    throw new ChaincodeError(
      'BAD_SIGNATURE',
      `payload.chaincode: signed for chaincode ${payload.chaincode}, this is chaincode ${chaincodeName}`,
    );
  }
}

/**
 * Checks that a signed prosumer action is for this ledger (channel and chaincode), names
 * this meter and its prosumer, and carries the prosumer's signature over the payload's
 * canonical encoding (BAD_SIGNATURE otherwise). The gateway relaying it cannot forge it.
 */
export function requireProsumerSignature(
  meter: Meter,
  payload: LedgerTarget & { meterId: string; prosumerId: string },
  signature: string,
  channelId: string,
): void {
  requireLedgerTarget(payload, channelId);
  if (payload.meterId !== meter.meterId || payload.prosumerId !== meter.prosumerId) {
    throw new ChaincodeError('FORBIDDEN', `meter ${meter.meterId} does not belong to prosumer ${payload.prosumerId}`);
  }
  if (!verifyPayloadSignatureCached(payload, signature, meter.publicKeyPem)) {
    throw new ChaincodeError('BAD_SIGNATURE', `signature does not verify with the key of meter ${meter.meterId}`);
  }
}

/** Checks a nonce is fresh (REPLAY otherwise) and returns the meter with it recorded. */
export function consumeNonce(meter: Meter, nonce: string, now: string): Meter {
  assertFreshNonce(BigInt(meter.nonce), BigInt(nonce));
  return { ...meter, nonce, updatedAt: now };
}

/** A meter to register, as RegisterMeter names it. */
export interface MeterRegistration {
  meterId: string;
  prosumerId: string;
  publicKeyPem: string;
  keyType: ProsumerKeyType;
  authorization?: { payload: AuthorizeMeterPayload; signature: string };
}

/**
 * Who may put a key under a prosumer id (T5). The first meter of an id binds the id to
 * its key. A further meter with the bound key needs nothing more. A further meter with
 * another key needs `authorization`: an AuthorizeMeterPayload for this ledger, this
 * prosumer, this meter and this key, signed by the bound key, with a nonce above the
 * prosumer record's (FORBIDDEN without it or when it authorises something else,
 * BAD_SIGNATURE for a wrong ledger or signature, REPLAY for a used nonce). An
 * authorization that is given is always checked, even where none is needed.
 *
 * Returns the prosumer record to write, or undefined when it does not change.
 */
export function authorizeMeterKey(
  prosumer: ProsumerRecord | undefined,
  meter: MeterRegistration,
  channelId: string,
  now: string,
): ProsumerRecord | undefined {
  const auth = meter.authorization;
  if (prosumer === undefined) {
    if (auth !== undefined) {
      throw new ChaincodeError(
        'BAD_INPUT',
        `authorization: prosumer ${meter.prosumerId} has no meter yet, so there is no key to authorise with; its first meter binds it`,
      );
    }
    return {
      prosumerId: meter.prosumerId,
      publicKeyPem: meter.publicKeyPem,
      keyType: meter.keyType,
      nonce: '0',
      registeredAt: now,
      updatedAt: now,
    };
  }
  if (auth === undefined) {
    if (samePublicKey(prosumer.publicKeyPem, meter.publicKeyPem)) return undefined;
    throw new ChaincodeError(
      'FORBIDDEN',
      `publicKeyPem: prosumer ${meter.prosumerId} is bound to another key; a meter with a new key needs an authorization signed by the bound key`,
    );
  }
  const { payload, signature } = auth;
  requireLedgerTarget(payload, channelId);
  if (payload.prosumerId !== meter.prosumerId) {
    throw new ChaincodeError('FORBIDDEN', `authorization.payload.prosumerId: authorises a meter of prosumer ${payload.prosumerId}`);
  }
  if (payload.meterId !== meter.meterId) {
    throw new ChaincodeError('FORBIDDEN', `authorization.payload.meterId: authorises meter ${payload.meterId}`);
  }
  if (!samePublicKey(payload.publicKeyPem, meter.publicKeyPem)) {
    throw new ChaincodeError('FORBIDDEN', 'authorization.payload.publicKeyPem: authorises another key than publicKeyPem');
  }
  if (!verifyPayloadSignatureCached(payload, signature, prosumer.publicKeyPem)) {
    throw new ChaincodeError(
      'BAD_SIGNATURE',
      `authorization.signature: does not verify with the key prosumer ${meter.prosumerId} is bound to`,
    );
  }
  assertFreshNonce(BigInt(prosumer.nonce), BigInt(payload.nonce));
  return { ...prosumer, nonce: payload.nonce, updatedAt: now };
}
