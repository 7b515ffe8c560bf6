/**
 * `landlord ingress`: one tenant's HTTP ingress, fed by a config file (--config) or by the
 * Kubernetes API (--kubernetes: the tenant's Routes, Ingresses, Services and TLS Secrets in
 * --namespaces). Parses flags, wires signals, and hands everything else to src/ingress.
 */
import type { Command } from 'commander';
import { LandlordError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/log.ts';
import { defaultIngressClassName, serveIngress, serveKubernetesIngress, type RunningIngress } from '../../ingress/index.ts';
import { parseListenAddress } from '../../router/index.ts';
import { loadKubeConfig } from './kubeconfig.ts';

interface IngressFlags {
  tenant: string;
  config?: string;
  kubernetes?: boolean;
  kubeconfig?: string;
  namespaces?: string;
  domains?: string;
  ingressClass: string;
  trustedProxy: string[];
  listen: string;
  status: string;
  drainTimeout: string;
  accessLog: boolean;
}

const list = (text: string | undefined): string[] => (text ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');

function start(flags: IngressFlags): Promise<RunningIngress> {
  if ((flags.config !== undefined) === (flags.kubernetes === true)) {
    throw new LandlordError('LL_INGRESS_BAD_FLAG', 'give exactly one route source', { hint: 'either --config FILE or --kubernetes --namespaces a,b --domains "*.acme.example"' });
  }
  const common = {
    tenant: flags.tenant,
    listen: parseListenAddress(flags.listen),
    status: parseListenAddress(flags.status),
    logger: createLogger({ component: 'ingress' }),
    ...(flags.accessLog ? { accessLog: process.stdout } : {}),
  };
  if (flags.config !== undefined) {
    if (flags.trustedProxy.length > 0 || flags.namespaces !== undefined) throw new LandlordError('LL_INGRESS_BAD_FLAG', '--trusted-proxy and --namespaces apply to --kubernetes only', { hint: 'with --config, set trustedProxies in the file' });
    return serveIngress({ ...common, configFile: flags.config });
  }
  return serveKubernetesIngress({
    ...common,
    kubeConfig: loadKubeConfig(flags.kubeconfig, { inCluster: true }),
    namespaces: list(flags.namespaces ?? flags.tenant),
    domains: list(flags.domains),
    ingressClassName: flags.ingressClass,
    trustedProxies: flags.trustedProxy,
  });
}

export function registerIngressCommand(program: Command): void {
  program
    .command('ingress')
    .description("Run one tenant's HTTP ingress: TLS with the tenant's certificates, host + path routing (see docs/ingress.md).")
    .requiredOption('--tenant <name>', 'the tenant this ingress serves')
    .option('--config <file>', 'config file (YAML): certificates, routes; reloaded on change and on SIGHUP')
    .option('--kubernetes', "follow the tenant's Routes, Ingresses, Services and TLS Secrets in the Kubernetes API")
    .option('--kubeconfig <file>', 'with --kubernetes: credentials (default: in-cluster, else KUBECONFIG or ~/.kube/config)')
    .option('--namespaces <list>', 'with --kubernetes: the tenant namespaces to watch, comma-separated (default: the tenant name)')
    .option('--domains <list>', "with --kubernetes: the tenant's domains, comma-separated; hosts and certificates outside them are refused")
    .option('--ingress-class <name>', 'with --kubernetes: read Ingresses of this class', defaultIngressClassName)
    .option('--trusted-proxy <cidr>', 'with --kubernetes: the edge router: connections from here must start with PROXY v2 (repeatable)', (v: string, all: string[]) => [...all, v], [])
    .option('--listen <addr>', 'TLS listener (edge routers connect here, with PROXY v2 from trusted CIDRs)', '0.0.0.0:8443')
    .option('--status <addr>', '/healthz and /metrics listener', '127.0.0.1:9102')
    .option('--drain-timeout <ms>', 'grace period for open requests on SIGTERM', '30000')
    .option('--no-access-log', 'do not write one JSON line per request to stdout')
    .action(async (flags: IngressFlags) => {
      const drainMs = Number(flags.drainTimeout);
      if (!Number.isSafeInteger(drainMs) || drainMs < 0) throw new LandlordError('LL_INGRESS_BAD_FLAG', `--drain-timeout must be a non-negative integer, got ${JSON.stringify(flags.drainTimeout)}`);
      const running = await start(flags);
      process.on('SIGHUP', () => void running.reload());
      await new Promise<void>((resolve) => {
        const stop = (): void => void running.shutdown(drainMs).then(resolve);
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });
}
