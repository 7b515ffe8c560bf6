/**
 * Whether and where a request goes (pure): shared by plain requests and WebSocket upgrades.
 *
 * Isolation stance, in order:
 * 1. the Host (`:authority`) must be a DNS name, else 400;
 * 2. it must be covered by the certificate the connection's SNI selected (a client may reuse a
 *    connection for another name only where that certificate is valid for it, as HTTP/2
 *    connection coalescing allows), else 421 Misdirected Request;
 * 3. it must be one of this tenant's routed hosts, else 421;
 * 4. a path must match, else 404; a declared body over the limit is 413.
 */
import { certificateCovers, type CertificateSet } from './certificates.ts';
import type { RefusalReason } from './metrics.ts';
import { normalizeHost, type IngressTable, type RouteMatch } from './table.ts';

export interface RequestFacts {
  /** `:authority` or `Host`, as sent. */
  readonly authority: string | undefined;
  /** The SNI of the TLS connection (normalized by the TLS layer). */
  readonly serverName: string | undefined;
  /** The request target (path and query). */
  readonly target: string;
  /** Declared `Content-Length`, if any. */
  readonly contentLength: number | undefined;
}

export interface RequestLimits {
  readonly maxBodyBytes: number;
}

export type RequestDecision =
  | { readonly kind: 'route'; readonly host: string; readonly match: RouteMatch }
  | { readonly kind: 'refuse'; readonly status: 400 | 404 | 413 | 421; readonly reason: RefusalReason; readonly message: string; readonly host: string | undefined };

export function decideRequest(facts: RequestFacts, table: IngressTable, certificates: CertificateSet, limits: RequestLimits): RequestDecision {
  const host = normalizeHost(facts.authority);
  if (!host) return { kind: 'refuse', status: 400, reason: 'bad_host', message: 'the Host header is missing or not a DNS name\n', host: undefined };
  const certificate = facts.serverName ? certificates.lookup(facts.serverName) : undefined;
  if (!certificate || !certificateCovers(certificate, host)) {
    return { kind: 'refuse', status: 421, reason: 'misdirected', message: `${host} is not served on a connection for ${facts.serverName ?? 'no server name'}; connect with SNI ${host}\n`, host: undefined };
  }
  if (table.hostKey(host) === undefined) return { kind: 'refuse', status: 421, reason: 'misdirected', message: `${host} is not served here\n`, host: undefined };
  const path = facts.target.split('?', 1)[0] ?? '/';
  const match = table.match(host, path.startsWith('/') ? path : `/${path}`);
  if (!match) return { kind: 'refuse', status: 404, reason: 'no_route', message: `no route for ${host}${path}\n`, host: table.hostKey(host) };
  if (facts.contentLength !== undefined && facts.contentLength > limits.maxBodyBytes) return tooLarge(limits.maxBodyBytes, match.host);
  return { kind: 'route', host, match };
}

export function tooLarge(maxBodyBytes: number, host: string | undefined): RequestDecision & { kind: 'refuse' } {
  return { kind: 'refuse', status: 413, reason: 'too_large', message: `request body larger than the limit of ${maxBodyBytes} bytes\n`, host };
}
