/**
 * Ingress benchmark: landlord's tenant ingress (`landlord ingress`) and nginx as a TLS-terminating
 * reverse proxy, side by side in one run, on 127.0.0.1, one process each, in front of the same
 * plain-HTTP nginx backend with keep-alive upstream connections on both. Reports requests/s and
 * p99 latency (wrk, HTTP/1.1 keep-alive over TLS, bounded duration) and the ratios landlord/nginx.
 * Usage: node bench/ingress/run.ts [--seconds N] [--connections N]. Needs openssl, nginx and wrk.
 * Not a test: nothing here asserts on timing.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stopOnInterrupt } from '../support/interrupt.ts';
import { stopProcesses } from '../support/proc.ts';
import { freePort, waitForPort } from '../support/net.ts';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, connections: { type: 'string', default: '32' } } });
const seconds = Math.min(30, Math.max(1, Number(args.seconds)));
const connections = Math.min(256, Math.max(1, Number(args.connections)));
const work = mkdtempSync(path.join(tmpdir(), 'landlord-bench-ingress-'));
const children: ChildProcess[] = [];
const root = path.resolve(import.meta.dirname, '../..');

function start(command: string, argv: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'inherit'], env });
  children.push(child);
  return child;
}

interface Figures {
  readonly name: string;
  readonly requestsPerSecond: number;
  readonly p99Ms: number;
  readonly errors: string;
}

function milliseconds(value: string, unit: string): number {
  const scale: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };
  return Number(value) * (scale[unit] ?? NaN);
}

async function wrk(name: string, port: number): Promise<Figures> {
  const child = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', `https://localhost:${port}/`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await once(child, 'exit');
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out);
  return {
    name,
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    p99Ms: p99 ? milliseconds(p99[1]!, p99[2]!) : NaN,
    errors: [/Socket errors:.*$/m.exec(out)?.[0], /Non-2xx or 3xx responses: \d+/.exec(out)?.[0]].filter(Boolean).join('; '),
  };
}

async function main(): Promise<void> {
  mkdirSync(path.join(work, 'certs'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'certs/tls.key', '-out', 'certs/tls.crt', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { cwd: work, stdio: 'ignore' });
  const temp = `client_body_temp_path ${work}; proxy_temp_path ${work}; fastcgi_temp_path ${work}; uwsgi_temp_path ${work}; scgi_temp_path ${work};`;

  const backendPort = await freePort();
  writeFileSync(path.join(work, 'backend.conf'), `worker_processes 1; pid ${work}/backend.pid; error_log ${work}/backend.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; ${temp}
  server { listen 127.0.0.1:${backendPort}; location / { return 200 "hello from the backend\\n"; } } }\n`);
  start('nginx', ['-p', work, '-c', `${work}/backend.conf`, '-g', 'daemon off;']);

  const nginxPort = await freePort();
  writeFileSync(path.join(work, 'proxy.conf'), `worker_processes 1; pid ${work}/proxy.pid; error_log ${work}/proxy.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; ${temp}
  upstream app { server 127.0.0.1:${backendPort}; keepalive 64; }
  server { listen 127.0.0.1:${nginxPort} ssl http2; server_name localhost;
    ssl_certificate ${work}/certs/tls.crt; ssl_certificate_key ${work}/certs/tls.key;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host $host; proxy_set_header X-Forwarded-For $remote_addr; proxy_set_header X-Forwarded-Proto https; } } }\n`);
  start('nginx', ['-p', work, '-c', `${work}/proxy.conf`, '-g', 'daemon off;']);

  const landlordPort = await freePort();
  const statusPort = await freePort();
  writeFileSync(path.join(work, 'ingress.yaml'), `certificates: [certs]\nroutes:\n  - { host: localhost, backend: "127.0.0.1:${backendPort}" }\n`);
  start(process.execPath, [path.join(root, 'src/cli/main.ts'), 'ingress', '--tenant', 'bench', '--config', path.join(work, 'ingress.yaml'), '--listen', `127.0.0.1:${landlordPort}`, '--status', `127.0.0.1:${statusPort}`, '--no-access-log'], { ...process.env, LANDLORD_LOG_LEVEL: 'warn' });
  await Promise.all([waitForPort(backendPort, 'backend nginx'), waitForPort(nginxPort, 'nginx proxy'), waitForPort(landlordPort, 'landlord ingress')]);

  // A short warm-up each (JIT, TLS session setup), then the measured runs.
  for (const port of [nginxPort, landlordPort]) {
    const warm = spawn('wrk', ['-t1', '-c4', '-d1s', `https://localhost:${port}/`], { stdio: 'ignore' });
    await once(warm, 'exit');
  }
  const nginx = await wrk('nginx', nginxPort);
  const landlord = await wrk('landlord', landlordPort);
  console.log(`ingress benchmark: wrk -t1 -c${connections} -d${seconds}s, HTTP/1.1 keep-alive over TLS, one process per proxy, loopback, same nginx backend`);
  console.log('proxy       requests/s      p99 ms   errors');
  for (const r of [nginx, landlord]) console.log(`${r.name.padEnd(10)} ${r.requestsPerSecond.toFixed(0).padStart(11)} ${r.p99Ms.toFixed(2).padStart(11)}   ${r.errors || '-'}`);
  console.log(`landlord/nginx: requests/s ×${(landlord.requestsPerSecond / nginx.requestsPerSecond).toFixed(2)}, p99 latency ×${(landlord.p99Ms / nginx.p99Ms).toFixed(2)}`);
  console.log(JSON.stringify({ nginx, landlord }));
}

const stopAll = stopOnInterrupt(async () => {
  await stopProcesses(children);
  rmSync(work, { recursive: true, force: true });
});

try {
  await main();
} finally {
  await stopAll();
}
