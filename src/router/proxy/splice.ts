/**
 * Joins a client socket and a backend socket until both directions are finished.
 *
 * - Backpressure: each direction forwards its own reads and pauses the reader while the writer's
 *   buffer is full, resuming on the writer's 'drain', so a slow reader never makes the router
 *   buffer without bound. One listener per direction both forwards and counts (no `pipe`, whose
 *   six listeners per direction cost more than the forwarding itself on short connections); a
 *   backend made by `tcpDialer` delivers its reads through `onread` into a reused buffer
 *   (backend-reads.ts), the bulk direction of most traffic, without a 'data' event or an allocation.
 * - Half-close: both sockets allow half-open; a FIN from one side ends the other side's writes
 *   while the opposite direction keeps flowing (e.g. a client that shuts down after its request).
 *   A socket that has both ended and finished closes itself (autoDestroy); the splice is done
 *   when both have closed.
 * - Idle timeout: there is no timer per socket. Traffic sets a flag; the router calls `sweepIdle`
 *   on every splice once per period and a splice quiet for enough sweeps in a row closes, i.e.
 *   after between the idle timeout and the idle timeout plus one period without a byte.
 */
import type net from 'node:net';
import type { CounterChild } from '../../shared/metrics.ts';
import { forwardReads, type ReadDestination } from './backend-reads.ts';

export type SpliceEnd = 'completed' | 'client_error' | 'backend_error' | 'idle_timeout' | 'aborted';

export interface SpliceCounters {
  readonly clientToBackend: CounterChild;
  readonly backendToClient: CounterChild;
}

/** 'error' is always followed by 'close', where the splice reads `errored`; this only keeps an error from being unhandled. */
function ignoreError(): void {}

export class Splice implements ReadDestination {
  readonly #client: net.Socket;
  readonly #backend: net.Socket;
  readonly #counters: SpliceCounters;
  readonly #onEnd: (end: SpliceEnd, splice: Splice) => void;
  #end: SpliceEnd | undefined;
  #closed = 0;
  #active = false;
  #quietSweeps = 0;
  /** Bytes read from each side, the replayed preamble included. */
  bytesFromClient: number;
  bytesToClient = 0;

  /**
   * Starts forwarding; `alreadyFromClient` counts bytes the caller already sent to the backend
   * (the replayed preamble). `onEnd` runs once, after both sockets closed.
   */
  constructor(client: net.Socket, backend: net.Socket, counters: SpliceCounters, alreadyFromClient: number, onEnd: (end: SpliceEnd, splice: Splice) => void) {
    this.#client = client;
    this.#backend = backend;
    this.#counters = counters;
    this.#onEnd = onEnd;
    this.bytesFromClient = alreadyFromClient;
    counters.clientToBackend.inc(alreadyFromClient);
    client.on('data', (chunk: Buffer) => {
      this.#active = true;
      this.bytesFromClient += chunk.length;
      this.#counters.clientToBackend.inc(chunk.length);
      if (!this.#backend.write(chunk)) this.#client.pause();
    });
    backend.on('drain', () => this.#client.resume());
    client.on('drain', () => this.#backend.resume());
    // A side may have ended before the splice began (a client's FIN right behind its hello ends a paused, empty stream).
    if (client.readableEnded) backend.end();
    else client.on('end', () => this.#backend.end());
    if (backend.readableEnded) client.end();
    else backend.on('end', () => this.#client.end());
    client.on('error', ignoreError);
    backend.on('error', ignoreError);
    // 'close' comes once per socket; `on` spares the wrapper and removal `once` costs per connection.
    client.on('close', () => this.#closedOne(client, backend, 'client_error'));
    backend.on('close', () => this.#closedOne(backend, client, 'backend_error'));
    // Last: forwarding what the backend sent before the splice may end its stream.
    if (!forwardReads(backend, this)) {
      backend.on('data', (chunk: Buffer) => {
        if (!this.take(chunk)) backend.pause();
      });
    }
  }

  /** One chunk from the backend to the client (a `ReadDestination`); false when the client's buffer is full. */
  take(chunk: Buffer): boolean {
    this.#active = true;
    this.bytesToClient += chunk.length;
    this.#counters.backendToClient.inc(chunk.length);
    return this.#client.write(chunk);
  }

  /** Whether the client still holds a reference to the last chunk (a `ReadDestination`). */
  retains(): boolean {
    return this.#client.writableLength !== 0;
  }

  /** Ends the splice now (graceful drain deadline, shutdown). */
  abort(): void {
    this.#finish('aborted');
  }

  /** One idle sweep; closes the splice when this is the `quietSweeps`th sweep in a row without traffic. True when it closed. */
  sweepIdle(quietSweeps: number): boolean {
    if (this.#active) {
      this.#active = false;
      this.#quietSweeps = 0;
      return false;
    }
    this.#quietSweeps += 1;
    if (this.#quietSweeps < quietSweeps || this.#end !== undefined) return false;
    this.#finish('idle_timeout');
    return true;
  }

  #finish(reason: SpliceEnd): void {
    this.#end ??= reason;
    this.#client.destroy();
    this.#backend.destroy();
  }

  /** A side that errored, or closed fully (not just half) while the other still writes, is an abort, not a FIN. */
  #closedOne(socket: net.Socket, other: net.Socket, failure: SpliceEnd): void {
    this.#closed += 1;
    if (socket.errored || (!other.destroyed && !socket.readableEnded)) this.#finish(failure);
    if (this.#closed === 2) this.#onEnd(this.#end ?? 'completed', this);
  }
}
