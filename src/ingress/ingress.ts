/**
 * buildIngress(deps): one tenant's HTTP ingress as servers that are not yet listening (the
 * caller — `serveIngress` or, later, the operator's Deployment entry point — listens):
 *
 *   raw TCP ─ intake (PROXY v2 from trusted edges, ClientHello, SNI ∈ tenant certs)
 *           ─ TLS (SNI-selected tenant certificate, ALPN h2 | http/1.1)
 *           ─ HTTP/2 or HTTP/1.1 server ─ proxy / WebSocket splice ─ upstream (keep-alive)
 *
 * Configuration (routing table + certificate set) is built aside and swapped by `apply`, so a
 * reload never disturbs requests in flight; each request uses the state current at its start.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { Writable } from 'node:stream';
import tls from 'node:tls';
import type { Logger } from '../shared/log.ts';
import { MetricsRegistry, prometheusContentType } from '../shared/metrics.ts';
import { CertificateSet } from './certificates.ts';
import { createIntake, isTrusted, trustedList } from './intake.ts';
import { createIngressMetrics, type IngressMetrics } from './metrics.ts';
import { createRequestHandler, type AccessLogEntry, type ClientOrigin, type ProxyState } from './proxy.ts';
import { IngressTable } from './table.ts';
import { createUpgradeHandler } from './websocket.ts';

export interface IngressTimeouts {
  /** PROXY header + ClientHello + TLS handshake. */
  readonly handshakeMs: number;
  /** Receiving one request's headers (HTTP/1.1). */
  readonly headersMs: number;
  /** A client connection with no byte in either direction is closed (WebSockets included). */
  readonly idleMs: number;
  /** Connecting to, and silence from, the upstream before 504. */
  readonly upstreamMs: number;
}

export interface IngressLimits {
  /** Request bodies above this are refused with 413. */
  readonly maxBodyBytes: number;
  /** Upstream connections per backend (kept alive and reused). */
  readonly maxUpstreamSockets: number;
}

export const defaultIngressTimeouts: IngressTimeouts = { handshakeMs: 10_000, headersMs: 30_000, idleMs: 300_000, upstreamMs: 60_000 };
export const defaultIngressLimits: IngressLimits = { maxBodyBytes: 10 * 1024 * 1024, maxUpstreamSockets: 256 };

export interface IngressDependencies {
  readonly tenant: string;
  readonly logger: Logger;
  /** One JSON line per request; omitted: no access log. */
  readonly accessLog?: Writable;
  /** Edge routers (CIDRs) that must send PROXY v2 and whose reported client address is believed. */
  readonly trustedProxies?: readonly string[];
  /**
   * Clients (CIDRs, by the address the edge reported) whose own X-Forwarded-* headers are kept
   * and extended, e.g. an L7 load balancer in front of the edge. Default none: always replaced.
   */
  readonly trustedForwarders?: readonly string[];
  readonly timeouts?: Partial<IngressTimeouts>;
  readonly limits?: Partial<IngressLimits>;
  readonly metrics?: MetricsRegistry;
  readonly now?: () => Date;
}

export interface IngressConfiguration {
  readonly table: IngressTable;
  readonly certificates: CertificateSet;
}

export interface Ingress {
  /** Accepts raw TCP from edge routers (or clients): listen on it. */
  readonly server: net.Server;
  /** `/healthz` (200 once configured, 503 before and while draining) and `/metrics`. */
  readonly statusServer: http.Server;
  readonly metrics: IngressMetrics;
  /** Swaps in a new table and certificate set (already validated). */
  apply(configuration: IngressConfiguration): void;
  readonly generation: number;
  /** Stops accepting, lets open exchanges finish for up to `graceMs`, then closes the rest. */
  drain(graceMs: number): Promise<void>;
}

const emptyState: ProxyState = { table: new IngressTable([]), certificates: new CertificateSet([]) };

function originKey(socket: net.Socket): string {
  return `${socket.remoteAddress ?? ''}|${socket.remotePort ?? 0}`;
}

function statusHandler(metrics: IngressMetrics, ready: () => boolean): http.RequestListener {
  return (req, res) => {
    if (req.url === '/healthz') {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ready\n');
    } else if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': prometheusContentType }).end(metrics.registry.render());
    } else {
      res.writeHead(404).end();
    }
  };
}

export function buildIngress(deps: IngressDependencies): Ingress {
  const timeouts = { ...defaultIngressTimeouts, ...deps.timeouts };
  const limits = { ...defaultIngressLimits, ...deps.limits };
  const metrics = createIngressMetrics(deps.metrics ?? new MetricsRegistry());
  const now = deps.now ?? (() => new Date());
  const trusted = trustedList(deps.trustedProxies ?? []);
  const forwarders = trustedList(deps.trustedForwarders ?? []);
  const logger = deps.logger.child({ tenant: deps.tenant });
  let state: ProxyState | undefined;
  let generation = 0;
  let draining = false;
  const current = (): ProxyState => state ?? emptyState;
  const origins = new Map<string, ClientOrigin>();
  const sockets = new Set<net.Socket>();

  const agent = new http.Agent({ keepAlive: true, maxSockets: limits.maxUpstreamSockets, maxFreeSockets: limits.maxUpstreamSockets, scheduling: 'lifo' });
  const accessLog = deps.accessLog;
  const context = {
    tenant: deps.tenant,
    state: current,
    origin: (socket: net.Socket): ClientOrigin => origins.get(originKey(socket)) ?? { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, trusted: isTrusted(forwarders, socket.remoteAddress ?? '') },
    limits,
    upstreamTimeoutMs: timeouts.upstreamMs,
    agent,
    metrics,
    accessLog: accessLog ? (entry: AccessLogEntry) => void accessLog.write(`${JSON.stringify(entry)}\n`) : () => {},
    now,
  };
  const onRequest = createRequestHandler(context);

  // Node checks header deadlines every `connectionsCheckingInterval` (default 30 s): keep it finer than the deadline.
  const http1 = http.createServer({ headersTimeout: timeouts.headersMs, requestTimeout: 0, keepAliveTimeout: timeouts.idleMs, connectionsCheckingInterval: Math.min(1000, timeouts.headersMs) });
  http1.on('request', onRequest);
  // `Expect: 100-continue` is answered by the proxy once the request is routed (proxy.ts).
  http1.on('checkContinue', onRequest);
  http1.on('upgrade', createUpgradeHandler(context));
  // http1 never listens (it gets sockets from the TLS server), but Node starts the connection
  // tracking that enforces `headersTimeout` on 'listening'; start it the same way.
  http1.emit('listening');
  const h2 = http2.createServer({});
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('request', onRequest);
  h2.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  h2.on('sessionError', () => {});

  const tlsServer = tls.createServer({
    ALPNProtocols: ['h2', 'http/1.1'],
    minVersion: 'TLSv1.2',
    handshakeTimeout: timeouts.handshakeMs,
    SNICallback: (name, callback) => {
      const certificate = current().certificates.lookup(name.toLowerCase());
      if (certificate) callback(null, certificate.context);
      else callback(new Error(`no certificate for ${name}`));
    },
  });
  tlsServer.on('secureConnection', (socket: tls.TLSSocket) => {
    if (socket.alpnProtocol === 'h2') h2.emit('connection', socket);
    else http1.emit('connection', socket);
  });
  tlsServer.on('tlsClientError', (_error, socket) => socket.destroy());

  const intake = createIntake({
    trusted,
    forwarders,
    deadlineMs: timeouts.handshakeMs,
    certificates: () => current().certificates,
    refuse: (reason) => metrics.refusals.inc({ reason }),
    admit: (socket, origin) => {
      origins.set(originKey(socket), origin);
      tlsServer.emit('connection', socket);
    },
  });

  const rawServer = net.createServer();
  rawServer.on('connection', (socket: net.Socket) => {
    if (draining) return void socket.destroy();
    const key = originKey(socket);
    sockets.add(socket);
    metrics.connections.inc();
    metrics.connectionsOpen.labels().inc();
    socket.setTimeout(timeouts.idleMs, () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      origins.delete(key);
      metrics.connectionsOpen.labels().dec();
    });
    intake(socket);
  });

  const statusServer = http.createServer(statusHandler(metrics, () => state !== undefined && !draining));

  return {
    server: rawServer,
    statusServer,
    metrics,
    get generation() {
      return generation;
    },
    apply(configuration) {
      state = { table: configuration.table, certificates: configuration.certificates };
      generation += 1;
      metrics.tableGeneration.set({}, generation);
      logger.info('ingress configuration applied', { generation, hosts: configuration.table.hosts, certificates: configuration.certificates.certificates.map((c) => c.names) });
    },
    async drain(graceMs) {
      draining = true;
      const closed = new Promise<void>((resolve) => (rawServer.listening ? rawServer.close(() => resolve()) : resolve()));
      http1.closeIdleConnections();
      http1.close(); // stops the header-deadline checks
      // GOAWAY: HTTP/2 clients finish their open streams and open no new ones here.
      for (const session of sessions) session.close();
      const deadline = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(deadline);
      agent.destroy();
      if (statusServer.listening) await new Promise<void>((resolve) => statusServer.close(() => resolve()));
    },
  };
}
