/**
 * `landlord sidecar server|client`: the TLS sidecar (docs/sidecar.md). Parses flags, wires
 * signals (SIGTERM/SIGINT drain), and hands everything else to src/sidecar.
 */
import type { Command } from 'commander';
import { LandlordError } from '../../shared/errors.ts';
import { createLogger } from '../../shared/log.ts';
import { parseListenAddress } from '../../router/index.ts';
import { serveSidecar, type ModeConfig, type RunningSidecar } from '../../sidecar/index.ts';

interface CommonFlags {
  listen: string;
  certDir: string;
  status?: string;
  handshakeTimeout: string;
  drainTimeout: string;
}

interface ServerFlags extends CommonFlags {
  app: string;
  clientAuth: string;
  allowUri: string[];
  allowDns: string[];
  allowAnyIdentity: boolean;
  trustedProxy: string[];
  postgres: boolean;
  appProxyProtocol: boolean;
}

interface ClientFlags extends CommonFlags {
  upstream: string;
  servername: string;
  expectIdentity?: string;
}

const repeatable = (value: string, all: string[]): string[] => [...all, value];

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new LandlordError('LL_SIDECAR_BAD_FLAG', `--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

function serverMode(flags: ServerFlags): ModeConfig {
  if (flags.clientAuth !== 'none' && flags.clientAuth !== 'required') {
    throw new LandlordError('LL_SIDECAR_BAD_FLAG', `--client-auth must be none or required, got ${JSON.stringify(flags.clientAuth)}`);
  }
  return {
    mode: 'server',
    app: parseListenAddress(flags.app),
    authorization: {
      clientAuthentication: flags.clientAuth,
      allowedUris: flags.allowUri,
      allowedDnsNames: flags.allowDns,
      allowAnyIdentity: flags.allowAnyIdentity,
    },
    trustedProxies: flags.trustedProxy,
    postgres: flags.postgres,
    appProxyProtocol: flags.appProxyProtocol,
  };
}

async function run(flags: CommonFlags, modeConfig: ModeConfig): Promise<void> {
  const logger = createLogger({ component: 'sidecar' });
  const running: RunningSidecar = await serveSidecar({
    certDir: flags.certDir,
    listen: parseListenAddress(flags.listen),
    status: flags.status === undefined ? undefined : parseListenAddress(flags.status),
    modeConfig,
    handshakeTimeoutMs: positive('handshake-timeout', flags.handshakeTimeout),
    reload: { settleMs: 100, pollMs: 60_000 },
    logger,
  });
  const drainMs = positive('drain-timeout', flags.drainTimeout);
  await new Promise<void>((resolve) => {
    const stop = (): void => void running.shutdown(drainMs).then(resolve);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

function common(command: Command): Command {
  return command
    .requiredOption('--cert-dir <dir>', 'mounted certificates: tls.crt, tls.key, ca.crt, root.crt, ca.crl, root.crl, peer-<tenant>.crt/.crl (watched)')
    .option('--status <addr>', 'status and metrics listener (/_status, /metrics), e.g. 0.0.0.0:9901')
    .option('--handshake-timeout <ms>', 'deadline for the preamble and TLS handshake', '10000')
    .option('--drain-timeout <ms>', 'grace period for open connections on SIGTERM', '25000');
}

export function registerSidecarCommand(program: Command): void {
  const sidecar = program.command('sidecar').description('Run the TLS sidecar next to an app (see docs/sidecar.md).');
  common(sidecar.command('server').description('Terminate TLS or mutual TLS and relay plaintext to the app on 127.0.0.1.'))
    .requiredOption('--listen <addr>', 'public TLS listener, e.g. 0.0.0.0:8443')
    .requiredOption('--app <addr>', 'the app, e.g. 127.0.0.1:5432')
    .option('--client-auth <mode>', 'none | required (mutual TLS against the tenant CA)', 'required')
    .option('--allow-uri <uri>', 'admit this SPIFFE URI SAN (repeatable)', repeatable, [])
    .option('--allow-dns <name>', 'admit this DNS SAN (repeatable)', repeatable, [])
    .option('--allow-any-identity', 'admit every workload of the trusted tenant CAs (an empty allow-list admits nobody)', false)
    .option('--trusted-proxy <cidr>', 'the edge router: connections from here must start with PROXY v2 (repeatable)', repeatable, [])
    .option('--postgres', 'answer PostgreSQL SSLRequest before TLS', false)
    .option('--app-proxy-protocol', 'send the client address to the app as PROXY v2', false)
    .action(async (flags: ServerFlags) => run(flags, serverMode(flags)));
  common(sidecar.command('client').description('Listen in plaintext on localhost and originate mutual TLS to another service.'))
    .requiredOption('--listen <addr>', 'local plaintext listener, e.g. 127.0.0.1:3306')
    .requiredOption('--upstream <addr>', 'the edge router or the service, e.g. router.landlord-system:443')
    .requiredOption('--servername <name>', 'SNI to send, e.g. db.globex.example')
    .option('--expect-identity <id>', 'DNS name or spiffe:// URI the server must present (default: --servername)')
    .action(async (flags: ClientFlags) => run(flags, {
      mode: 'client', upstream: parseListenAddress(flags.upstream), servername: flags.servername, expectedIdentity: flags.expectIdentity,
    }));
}
