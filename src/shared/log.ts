/**
 * A small structured logger: one JSON object per line on stderr (or any writable stream).
 *
 * Long-running components log events, not prose; hot paths (router, sidecar) count in metrics
 * instead of logging per connection, except the access log, which is its own stream.
 */
import type { Writable } from 'node:stream';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  component: string;
  level?: LogLevel;
  stream?: Writable;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions): Logger {
  const minimum = levelRank[options.level ?? envLevel()];
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => new Date());
  const make = (bound: LogFields): Logger => {
    const write = (level: LogLevel, msg: string, fields?: LogFields): void => {
      if (levelRank[level] < minimum) return;
      const entry = { time: now().toISOString(), level, ...bound, msg, ...fields };
      stream.write(`${JSON.stringify(entry, errorReplacer)}\n`);
    };
    return {
      debug: (msg, fields) => write('debug', msg, fields),
      info: (msg, fields) => write('info', msg, fields),
      warn: (msg, fields) => write('warn', msg, fields),
      error: (msg, fields) => write('error', msg, fields),
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return make({ component: options.component });
}

/** A logger that drops everything; for callers that did not ask for logs. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};

function envLevel(): LogLevel {
  const level = process.env.LANDLORD_LOG_LEVEL;
  return level === 'debug' || level === 'warn' || level === 'error' ? level : 'info';
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }) };
  }
  return typeof value === 'bigint' ? value.toString() : value;
}
