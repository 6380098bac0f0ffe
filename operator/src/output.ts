/**
 * How answers are printed: `--json` prints the gateway's answer as JSON (for scripts);
 * otherwise a small table for a person: a record as `field  value` lines, a list as
 * columns. Long nested values are shortened in tables only, never in JSON.
 */

export interface Printable {
  /** What --json prints. */
  data: unknown;
  /** For a table: the list to show as columns, and its columns (default: the record's own fields). */
  list?: { rows: readonly Record<string, unknown>[]; columns: readonly string[] };
  /** Lines printed above the table (not in JSON). */
  heading?: readonly string[];
}

const MAX_CELL = 80;

export function render(out: Printable, json: boolean): string {
  if (json) return `${JSON.stringify(out.data, null, 2)}\n`;
  const lines: string[] = [...(out.heading ?? [])];
  if (out.list) {
    lines.push(...columns(out.list.rows, out.list.columns));
  } else {
    lines.push(...recordLines(out.data));
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** A record as aligned `field  value` lines; a submitted transaction's txId first. */
export function recordLines(data: unknown): string[] {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return [cell(data)];
  const record = data as Record<string, unknown>;
  if (typeof record.txId === 'string' && 'result' in record && Object.keys(record).length === 2) {
    return [`txId  ${record.txId}`, ...recordLines(record.result)];
  }
  const keys = Object.keys(record);
  const width = Math.max(0, ...keys.map((k) => k.length));
  return keys.map((k) => `${k.padEnd(width)}  ${cell(record[k])}`);
}

export function columns(rows: readonly Record<string, unknown>[], names: readonly string[]): string[] {
  if (rows.length === 0) return ['(none)'];
  const cells = rows.map((row) => names.map((n) => cell(row[n])));
  const widths = names.map((n, i) => Math.max(n.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (values: readonly string[]) => values.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(names), ...cells.map(line)];
}

function cell(value: unknown): string {
  if (value === undefined) return '';
  if (value === null) return '-';
  if (typeof value === 'string') return shorten(value.replace(/\s+/g, ' '));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return shorten(JSON.stringify(value));
}

function shorten(text: string): string {
  return text.length <= MAX_CELL ? text : `${text.slice(0, MAX_CELL - 1)}…`;
}
