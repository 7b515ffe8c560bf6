/**
 * Joins a client socket and a backend socket until both directions are finished.
 *
 * - Backpressure: `pipe` pauses the reader while the writer's buffer is full, so a slow reader
 *   never makes the router buffer without bound.
 * - Half-close: both sockets allow half-open; a FIN from one side ends the other side's writes
 *   while the opposite direction keeps flowing (e.g. a client that shuts down after its request).
 * - Idle timeout: any read or write on either socket re-arms the timers; when one fires, both go.
 */
import type net from 'node:net';

export type SpliceEnd = 'completed' | 'client_error' | 'backend_error' | 'idle_timeout' | 'aborted';

export interface SpliceOptions {
  readonly idleTimeoutMs: number;
  readonly onClientBytes: (count: number) => void;
  readonly onBackendBytes: (count: number) => void;
}

export interface Splice {
  readonly done: Promise<SpliceEnd>;
  /** Ends the splice now (graceful drain deadline, shutdown). */
  abort(): void;
}

export function splice(client: net.Socket, backend: net.Socket, options: SpliceOptions): Splice {
  let end: SpliceEnd | undefined;
  let closed = 0;
  let resolveDone: (value: SpliceEnd) => void = () => {};
  const done = new Promise<SpliceEnd>((resolve) => (resolveDone = resolve));

  const finish = (reason: SpliceEnd): void => {
    end ??= reason;
    client.destroy();
    backend.destroy();
  };
  const onClosed = (): void => {
    closed += 1;
    if (closed === 2) resolveDone(end ?? 'completed');
  };

  client.on('data', (chunk: Buffer) => options.onClientBytes(chunk.length));
  backend.on('data', (chunk: Buffer) => options.onBackendBytes(chunk.length));
  client.on('error', () => finish('client_error'));
  backend.on('error', () => finish('backend_error'));
  client.setTimeout(options.idleTimeoutMs, () => finish('idle_timeout'));
  backend.setTimeout(options.idleTimeoutMs, () => finish('idle_timeout'));
  // A side that closes fully (not just half) while the other still writes is an abort, not a FIN.
  client.once('close', () => {
    onClosed();
    if (!backend.destroyed && !client.readableEnded) finish('client_error');
  });
  backend.once('close', () => {
    onClosed();
    if (!client.destroyed && !backend.readableEnded) finish('backend_error');
  });
  // After both FINs crossed, both sockets finish on their own; destroy makes it prompt.
  const maybeComplete = (): void => {
    if (client.readableEnded && backend.readableEnded && client.writableFinished && backend.writableFinished) finish('completed');
  };
  for (const socket of [client, backend]) {
    socket.on('end', maybeComplete);
    socket.on('finish', maybeComplete);
  }
  client.pipe(backend);
  backend.pipe(client);
  return { done, abort: () => finish('aborted') };
}
