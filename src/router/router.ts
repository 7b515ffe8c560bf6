/**
 * buildRouter(deps): assembles the edge router's servers around one swappable route table.
 * It never listens; the caller (the CLI, a test) decides addresses. Providers feed snapshots to
 * `applySnapshot`, which translates aside and swaps one reference only when the result is valid.
 */
import http from 'node:http';
import net from 'node:net';
import type { Writable } from 'node:stream';
import { silentLogger, type Logger } from '../shared/log.ts';
import { MetricsRegistry, prometheusContentType } from '../shared/metrics.ts';
import { formatIssues, type RoutingSnapshot } from './config/ir.ts';
import type { Route, RouteTable } from './config/route-table.ts';
import { translate, type TranslateResult } from './config/translate.ts';
import { handleConnection, type ConnectionEnvironment, type ProxyTimeouts } from './proxy/connection.ts';
import { tcpDialer, type Dialer } from './proxy/dial.ts';
import { createHttpHandler } from './proxy/http-listener.ts';
import { createAccessLog } from './proxy/access-log.ts';
import { BoundRouterMetrics, createRouterMetrics } from './proxy/router-metrics.ts';
import type { Splice } from './proxy/splice.ts';
import { expireOverdue, PeriodicSweep, type Deadline } from './proxy/sweep.ts';
import { TenantAdmission } from './proxy/tenant-admission.ts';

export interface RouterDependencies {
  readonly logger?: Logger;
  /** Receives one JSON line per connection; omit to disable the access log. */
  readonly accessLog?: Writable;
  readonly metrics?: MetricsRegistry;
  readonly dialer?: Dialer;
  /** Monotonic milliseconds, for rate limits. */
  readonly now?: () => number;
  readonly timeouts?: Partial<ProxyTimeouts>;
  /** Connections allowed to sit in their handshake at once; the oldest is closed beyond it. */
  readonly maxConnectionsInHandshake?: number;
  /** CIDRs of load balancers that must send a PROXY v2 header first (e.g. `10.0.0.0/8`). */
  readonly trustedProxies?: readonly string[];
  readonly maxHelloBytes?: number;
}

export interface Router {
  /** TLS from the first byte; routes by SNI. */
  readonly tlsServer: net.Server;
  /** PostgreSQL: SSLRequest or direct TLS; routes by SNI. */
  readonly postgresServer: net.Server;
  /** Plain HTTP: 308 to HTTPS, ACME HTTP-01 passthrough, optional plain backends. */
  readonly httpServer: http.Server;
  /** `/metrics` (Prometheus) and `/healthz`. */
  readonly metricsServer: http.Server;
  readonly metrics: MetricsRegistry;
  /** The table in use, or undefined before the first valid snapshot. */
  readonly table: RouteTable | undefined;
  /** Translates and, if valid, swaps the table; the old table keeps serving otherwise. */
  applySnapshot(snapshot: RoutingSnapshot): TranslateResult;
  /** Stops accepting, lets open connections finish for up to `graceMs`, then closes the rest. */
  drain(graceMs: number): Promise<void>;
}

export const defaultTimeouts: ProxyTimeouts = { handshakeMs: 10_000, dialMs: 5_000, idleMs: 3_600_000 };

/** Without trusted proxies the peer address is never read (it costs a syscall per connection). */
function trustedProxyCheck(cidrs: readonly string[]): (socket: net.Socket) => boolean {
  if (cidrs.length === 0) return () => false;
  const list = new net.BlockList();
  for (const cidr of cidrs) {
    const [address = '', prefix] = cidr.split('/');
    const family = net.isIP(address) === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(address, Number(prefix ?? (family === 'ipv6' ? 128 : 32)), family);
  }
  return (socket) => {
    const address = socket.remoteAddress;
    if (address === undefined) return false;
    const v4 = address.startsWith('::ffff:') && net.isIP(address.slice(7)) === 4 ? address.slice(7) : address;
    return list.check(v4, net.isIP(v4) === 6 ? 'ipv6' : 'ipv4');
  };
}

export function buildRouter(deps: RouterDependencies = {}): Router {
  const logger = deps.logger ?? silentLogger;
  const metrics = createRouterMetrics(deps.metrics ?? new MetricsRegistry());
  let table: RouteTable | undefined;
  let generation = 0;
  let draining = false;
  const spliced = new Set<Splice>();
  const rotation = new WeakMap<Route, number>();
  const accessLog = deps.accessLog ? createAccessLog(deps.accessLog) : undefined;
  const timeouts = { ...defaultTimeouts, ...deps.timeouts };
  const inHandshake: ConnectionEnvironment['inHandshake'] = new Map();
  const dialing = new Set<Deadline>();
  // One timer each for all handshake deadlines, all dial deadlines and all idle splices, each running only while it has work.
  // Deadlines fire up to one period late: an eighth of the timeout (handshakes and dials: at most 1 s), at least 10 ms.
  const handshakeSweep = new PeriodicSweep(Math.min(1000, Math.max(10, timeouts.handshakeMs / 8)), () => {
    expireOverdue(inHandshake.values(), performance.now());
    return inHandshake.size > 0;
  });
  const dialSweep = new PeriodicSweep(Math.min(1000, Math.max(10, timeouts.dialMs / 8)), () => {
    expireOverdue(dialing, performance.now());
    return dialing.size > 0;
  });
  const idlePeriod = Math.max(10, timeouts.idleMs / 8);
  const quietSweeps = Math.ceil(timeouts.idleMs / idlePeriod);
  const idleSweep = new PeriodicSweep(idlePeriod, () => {
    for (const joined of spliced) joined.sweepIdle(quietSweeps);
    return spliced.size > 0;
  });
  const env: ConnectionEnvironment = {
    table: () => table,
    metrics: new BoundRouterMetrics(metrics),
    admission: new TenantAdmission(deps.now),
    dial: { dialer: deps.dialer ?? tcpDialer, timeoutMs: timeouts.dialMs, pending: dialing, watch: () => dialSweep.watch() },
    timeouts,
    maxHelloBytes: deps.maxHelloBytes,
    isTrustedProxy: trustedProxyCheck(deps.trustedProxies ?? []),
    accessLog: accessLog?.write,
    inHandshake,
    maxInHandshake: deps.maxConnectionsInHandshake ?? 10_000,
    spliced,
    nextBackendIndex: (route) => {
      const next = rotation.get(route) ?? 0;
      rotation.set(route, next + 1);
      return next;
    },
    watchHandshakes: () => handshakeSweep.watch(),
    watchSplices: () => idleSweep.watch(),
  };

  const tlsServer = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => handleConnection(env, 'tls', socket));
  const postgresServer = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => handleConnection(env, 'postgres', socket));
  const httpServer = http.createServer(createHttpHandler({ table: () => table }));
  const metricsServer = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      response.writeHead(200, { 'content-type': prometheusContentType }).end(metrics.registry.render());
    } else if (path === '/healthz') {
      const healthy = table !== undefined && !draining;
      response.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' }).end(healthy ? 'ok\n' : draining ? 'draining\n' : 'no route table\n');
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });

  return {
    tlsServer,
    postgresServer,
    httpServer,
    metricsServer,
    metrics: metrics.registry,
    get table() {
      return table;
    },
    applySnapshot(snapshot) {
      const result = translate(snapshot, generation + 1);
      if (!result.ok) {
        metrics.tableReloads.inc({ result: 'invalid' });
        logger.error('route table rejected; keeping the previous one', { code: 'LL_ROUTER_ROUTES_INVALID', issues: formatIssues(result.issues), generation });
        return result;
      }
      generation += 1;
      table = result.table;
      metrics.tableGeneration.set({}, generation);
      metrics.tableReloads.inc({ result: 'applied' });
      logger.info('route table applied', { generation, routes: snapshot.routes.length });
      return result;
    },
    async drain(graceMs) {
      draining = true;
      const closing = [tlsServer, postgresServer, httpServer].filter((s) => s.listening).map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      httpServer.closeIdleConnections();
      // Connections still in their handshake may finish it (their deadline bounds the wait).
      const deadline = setTimeout(() => {
        for (const pending of [...inHandshake.values()]) pending.reject('draining');
        for (const joined of spliced) joined.abort();
        httpServer.closeAllConnections();
      }, graceMs);
      await Promise.all(closing);
      clearTimeout(deadline);
      accessLog?.flush();
      if (metricsServer.listening) await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
    },
  };
}
