/**
 * Test support for protocol end-to-end tests: the real edge router (in process, TLS and
 * PostgreSQL listeners on 127.0.0.1) in front of real sidecars (in process, one per service),
 * with a tenant PKI made at test time. Routes send PROXY v2 to the sidecars, which trust only
 * 127.0.0.1 for it. Everything is closed by `close()`.
 */
import path from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { buildRouter, type RouteSpec, type Router } from '../../src/router/index.ts';
import { serveSidecar, type AuthorizationSettings, type RunningSidecar } from '../../src/sidecar/index.ts';
import { captureLog, removeDirectory, temporaryDirectory, testPlatform, writeKubeletDirectory, type CapturedLog, type TenantAuthority, type TestPlatform } from '../../src/sidecar/testing.ts';
import type { PemBundle } from '../../src/pki/index.ts';
import { closeServer, listen } from '../../src/router/testing/peers.ts';

export interface ServiceOptions {
  readonly hostname: string;
  readonly appPort: number;
  readonly protocol: 'tls' | 'postgres';
  readonly authorization?: AuthorizationSettings;
}

export interface Edge {
  readonly world: TestPlatform;
  readonly acme: TenantAuthority;
  readonly globex: TenantAuthority;
  readonly tlsPort: number;
  readonly postgresPort: number;
  /** The platform root as a file, for clients (`--ca`, `sslrootcert`, `--cacert`). */
  readonly rootFile: string;
  /** Writes a client certificate directory (tls.crt, tls.key, root.crt) for `leaf`. */
  clientDirectory(name: string, leaf: PemBundle): Promise<string>;
  /** Starts acme's sidecar for `hostname` in front of the app and routes the name to it. */
  addService(options: ServiceOptions): Promise<RunningSidecar & { readonly log: CapturedLog }>;
  /** Issues a new certificate for `hostname` and swaps it into the sidecar's directory the way kubelet does. */
  rotate(hostname: string): Promise<void>;
  close(): Promise<void>;
}

export const serverOnly: AuthorizationSettings = { clientAuthentication: 'none', allowedUris: [], allowedDnsNames: [], allowAnyIdentity: false };

export async function startEdge(): Promise<Edge> {
  const world = await testPlatform();
  const acme = await world.tenant('acme');
  const globex = await world.tenant('globex');
  const dir = await temporaryDirectory('landlord-edge-');
  const rootFile = path.join(dir, 'root.crt');
  await writeFile(rootFile, world.root.certificate);
  const router: Router = buildRouter({});
  const routes: RouteSpec[] = [];
  const sidecars: RunningSidecar[] = [];
  const apply = (): void => {
    const result = router.applySnapshot({ routes, tenants: [], defaults: { tls: { kind: 'reject' }, postgres: { kind: 'reject' } } });
    if (!result.ok) throw new Error(`routes rejected: ${JSON.stringify(result)}`);
  };
  const tlsPort = await listen(router.tlsServer);
  const postgresPort = await listen(router.postgresServer);
  return {
    world, acme, globex, tlsPort, postgresPort, rootFile,
    async clientDirectory(name, leaf) {
      const clientDir = path.join(dir, name);
      await writeKubeletDirectory(await ensureDirectory(clientDir), { 'tls.crt': leaf.certificate, 'tls.key': leaf.privateKey ?? '', 'root.crt': world.root.certificate });
      return clientDir;
    },
    async addService(options) {
      const certDir = await ensureDirectory(path.join(dir, options.hostname));
      await writeKubeletDirectory(certDir, world.mountFiles(acme, await world.issue(acme, { dns: [options.hostname] })));
      const log = captureLog();
      const sidecar = await serveSidecar({
        certDir, listen: { host: '127.0.0.1', port: 0 }, status: { host: '127.0.0.1', port: 0 },
        modeConfig: {
          mode: 'server', app: { host: '127.0.0.1', port: options.appPort }, authorization: options.authorization ?? serverOnly,
          trustedProxies: ['127.0.0.1/32'], postgres: options.protocol === 'postgres', appProxyProtocol: false,
        },
        handshakeTimeoutMs: 10_000, reload: { settleMs: 50, pollMs: 60_000 }, logger: log.logger,
      });
      sidecars.push(sidecar);
      routes.push({
        source: options.hostname, hostname: options.hostname, tenant: 'acme', protocol: options.protocol, alpn: undefined,
        backends: [{ host: '127.0.0.1', port: sidecar.port }], proxyProtocol: 'v2', http: undefined,
      });
      apply();
      return Object.assign(sidecar, { log });
    },
    async rotate(hostname) {
      await writeKubeletDirectory(path.join(dir, hostname), world.mountFiles(acme, await world.issue(acme, { dns: [hostname] })));
    },
    async close() {
      await router.drain(1_000);
      await closeServer(router.tlsServer);
      await closeServer(router.postgresServer);
      for (const sidecar of sidecars) await sidecar.shutdown(1_000);
      await removeDirectory(dir);
    },
  };
}

async function ensureDirectory(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  return dir;
}
