/**
 * `landlord connect HOSTNAME`: a local plaintext listener that tunnels every connection through
 * the edge router to HOSTNAME with TLS (SNI = HOSTNAME), like cloud-sql-proxy. For protocols
 * the router cannot route by SNI themselves (MySQL/MariaDB: the server speaks first).
 */
import type net from 'node:net';
import { once } from 'node:events';
import type { Command } from 'commander';
import { createLogger } from '../../shared/log.ts';
import { parseListenAddress } from '../../router/index.ts';
import { buildTunnel, createSidecarMetrics, readConnectCredentials } from '../../sidecar/index.ts';

interface ConnectFlags {
  local: string;
  router: string;
  cert?: string;
  ca?: string;
  expectIdentity?: string;
  handshakeTimeout: string;
}

export function registerConnectCommand(program: Command): void {
  program
    .command('connect')
    .description('Tunnel local plaintext connections to a landlord service through the edge router with TLS.')
    .argument('<hostname>', 'the service hostname (SNI), e.g. db.acme.example')
    .option('--local <addr>', 'local listener (port 0 picks one; the address is printed)', '127.0.0.1:0')
    .option('--router <addr>', 'the edge router TLS listener', '127.0.0.1:443')
    .option('--cert <dir>', 'client certificate directory (tls.crt, tls.key) for mutual TLS')
    .option('--ca <file>', 'CA to verify the service with (platform root or tenant CA); default root.crt or ca.crt in --cert')
    .option('--expect-identity <id>', 'DNS name or spiffe:// URI the service must present (default: HOSTNAME)')
    .option('--handshake-timeout <ms>', 'TLS handshake deadline', '10000')
    .action(async (hostname: string, flags: ConnectFlags) => {
      const tunnel = buildTunnel({
        upstream: parseListenAddress(flags.router),
        servername: hostname,
        ...(flags.expectIdentity === undefined ? {} : { expectedIdentity: flags.expectIdentity }),
        credentials: await readConnectCredentials(flags.ca, flags.cert),
        handshakeTimeoutMs: Number(flags.handshakeTimeout) || 10_000,
        metrics: createSidecarMetrics(),
        logger: createLogger({ component: 'connect' }),
      });
      const local = parseListenAddress(flags.local);
      tunnel.server.listen(local.port, local.host);
      await once(tunnel.server, 'listening');
      const { address, port } = tunnel.server.address() as net.AddressInfo;
      console.log(`landlord connect: ${hostname} on ${address}:${port}`);
      await new Promise<void>((resolve) => {
        const stop = (): void => void tunnel.drain(5_000).then(resolve);
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });
}
