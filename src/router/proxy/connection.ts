/**
 * One client connection from accept to close: read the preamble under a deadline, route it with
 * the table current at that moment, admit it against its tenant's limits, dial a backend, replay
 * what the client sent, splice. The route chosen is kept for the connection's life, so reloads
 * never touch established connections. Counts metrics on the way and writes one access-log line.
 *
 * Cost per connection matters here (it is what the router spends most of its CPU on): no timer
 * per connection (the router sweeps handshake and dial deadlines and idle splices), no promise on
 * the TLS path (the dial reports through a callback), the client not paused while it is routed,
 * metric children bound once per route, and the peer address read only when a log line or a
 * PROXY header needs it.
 */
import type net from 'node:net';
import { encodeProxyV2, type SocketEndpoint } from '../../shared/proxy-protocol.ts';
import type { RouteProtocol } from '../config/ir.ts';
import type { Route, RouteTable } from '../config/route-table.ts';
import { BackendDial, formatEndpoint, type DialContext } from './dial.ts';
import type { ClientHello } from '../clienthello/parser.ts';
import { createPreambleParser, sslRequest, type Preamble, type PreambleParser } from './preamble.ts';
import type { BoundRouterMetrics, RouteCounters } from './router-metrics.ts';
import { Splice, type SpliceEnd } from './splice.ts';
import type { Deadline } from './sweep.ts';
import type { TenantAdmission } from './tenant-admission.ts';

export interface ProxyTimeouts {
  /** From accept to a routable client hello (slowloris defence). */
  readonly handshakeMs: number;
  /** Per backend endpoint. */
  readonly dialMs: number;
  /** No bytes either way for this long closes the connection. */
  readonly idleMs: number;
}

/** A connection still in its preamble, as the router's deadline sweep (`expire`: `handshake_timeout`), eviction and drain see it. */
export interface PendingHandshake extends Deadline {
  reject(reason: string): void;
}

/** What every connection shares; owned by the router. */
export interface ConnectionEnvironment {
  readonly table: () => RouteTable | undefined;
  readonly metrics: BoundRouterMetrics;
  readonly admission: TenantAdmission;
  readonly dial: DialContext;
  readonly timeouts: ProxyTimeouts;
  readonly maxHelloBytes: number | undefined;
  readonly isTrustedProxy: (socket: net.Socket) => boolean;
  readonly accessLog: ((entry: AccessLogEntry) => void) | undefined;
  /** Connections still in their preamble, oldest first (so deadlines too); the router evicts and expires from the front. */
  readonly inHandshake: Map<net.Socket, PendingHandshake>;
  readonly maxInHandshake: number;
  readonly spliced: Set<Splice>;
  readonly nextBackendIndex: (route: Route) => number;
  /** Called when a connection enters `inHandshake` / `spliced`, so the router's sweeps run while there is something to sweep. */
  readonly watchHandshakes: () => void;
  readonly watchSplices: () => void;
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

/** 'close' always follows 'error' and is where a connection notices; this only keeps the error handled. */
function ignoreError(): void {}

/**
 * Client bytes held while a routed connection dials (a client rarely sends before the server's
 * answer); beyond this the client is paused, so a client cannot make the router buffer without bound.
 */
const maxHeldBytes = 64 * 1024;

/** Mutable record of one connection, turned into the access-log line at close. */
class Session implements PendingHandshake {
  readonly env: ConnectionEnvironment;
  readonly listener: RouteProtocol;
  readonly socket: net.Socket;
  readonly started: number;
  readonly deadline: number;
  /** Our peer (read at accept only when the access log wants it), or the client a trusted load balancer reported. */
  client: SocketEndpoint | undefined;
  hello: ClientHello | undefined;
  route: Route | undefined;
  backend: string | undefined;
  settled = false;
  /** Dropped once settled, so a spliced connection does not keep its hello's bytes. */
  #parser: PreambleParser | undefined;
  /**
   * What the client sent after its preamble while being routed, replayed after it. Holding them
   * instead of pausing the client keeps its reads running: a pause and resume per connection cost
   * more than the (rare) bytes.
   */
  #held: Buffer[] = [];
  #heldBytes = 0;
  readonly #onData = (chunk: Buffer): void => (this.#parser ? this.#feed(chunk) : this.#hold(chunk));
  readonly #onGone = (): void => this.reject('client_closed');

  constructor(env: ConnectionEnvironment, listener: RouteProtocol, socket: net.Socket) {
    this.env = env;
    this.listener = listener;
    this.socket = socket;
    this.started = performance.now();
    this.deadline = this.started + env.timeouts.handshakeMs;
    this.client = env.accessLog ? peerOf(socket) : undefined;
    this.#parser = createPreambleParser({
      expectProxyHeader: env.isTrustedProxy(socket),
      postgres: listener === 'postgres',
      ...(env.maxHelloBytes === undefined ? {} : { maxHelloBytes: env.maxHelloBytes }),
    });
    socket.on('error', ignoreError);
    socket.on('close', this.#onGone);
    socket.on('end', this.#onGone);
    socket.on('data', this.#onData);
  }

  reject(reason: string): void {
    if (this.#settle()) refuse(this, reason);
  }

  expire(): void {
    this.reject('handshake_timeout');
  }

  /** Stops reading for the session: hands over what it held (the splice's reads follow on from it), or drops it on refusal. */
  releaseHeld(): Buffer[] {
    this.socket.removeListener('data', this.#onData);
    const held = this.#held;
    this.#held = [];
    if (this.#heldBytes >= maxHeldBytes) this.socket.resume();
    this.#heldBytes = 0;
    return held;
  }

  #hold(chunk: Buffer): void {
    this.#held.push(chunk);
    this.#heldBytes += chunk.length;
    if (this.#heldBytes >= maxHeldBytes) this.socket.pause();
  }

  #settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.#parser = undefined;
    this.socket.removeListener('end', this.#onGone);
    this.socket.removeListener('close', this.#onGone);
    this.env.inHandshake.delete(this.socket);
    this.env.metrics.inHandshake(this.listener).dec();
    return true;
  }

  #feed(chunk: Buffer): void {
    const step = this.#parser?.feed(chunk);
    if (!step) return;
    if (step.kind === 'error') return this.reject(step.reason);
    if (step.reply) this.socket.write(step.reply);
    if (step.kind === 'done' && this.#settle()) {
      this.hello = step.preamble.hello;
      const reported = step.preamble.proxyHeader;
      if (reported?.command === 'proxy' && reported.source) this.client = reported.source;
      route(this, step.preamble);
    }
  }
}

export function handleConnection(env: ConnectionEnvironment, listener: RouteProtocol, socket: net.Socket): void {
  const session = new Session(env, listener, socket);
  if (env.inHandshake.size >= env.maxInHandshake) env.inHandshake.values().next().value?.reject('handshake_evicted');
  env.inHandshake.set(socket, session);
  env.metrics.inHandshake(listener).inc();
  env.watchHandshakes();
}

/** Closes a connection that will not reach a backend: a TLS alert where the client speaks TLS, one metric, one log line. */
function refuse(session: Session, reason: string): void {
  session.releaseHeld();
  session.env.metrics.handshakeFailure(session.listener, reason).inc();
  const alert = alertFor[reason];
  const { socket } = session;
  if (!socket.destroyed) {
    if (alert !== undefined && socket.writable) socket.end(tlsAlert(alert));
    else socket.end();
    // Give the alert a moment to leave, then drop the socket whatever the client does.
    setTimeout(() => socket.destroy(), 1000).unref();
  }
  writeAccessLog(session, reason, 0, 0);
}

function writeAccessLog(session: Session, closeReason: string, bytesFromClient: number, bytesToClient: number): void {
  const { accessLog } = session.env;
  if (!accessLog) return;
  const { client } = session;
  accessLog({
    time: new Date().toISOString(),
    listener: session.listener,
    client: client ? formatEndpoint({ host: client.address, port: client.port }) : 'unknown',
    sni: session.hello?.serverName,
    alpn: session.hello?.alpn ?? [],
    tenant: session.route?.tenant,
    route: session.route?.name,
    backend: session.backend,
    bytesFromClient,
    bytesToClient,
    durationMs: Math.round(performance.now() - session.started),
    closeReason,
  });
}

/** Routes by the hello and dials; `preamble` (with the bytes to replay) lives only until they are sent. */
function route(session: Session, preamble: Preamble): void {
  const { env } = session;
  const { hello } = preamble;
  env.metrics.helloBytes.observe(hello.byteLength);
  if (hello.noSniReason) env.metrics.noServerName(session.listener, hello.noSniReason).inc();
  const table = env.table();
  if (!table) return refuse(session, 'no_route_table');
  const decision = table.lookup(session.listener, hello.serverName, hello.alpn);
  if (decision.kind === 'reject') return refuse(session, decision.reason);
  const chosen = decision.route;
  session.route = chosen;
  const tenant = chosen.tenant;
  if (tenant !== undefined) {
    const refusal = env.admission.admit(tenant, table.tenantLimits(tenant));
    if (refusal) return refuse(session, refusal);
  }
  const { socket } = session;
  new BackendDial(env.dial, chosen.backends, env.nextBackendIndex(chosen), () => socket.destroyed, (dial) => dialled(session, chosen, preamble, dial));
}

/** The dial ended: prepares the backend (PROXY header, PostgreSQL's SSLRequest) and splices, or refuses. */
function dialled(session: Session, chosen: Route, preamble: Preamble, dial: BackendDial): void {
  const { env, socket } = session;
  for (const failure of dial.failures) env.metrics.dialError(chosen.name, formatEndpoint(failure.endpoint), failure.code).inc();
  const backend = dial.socket;
  if (!backend || !dial.endpoint) return abandon(session, socket.destroyed ? 'client_closed' : 'dial_failed');
  session.backend = formatEndpoint(dial.endpoint);
  if (!socket.destroyed && chosen.proxyProtocol === 'v2') backend.write(proxyHeaderFor(socket, preamble));
  if (socket.destroyed || session.listener !== 'postgres') return replay(session, chosen, preamble, backend);
  void startBackendTls(backend, env.timeouts.dialMs).then((started) => {
    if (started) return replay(session, chosen, preamble, backend);
    backend.destroy();
    abandon(session, 'backend_refused_tls');
  });
}

/** Sends the backend what the client sent so far and hands both sockets to a splice. */
function replay(session: Session, chosen: Route, preamble: Preamble, backend: net.Socket): void {
  // The splice learns of a close from 'close', so a client gone while we dialled must not reach it.
  if (session.socket.destroyed) {
    backend.destroy();
    return abandon(session, 'client_closed');
  }
  backend.write(preamble.tls);
  let replayed = preamble.tls.length;
  for (const chunk of session.releaseHeld()) {
    backend.write(chunk);
    replayed += chunk.length;
  }
  startSplice(session, chosen, backend, replayed);
}

/** Refuses a routed connection that will not reach a splice, giving its tenant's admission back (the splice does that otherwise). */
function abandon(session: Session, reason: string): void {
  const tenant = session.route?.tenant;
  if (tenant !== undefined) session.env.admission.release(tenant);
  refuse(session, reason);
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

function startSplice(session: Session, chosen: Route, backend: net.Socket, replayed: number): void {
  const { env } = session;
  const counters = env.metrics.route(session.listener, chosen);
  counters.total.inc();
  counters.open.inc();
  const joined = new Splice(session.socket, backend, counters, replayed, (end, done) => spliceEnded(session, counters, end, done));
  env.spliced.add(joined);
  env.watchSplices();
}

function spliceEnded(session: Session, counters: RouteCounters, end: SpliceEnd, joined: Splice): void {
  const { env } = session;
  env.spliced.delete(joined);
  counters.open.dec();
  if (session.route?.tenant !== undefined) env.admission.release(session.route.tenant);
  env.metrics.close(session.listener, end).inc();
  writeAccessLog(session, end, joined.bytesFromClient, joined.bytesToClient);
}
