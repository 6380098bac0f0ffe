/**
 * The meter adapters: what households' meters publish, turned into MeterReadings. One
 * config key, `meterFormat`, selects the adapter; every adapter refuses what is not its
 * format with a reason (RejectReason) and a detail that names the field and the rule,
 * never a reading's value.
 *
 *   flexproof    our JSON {ts, importWh, exportWh?} (or the first version's {ts, registerWh}), MQTT
 *   dsmr-p1      DSMR 5.0.2 P1 telegrams: serial port or TCP (P1Source), or one telegram per MQTT message
 *   tasmota-sml  Tasmota Smart Meter Interface, tele/<topic>/SENSOR JSON over MQTT
 *   shelly       Shelly Gen2+ emdata / em1data status over MQTT
 */
import type { EdgeConfig, MeterFormat } from '../config';
import { parseMeterMessage, type ParsedMessage, type ParseOptions } from '../meter-message';
import { parseDsmrTelegram } from './dsmr-p1';
import { parseShelly } from './shelly';
import { parseTasmotaSml } from './tasmota-sml';

export { parseDsmrTelegram, TelegramFramer, MAX_TELEGRAM_BYTES, OBIS } from './dsmr-p1';
export { parseTasmotaSml, zonedTime, isTimeZone } from './tasmota-sml';
export { parseShelly, SHELLY_COMPONENT } from './shelly';
export { P1Source, type P1SourceOptions, type SerialPortLike, type SerialPortFactory } from './p1-source';

export interface MeterDecoder {
  readonly format: MeterFormat;
  /** One message (an MQTT payload, or a telegram cut from the P1 stream). */
  decode(message: Uint8Array | string, options: ParseOptions): ParsedMessage;
}

/** The decoder `config.meterFormat` names, with its adapter's settings. */
export function meterDecoder(config: Pick<EdgeConfig, 'meterFormat' | 'tasmota' | 'shelly'>): MeterDecoder {
  switch (config.meterFormat) {
    case 'flexproof':
      return { format: 'flexproof', decode: (message, options) => parseMeterMessage(message, options) };
    case 'dsmr-p1':
      return { format: 'dsmr-p1', decode: (message, options) => parseDsmrTelegram(message, options) };
    case 'tasmota-sml': {
      const tasmota = config.tasmota;
      if (tasmota === undefined) throw new TypeError('meterFormat tasmota-sml needs the tasmota settings (parseConfig fills them)');
      return { format: 'tasmota-sml', decode: (message, options) => parseTasmotaSml(message, options, tasmota) };
    }
    case 'shelly': {
      const shelly = config.shelly;
      if (shelly === undefined) throw new TypeError('meterFormat shelly needs the shelly settings (parseConfig fills them)');
      return { format: 'shelly', decode: (message, options) => parseShelly(message, options, shelly) };
    }
  }
}
