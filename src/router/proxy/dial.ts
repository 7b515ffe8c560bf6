/**
 * Backend dialing: tries a route's endpoints in turn, starting at a rotating index, giving each a
 * connect deadline and falling through to the next on failure. The dialer is injected so the
 * proxy can be driven through something other than `net.connect` (e.g. a wake-on-connect shim).
 */
import type net from 'node:net';
import { connectReusingReads } from './backend-reads.ts';
import { LandlordError } from '../../shared/errors.ts';
import type { Endpoint } from '../config/ir.ts';

export type Dialer = (endpoint: Endpoint, timeoutMs: number) => Promise<net.Socket>;

/** Connects with TCP, half-close allowed, Nagle off (TLS records are already batched), reads into a reused buffer. */
export const tcpDialer: Dialer = (endpoint, timeoutMs) =>
  new Promise((resolve, reject) => {
    const socket = connectReusingReads({ host: endpoint.host, port: endpoint.port, allowHalfOpen: true, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new LandlordError('LL_ROUTER_DIAL_TIMEOUT', `no connection to ${formatEndpoint(endpoint)} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onError = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      resolve(socket);
    });
    socket.once('error', onError);
  });

export function formatEndpoint(endpoint: Endpoint): string {
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

export interface DialFailure {
  readonly endpoint: Endpoint;
  readonly code: string;
}

export interface DialResult {
  readonly socket: net.Socket | undefined;
  readonly endpoint: Endpoint | undefined;
  readonly failures: readonly DialFailure[];
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

/** Tries every endpoint once, beginning at `start`; never rejects. */
export async function dialFirstAvailable(dialer: Dialer, endpoints: readonly Endpoint[], start: number, timeoutMs: number, cancelled: () => boolean): Promise<DialResult> {
  const failures: DialFailure[] = [];
  for (let i = 0; i < endpoints.length && !cancelled(); i += 1) {
    const endpoint = endpoints[(start + i) % endpoints.length]!;
    try {
      return { socket: await dialer(endpoint, timeoutMs), endpoint, failures };
    } catch (error) {
      failures.push({ endpoint, code: errorCode(error) });
    }
  }
  return { socket: undefined, endpoint: undefined, failures };
}
