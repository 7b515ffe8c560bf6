/**
 * The access log: one JSON line per connection, batched into one `write` per event-loop turn (or
 * per 64 KiB), because a write per connection to a pipe or file is a syscall per connection.
 * Lines leave at the latest at the end of the turn in which their connection closed.
 */
import type { Writable } from 'node:stream';
import type { AccessLogEntry } from './connection.ts';

const flushBytes = 64 * 1024;

export interface AccessLog {
  readonly write: (entry: AccessLogEntry) => void;
  /** Writes what is batched now (at drain, before the process exits). */
  flush(): void;
}

export function createAccessLog(stream: Writable): AccessLog {
  let batch = '';
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (batch.length === 0) return;
    const lines = batch;
    batch = '';
    stream.write(lines);
  };
  return {
    write(entry) {
      batch += `${JSON.stringify(entry)}\n`;
      if (batch.length >= flushBytes) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}
