/**
 * Structured logs: one JSON object per line (time, level, event, fields), to stderr by
 * default, so a site's supervisor (systemd, docker) keeps them. Written by pino, the
 * gateway's logger too, so one log pipeline reads both. Call sites log ids, counts,
 * codes and hashes only; as a second line of defence, fields whose names are known to
 * carry secrets are replaced by "[redacted]" at any depth and in any letter case (pino's
 * own `redact` takes fixed paths, so this check runs as its log formatter).
 */
import pino from 'pino';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Field names that never reach a log line with their value. */
const SECRET_FIELDS = new Set([
  'privatekey',
  'sitesecret',
  'commitmentsalt',
  'fingerprintsalt',
  'requestprofile',
  'readings',
  'password',
  'body',
]);

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(LEVELS, value);
}

function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, ...('code' in value ? { code: (value as { code: unknown }).code } : {}) };
  if (depth > 4 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_FIELDS.has(k.toLowerCase()) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

export interface JsonLoggerOptions {
  level?: LogLevel;
  write?: (line: string) => void;
  /** Added to every line (e.g. the meter id). */
  base?: LogFields;
}

export function jsonLogger(options: JsonLoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const logger = pino(
    {
      level: options.level ?? 'info',
      messageKey: 'event',
      base: redact(options.base ?? {}) as LogFields,
      timestamp: pino.stdTimeFunctions.isoTime,
      // An error is logged as name, message and code (redact below), never with its stack.
      serializers: { err: (e: unknown) => e },
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => redact(fields) as Record<string, unknown>,
      },
    },
    // Synchronous, line by line, so a crash loses no line already logged.
    { write },
  );
  return {
    debug: (e, f) => logger.debug(f ?? {}, e),
    info: (e, f) => logger.info(f ?? {}, e),
    warn: (e, f) => logger.warn(f ?? {}, e),
    error: (e, f) => logger.error(f ?? {}, e),
  };
}

/** A logger that keeps its lines, for tests. */
export function memoryLogger(): Logger & { lines: { level: LogLevel; event: string; fields: LogFields }[] } {
  const lines: { level: LogLevel; event: string; fields: LogFields }[] = [];
  const push = (level: LogLevel) => (event: string, fields?: LogFields) => {
    lines.push({ level, event, fields: redact(fields ?? {}) as LogFields });
  };
  return { lines, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
