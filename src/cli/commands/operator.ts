/**
 * `landlord controller`: runs the tenant operator until SIGTERM/SIGINT (graceful: finishes
 * running reconciles, releases the Lease) or lost leadership (exit 1, to be restarted).
 * Wiring only: everything else is src/operator's buildOperator.
 */
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { buildOperator, KubeClient, readApiServerEndpoints } from '../../operator/index.ts';
import { LandlordError } from '../../shared/errors.ts';
import { loadCredentials } from '../../shared/kubeconfig.ts';
import { createLogger } from '../../shared/log.ts';

interface ControllerOptions {
  kubeconfig?: string;
  workers: string;
  healthPort: string;
  healthHost: string;
  leaderElect: boolean;
  identity?: string;
  leaseDuration: string;
  resync: string;
  image: string;
  imagePullPolicy: string;
  routerSourceCidr: string;
}

/** The image `landlord up` builds and imports into the local cluster. */
const defaultImage = 'landlord.dev/landlord:dev';
/** The local cluster's router source: the node IP, as the router runs with hostNetwork (ADR 0004). */
const defaultRouterSourceCidr = '10.244.0.1/32';

function cidr(text: string): string {
  const [address = '', prefix = '', extra] = text.split('/');
  const family = isIP(address);
  const bits = Number(prefix);
  if (family === 0 || extra !== undefined || prefix === '' || !Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) {
    throw new LandlordError('LL_OPERATOR_BAD_FLAG', `--router-source-cidr must be an IPv4 or IPv6 CIDR, got ${JSON.stringify(text)}`, { hint: 'e.g. 10.244.0.1/32: the address the edge router connects to ingresses from' });
  }
  return text;
}

const pullPolicies = ['Always', 'IfNotPresent', 'Never'] as const;

function pullPolicy(text: string): (typeof pullPolicies)[number] {
  const found = pullPolicies.find((policy) => policy === text);
  if (!found) throw new LandlordError('LL_OPERATOR_BAD_FLAG', `--image-pull-policy must be one of ${pullPolicies.join(', ')}, got ${JSON.stringify(text)}`, { hint: 'Never for an image imported into the node, as landlord up does' });
  return found;
}

export function registerOperatorCommands(program: Command): void {
  program
    .command('controller')
    .description('Run the tenant operator (Tenant → namespaces, RBAC, quotas, network policies, tenant CA).')
    .option('--kubeconfig <file>', 'credentials to use (default: in-cluster, else KUBECONFIG or ~/.kube/config)')
    .option('--workers <n>', 'tenants reconciled concurrently', '8')
    .option('--health-port <port>', 'serve /healthz, /readyz and /metrics on this port (0: any free port; -1: off)', '8081')
    .option('--health-host <host>', 'address for the health port', '127.0.0.1')
    .option('--no-leader-elect', 'reconcile without a Lease (run a single replica only)')
    .option('--identity <id>', 'this replica\'s name in the Lease (default: <hostname>_<random>)')
    .option('--lease-duration <seconds>', 'how long a Lease outlives its holder\'s last renewal', '15')
    .option('--resync <seconds>', 'reconcile every tenant this often, changed or not', '600')
    .option('--image <ref>', "the landlord image each tenant's ingress runs", defaultImage)
    .option('--image-pull-policy <policy>', "Always | IfNotPresent | Never, for each tenant's ingress (the webhook turns IfNotPresent into Always in tenant namespaces)", 'IfNotPresent')
    .option('--router-source-cidr <cidr>', 'where the edge router connects from: tenant ingresses require and believe PROXY v2 from it', defaultRouterSourceCidr)
    .addHelpText('after', '\nExample:\n  landlord controller --kubeconfig ~/.kube/config --health-port 8081')
    .action(async (options: ControllerOptions) => {
      const logger = createLogger({ component: 'operator' });
      const client = new KubeClient(loadCredentials(options.kubeconfig, { inCluster: true }));
      // Before reconciling: guessing an empty list would prune every ingress's policy to the API server.
      const apiServer = await readApiServerEndpoints(client).catch((cause: unknown) => {
        throw new LandlordError('LL_OPERATOR_API_SERVER_ENDPOINTS', 'cannot read the Endpoints default/kubernetes, which tenant ingresses\' NetworkPolicies need', { hint: 'the operator needs get on endpoints named kubernetes (deploy/rbac/operator.yaml); check that the API server is reachable', cause });
      });
      const ingress = { image: options.image, imagePullPolicy: pullPolicy(options.imagePullPolicy), routerSourceCidr: cidr(options.routerSourceCidr), apiServer };
      const leaseMs = Number(options.leaseDuration) * 1000;
      const healthPort = Number(options.healthPort);
      const operator = buildOperator({
        client,
        logger,
        workers: Number(options.workers),
        resyncIntervalMs: Number(options.resync) * 1000,
        ingress,
        ...(healthPort >= 0 ? { health: { port: healthPort, host: options.healthHost } } : {}),
        ...(options.leaderElect ? {
          leaderElection: {
            identity: options.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`,
            leaseDurationMs: leaseMs,
            renewDeadlineMs: Math.round(leaseMs * 2 / 3),
            renewIntervalMs: Math.max(200, Math.round(leaseMs / 6)),
          },
        } : {}),
      });
      const stop = (): void => void operator.stop();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      const running = operator.run();
      void operator.started().then(() => logger.info('reconciling', { healthPort: operator.healthPort() }));
      const exit = await running;
      logger.info('operator stopped', { reason: exit });
      if (exit === 'lost-leadership') process.exitCode = 1;
    });
}
