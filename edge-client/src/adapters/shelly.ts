/**
 * Shelly energy meters of the second generation and later (Pro 3EM, Pro EM, 3EM Gen3,
 * EM Gen3 and their kin), over MQTT. Their energy counters are the status of a data
 * component: `emdata:<id>` on three-phase meters (`total_act`: total active energy
 * imported, `total_act_ret`: returned, both Wh over all phases) and `em1data:<id>` on
 * single-phase channels (`total_act_energy`, `total_act_ret_energy`, Wh). Two MQTT
 * shapes carry it, both read here:
 *
 * - the RPC notification on `<prefix>/events/rpc` (MQTT "RPC status notifications"):
 *   {"src":"shellypro3em-...","dst":"...","method":"NotifyStatus","params":{"ts":1714557600.12,"emdata:0":{"id":0,"total_act":...,"total_act_ret":...}}}
 *   its `params.ts` (unix seconds) is the reading's time; a notification about another
 *   component is no reading (NOT_A_READING);
 * - the status publication on `<prefix>/status/emdata:0` ("Generic status update over
 *   MQTT"): the component's status object itself. It has no time, so the receive time
 *   is the reading's time (a message the broker kept while the edge was down is then
 *   counted when it arrives: prefer the RPC notification).
 *
 * Both registers are required in every message: a notification without the returned
 * energy is refused (MISSING_FIELD) rather than read as a meter without an export
 * register. First-generation Shellies (EM, 3EM: `shellies/<id>/emeter/<i>/total` and
 * `total_returned` on separate topics) are not read: pairing two topics into one
 * consistent reading is left out.
 */
import type { ShellyConfig } from '../config';
import { checkTimestamp, parseJsonObject, reject, type ParsedMessage, type ParseOptions } from '../meter-message';
import { jsonNumberToWh } from './energy-units';

/** A NotifyFullStatus of a Pro 3EM is a few kB. */
export const MAX_SHELLY_MESSAGE_BYTES = 16_384;

export const SHELLY_COMPONENT = /^(emdata|em1data):([0-9]{1,2})$/;

const FIELDS = {
  emdata: { importField: 'total_act', exportField: 'total_act_ret' },
  em1data: { importField: 'total_act_energy', exportField: 'total_act_ret_energy' },
} as const;

export function parseShelly(message: Uint8Array | string, options: ParseOptions, config: ShellyConfig): ParsedMessage {
  const size = typeof message === 'string' ? Buffer.byteLength(message) : message.length;
  if (size > MAX_SHELLY_MESSAGE_BYTES) return reject('TOO_LARGE', `${size} bytes, at most ${MAX_SHELLY_MESSAGE_BYTES}`);
  const parsed = parseJsonObject(message);
  if (!parsed.ok) return parsed;
  const component = SHELLY_COMPONENT.exec(config.component);
  if (!component) return reject('NOT_A_READING', `shelly.component ${config.component} is not a data component`);
  const { importField, exportField } = FIELDS[component[1] as keyof typeof FIELDS];
  const id = Number(component[2]);
  const { value } = parsed;

  let status: unknown;
  let ts: number;
  let where: string;
  if (value.method !== undefined) {
    if (value.method !== 'NotifyStatus' && value.method !== 'NotifyFullStatus') return reject('NOT_A_READING', `method ${String(value.method)} carries no status`);
    const params = value.params;
    if (typeof params !== 'object' || params === null || Array.isArray(params)) return reject('MISSING_FIELD', 'params is missing');
    const p = params as Record<string, unknown>;
    if (p[config.component] === undefined) return reject('NOT_A_READING', `the notification is not about ${config.component}`);
    if (typeof p.ts !== 'number' || !Number.isFinite(p.ts)) return reject('BAD_TIMESTAMP', 'params.ts must be unix time in seconds');
    ts = Math.round(p.ts * 1000);
    status = p[config.component];
    where = `params.${config.component}`;
  } else {
    ts = options.now;
    status = value;
    where = config.component;
  }
  const refused = checkTimestamp(ts, options, 'params.ts');
  if (refused !== undefined) return refused;
  if (typeof status !== 'object' || status === null || Array.isArray(status)) return reject('NOT_AN_OBJECT', `${where} is not an object`);
  const fields = status as Record<string, unknown>;
  if (fields.id !== undefined && fields.id !== id) return reject('NOT_A_READING', `${where}.id is not ${id}`);
  if (fields[importField] === undefined) return reject('MISSING_FIELD', `${where}.${importField} is missing`);
  if (fields[exportField] === undefined) return reject('MISSING_FIELD', `${where}.${exportField} is missing`);
  const importWh = jsonNumberToWh(fields[importField], 'Wh', `${where}.${importField}`);
  if (typeof importWh !== 'bigint') return importWh;
  const exportWh = jsonNumberToWh(fields[exportField], 'Wh', `${where}.${exportField}`);
  if (typeof exportWh !== 'bigint') return exportWh;
  return { ok: true, reading: { ts, importWh, exportWh } };
}
