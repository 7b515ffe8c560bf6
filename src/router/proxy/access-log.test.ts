import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createAccessLog } from './access-log.ts';
import type { AccessLogEntry } from './connection.ts';

function entry(closeReason: string, sni = 'app.test'): AccessLogEntry {
  return { time: '2026-01-01T00:00:00.000Z', listener: 'tls', client: '127.0.0.1:1', sni, alpn: [], tenant: undefined, route: sni, backend: '127.0.0.1:2', bytesFromClient: 1, bytesToClient: 2, durationMs: 3, closeReason };
}

function capture(): { stream: Writable; writes: string[] } {
  const writes: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(chunk.toString());
      done();
    },
  });
  return { stream, writes };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('access log', () => {
  it('writes the lines of one event-loop turn in one write, one JSON line per connection', async () => {
    const { stream, writes } = capture();
    const log = createAccessLog(stream);
    log.write(entry('completed'));
    log.write(entry('idle_timeout'));
    assert.equal(writes.length, 0, 'nothing leaves before the turn ends');
    await nextTurn();
    assert.equal(writes.length, 1);
    assert.deepEqual(writes[0]!.trimEnd().split('\n').map((line) => (JSON.parse(line) as AccessLogEntry).closeReason), ['completed', 'idle_timeout']);
    log.write(entry('client_error'));
    await nextTurn();
    assert.equal(writes.length, 2, 'a later turn writes again');
  });

  it('writes at once when a batch reaches 64 KiB, and flush writes the rest', () => {
    const { stream, writes } = capture();
    const log = createAccessLog(stream);
    const long = 'a'.repeat(1000);
    for (let i = 0; i < 40; i += 1) log.write(entry('completed', long));
    assert.equal(writes.length, 1);
    assert.ok(writes[0]!.length >= 64 * 1024);
    log.flush();
    assert.equal(writes.length, 2);
    assert.equal(writes.join('').trimEnd().split('\n').length, 40, 'no line lost or split');
  });
});
