/**
 * Test support: real peers on 127.0.0.1 (Node TLS servers, raw TCP servers, nginx), each
 * stopped by the returned `close()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { decodeProxyV2, type ProxyV2Header } from '../../shared/proxy-protocol.ts';

export async function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

export async function closeServer(server: net.Server): Promise<void> {
  if (!server.listening) return;
  const closed = once(server, 'close');
  server.close();
  if ('closeAllConnections' in server && typeof server.closeAllConnections === 'function') (server.closeAllConnections as () => void)();
  await closed;
}

/** A port that was free a moment ago (for servers that cannot listen on port 0, like nginx). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await closeServer(server);
  return port;
}

export interface EchoBackend {
  readonly port: number;
  /** PROXY headers received, in order (only when `proxyProtocol` was set). */
  readonly proxyHeaders: ProxyV2Header[];
  readonly connections: () => number;
  close(): Promise<void>;
}

/**
 * A TLS server that answers each chunk with `<name>:<chunk>` and ends when the client ends.
 * With `proxyProtocol`, it first reads a PROXY v2 header and records it.
 */
export async function startTlsEcho(name: string, credentials: { cert: Buffer; key: Buffer }, options: { proxyProtocol?: boolean } = {}): Promise<EchoBackend> {
  const proxyHeaders: ProxyV2Header[] = [];
  let count = 0;
  const sockets = new Set<net.Socket>();
  const secure = tls.createServer({ ...credentials, ALPNProtocols: ['h2', 'http/1.1', 'postgresql'] }, (socket) => {
    socket.on('data', (chunk: Buffer) => socket.write(`${name}:${chunk.toString()}`));
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
  });
  const tcp = net.createServer((socket) => {
    count += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (!options.proxyProtocol) return void secure.emit('connection', socket);
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const step = decodeProxyV2(buffered);
      if (step.kind === 'needMore') return;
      socket.removeListener('data', onData);
      if (step.kind === 'error') return void socket.destroy();
      proxyHeaders.push(step.header);
      socket.pause();
      socket.unshift(buffered.subarray(step.length));
      secure.emit('connection', socket);
    };
    socket.on('data', onData);
  });
  const port = await listen(tcp);
  return {
    port,
    proxyHeaders,
    connections: () => count,
    async close() {
      for (const socket of sockets) socket.destroy();
      await closeServer(tcp);
    },
  };
}

export interface NginxBackend {
  readonly port: number;
  close(): Promise<void>;
}

/** nginx serving HTTPS for `serverName` with a fixed body, from a temporary prefix. */
export async function startNginx(serverName: string, certFile: string, keyFile: string, body: string): Promise<NginxBackend> {
  const dir = mkdtempSync(path.join(tmpdir(), 'landlord-router-nginx-'));
  const port = await freePort();
  const config = `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server {
    listen 127.0.0.1:${port} ssl;
    server_name ${serverName};
    ssl_certificate ${certFile};
    ssl_certificate_key ${keyFile};
    location / { return 200 "${body}\\n"; }
  }
}
`;
  writeFileSync(path.join(dir, 'nginx.conf'), config);
  const child: ChildProcess = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  await waitForPort(port, 10_000);
  return {
    port,
    async close() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until something accepts TCP on the port (bounded by `timeoutMs`). */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** Runs a command to completion with a deadline; resolves with its exit code and output. */
export async function run(command: string, args: readonly string[], input = '', timeoutMs = 15_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}
