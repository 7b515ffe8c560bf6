/**
 * Test support for src/ingress (imported by *.test.ts and bench only): tenant PKI from src/pki
 * (keys generated per run), echo backends, and an ingress listening on 127.0.0.1.
 */
import { once } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import { createRootCa, createTenantCa, issueLeafCertificate, loadAuthority, tenantNamePolicy, type PemBundle } from '../pki/index.ts';
import { silentLogger } from '../shared/log.ts';
import { buildCertificateSet, type CertificatePem } from './certificates.ts';
import { buildIngress, type Ingress, type IngressDependencies } from './ingress.ts';
import { IngressTable, type IngressRoute } from './table.ts';

export interface TenantCertificates {
  /** The platform root: what clients trust. */
  readonly rootCa: string;
  leaf(...names: string[]): Promise<CertificatePem>;
}

/** Root → tenant CA for `tenant` with `domains` → leaves on demand. */
export async function tenantPki(tenant: string, domains: readonly string[], root?: PemBundle): Promise<TenantCertificates & { root: PemBundle }> {
  const rootBundle = root ?? (await createRootCa());
  const tenantCa = await loadAuthority(await createTenantCa(await loadAuthority(rootBundle), tenantNamePolicy(tenant, domains)));
  return {
    root: rootBundle,
    rootCa: rootBundle.certificate,
    async leaf(...names) {
      const bundle = await issueLeafCertificate(tenantCa, { dns: names, uri: [] });
      return { source: `test:${names.join(',')}`, certificate: bundle.certificate, privateKey: bundle.privateKey ?? '' };
    },
  };
}

export async function listenLocal(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

export async function closeLocal(server: net.Server): Promise<void> {
  if (!server.listening) return;
  const closed = once(server, 'close');
  server.close();
  if (server instanceof http.Server) server.closeAllConnections();
  await closed;
}

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly bodyBytes: number;
}

export interface EchoBackend {
  readonly port: number;
  readonly seen: SeenRequest[];
  /** TCP connections accepted so far (shows upstream reuse). */
  connections(): number;
  close(): Promise<void>;
}

/** An HTTP/1.1 backend answering `<name> <method> <url> <body bytes>` as JSON. */
export async function startEchoBackend(name: string): Promise<EchoBackend> {
  const seen: SeenRequest[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes });
      res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name, connection: 'keep-alive', 'keep-alive': 'timeout=5' });
      res.end(JSON.stringify({ backend: name, method: req.method, url: req.url, bodyBytes, xff: req.headers['x-forwarded-for'] }));
    });
  });
  server.on('connection', () => (connections += 1));
  const port = await listenLocal(server);
  return { port, seen, connections: () => connections, close: () => closeLocal(server) };
}

export function route(host: string, path: string, port: number, pathType: 'Exact' | 'Prefix' = 'Prefix'): IngressRoute {
  return { host, path, pathType, backend: { host: '127.0.0.1', port }, source: `${host}${path}` };
}

export interface RunningTestIngress {
  readonly ingress: Ingress;
  readonly port: number;
  readonly statusPort: number;
  close(): Promise<void>;
}

export async function startTestIngress(routes: readonly IngressRoute[], certificates: readonly CertificatePem[], deps: Partial<IngressDependencies> = {}): Promise<RunningTestIngress> {
  const ingress = buildIngress({ tenant: 'acme', logger: silentLogger, ...deps });
  ingress.apply({ table: new IngressTable(routes), certificates: buildCertificateSet(certificates) });
  const port = await listenLocal(ingress.server);
  const statusPort = await listenLocal(ingress.statusServer);
  return { ingress, port, statusPort, close: () => ingress.drain(0) };
}
