/**
 * WebSocket pass-through: an HTTP/1.1 `Upgrade: websocket` request is checked like any request
 * (decision.ts), replayed to the backend with forwarding headers on a fresh TCP connection (never
 * a pooled one), and from then on both sockets are spliced byte for byte. The backend's handshake
 * answer (101 or a refusal) reaches the client unchanged.
 */
import { STATUS_CODES, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { decideRequest, type RequestDecision } from './decision.ts';
import { upstreamRequestHeaders } from './forwarding.ts';
import { authorityOf, type ProxyContext } from './proxy.ts';

function rawAnswer(socket: Duplex, status: number, body: string): void {
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

function requestHead(method: string, target: string, headers: OutgoingHttpHeaders): string {
  const lines = [`${method} ${target} HTTP/1.1`];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${String(item)}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** The handler for the HTTP/1.1 server's `upgrade` event. */
export function createUpgradeHandler(ctx: ProxyContext): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    const started = ctx.now().getTime();
    const client = socket as tls.TLSSocket;
    const origin = ctx.origin(client);
    socket.on('error', () => socket.destroy());
    const { table, certificates } = ctx.state();
    const serverName = typeof client.servername === 'string' ? client.servername : undefined;
    let decision: RequestDecision = decideRequest({ authority: authorityOf(req.headers), serverName, target: req.url ?? '/', contentLength: undefined }, table, certificates, ctx.limits);
    if (decision.kind === 'route' && req.headers.upgrade?.toLowerCase() !== 'websocket') {
      decision = { kind: 'refuse', status: 400, reason: 'bad_host', message: 'only WebSocket upgrades are proxied\n', host: decision.match.host };
    }
    let status = 0;
    let bytesFromClient = 0;
    let bytesToClient = 0;
    const log = (reason: string | undefined): void => {
      const route = decision.kind === 'route' ? decision.match.route : undefined;
      ctx.accessLog({
        time: new Date(started).toISOString(), tenant: ctx.tenant, client: `${origin.address}:${origin.port}`, protocol: 'HTTP/1.1 upgrade', method: req.method ?? '',
        host: decision.kind === 'route' ? decision.host : undefined, path: (req.url ?? '').split('?', 1)[0] ?? '', status,
        route: route?.source, backend: route ? `${route.backend.host}:${route.backend.port}` : undefined, bytesFromClient, bytesToClient, durationMs: ctx.now().getTime() - started, reason,
      });
    };
    if (decision.kind === 'refuse') {
      ctx.metrics.refusals.inc({ reason: decision.reason });
      status = decision.status;
      rawAnswer(socket, decision.status, decision.message);
      return log(decision.reason);
    }
    const { backend } = decision.match.route;
    const backendName = `${backend.host}:${backend.port}`;
    const headers = upstreamRequestHeaders(req.headers, { clientAddress: origin.address, clientTrusted: origin.trusted, host: authorityOf(req.headers) ?? decision.host, proto: 'https' });
    headers.connection = 'Upgrade';
    headers.upgrade = req.headers.upgrade;
    const upstream = net.connect({ host: backend.host, port: backend.port });
    upstream.setTimeout(ctx.upstreamTimeoutMs);
    let spliced = false;
    upstream.once('timeout', () => {
      if (spliced) return;
      ctx.metrics.upstreamErrors.inc({ backend: backendName, reason: 'timeout' });
      upstream.destroy();
      status = 504;
      rawAnswer(socket, 504, 'upstream timed out\n');
      log('timeout');
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (spliced) return void socket.destroy();
      ctx.metrics.upstreamErrors.inc({ backend: backendName, reason: error.code ?? 'error' });
      status = 502;
      rawAnswer(socket, 502, 'upstream unavailable\n');
      log(error.code ?? 'error');
    });
    upstream.once('connect', () => {
      spliced = true;
      upstream.setTimeout(0);
      ctx.metrics.websocketsOpen.labels().inc();
      upstream.write(requestHead(req.method ?? 'GET', req.url ?? '/', headers));
      if (head.length > 0) upstream.write(head);
      upstream.once('data', (chunk: Buffer) => {
        status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(chunk.toString('latin1', 0, 16))?.[1] ?? 0);
      });
      upstream.on('data', (chunk: Buffer) => (bytesToClient += chunk.length));
      socket.on('data', (chunk: Buffer) => (bytesFromClient += chunk.length));
      upstream.pipe(socket);
      socket.pipe(upstream);
      socket.on('close', () => upstream.destroy());
      upstream.on('close', () => {
        socket.destroy();
        ctx.metrics.websocketsOpen.labels().dec();
        log(undefined);
      });
    });
  };
}
