/**
 * A reader of server-sent events (the WHATWG event-stream format, the parts the gateway
 * writes: `id`, `event`, `data`, comments as heartbeats). Data that is not JSON is kept
 * as the string it is.
 */
import type { GatewayEvent } from './types';

/** Longest event the reader holds before refusing the stream (the gateway's are far smaller). */
const MAX_EVENT_CHARS = 1024 * 1024;

export async function* readEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<GatewayEvent> {
  const decoder = new TextDecoder('utf-8');
  let buffer = '';
  let event = 'message';
  let id: string | undefined;
  let data: string[] = [];
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let newline: number;
      // Lines end in LF or CRLF (the gateway writes LF); a lone CR is not a line end here.
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line === '') {
          if (data.length > 0) yield { event, ...(id === undefined ? {} : { id }), data: parseData(data.join('\n')) };
          event = 'message';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const rawValue = colon < 0 ? '' : line.slice(colon + 1);
        const fieldValue = rawValue.startsWith(' ') ? rawValue.slice(1) : rawValue;
        if (field === 'event') event = fieldValue;
        else if (field === 'data') data.push(fieldValue);
        else if (field === 'id') id = fieldValue;
      }
      if (buffer.length + data.reduce((n, d) => n + d.length, 0) > MAX_EVENT_CHARS) {
        throw new Error('event stream: an event is larger than 1 MiB');
      }
      if (done) return;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

function parseData(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
