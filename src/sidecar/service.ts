/**
 * A running sidecar: the listener of one mode, the certificate directory watch that feeds it new
 * credentials, and the status port. `main` only parses flags and calls `serveSidecar`.
 */
import { once } from 'node:events';
import type http from 'node:http';
import type net from 'node:net';
import { silentLogger, type Logger } from '../shared/log.ts';
import { readCredentials, type Credentials } from './credentials.ts';
import { createSidecarMetrics, type SidecarMetrics } from './metrics.ts';
import { reloadDecision, watchDirectory, type ReloadDecision } from './reload.ts';
import { buildSidecarServer, type AuthorizationSettings, type Endpoint } from './server.ts';
import { buildStatusServer, probeBackend } from './status.ts';
import { buildTunnel, type TunnelCredentials } from './tunnel.ts';

export type ModeConfig =
  | {
      readonly mode: 'server';
      readonly app: Endpoint;
      readonly authorization: AuthorizationSettings;
      readonly trustedProxies: readonly string[];
      readonly postgres: boolean;
      readonly appProxyProtocol: boolean;
    }
  | {
      readonly mode: 'client';
      readonly upstream: Endpoint;
      readonly servername: string;
      readonly expectedIdentity: string | undefined;
    };

export interface SidecarConfig {
  readonly certDir: string;
  readonly listen: Endpoint;
  /** The status and metrics port; none when undefined. */
  readonly status: Endpoint | undefined;
  readonly modeConfig: ModeConfig;
  readonly handshakeTimeoutMs: number;
  readonly reload: { readonly settleMs: number; readonly pollMs: number };
  readonly logger?: Logger;
  readonly metrics?: SidecarMetrics;
}

export interface RunningSidecar {
  readonly port: number;
  readonly statusPort: number | undefined;
  readonly metrics: SidecarMetrics;
  /** Re-reads the certificate directory now (the watcher calls this too). */
  reload(): Promise<ReloadDecision>;
  /** Graceful drain: stop accepting, let open connections finish for up to `drainMs`. */
  shutdown(drainMs: number): Promise<void>;
}

export function tunnelCredentials(credentials: Credentials): TunnelCredentials {
  return { ca: credentials.root ?? credentials.tenantCa, crls: credentials.crls, certificate: credentials.certificate, privateKey: credentials.privateKey };
}

interface ModeListener {
  readonly server: net.Server;
  update(credentials: Credentials): void;
  drain(timeoutMs: number): Promise<void>;
}

function buildListener(modeConfig: ModeConfig, credentials: Credentials, shared: { handshakeTimeoutMs: number; metrics: SidecarMetrics; logger: Logger }): ModeListener {
  if (modeConfig.mode === 'server') {
    const server = buildSidecarServer({ ...modeConfig, ...shared, credentials });
    return { server: server.server, update: (next) => server.updateCredentials(next), drain: (ms) => server.drain(ms) };
  }
  const tunnel = buildTunnel({
    ...modeConfig, ...shared,
    ...(modeConfig.expectedIdentity === undefined ? {} : { expectedIdentity: modeConfig.expectedIdentity }),
    credentials: tunnelCredentials(credentials),
  });
  return { server: tunnel.server, update: (next) => tunnel.updateCredentials(tunnelCredentials(next)), drain: (ms) => tunnel.drain(ms) };
}

async function listenOn(server: net.Server, endpoint: Endpoint): Promise<number> {
  server.listen(endpoint.port, endpoint.host);
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

export async function serveSidecar(config: SidecarConfig): Promise<RunningSidecar> {
  const logger = config.logger ?? silentLogger;
  const metrics = config.metrics ?? createSidecarMetrics();
  const { modeConfig } = config;
  const needs = { verifyPeers: modeConfig.mode === 'client' || modeConfig.authorization.clientAuthentication === 'required' };
  let credentials = await readCredentials(config.certDir, needs);
  const listener = buildListener(modeConfig, credentials, { handshakeTimeoutMs: config.handshakeTimeoutMs, metrics, logger });
  const apply = (next: Credentials): void => {
    listener.update(next);
    metrics.certificateNotAfter.set({}, Math.floor(next.notAfter.getTime() / 1000));
  };
  metrics.certificateNotAfter.set({}, Math.floor(credentials.notAfter.getTime() / 1000));

  const reload = async (): Promise<ReloadDecision> => {
    const candidate = await readCredentials(config.certDir, needs).then((read) => ({ ok: true as const, credentials: read }), (error: unknown) => ({ ok: false as const, error }));
    const decision = reloadDecision(credentials, candidate);
    if (decision.action === 'swap') {
      credentials = decision.credentials;
      apply(credentials);
      metrics.reloads.inc({ result: 'swapped' });
      logger.info('certificates reloaded', { notAfter: credentials.notAfter.toISOString() });
    } else if (decision.action === 'keep') {
      metrics.reloads.inc({ result: 'rejected' });
      logger.error('certificate reload rejected; still serving the previous certificates', { error: decision.error });
    }
    return decision;
  };
  let reloading = Promise.resolve();
  const watch = watchDirectory(config.certDir, () => {
    reloading = reloading.then(() => reload()).then(() => undefined);
  }, config.reload);

  let draining = false;
  let statusServer: http.Server | undefined;
  let statusPort: number | undefined;
  if (config.status) {
    const target = modeConfig.mode === 'server' ? modeConfig.app : modeConfig.upstream;
    statusServer = buildStatusServer({
      metrics,
      backend: () => probeBackend(target, 1_000),
      certificate: () => ({ notAfter: credentials.notAfter.toISOString(), digest: credentials.digest.slice(0, 16) }),
      draining: () => draining,
    });
    statusPort = await listenOn(statusServer, config.status);
  }
  const port = await listenOn(listener.server, config.listen);
  logger.info('sidecar listening', { mode: modeConfig.mode, port, statusPort });
  return {
    port,
    statusPort,
    metrics,
    reload,
    async shutdown(drainMs) {
      draining = true;
      watch.close();
      await listener.drain(drainMs);
      await reloading;
      if (statusServer) {
        statusServer.closeAllConnections();
        await new Promise((resolve) => statusServer.close(resolve));
      }
    },
  };
}
