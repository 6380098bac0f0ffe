/** Reads server-sent events from a live gateway, for the event stream tests. */
import { request as httpRequest, type IncomingMessage } from 'node:http';

export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

/** Collects `count` named events (after `ready`, which calls onReady), then closes the stream. */
export function readEvents(url: string, headers: Record<string, string>, count: number, onReady: () => void): Promise<SseMessage[]> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
      let buffer = '';
      const events: SseMessage[] = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(
            block
              .split('\n')
              .filter((l) => !l.startsWith(':'))
              .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
          ) as Record<string, string | undefined>;
          if (!fields.event) continue;
          if (fields.event === 'ready') {
            onReady();
            continue;
          }
          events.push({ event: fields.event, data: fields.data ?? '', id: fields.id });
          if (events.length === count) {
            req.destroy();
            resolve(events);
          }
        }
      });
    });
    req.on('error', (err) => (err.message === 'socket hang up' ? undefined : reject(err)));
    req.end();
  });
}
