/**
 * `landlord webhook`: serves the admission webhooks until interrupted. Wiring only: decisions,
 * TLS and certificate reloading live in src/admission.
 */
import type { Command } from 'commander';
import { buildWebhookServer, defaultSidecarSettings, kubeTenantFacts, sidecarSettings } from '../../admission/index.ts';
import { LandlordError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/log.ts';
import { loadKubeConfig } from './kubeconfig.ts';

export function registerWebhookCommands(program: Command): void {
  program
    .command('webhook')
    .description('Serve the admission webhooks (restricted pod security, tenant guards, restricted defaults, TLS sidecar injection) over TLS.')
    .requiredOption('--cert-dir <dir>', 'directory holding tls.crt and tls.key (re-read when they change)')
    .option('--listen <address>', 'host:port to listen on', '0.0.0.0:8443')
    .option('--sidecar-image <image>', 'image of the injected TLS sidecars', defaultSidecarSettings.image)
    .option('--sidecar-image-pull-policy <policy>', 'Always | IfNotPresent | Never, for the injected sidecars', defaultSidecarSettings.imagePullPolicy)
    .option('--router-source-cidr <cidr>', 'the edge router\'s source addresses: the only PROXY v2 peers sidecars trust', defaultSidecarSettings.routerSourceCidr)
    .addHelpText('after', `
Routes: POST /validate, POST /mutate (AdmissionReview admission.k8s.io/v1), GET /healthz,
GET /metrics (Prometheus: review durations by webhook and outcome, denials by rule).
See docs/admission.md for what is enforced and how the webhooks are registered.

Example:
  landlord pki init-root --out pki/root
  landlord webhook --cert-dir pki/webhook --listen 127.0.0.1:8443`)
    .action(async (options: { certDir: string; listen: string; sidecarImage: string; sidecarImagePullPolicy: string; routerSourceCidr: string }) => {
      const { host, port } = parseListen(options.listen);
      const sidecar = sidecarSettings({ image: options.sidecarImage, imagePullPolicy: options.sidecarImagePullPolicy, routerSourceCidr: options.routerSourceCidr });
      const logger = createLogger({ component: 'admission' });
      // Tenants and Routes are read with the default credentials: in-cluster, or $KUBECONFIG.
      const facts = kubeTenantFacts(loadKubeConfig(undefined, { inCluster: true }), { logger });
      const server = await buildWebhookServer({
        certDir: options.certDir, logger, sidecar,
        hostnameFacts: (namespace) => facts.hostnameFacts(namespace),
        mutationContext: (namespace, needs) => facts.mutationContext(namespace, needs),
      });
      const address = await server.listen(port, host);
      logger.info('serving admission webhooks', { address: `${address.address}:${address.port}` });
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await server.close();
      facts.close();
    });
}

function parseListen(listen: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(listen);
  const port = Number(match?.[2]);
  if (!match || !Number.isInteger(port) || port > 65535) {
    throw new LandlordError('LL_ADMISSION_LISTEN_INVALID', `--listen ${JSON.stringify(listen)} is not host:port`, { hint: 'e.g. --listen 127.0.0.1:8443' });
  }
  return { host: (match[1] ?? '').replace(/^\[(.*)\]$/, '$1') || '0.0.0.0', port };
}
