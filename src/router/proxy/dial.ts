/**
 * Backend dialing: tries a route's endpoints in turn, starting at a rotating index, giving each a
 * connect deadline and falling through to the next on failure. The dialer is injected so the
 * proxy can be driven through something other than `net.connect` (e.g. a wake-on-connect shim).
 *
 * Cost per connection: no timer and no promise per dial. Deadlines are kept by the router's
 * sweep over `pending` (as handshake deadlines are), and the dial reports through one callback.
 */
import type net from 'node:net';
import { connectReusingReads } from './backend-reads.ts';
import type { Endpoint } from '../config/ir.ts';
import type { Deadline } from './sweep.ts';

/** Starts connecting to one endpoint; the socket emits 'connect' or 'error'. The caller owns the deadline. */
export type Dialer = (endpoint: Endpoint) => net.Socket;

/** Connects with TCP, half-close allowed, Nagle off (TLS records are already batched), reads into a reused buffer. */
export const tcpDialer: Dialer = (endpoint) => connectReusingReads({ host: endpoint.host, port: endpoint.port, allowHalfOpen: true, noDelay: true });

export function formatEndpoint(endpoint: Endpoint): string {
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

export interface DialFailure {
  readonly endpoint: Endpoint;
  /** The socket error's code (`ECONNREFUSED`…), or `LL_ROUTER_DIAL_TIMEOUT`. */
  readonly code: string;
}

/** What every dial shares; owned by the router. */
export interface DialContext {
  readonly dialer: Dialer;
  /** Per endpoint; the sweep closes a connect that takes longer (up to one sweep period late). */
  readonly timeoutMs: number;
  /** Dials waiting for a connect, oldest (so earliest deadline) first; swept by the router. */
  readonly pending: Set<Deadline>;
  /** Called when a dial enters `pending`, so the sweep runs while there is something to sweep. */
  readonly watch: () => void;
}

function ignoreError(): void {}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

/**
 * One connection's dial: tries every endpoint once, beginning at `start`, and calls `done` once,
 * with `socket` set to the first that connected, or unset when every endpoint failed or
 * `cancelled()` (checked before each endpoint) said the client left.
 */
export class BackendDial implements Deadline {
  readonly #context: DialContext;
  readonly #endpoints: readonly Endpoint[];
  readonly #start: number;
  readonly #cancelled: () => boolean;
  readonly #done: (dial: BackendDial) => void;
  readonly #onConnect = (): void => this.#connected();
  readonly #onError = (error: Error): void => this.#failed(errorCode(error));
  #attempt = 0;
  deadline = 0;
  socket: net.Socket | undefined;
  endpoint: Endpoint | undefined;
  readonly failures: DialFailure[] = [];

  constructor(context: DialContext, endpoints: readonly Endpoint[], start: number, cancelled: () => boolean, done: (dial: BackendDial) => void) {
    this.#context = context;
    this.#endpoints = endpoints;
    this.#start = start;
    this.#cancelled = cancelled;
    this.#done = done;
    this.#next();
  }

  /** The deadline passed: this endpoint failed with `LL_ROUTER_DIAL_TIMEOUT`. */
  expire(): void {
    this.#failed('LL_ROUTER_DIAL_TIMEOUT');
  }

  #next(): void {
    const endpoints = this.#endpoints;
    if (this.#attempt >= endpoints.length || this.#cancelled()) {
      this.socket = undefined;
      this.endpoint = undefined;
      return this.#done(this);
    }
    const endpoint = endpoints[(this.#start + this.#attempt) % endpoints.length]!;
    this.#attempt += 1;
    const context = this.#context;
    this.endpoint = endpoint;
    this.deadline = performance.now() + context.timeoutMs;
    let socket: net.Socket;
    try {
      socket = this.socket = context.dialer(endpoint);
    } catch (error) {
      // A dialer that throws (a bad option) fails this endpoint like a connect error would.
      this.failures.push({ endpoint, code: errorCode(error) });
      return this.#next();
    }
    socket.on('connect', this.#onConnect);
    socket.on('error', this.#onError);
    context.pending.add(this);
    context.watch();
  }

  #connected(): void {
    this.#stopWaiting();
    this.#done(this);
  }

  #failed(code: string): void {
    this.#stopWaiting();
    // A socket given up on may still report its connect error; nobody waits for it any more.
    this.socket!.on('error', ignoreError).destroy();
    this.failures.push({ endpoint: this.endpoint!, code });
    this.#next();
  }

  #stopWaiting(): void {
    const socket = this.socket!;
    socket.removeListener('connect', this.#onConnect);
    socket.removeListener('error', this.#onError);
    this.#context.pending.delete(this);
  }
}
