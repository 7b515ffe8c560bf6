/**
 * Server mode: terminates TLS (or mutual TLS) at the pod's public port and relays plaintext to
 * the app on 127.0.0.1. Wiring only: the preamble parser, the peer policy and the splice are
 * separate modules.
 *
 * Security stance: the app never sees a byte from a peer that policy.ts has not admitted: the app
 * is dialled only after the handshake and the authorization. PROXY v2 headers are read only from
 * `trustedProxies` (and required from them); anyone else sending one fails the TLS handshake.
 * New credentials apply to new handshakes only; open connections keep the context they started
 * with, so a rotation never drops them.
 */
import net from 'node:net';
import tls from 'node:tls';
import { encodeProxyV2, type SocketEndpoint } from '../shared/proxy-protocol.ts';
import { silentLogger, type Logger } from '../shared/log.ts';
import { serverContextOptions, type Credentials } from './credentials.ts';
import type { SidecarMetrics } from './metrics.ts';
import { peerFacts } from './peer.ts';
import { authorizePeer, type ClientAuthentication, type PeerPolicy } from './policy.ts';
import { createPreambleParser } from './preamble.ts';
import { splice } from './splice.ts';
import { drainServer } from './drain.ts';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Opens a TCP connection; injected so tests can count or fail dials. */
export type Dialer = (endpoint: Endpoint) => net.Socket;
export const tcpDialer: Dialer = (endpoint) => net.connect({ host: endpoint.host, port: endpoint.port });

/**
 * Who may connect (see policy.ts). The tenant CA of the current credentials is always trusted;
 * peer tenants' CAs are trusted when their trust bundle is mounted (credentials.ts).
 */
export interface AuthorizationSettings {
  readonly clientAuthentication: ClientAuthentication;
  readonly allowedUris: readonly string[];
  readonly allowedDnsNames: readonly string[];
  readonly allowAnyIdentity: boolean;
}

export interface SidecarServerOptions {
  readonly credentials: Credentials;
  readonly authorization: AuthorizationSettings;
  /** The app, normally 127.0.0.1:<port>. */
  readonly app: Endpoint;
  /** Send a PROXY v2 header with the client's address to the app first. */
  readonly appProxyProtocol: boolean;
  /** CIDRs (the edge router's) whose connections start with a PROXY v2 header. */
  readonly trustedProxies: readonly string[];
  /** Answer PostgreSQL's SSLRequest before TLS (the edge router replays it). */
  readonly postgres: boolean;
  readonly handshakeTimeoutMs: number;
  readonly metrics: SidecarMetrics;
  readonly logger?: Logger;
  readonly dialer?: Dialer;
}

export interface SidecarServer {
  /** The public listener; call `listen` on it. */
  readonly server: net.Server;
  /** Swaps the credentials for new handshakes (already validated by readCredentials). */
  updateCredentials(credentials: Credentials): void;
  /** Stops accepting, waits up to `timeoutMs` for open connections to finish, then closes the rest. */
  drain(timeoutMs: number): Promise<void>;
}

export function policyFor(settings: AuthorizationSettings, credentials: Credentials): PeerPolicy {
  return { ...settings, trustedIssuers: [credentials.tenantCaFingerprint, ...credentials.peerCaFingerprints] };
}

/** Node's handshake failure codes, folded into the reasons metrics group by. */
export function handshakeFailureReason(code: string | undefined): string {
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_HTTP_REQUEST' || code === 'ERR_SSL_UNKNOWN_PROTOCOL') return 'not_tls';
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'handshake_timeout';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'client_reset';
  if (code === 'ERR_SSL_NO_SHARED_CIPHER' || code === 'ERR_SSL_UNSUPPORTED_PROTOCOL') return 'no_shared_parameters';
  return 'tls_error';
}

function trustedProxyCheck(cidrs: readonly string[]): (address: string | undefined) => boolean {
  const list = new net.BlockList();
  for (const cidr of cidrs) {
    const [network = '', bits] = cidr.split('/');
    const family = net.isIPv6(network) ? 'ipv6' : 'ipv4';
    list.addSubnet(network, Number(bits ?? (family === 'ipv6' ? 128 : 32)), family);
  }
  return (address) => address !== undefined && list.check(address.replace(/^::ffff:/, ''), net.isIPv6(address.replace(/^::ffff:/, '')) ? 'ipv6' : 'ipv4');
}

const connectionKey = (socket: net.Socket): string => `${socket.remoteAddress}|${socket.remotePort}`;

export function buildSidecarServer(options: SidecarServerOptions): SidecarServer {
  const logger = options.logger ?? silentLogger;
  const dial = options.dialer ?? tcpDialer;
  const { metrics } = options;
  const isTrustedProxy = trustedProxyCheck(options.trustedProxies);
  let credentials = options.credentials;
  let policy = policyFor(options.authorization, credentials);
  const open = new Set<net.Socket>();
  /** The client's address as the PROXY header told it, by the raw socket's address and port. */
  const clientAddresses = new Map<string, SocketEndpoint>();
  const gauge = metrics.openConnections.labels({ mode: 'server' });
  const bytes = { inbound: metrics.bytes.labels({ mode: 'server', direction: 'inbound' }), outbound: metrics.bytes.labels({ mode: 'server', direction: 'outbound' }) };
  const count = (result: string, reason: string): void => metrics.handshakes.inc({ mode: 'server', result, reason });

  const tlsServer = tls.createServer({
    ...serverContextOptions(credentials),
    requestCert: options.authorization.clientAuthentication === 'required',
    // The chain verdict goes to policy.ts with every other check, so one function decides.
    rejectUnauthorized: false,
    handshakeTimeout: options.handshakeTimeoutMs,
  });

  tlsServer.on('tlsClientError', (error: NodeJS.ErrnoException, socket: tls.TLSSocket) => {
    const reason = handshakeFailureReason(error.code);
    count('failed', reason);
    logger.warn('handshake failed', { reason, code: error.code, client: describeClient(socket) });
    clientAddresses.delete(connectionKey(socket));
  });

  const describeClient = (socket: net.Socket): string => {
    const proxied = clientAddresses.get(connectionKey(socket));
    return proxied ? `${proxied.address}:${proxied.port}` : `${socket.remoteAddress}:${socket.remotePort}`;
  };

  tlsServer.on('secureConnection', (socket: tls.TLSSocket) => {
    const client = describeClient(socket);
    const proxied = clientAddresses.get(connectionKey(socket));
    clientAddresses.delete(connectionKey(socket));
    const decision = authorizePeer(options.authorization.clientAuthentication === 'none' ? noPeer : peerFacts(socket), policy);
    if (!decision.allowed) {
      count('denied', decision.reason);
      logger.warn('client denied', { reason: decision.reason, detail: decision.detail, client });
      socket.destroy();
      return;
    }
    count('ok', 'ok');
    relayToApp(socket, proxied, client, decision.identity);
  });

  const relayToApp = (socket: tls.TLSSocket, proxied: SocketEndpoint | undefined, client: string, identity: string | undefined): void => {
    socket.pause();
    const app = dial(options.app);
    let connected = false;
    socket.on('error', () => app.destroy());
    open.add(socket);
    gauge.inc();
    app.once('connect', () => {
      connected = true;
      if (options.appProxyProtocol) {
        app.write(encodeProxyV2(proxied ?? { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }, { address: socket.localAddress ?? '', port: socket.localPort ?? 0 }));
      }
      splice(socket, app, bytes, () => {
        open.delete(socket);
        gauge.inc(-1);
      });
      socket.resume();
    });
    app.once('error', (error: NodeJS.ErrnoException) => {
      if (!connected) {
        metrics.dialFailures.inc({ mode: 'server' });
        logger.error('app unreachable', { app: `${options.app.host}:${options.app.port}`, code: error.code, client, identity });
        // A clean TLS close (close_notify), not a reset: the client learns the service is down.
        socket.end();
        socket.resume();
        open.delete(socket);
        gauge.inc(-1);
      }
    });
  };

  const server = net.createServer((socket) => {
    const trusted = isTrustedProxy(socket.remoteAddress);
    if (!trusted && !options.postgres) {
      tlsServer.emit('connection', socket);
      return;
    }
    readPreamble(socket, trusted);
  });

  const readPreamble = (socket: net.Socket, trusted: boolean): void => {
    const parser = createPreambleParser({ expectProxyHeader: trusted, postgres: options.postgres });
    const timer = setTimeout(() => {
      count('failed', 'handshake_timeout');
      socket.destroy();
    }, options.handshakeTimeoutMs);
    socket.on('error', () => clearTimeout(timer));
    socket.on('close', () => clearTimeout(timer));
    const onData = (chunk: Buffer): void => {
      const step = parser.feed(chunk);
      if (step.kind === 'needMore') return;
      socket.off('data', onData);
      socket.pause();
      clearTimeout(timer);
      if (step.kind === 'error') {
        count('failed', step.reason);
        logger.warn('handshake failed', { reason: step.reason, detail: step.detail, client: `${socket.remoteAddress}:${socket.remotePort}` });
        socket.destroy();
        return;
      }
      if (step.proxyHeader?.command === 'proxy' && step.proxyHeader.source) {
        const key = connectionKey(socket);
        clientAddresses.set(key, step.proxyHeader.source);
        // Normally consumed at the end of the handshake; this covers sockets that vanish earlier.
        socket.once('close', () => clientAddresses.delete(key));
      }
      if (step.reply) socket.write(step.reply);
      if (step.rest.length > 0) socket.unshift(step.rest);
      tlsServer.emit('connection', socket);
    };
    socket.on('data', onData);
  };

  return {
    server,
    updateCredentials(next) {
      credentials = next;
      policy = policyFor(options.authorization, next);
      tlsServer.setSecureContext(serverContextOptions(next));
    },
    drain: (timeoutMs) => drainServer(server, open, timeoutMs),
  };
}

const noPeer = { presented: false, chainError: undefined, issuerFingerprint: undefined, uris: [], dnsNames: [] } as const;
