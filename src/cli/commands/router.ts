/**
 * `landlord router`: the edge router. Parses flags, wires signals, and hands everything else to
 * src/router (serveRouter). Routes come from exactly one source: --routes FILE, or the Kubernetes
 * API (--kubeconfig FILE, or --in-cluster in a pod). With --workers N (N > 1) it forks N processes
 * that share the ports through SO_REUSEPORT; the primary only forwards SIGHUP/SIGTERM and restarts
 * nothing.
 */
import cluster from 'node:cluster';
import { KubeConfig } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { LandlordError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/log.ts';
import { parseListenAddress, serveRouter, type RoutingSource, type ServeOptions } from '../../router/index.ts';

interface RouterFlags {
  routes?: string;
  kubeconfig?: string;
  inCluster?: boolean;
  listenTls?: string;
  listenHttp?: string;
  listenPostgres?: string;
  metrics?: string;
  trustedProxy: string[];
  workers: string;
  handshakeTimeout: string;
  dialTimeout: string;
  idleTimeout: string;
  maxHandshakes: string;
  drainTimeout: string;
  accessLog: boolean;
}

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new LandlordError('LL_ROUTER_BAD_FLAG', `--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

/** Exactly one of --routes, --kubeconfig, --in-cluster. */
function routingSource(flags: RouterFlags): RoutingSource {
  const given = [flags.routes !== undefined, flags.kubeconfig !== undefined, flags.inCluster === true].filter(Boolean).length;
  if (given !== 1) {
    throw new LandlordError('LL_ROUTER_BAD_FLAG', given === 0 ? 'no route source given' : 'more than one route source given', { hint: 'give exactly one of --routes FILE, --kubeconfig FILE, --in-cluster' });
  }
  if (flags.routes !== undefined) return { kind: 'file', file: flags.routes };
  const kubeConfig = new KubeConfig();
  if (flags.kubeconfig !== undefined) kubeConfig.loadFromFile(flags.kubeconfig);
  else kubeConfig.loadFromCluster();
  return { kind: 'kubernetes', kubeConfig };
}

function serveOptions(flags: RouterFlags, reusePort: boolean): ServeOptions {
  const logger = createLogger({ component: 'router' });
  const optional = (text: string | undefined) => (text === undefined ? undefined : parseListenAddress(text));
  const options: ServeOptions = {
    source: routingSource(flags),
    logger,
    reusePort,
    trustedProxies: flags.trustedProxy,
    maxConnectionsInHandshake: positive('max-handshakes', flags.maxHandshakes),
    timeouts: {
      handshakeMs: positive('handshake-timeout', flags.handshakeTimeout),
      dialMs: positive('dial-timeout', flags.dialTimeout),
      idleMs: positive('idle-timeout', flags.idleTimeout),
    },
    ...(flags.accessLog ? { accessLog: process.stdout } : {}),
  };
  const listeners = { listenTls: optional(flags.listenTls), listenHttp: optional(flags.listenHttp), listenPostgres: optional(flags.listenPostgres), metrics: optional(flags.metrics) };
  if (!listeners.listenTls && !listeners.listenHttp && !listeners.listenPostgres) {
    throw new LandlordError('LL_ROUTER_BAD_FLAG', 'no listener requested', { hint: 'give at least one of --listen-tls, --listen-http, --listen-postgres' });
  }
  return Object.assign(options, Object.fromEntries(Object.entries(listeners).filter(([, v]) => v !== undefined)));
}

async function runWorker(flags: RouterFlags, reusePort: boolean): Promise<void> {
  const running = await serveRouter(serveOptions(flags, reusePort));
  const drainMs = positive('drain-timeout', flags.drainTimeout);
  process.on('SIGHUP', () => void running.reload());
  await new Promise<void>((resolve) => {
    const stop = (): void => void running.shutdown(drainMs).then(resolve);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  // A cluster worker's IPC channel would keep it alive after the drain.
  cluster.worker?.disconnect();
}

async function runPrimary(workers: number): Promise<void> {
  for (let i = 0; i < workers; i += 1) cluster.fork();
  const forward = (signal: NodeJS.Signals) => () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
  };
  process.on('SIGHUP', forward('SIGHUP'));
  process.on('SIGTERM', forward('SIGTERM'));
  process.on('SIGINT', forward('SIGINT'));
  await new Promise<void>((resolve) => cluster.on('exit', () => Object.keys(cluster.workers ?? {}).length === 0 && resolve()));
}

export function registerRouterCommand(program: Command): void {
  program
    .command('router')
    .description('Run the edge router: route TLS by SNI, PostgreSQL by SSLRequest + SNI, HTTP by Host (see docs/router.md).')
    .option('--routes <file>', 'routes file (YAML); reloaded on change and on SIGHUP')
    .option('--kubeconfig <file>', 'watch Routes in the cluster this kubeconfig names (and write their status)')
    .option('--in-cluster', 'watch Routes in the cluster the router runs in, with its service account')
    .option('--listen-tls <addr>', 'TLS listener, e.g. 0.0.0.0:443')
    .option('--listen-http <addr>', 'plain HTTP listener (redirects, ACME), e.g. 0.0.0.0:80')
    .option('--listen-postgres <addr>', 'PostgreSQL listener, e.g. 0.0.0.0:5432')
    .option('--metrics <addr>', 'metrics and /healthz listener, e.g. 127.0.0.1:9100')
    .option('--trusted-proxy <cidr>', 'load balancer CIDR that must send PROXY v2 (repeatable)', (v: string, all: string[]) => [...all, v], [])
    .option('--workers <n>', 'processes sharing the ports with SO_REUSEPORT', '1')
    .option('--handshake-timeout <ms>', 'deadline for a routable client hello', '10000')
    .option('--dial-timeout <ms>', 'connect deadline per backend endpoint', '5000')
    .option('--idle-timeout <ms>', 'close connections idle this long', '3600000')
    .option('--max-handshakes <n>', 'connections allowed in handshake at once (oldest evicted)', '10000')
    .option('--drain-timeout <ms>', 'grace period for open connections on SIGTERM', '30000')
    .option('--no-access-log', 'do not write one JSON line per connection to stdout')
    .action(async (flags: RouterFlags) => {
      const workers = positive('workers', flags.workers);
      if (workers > 1 && cluster.isPrimary) return runPrimary(workers);
      return runWorker(flags, workers > 1 || !cluster.isPrimary);
    });
}
