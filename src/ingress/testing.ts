/**
 * Test support for src/ingress (imported by *.test.ts and bench only): tenant PKI from src/pki
 * (keys generated per run), echo backends, and an ingress listening on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
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

/** Runs a command to completion under a deadline (the process is killed after `timeoutMs`). */
export async function runCommand(command: string, args: readonly string[], timeoutMs = 15_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

const websocketGuid = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * A minimal RFC 6455 echo server (test only): answers the handshake, then echoes each text frame
 * (client frames are masked; replies are not) with `<name>:` in front. Payloads up to 64 KiB.
 */
export async function startWebSocketEcho(name: string): Promise<{ port: number; forwardedFor: string[]; close(): Promise<void> }> {
  const forwardedFor: string[] = [];
  const server = http.createServer((_req, res) => res.writeHead(426).end());
  const sockets = new Set<net.Socket>();
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    forwardedFor.push(String(req.headers['x-forwarded-for']));
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}${websocketGuid}`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (pending.length < 2) return;
        const opcode = pending[0]! & 0x0f;
        let length = pending[1]! & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (pending.length < 4) return;
          length = pending.readUInt16BE(2);
          offset = 4;
        }
        if (pending.length < offset + 4 + length) return;
        const mask = pending.subarray(offset, offset + 4);
        const payload = Buffer.from(pending.subarray(offset + 4, offset + 4 + length).map((byte, i) => byte ^ mask[i % 4]!));
        pending = pending.subarray(offset + 4 + length);
        if (opcode === 0x8) return void socket.end(Buffer.from([0x88, 0x00]));
        if (opcode !== 0x1) continue;
        const reply = Buffer.from(`${name}:${payload.toString()}`);
        const header = reply.length < 126 ? Buffer.from([0x81, reply.length]) : Buffer.from([0x81, 126, reply.length >> 8, reply.length & 0xff]);
        socket.write(Buffer.concat([header, reply]));
      }
    });
    socket.on('error', () => {});
  });
  const port = await listenLocal(server);
  return {
    port,
    forwardedFor,
    async close() {
      for (const socket of sockets) socket.destroy();
      await closeLocal(server);
    },
  };
}
