/**
 * serveRouter(options): the router as a process component — builds the router, starts its provider
 * (the routes file, refusing to start on an invalid one; or the Kubernetes API, waiting for the first
 * snapshot), and listens on the requested addresses.
 * Signals stay with the caller (the CLI): it calls `reload()` on SIGHUP and `shutdown()` on SIGTERM.
 *
 * All cores: run one `serveRouter` per process with `reusePort` (Linux SO_REUSEPORT, which Node 26
 * supports in `server.listen`); the kernel spreads new connections across the processes. Each
 * process keeps its own metrics and tenant counters, so per-tenant limits apply per process.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type net from 'node:net';
import type { Writable } from 'node:stream';
import { LandlordError } from '../shared/errors.ts';
import type { Logger } from '../shared/log.ts';
import { createFileProvider, loadRoutesFile, type RoutingProvider } from './config/file-provider.ts';
import { formatIssues } from './config/ir.ts';
import { createKubernetesProvider } from './config/kubernetes-provider.ts';
import type { ProxyTimeouts } from './proxy/connection.ts';
import { buildRouter, type Router } from './router.ts';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Where routes come from: a routes file, or Route objects in a cluster. */
export type RoutingSource = { readonly kind: 'file'; readonly file: string } | { readonly kind: 'kubernetes'; readonly kubeConfig: KubeConfig };

export interface ServeOptions {
  readonly source: RoutingSource;
  readonly listenTls?: ListenAddress;
  readonly listenHttp?: ListenAddress;
  readonly listenPostgres?: ListenAddress;
  readonly metrics?: ListenAddress;
  readonly trustedProxies?: readonly string[];
  readonly timeouts?: Partial<ProxyTimeouts>;
  readonly maxConnectionsInHandshake?: number;
  /** Share ports with sibling processes (SO_REUSEPORT). */
  readonly reusePort?: boolean;
  readonly logger: Logger;
  readonly accessLog?: Writable;
}

export interface RunningRouter {
  readonly router: Router;
  /** Bound addresses by listener name (`tls`, `http`, `postgres`, `metrics`). */
  readonly addresses: Readonly<Record<string, ListenAddress>>;
  reload(): Promise<void>;
  /** Drains for up to `graceMs` and stops the provider. */
  shutdown(graceMs: number): Promise<void>;
}

/** Parses `HOST:PORT`, `[IPv6]:PORT`, `:PORT` or `PORT` (host defaults to 0.0.0.0). */
export function parseListenAddress(text: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]:|([^:[\]]*):)?(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new LandlordError('LL_ROUTER_BAD_LISTEN_ADDRESS', `${JSON.stringify(text)} is not HOST:PORT`, { hint: 'e.g. 0.0.0.0:443, [::]:443 or :443' });
  }
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

async function listenOn(server: net.Server, address: ListenAddress, reusePort: boolean): Promise<ListenAddress> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // exclusive: in a node:cluster worker, bind here (with SO_REUSEPORT) instead of via the primary.
    server.listen({ host: address.host, port: address.port, reusePort, exclusive: reusePort }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const bound = server.address() as net.AddressInfo;
  return { host: bound.address, port: bound.port };
}

async function startProvider(router: Router, source: RoutingSource, logger: Logger): Promise<RoutingProvider> {
  if (source.kind === 'kubernetes') {
    const provider = await createKubernetesProvider({ kubeConfig: source.kubeConfig, logger, onSnapshot: (snapshot) => router.applySnapshot(snapshot).ok });
    await provider.ready;
    return provider;
  }
  const first = router.applySnapshot(await loadRoutesFile(source.file));
  if (!first.ok) {
    throw new LandlordError('LL_ROUTER_ROUTES_INVALID', `routes file ${source.file} is invalid: ${formatIssues(first.issues)}`);
  }
  return createFileProvider({
    file: source.file,
    onSnapshot: (snapshot) => void router.applySnapshot(snapshot),
    onError: (error) => logger.error('routes file not applied; keeping the previous table', { code: error.code, error }),
  });
}

export async function serveRouter(options: ServeOptions): Promise<RunningRouter> {
  const { logger } = options;
  const router = buildRouter({
    logger,
    ...(options.accessLog ? { accessLog: options.accessLog } : {}),
    ...(options.trustedProxies ? { trustedProxies: options.trustedProxies } : {}),
    ...(options.timeouts ? { timeouts: options.timeouts } : {}),
    ...(options.maxConnectionsInHandshake ? { maxConnectionsInHandshake: options.maxConnectionsInHandshake } : {}),
  });
  const provider = await startProvider(router, options.source, logger);
  const reusePort = options.reusePort ?? false;
  const addresses: Record<string, ListenAddress> = {};
  const wanted: [string, net.Server, ListenAddress | undefined][] = [
    ['tls', router.tlsServer, options.listenTls],
    ['http', router.httpServer, options.listenHttp],
    ['postgres', router.postgresServer, options.listenPostgres],
    ['metrics', router.metricsServer, options.metrics],
  ];
  try {
    for (const [name, server, address] of wanted) if (address) addresses[name] = await listenOn(server, address, reusePort);
  } catch (cause) {
    provider.close();
    await router.drain(0);
    throw new LandlordError('LL_ROUTER_LISTEN_FAILED', `cannot listen: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  logger.info('router listening', { addresses });
  return {
    router,
    addresses,
    reload: () => provider.reload(),
    async shutdown(graceMs) {
      provider.close();
      await router.drain(graceMs);
    },
  };
}
