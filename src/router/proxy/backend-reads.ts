/**
 * Backend reads into a buffer the socket keeps, instead of Node's default of a fresh 64 KiB
 * allocation per read (whose garbage cost the router about a fifth of its CPU on bulk
 * transfers). Uses `net.connect`'s `onread`, which also skips the readable stream's
 * push/'data' machinery.
 *
 * - Reuse is safe only when the previous chunk is gone: a chunk the destination did not take at
 *   once (`writableLength` above zero after the write: queued in the stream, or the kernel took
 *   part of it and the rest waits in a write request) still points into the buffer, so the next
 *   read gets a fresh one.
 * - Memory: the buffer is per socket (a shared one could be overwritten while another socket's
 *   pending write still points into it), so it is sized by the traffic: 3 KiB to start (an idle
 *   connection keeps no more), four times larger after a read that filled it (up to 64 KiB, the
 *   size Node reads with), back to 3 KiB after a read of less than an eighth of it.
 * - Before a destination is attached (PostgreSQL's SSLRequest answer, a backend speaking first),
 *   reads are copied into the socket's readable stream, so 'readable'/'data'/`read()` see them as
 *   usual; `forwardTo` forwards what is buffered there first.
 */
import net from 'node:net';

/** Under Node's pool threshold (4 KiB): the first buffer of a connection is a cheap slice of a shared 8 KiB slab. */
const smallBytes = 3 * 1024;
const largeBytes = 64 * 1024;

/** Where a backend's bytes go once spliced. */
export interface ReadDestination {
  /** Takes a chunk that is only valid during the call; false stops reading until the socket's `resume()`. */
  take(chunk: Buffer): boolean;
  /** Whether the last chunk taken may still be referenced (not yet handed to the kernel whole). */
  retains(): boolean;
}

class ReusedReads {
  socket: net.Socket | undefined;
  #buffer = Buffer.allocUnsafe(smallBytes);
  #destination: ReadDestination | undefined;
  readonly options: net.OnReadOpts = {
    // Called for the first read and after each callback: by then `#read` chose the buffer.
    buffer: () => this.#buffer,
    callback: (bytes, buffer) => this.#read(bytes, buffer),
  };

  forwardTo(destination: ReadDestination): void {
    const socket = this.socket!;
    this.#destination = destination;
    // Bytes that arrived before the splice; `read()` on an empty stream returns null.
    for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) destination.take(chunk);
  }

  #read(bytes: number, buffer: Uint8Array): boolean {
    const chunk = Buffer.from(buffer.buffer, buffer.byteOffset, bytes);
    const destination = this.#destination;
    if (destination === undefined) return this.socket!.push(Buffer.from(chunk));
    const more = destination.take(chunk);
    const size = this.#buffer.length;
    const wanted = bytes === size ? Math.min(largeBytes, size * 4) : bytes < size / 8 ? smallBytes : size;
    // A retained chunk keeps its buffer: the next read gets another one.
    if (wanted !== size || destination.retains()) this.#buffer = Buffer.allocUnsafe(wanted);
    return more;
  }
}

/** The reads of a socket made by `connectReusingReads` (a property rather than a WeakMap: no ephemeron per connection for the GC). */
const readsKey = Symbol('landlord.reusedReads');
type WithReads = net.Socket & { [readsKey]?: ReusedReads };

/** `net.connect` whose reads reuse a buffer of the socket's own once `forwardReads` attaches a destination. */
export function connectReusingReads(options: net.TcpNetConnectOpts): net.Socket {
  const reads = new ReusedReads();
  options.onread = reads.options;
  const socket: WithReads = net.connect(options);
  reads.socket = socket;
  socket[readsKey] = reads;
  return socket;
}

/** Sends the socket's reads to `destination`; false when the socket was not made by `connectReusingReads` (use 'data'). */
export function forwardReads(socket: net.Socket, destination: ReadDestination): boolean {
  const reads = (socket as WithReads)[readsKey];
  if (reads === undefined) return false;
  reads.forwardTo(destination);
  return true;
}
