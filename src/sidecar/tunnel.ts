/**
 * Client mode (egress) and `landlord connect`: a plaintext listener on localhost whose every
 * connection is carried over TLS to a remote service (through the edge router, by SNI), like
 * cloud-sql-proxy or a stunnel client.
 *
 * Security stance: fails closed. The server must chain to the configured anchors (with CRLs when
 * given) and carry the expected identity: a SPIFFE URI must match a URI SAN exactly; a DNS name is
 * checked by Node's RFC 6125 rules. A mismatch ends the local connection before any byte is sent.
 * Bind the listener to 127.0.0.1: anyone who can reach it speaks with this workload's identity.
 */
import net from 'node:net';
import tls from 'node:tls';
import { silentLogger, type Logger } from '../shared/log.ts';
import type { SidecarMetrics } from './metrics.ts';
import { parseSubjectAltNames } from './peer.ts';
import { knownChainErrorReason } from './policy.ts';
import { handshakeFailureReason, tcpDialer, type Dialer, type Endpoint } from './server.ts';
import { splice } from './splice.ts';
import { drainServer } from './drain.ts';

export interface TunnelCredentials {
  /** Trust anchors for the server's chain: the platform root, or a tenant CA. */
  readonly ca: string;
  readonly crls: readonly string[];
  /** Our certificate (leaf then chain) and key, for mutual TLS; absent for TLS only. */
  readonly certificate?: string;
  readonly privateKey?: string;
}

export interface TunnelOptions {
  /** The edge router (or the service itself). */
  readonly upstream: Endpoint;
  /** Sent as SNI; the router routes by it. */
  readonly servername: string;
  /** DNS name or `spiffe://` URI the server's certificate must carry; defaults to `servername`. */
  readonly expectedIdentity?: string;
  readonly credentials: TunnelCredentials;
  readonly handshakeTimeoutMs: number;
  readonly metrics: SidecarMetrics;
  readonly logger?: Logger;
  readonly dialer?: Dialer;
}

export interface Tunnel {
  /** The local plaintext listener; call `listen` on it (127.0.0.1). */
  readonly server: net.Server;
  updateCredentials(credentials: TunnelCredentials): void;
  drain(timeoutMs: number): Promise<void>;
}

/** Pure: whether the server certificate's names satisfy the expected identity. */
export function checkIdentity(expected: string, certificate: tls.PeerCertificate): Error | undefined {
  if (!expected.includes('://')) return tls.checkServerIdentity(expected, certificate);
  const { uris } = parseSubjectAltNames(certificate.subjectaltname);
  if (uris.includes(expected)) return undefined;
  return Object.assign(new Error(`the server is not ${expected} (URI SANs: ${uris.join(', ') || 'none'})`), { code: 'ERR_LL_IDENTITY_MISMATCH' });
}

export function tunnelContext(credentials: TunnelCredentials): tls.SecureContext {
  return tls.createSecureContext({
    ca: credentials.ca,
    ...(credentials.crls.length > 0 ? { crl: [...credentials.crls] } : { allowPartialTrustChain: true }),
    ...(credentials.certificate === undefined ? {} : { cert: credentials.certificate, key: credentials.privateKey }),
  });
}

export function buildTunnel(options: TunnelOptions): Tunnel {
  const logger = options.logger ?? silentLogger;
  const dial = options.dialer ?? tcpDialer;
  const expected = options.expectedIdentity ?? options.servername;
  let context = tunnelContext(options.credentials);
  const open = new Set<net.Socket>();
  const gauge = options.metrics.openConnections.labels({ mode: 'client' });
  const bytes = { inbound: options.metrics.bytes.labels({ mode: 'client', direction: 'inbound' }), outbound: options.metrics.bytes.labels({ mode: 'client', direction: 'outbound' }) };
  const count = (result: string, reason: string): void => options.metrics.handshakes.inc({ mode: 'client', result, reason });

  const server = net.createServer((local) => {
    local.pause();
    open.add(local);
    gauge.inc();
    const forget = (): void => {
      if (open.delete(local)) gauge.inc(-1);
    };
    const raw = dial(options.upstream);
    raw.once('error', () => options.metrics.dialFailures.inc({ mode: 'client' }));
    const remote = tls.connect({
      socket: raw, servername: options.servername, secureContext: context,
      checkServerIdentity: (_host, certificate) => checkIdentity(expected, certificate),
    });
    const timer = setTimeout(() => remote.destroy(Object.assign(new Error('TLS handshake timed out'), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' })), options.handshakeTimeoutMs);
    const onHandshakeError = (error: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      const reason = error.code === 'ERR_LL_IDENTITY_MISMATCH' || error.code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? 'identity_mismatch'
        : (knownChainErrorReason(error.code) ?? handshakeFailureReason(error.code));
      count('failed', reason);
      logger.warn('upstream handshake failed', { reason, code: error.code, detail: error.message, upstream: `${options.upstream.host}:${options.upstream.port}`, servername: options.servername });
      local.destroy();
      forget();
    };
    remote.once('error', onHandshakeError);
    local.once('error', () => remote.destroy());
    local.once('close', forget);
    remote.once('secureConnect', () => {
      clearTimeout(timer);
      remote.off('error', onHandshakeError);
      count('ok', 'ok');
      splice(remote, local, bytes, forget);
      local.resume();
    });
  });

  return {
    server,
    updateCredentials(next) {
      context = tunnelContext(next);
    },
    drain: (timeoutMs) => drainServer(server, open, timeoutMs),
  };
}
