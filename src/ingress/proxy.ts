/**
 * The request path of the reverse proxy, for HTTP/1.1 and HTTP/2 alike: decide (decision.ts),
 * forward over a keep-alive agent, stream both bodies, and count. Bodies are never buffered: the
 * request body is streamed and counted, and exceeding the limit mid-stream aborts the upstream
 * request and answers 413 (when no response has started).
 */
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type http2 from 'node:http2';
import type net from 'node:net';
import type tls from 'node:tls';
import type { CertificateSet } from './certificates.ts';
import { decideRequest, tooLarge, type RequestDecision, type RequestLimits } from './decision.ts';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './forwarding.ts';
import type { IngressMetrics } from './metrics.ts';
import type { IngressTable } from './table.ts';

export interface ProxyState {
  readonly table: IngressTable;
  readonly certificates: CertificateSet;
}

export interface ClientOrigin {
  readonly address: string;
  readonly port: number;
  /** The address is in a trusted CIDR: its forwarding headers are believed. */
  readonly trusted: boolean;
}

export interface AccessLogEntry {
  readonly time: string;
  readonly tenant: string;
  readonly client: string;
  readonly protocol: string;
  readonly method: string;
  readonly host: string | undefined;
  readonly path: string;
  readonly status: number;
  readonly route: string | undefined;
  readonly backend: string | undefined;
  readonly bytesFromClient: number;
  readonly bytesToClient: number;
  readonly durationMs: number;
  /** Set when the ingress answered itself: a refusal reason or an upstream failure. */
  readonly reason: string | undefined;
}

export interface ProxyContext {
  readonly tenant: string;
  state(): ProxyState;
  origin(socket: net.Socket): ClientOrigin;
  readonly limits: RequestLimits;
  readonly upstreamTimeoutMs: number;
  readonly agent: http.Agent;
  readonly metrics: IngressMetrics;
  accessLog(entry: AccessLogEntry): void;
  now(): Date;
}

type ClientRequest = http.IncomingMessage | http2.Http2ServerRequest;
/** The part of the HTTP/1.1 and HTTP/2 compatibility responses the proxy uses. */
interface ClientResponse {
  readonly headersSent: boolean;
  writeContinue(): void;
  writeHead(status: number, headers?: OutgoingHttpHeaders): unknown;
  write(chunk: Buffer): boolean;
  end(body?: string): unknown;
  destroy(error?: Error): unknown;
  on(event: 'close' | 'drain', listener: () => void): unknown;
  once(event: 'drain', listener: () => void): unknown;
}

export function authorityOf(headers: IncomingHttpHeaders): string | undefined {
  const authority = headers[':authority'];
  return typeof authority === 'string' ? authority : headers.host;
}

export function declaredLength(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['content-length'];
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** A plain-text answer from the ingress itself (a started response is aborted instead). */
export function answer(res: ClientResponse, status: number, body: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

interface Exchange {
  readonly started: number;
  readonly req: ClientRequest;
  readonly res: ClientResponse;
  decision: RequestDecision | undefined;
  status: number;
  reason: string | undefined;
  bytesFromClient: number;
  bytesToClient: number;
}

function finish(ctx: ProxyContext, exchange: Exchange, origin: ClientOrigin): void {
  const { decision, req } = exchange;
  const durationMs = ctx.now().getTime() - exchange.started;
  const routedHost = decision?.kind === 'route' ? decision.match.host : decision?.host;
  if (routedHost !== undefined) {
    ctx.metrics.requests.inc({ host: routedHost, status_class: `${Math.floor(exchange.status / 100)}xx` });
    ctx.metrics.duration.observe({ host: routedHost }, durationMs / 1000);
  }
  const route = decision?.kind === 'route' ? decision.match.route : undefined;
  ctx.accessLog({
    time: new Date(exchange.started).toISOString(),
    tenant: ctx.tenant,
    client: `${origin.address}:${origin.port}`,
    protocol: `HTTP/${req.httpVersion}`,
    method: req.method ?? '',
    host: decision?.kind === 'route' ? decision.host : undefined,
    path: (req.url ?? '').split('?', 1)[0] ?? '',
    status: exchange.status,
    route: route?.source,
    backend: route ? `${route.backend.host}:${route.backend.port}` : undefined,
    bytesFromClient: exchange.bytesFromClient,
    bytesToClient: exchange.bytesToClient,
    durationMs,
    reason: exchange.reason,
  });
}

/**
 * How long an HTTP/1.1 connection keeps reading (and discarding) the body of a refused request.
 * Closing while the client still sends would make the kernel reset the connection, and a reset
 * destroys the 413 before the client (or the edge relaying it) reads it — nginx's lingering close.
 */
const refusedBodyLingerMs = 5000;

function refuse(ctx: ProxyContext, exchange: Exchange, decision: RequestDecision & { kind: 'refuse' }): void {
  ctx.metrics.refusals.inc({ reason: decision.reason });
  exchange.status = decision.status;
  exchange.reason = decision.reason;
  const { req } = exchange;
  answer(exchange.res, decision.status, decision.message);
  if (decision.status !== 413) return;
  req.resume();
  if (req.httpVersionMajor !== 1) return;
  const socket = req.socket;
  const linger = setTimeout(() => {
    if (!req.complete) socket.destroy();
  }, refusedBodyLingerMs);
  linger.unref();
  req.once('end', () => clearTimeout(linger));
}

function upstreamFailure(ctx: ProxyContext, exchange: Exchange, backend: string, reason: string, status: 502 | 504): void {
  ctx.metrics.upstreamErrors.inc({ backend, reason });
  exchange.reason = reason;
  exchange.status = status;
  answer(exchange.res, status, status === 504 ? 'upstream timed out\n' : 'upstream unavailable\n');
}

function forward(ctx: ProxyContext, exchange: Exchange, decision: RequestDecision & { kind: 'route' }, origin: ClientOrigin): void {
  const { req, res } = exchange;
  const { backend } = decision.match.route;
  const backendName = `${backend.host}:${backend.port}`;
  const headers = upstreamRequestHeaders(req.headers, { clientAddress: origin.address, clientTrusted: origin.trusted, host: authorityOf(req.headers) ?? decision.host, proto: 'https' });
  // The client waits for this before sending the body; refused requests never get it (no upload).
  if (req.headers.expect?.toLowerCase() === '100-continue') res.writeContinue();
  const upstream = http.request({ agent: ctx.agent, host: backend.host, port: backend.port, method: req.method, path: req.url, headers, timeout: ctx.upstreamTimeoutMs });
  let failed = false;
  let complete = false;
  const fail = (reason: string, status: 502 | 504): void => {
    if (failed) return;
    failed = true;
    upstream.destroy();
    upstreamFailure(ctx, exchange, backendName, reason, status);
  };
  upstream.on('timeout', () => fail('timeout', 504));
  upstream.on('error', (error: NodeJS.ErrnoException) => fail(error.code ?? 'error', 502));
  upstream.on('response', (response) => {
    exchange.status = response.statusCode ?? 502;
    res.writeHead(exchange.status, downstreamResponseHeaders(response.headers));
    response.on('data', (chunk: Buffer) => {
      exchange.bytesToClient += chunk.length;
      if (!res.write(chunk)) {
        response.pause();
        res.once('drain', () => response.resume());
      }
    });
    response.on('end', () => {
      complete = true;
      res.end();
    });
    response.on('error', () => res.destroy());
  });
  req.on('data', (chunk: Buffer) => {
    if (failed) return;
    exchange.bytesFromClient += chunk.length;
    if (exchange.bytesFromClient > ctx.limits.maxBodyBytes) {
      failed = true;
      upstream.destroy();
      refuse(ctx, exchange, tooLarge(ctx.limits.maxBodyBytes, decision.match.host));
      return;
    }
    if (!upstream.write(chunk)) {
      req.pause();
      upstream.once('drain', () => req.resume());
    }
  });
  req.on('end', () => {
    if (!failed) upstream.end();
  });
  // A client that goes away mid-exchange takes its upstream request with it.
  res.on('close', () => {
    if (!complete) upstream.destroy();
  });
}

/** The handler for both the HTTP/1.1 server's and the HTTP/2 server's `request` events. */
export function createRequestHandler(ctx: ProxyContext): (req: ClientRequest, res: ClientResponse) => void {
  return (req, res) => {
    const socket = req.socket as tls.TLSSocket;
    const origin = ctx.origin(socket);
    const exchange: Exchange = { started: ctx.now().getTime(), req, res, decision: undefined, status: 0, reason: undefined, bytesFromClient: 0, bytesToClient: 0 };
    res.on('close', () => finish(ctx, exchange, origin));
    const { table, certificates } = ctx.state();
    const serverName = typeof socket.servername === 'string' ? socket.servername : undefined;
    const decision = decideRequest({ authority: authorityOf(req.headers), serverName, target: req.url ?? '/', contentLength: declaredLength(req.headers) }, table, certificates, ctx.limits);
    exchange.decision = decision;
    if (decision.kind === 'refuse') return refuse(ctx, exchange, decision);
    forward(ctx, exchange, decision, origin);
  };
}
