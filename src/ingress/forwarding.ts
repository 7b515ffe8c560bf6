/**
 * Forwarding headers (pure). The client address is the one the edge router reported in PROXY v2
 * (believed only from trusted edge CIDRs, see intake.ts), else the TCP peer.
 *
 * Trust stance: client-supplied `X-Forwarded-*`, `Forwarded` and `X-Real-IP` are removed unless
 * the client address itself is a trusted forwarder (an L7 proxy in a `trustedForwarders` CIDR),
 * in which case its X-Forwarded-For is extended and its -Proto/-Host kept. The edge router is L4
 * and adds no such headers, so being an edge does not make a client's headers believable. Fails
 * closed: without trusted forwarders, no client-supplied forwarding header survives.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Hop-by-hop headers (RFC 9110 §7.6.1) plus those HTTP/2 forbids; never forwarded. */
const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings']);
/** `Expect: 100-continue` is answered by the proxy itself. */
const answeredHere = new Set(['expect']);
const forwarding = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'forwarded', 'x-real-ip']);

export interface ForwardingContext {
  /** The client's address (from PROXY v2 or the socket). */
  readonly clientAddress: string;
  /** Whether `clientAddress` is in a trusted CIDR (its forwarding headers are believed). */
  readonly clientTrusted: boolean;
  /** The request's host as the client sent it (`:authority` or `Host`). */
  readonly host: string;
  readonly proto: 'https' | 'http';
}

/** Header names listed in `Connection` are hop-by-hop too. */
function connectionTokens(headers: IncomingHttpHeaders): Set<string> {
  const value = headers.connection;
  return new Set((Array.isArray(value) ? value.join(',') : (value ?? '')).split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
}

function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Headers for the upstream request: end-to-end headers, the original Host, and forwarding headers. */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, context: ForwardingContext): OutgoingHttpHeaders {
  const listed = connectionTokens(incoming);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || name.startsWith(':') || hopByHop.has(name) || listed.has(name) || forwarding.has(name) || answeredHere.has(name)) continue;
    out[name] = value;
  }
  out.host = context.host;
  const priorFor = context.clientTrusted ? joined(incoming['x-forwarded-for']) : undefined;
  out['x-forwarded-for'] = priorFor ? `${priorFor}, ${context.clientAddress}` : context.clientAddress;
  out['x-forwarded-proto'] = (context.clientTrusted && joined(incoming['x-forwarded-proto'])) || context.proto;
  out['x-forwarded-host'] = (context.clientTrusted && joined(incoming['x-forwarded-host'])) || context.host;
  return out;
}

/** Headers for the client's response: the upstream's end-to-end headers. */
export function downstreamResponseHeaders(incoming: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = connectionTokens(incoming);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || hopByHop.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}
