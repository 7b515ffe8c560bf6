/**
 * One client connection from accept to close: read the preamble under a deadline, route it with
 * the table current at that moment, admit it against its tenant's limits, dial a backend, replay
 * what the client sent, splice. The route chosen is kept for the connection's life, so reloads
 * never touch established connections. Counts metrics on the way and writes one access-log line.
 */
import type net from 'node:net';
import { encodeProxyV2, type SocketEndpoint } from '../../shared/proxy-protocol.ts';
import type { RouteProtocol } from '../config/ir.ts';
import type { Route, RouteTable } from '../config/route-table.ts';
import { dialFirstAvailable, formatEndpoint, type Dialer } from './dial.ts';
import type { ClientHello } from '../clienthello/parser.ts';
import { createPreambleParser, sslRequest, type Preamble } from './preamble.ts';
import type { RouterMetrics } from './router-metrics.ts';
import { splice, type Splice } from './splice.ts';
import type { TenantAdmission } from './tenant-admission.ts';

export interface ProxyTimeouts {
  /** From accept to a routable client hello (slowloris defence). */
  readonly handshakeMs: number;
  /** Per backend endpoint. */
  readonly dialMs: number;
  /** No bytes either way for this long closes the connection. */
  readonly idleMs: number;
}

/** What every connection shares; owned by the router. */
export interface ConnectionEnvironment {
  readonly table: () => RouteTable | undefined;
  readonly metrics: RouterMetrics;
  readonly admission: TenantAdmission;
  readonly dialer: Dialer;
  readonly timeouts: ProxyTimeouts;
  readonly maxHelloBytes: number | undefined;
  readonly isTrustedProxy: (address: string | undefined) => boolean;
  readonly accessLog: ((entry: AccessLogEntry) => void) | undefined;
  /** Connections still in their preamble, oldest first; the router evicts from the front. */
  readonly inHandshake: Map<net.Socket, (reason: string) => void>;
  readonly maxInHandshake: number;
  readonly spliced: Set<Splice>;
  readonly nextBackendIndex: (route: Route) => number;
}

export interface AccessLogEntry {
  readonly time: string;
  readonly listener: RouteProtocol;
  readonly client: string;
  readonly sni: string | undefined;
  readonly alpn: readonly string[];
  readonly tenant: string | undefined;
  readonly route: string | undefined;
  readonly backend: string | undefined;
  readonly bytesFromClient: number;
  readonly bytesToClient: number;
  readonly durationMs: number;
  readonly closeReason: string;
}

const alertFor: Record<string, number> = {
  no_route: 112, // unrecognized_name
  no_sni: 112,
  malformed: 50, // decode_error
  not_client_hello: 50,
  too_large: 50,
  invalid_server_name: 47, // illegal_parameter
  handshake_timeout: 40, // handshake_failure
  tenant_max_connections: 40,
  tenant_rate_limited: 40,
  no_route_table: 80, // internal_error
  dial_failed: 80,
  backend_refused_tls: 80,
};

function tlsAlert(description: number): Buffer {
  return Buffer.from([21, 3, 3, 0, 2, 2, description]);
}

function peerOf(socket: net.Socket): SocketEndpoint | undefined {
  return socket.remoteAddress === undefined || socket.remotePort === undefined ? undefined : { address: socket.remoteAddress, port: socket.remotePort };
}

/** Mutable record of one connection, turned into the access-log line at close. */
interface Session {
  readonly listener: RouteProtocol;
  readonly socket: net.Socket;
  readonly started: number;
  /** Our peer, or the client a trusted load balancer reported. */
  client: SocketEndpoint | undefined;
  hello: ClientHello | undefined;
  route: Route | undefined;
  backend: string | undefined;
  bytesFromClient: number;
  bytesToClient: number;
}

export function handleConnection(env: ConnectionEnvironment, listener: RouteProtocol, socket: net.Socket): void {
  const session: Session = { listener, socket, started: performance.now(), client: peerOf(socket), hello: undefined, route: undefined, backend: undefined, bytesFromClient: 0, bytesToClient: 0 };
  socket.setNoDelay(true);
  const parser = createPreambleParser({
    expectProxyHeader: env.isTrustedProxy(socket.remoteAddress),
    postgres: listener === 'postgres',
    ...(env.maxHelloBytes === undefined ? {} : { maxHelloBytes: env.maxHelloBytes }),
  });
  const gauge = env.metrics.inHandshake.labels({ listener });
  let settled = false;
  const settle = (): boolean => {
    if (settled) return false;
    settled = true;
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    env.inHandshake.delete(socket);
    gauge.dec();
    return true;
  };
  const reject = (reason: string): void => {
    if (settle()) refuse(env, session, reason);
  };
  const onData = (chunk: Buffer): void => {
    const step = parser.feed(chunk);
    if (step.kind !== 'error' && step.reply) socket.write(step.reply);
    if (step.kind === 'error') reject(step.reason);
    else if (step.kind === 'done' && settle()) {
      socket.pause();
      session.hello = step.preamble.hello;
      const reported = step.preamble.proxyHeader;
      if (reported?.command === 'proxy' && reported.source) session.client = reported.source;
      void route(env, session, step.preamble);
    }
  };
  const onEnd = (): void => reject('client_closed');
  const timer = setTimeout(() => reject('handshake_timeout'), env.timeouts.handshakeMs);

  if (env.inHandshake.size >= env.maxInHandshake) env.inHandshake.values().next().value?.('handshake_evicted');
  env.inHandshake.set(socket, reject);
  gauge.inc();
  socket.on('error', () => reject('client_closed'));
  socket.on('close', () => reject('client_closed'));
  socket.on('end', onEnd);
  socket.on('data', onData);
}

/** Closes a connection that will not reach a backend: a TLS alert where the client speaks TLS, one metric, one log line. */
function refuse(env: ConnectionEnvironment, session: Session, reason: string): void {
  env.metrics.handshakeFailures.inc({ listener: session.listener, reason });
  const alert = alertFor[reason];
  const { socket } = session;
  if (!socket.destroyed) {
    if (alert !== undefined && socket.writable) socket.end(tlsAlert(alert));
    else socket.end();
    // Give the alert a moment to leave, then drop the socket whatever the client does.
    setTimeout(() => socket.destroy(), 1000).unref();
  }
  writeAccessLog(env, session, reason);
}

function writeAccessLog(env: ConnectionEnvironment, session: Session, closeReason: string): void {
  if (!env.accessLog) return;
  const { client } = session;
  env.accessLog({
    time: new Date().toISOString(),
    listener: session.listener,
    client: client ? formatEndpoint({ host: client.address, port: client.port }) : 'unknown',
    sni: session.hello?.serverName,
    alpn: session.hello?.alpn ?? [],
    tenant: session.route?.tenant,
    route: session.route?.name,
    backend: session.backend,
    bytesFromClient: session.bytesFromClient,
    bytesToClient: session.bytesToClient,
    durationMs: Math.round(performance.now() - session.started),
    closeReason,
  });
}

/** Routes by the hello; `preamble` (with the bytes to replay) lives only until they are sent. */
async function route(env: ConnectionEnvironment, session: Session, preamble: Preamble): Promise<void> {
  const { hello } = preamble;
  env.metrics.helloBytes.observe({}, hello.byteLength);
  if (hello.noSniReason) env.metrics.noServerName.inc({ listener: session.listener, reason: hello.noSniReason });
  const table = env.table();
  if (!table) return refuse(env, session, 'no_route_table');
  const decision = table.lookup(session.listener, hello.serverName, hello.alpn);
  if (decision.kind === 'reject') return refuse(env, session, decision.reason);
  const chosen = decision.route;
  session.route = chosen;
  const tenant = chosen.tenant;
  if (tenant !== undefined) {
    const refusal = env.admission.admit(tenant, table.tenantLimits(tenant));
    if (refusal) return refuse(env, session, refusal);
  }
  try {
    await connectAndSplice(env, session, chosen, preamble);
  } finally {
    if (tenant !== undefined) env.admission.release(tenant);
  }
}

async function connectAndSplice(env: ConnectionEnvironment, session: Session, chosen: Route, preamble: Preamble): Promise<void> {
  const { socket } = session;
  const dial = await dialFirstAvailable(env.dialer, chosen.backends, env.nextBackendIndex(chosen), env.timeouts.dialMs, () => socket.destroyed);
  for (const failure of dial.failures) env.metrics.dialErrors.inc({ route: chosen.name, backend: formatEndpoint(failure.endpoint), code: failure.code });
  if (!dial.socket || !dial.endpoint) return refuse(env, session, socket.destroyed ? 'client_closed' : 'dial_failed');
  const backend = dial.socket;
  session.backend = formatEndpoint(dial.endpoint);
  if (socket.destroyed) {
    backend.destroy();
    return refuse(env, session, 'client_closed');
  }
  if (chosen.proxyProtocol === 'v2') backend.write(proxyHeaderFor(socket, preamble));
  if (session.listener === 'postgres' && !(await startBackendTls(backend, env.timeouts.dialMs))) {
    backend.destroy();
    return refuse(env, session, 'backend_refused_tls');
  }
  backend.write(preamble.tls);
  session.bytesFromClient = preamble.tls.length;
  await runSplice(env, session, chosen, backend);
}

/** The address the backend should see: the load balancer's client if one told us, else our peer. */
function proxyHeaderFor(socket: net.Socket, preamble: Preamble): Buffer {
  const told = preamble.proxyHeader?.command === 'proxy' && preamble.proxyHeader.source ? preamble.proxyHeader : undefined;
  const source = told?.source ?? peerOf(socket);
  const destination = told?.destination ?? (socket.localAddress && socket.localPort ? { address: socket.localAddress, port: socket.localPort } : undefined);
  return encodeProxyV2(source, destination);
}

/**
 * Replays SSLRequest to a PostgreSQL backend and swallows its one-byte answer; true on `S`.
 * The client already got our own `S`, so the backend's must not reach it.
 */
function startBackendTls(backend: net.Socket, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    const onReadable = (): void => {
      const answer = backend.read(1) as Buffer | null;
      if (answer !== null) done(answer[0] === 0x53);
    };
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      backend.removeListener('readable', onReadable);
      backend.removeListener('error', onFail);
      backend.removeListener('close', onFail);
      resolve(ok);
    };
    const onFail = (): void => done(false);
    backend.on('readable', onReadable);
    backend.once('error', onFail);
    backend.once('close', onFail);
    backend.write(sslRequest);
  });
}

async function runSplice(env: ConnectionEnvironment, session: Session, chosen: Route, backend: net.Socket): Promise<void> {
  const labels = { listener: session.listener, route: chosen.name, tenant: chosen.tenant ?? '' };
  const open = env.metrics.connectionsOpen.labels(labels);
  const fromClient = env.metrics.bytes.labels({ route: chosen.name, tenant: labels.tenant, direction: 'client_to_backend' });
  const toClient = env.metrics.bytes.labels({ route: chosen.name, tenant: labels.tenant, direction: 'backend_to_client' });
  env.metrics.connectionsTotal.labels(labels).inc();
  open.inc();
  fromClient.inc(session.bytesFromClient);
  const joined = splice(session.socket, backend, {
    idleTimeoutMs: env.timeouts.idleMs,
    onClientBytes: (n) => {
      session.bytesFromClient += n;
      fromClient.inc(n);
    },
    onBackendBytes: (n) => {
      session.bytesToClient += n;
      toClient.inc(n);
    },
  });
  env.spliced.add(joined);
  session.socket.resume();
  const end = await joined.done;
  env.spliced.delete(joined);
  open.dec();
  env.metrics.closes.inc({ listener: session.listener, reason: end });
  writeAccessLog(env, session, end);
}
