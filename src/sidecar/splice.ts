/**
 * Relays bytes both ways between two connected sockets, counting them, with half-close: when one
 * side ends, the other is ended after its pending writes; when one side is gone, the other is
 * flushed and closed. An error on either side destroys both.
 */
import type { Duplex } from 'node:stream';
import type { CounterChild } from '../shared/metrics.ts';

export interface SpliceCounters {
  readonly inbound: CounterChild;
  readonly outbound: CounterChild;
}

/** `peer` is the remote side (TLS), `local` the app or the local client; `closed` runs once. */
export function splice(peer: Duplex, local: Duplex, counters: SpliceCounters, closed: () => void): void {
  let pending = 2;
  const settle = (): void => {
    pending -= 1;
    if (pending === 0) closed();
  };
  const fail = (): void => {
    peer.destroy();
    local.destroy();
  };
  peer.on('data', (chunk: Buffer) => counters.inbound.inc(chunk.length));
  local.on('data', (chunk: Buffer) => counters.outbound.inc(chunk.length));
  peer.pipe(local);
  local.pipe(peer);
  peer.on('error', fail);
  local.on('error', fail);
  peer.once('close', () => {
    settle();
    closeAfterWrites(local);
  });
  local.once('close', () => {
    settle();
    closeAfterWrites(peer);
  });
}

/** Once one side is gone nothing more can be relayed: flush what the other side has, then close it. */
function closeAfterWrites(socket: Duplex): void {
  if (socket.destroyed) return;
  if (socket.writableFinished) socket.destroy();
  else socket.end(() => socket.destroy());
}
