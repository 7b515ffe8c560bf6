/**
 * The plain-HTTP listener (port 80): routes by Host. ACME HTTP-01 challenges go to the route's
 * plain-HTTP backends (so tenants' issuers can answer them); everything else is redirected to
 * HTTPS with 308 (method and body preserved), unless the route turns the redirect off and names
 * plain backends, in which case requests are forwarded there.
 */
import http from 'node:http';
import { normalizeServerName } from '../clienthello/names.ts';
import type { Endpoint } from '../config/ir.ts';
import type { RouteTable } from '../config/route-table.ts';

const acmeChallengePrefix = '/.well-known/acme-challenge/';

export interface HttpListenerOptions {
  readonly table: () => RouteTable | undefined;
}

/** The Host header without port, in canonical form; undefined when absent or not a name. */
export function hostOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const withoutPort = header.startsWith('[') ? header : header.replace(/:\d+$/, '');
  const normalized = normalizeServerName(withoutPort);
  return normalized.kind === 'name' ? normalized.name : undefined;
}

function reply(response: http.ServerResponse, status: number, text: string, headers: http.OutgoingHttpHeaders = {}): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(`${text}\n`);
}

/** Forwards the request to the first backend that accepts it. */
function forward(request: http.IncomingMessage, response: http.ServerResponse, backends: readonly Endpoint[], index = 0): void {
  const backend = backends[index];
  if (!backend) return reply(response, 502, 'no backend reachable');
  const forwardedFor = [request.headers['x-forwarded-for'], request.socket.remoteAddress].filter(Boolean).join(', ');
  const upstream = http.request({
    host: backend.host,
    port: backend.port,
    method: request.method,
    path: request.url,
    headers: { ...request.headers, 'x-forwarded-for': forwardedFor, 'x-forwarded-proto': 'http' },
  });
  let sent = false;
  upstream.on('response', (answer) => {
    sent = true;
    response.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(response);
  });
  upstream.on('error', () => {
    if (sent) return void response.destroy();
    // Only requests without a body can be retried safely on the next backend.
    if (request.readableEnded || request.headers['content-length'] === undefined) forward(request, response, backends, index + 1);
    else reply(response, 502, 'backend failed');
  });
  request.pipe(upstream);
}

export function createHttpHandler(options: HttpListenerOptions): http.RequestListener {
  return (request, response) => {
    const host = hostOf(request.headers.host);
    if (!host) return reply(response, 400, 'missing or invalid Host header');
    const route = options.table()?.lookupHost(host);
    if (!route) return reply(response, 404, `no route for ${host}`);
    const path = request.url ?? '/';
    const plain = route.http;
    const challenge = path.startsWith(acmeChallengePrefix);
    if (plain && plain.backends.length > 0 && (challenge || !plain.redirectToHttps)) return forward(request, response, plain.backends);
    if (challenge) return reply(response, 404, `no ACME challenge responder for ${host}`);
    reply(response, 308, 'use https', { location: `https://${host}${path.startsWith('/') ? path : '/'}` });
  };
}
