/**
 * A small in-memory ChaincodeStub for contract tests. Like Fabric, reads see committed
 * state only (not the running transaction's writes), writes are buffered until the
 * transaction commits, a thrown transaction leaves no trace, only the last event of a
 * transaction is kept, and every committed write is added to the key's history.
 */
import type { ChaincodeStub } from 'fabric-shim-api';

const SEP = '\u0000';

export interface RecordedEvent {
  name: string;
  payload: Record<string, unknown>;
}

interface HistoryItem {
  txId: string;
  timestamp: { seconds: { toString(): string }; nanos: number };
  isDelete: boolean;
  value: Uint8Array;
}

function asyncIterable<T>(items: T[]): Promise<unknown> & AsyncIterable<T> {
  const promise = Promise.resolve({
    async next() {
      const value = items.shift();
      return value === undefined ? { value: undefined, done: true } : { value, done: false };
    },
    async close() {},
  });
  return Object.assign(promise, {
    async *[Symbol.asyncIterator]() {
      yield* items;
    },
  });
}

export class InMemoryStubForTests {
  private readonly state = new Map<string, Buffer>();
  private readonly history = new Map<string, HistoryItem[]>();
  private pending = new Map<string, Buffer | null>();
  private event: RecordedEvent | undefined;
  private txId = '';
  private nowMs = 0;
  private channelId = '';
  /** Events of committed transactions, oldest first. */
  readonly events: RecordedEvent[] = [];

  /** Starts a transaction with this id, proposal timestamp and channel. */
  beginTransaction(txId: string, nowMs: number, channelId = 'flexchannel'): void {
    this.txId = txId;
    this.nowMs = nowMs;
    this.channelId = channelId;
    this.pending = new Map();
    this.event = undefined;
  }

  commit(): void {
    const seconds = Math.floor(this.nowMs / 1000);
    const nanos = (this.nowMs % 1000) * 1e6;
    for (const [key, value] of this.pending) {
      if (value === null) this.state.delete(key);
      else this.state.set(key, value);
      const items = this.history.get(key) ?? [];
      items.push({
        txId: this.txId,
        timestamp: { seconds: { toString: () => String(seconds) }, nanos },
        isDelete: value === null,
        value: value ?? Buffer.alloc(0),
      });
      this.history.set(key, items);
    }
    if (this.event) this.events.push(this.event);
    this.pending = new Map();
  }

  rollback(): void {
    this.pending = new Map();
    this.event = undefined;
  }

  /** Committed state, for tests that look below the contracts. */
  snapshot(): ReadonlyMap<string, Buffer> {
    return this.state;
  }

  /** Keys written by the running transaction. */
  pendingKeys(): string[] {
    return [...this.pending.keys()];
  }

  async getState(key: string): Promise<Uint8Array> {
    return this.state.get(key) ?? Buffer.alloc(0);
  }

  async putState(key: string, value: Uint8Array): Promise<void> {
    if (value.length === 0) throw new Error('putState: empty value');
    this.pending.set(key, Buffer.from(value));
  }

  async deleteState(key: string): Promise<void> {
    this.pending.set(key, null);
  }

  createCompositeKey(objectType: string, attributes: string[]): string {
    return SEP + objectType + SEP + attributes.map((a) => a + SEP).join('');
  }

  splitCompositeKey(compositeKey: string): { objectType: string; attributes: string[] } {
    const parts = compositeKey.split(SEP).slice(1, -1);
    return { objectType: parts[0] ?? '', attributes: parts.slice(1) };
  }

  getStateByPartialCompositeKey(objectType: string, attributes: string[]) {
    const prefix = this.createCompositeKey(objectType, attributes);
    const items = [...this.state.keys()]
      .filter((k) => k.startsWith(prefix))
      .sort()
      .map((key) => ({ namespace: 'flexproof', key, value: this.state.get(key) as Uint8Array }));
    return asyncIterable(items);
  }

  getHistoryForKey(key: string) {
    return asyncIterable([...(this.history.get(key) ?? [])]);
  }

  getTxID(): string {
    return this.txId;
  }

  getChannelID(): string {
    return this.channelId;
  }

  getTxTimestamp(): { seconds: { toString(): string }; nanos: number } {
    return { seconds: { toString: () => String(Math.floor(this.nowMs / 1000)) }, nanos: (this.nowMs % 1000) * 1e6 };
  }

  setEvent(name: string, payload: Uint8Array): void {
    this.event = { name, payload: JSON.parse(Buffer.from(payload).toString('utf8')) as Record<string, unknown> };
  }

  asStub(): ChaincodeStub {
    return this as unknown as ChaincodeStub;
  }
}
