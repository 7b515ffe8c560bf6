/**
 * `landlord ingress`: one tenant's HTTP ingress from a config file. Parses flags, wires signals,
 * and hands everything else to src/ingress (serveIngress).
 */
import type { Command } from 'commander';
import { LandlordError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/log.ts';
import { serveIngress } from '../../ingress/index.ts';
import { parseListenAddress } from '../../router/index.ts';

interface IngressFlags {
  tenant: string;
  config: string;
  listen: string;
  status: string;
  drainTimeout: string;
  accessLog: boolean;
}

export function registerIngressCommand(program: Command): void {
  program
    .command('ingress')
    .description("Run one tenant's HTTP ingress: TLS with the tenant's certificates, host + path routing (see docs/ingress.md).")
    .requiredOption('--tenant <name>', 'the tenant this ingress serves')
    .requiredOption('--config <file>', 'config file (YAML): certificates, routes; reloaded on change and on SIGHUP')
    .option('--listen <addr>', 'TLS listener (edge routers connect here, with PROXY v2 from trusted CIDRs)', '0.0.0.0:8443')
    .option('--status <addr>', '/healthz and /metrics listener', '127.0.0.1:9102')
    .option('--drain-timeout <ms>', 'grace period for open requests on SIGTERM', '30000')
    .option('--no-access-log', 'do not write one JSON line per request to stdout')
    .action(async (flags: IngressFlags) => {
      const drainMs = Number(flags.drainTimeout);
      if (!Number.isSafeInteger(drainMs) || drainMs < 0) throw new LandlordError('LL_INGRESS_BAD_FLAG', `--drain-timeout must be a non-negative integer, got ${JSON.stringify(flags.drainTimeout)}`);
      const running = await serveIngress({
        tenant: flags.tenant,
        configFile: flags.config,
        listen: parseListenAddress(flags.listen),
        status: parseListenAddress(flags.status),
        logger: createLogger({ component: 'ingress' }),
        ...(flags.accessLog ? { accessLog: process.stdout } : {}),
      });
      process.on('SIGHUP', () => void running.reload());
      await new Promise<void>((resolve) => {
        const stop = (): void => void running.shutdown(drainMs).then(resolve);
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });
}
