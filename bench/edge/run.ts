/**
 * Edge-router benchmark: landlord's router, HAProxy (`tcp-request inspect-delay` + `req.ssl_sni`)
 * and nginx (stream `ssl_preread`) side by side, in one run, on 127.0.0.1, in front of the same
 * nginx TLS backend, each proxy with one process/thread, taking turns in rounds. A bare Node
 * splice (node-splice.ts) runs beside them as the floor of any proxy built on `net.Socket`.
 * Reports absolute figures and ratios to HAProxy:
 *   - new TLS connections per second (wrk, `Connection: close`, one request per connection)
 *   - bulk throughput in MB/s (wrk, keep-alive, a 16 MiB file)
 *   - proxy CPU seconds per 1,000 connections (utime+stime from /proc/<pid>/stat, process tree)
 *   - proxy memory per 1,000 idle TLS connections (VmRSS growth from a second batch of idle
 *     connections opened next to a first, which warms the process and is not counted)
 * Usage: node bench/edge/run.ts [--seconds N] [--idle N] [--rounds N]. Needs openssl, nginx with
 * libnginx-mod-stream, haproxy and wrk. Not a test: nothing here asserts on timing.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { stopOnInterrupt } from '../support/interrupt.ts';
import { freePort, waitForPort } from '../support/net.ts';
import { cpuSeconds, rssKiB, stopProcesses } from '../support/proc.ts';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '6' }, idle: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '3' } } });
const seconds = Math.min(60, Number(args.seconds));
const rounds = Math.min(5, Math.max(1, Number(args.rounds)));
const idleConnections = Math.min(5000, Number(args.idle));
const work = mkdtempSync(path.join(tmpdir(), 'landlord-bench-edge-'));
const children: ChildProcess[] = [];

function start(command: string, argv: string[]): ChildProcess {
  const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
}

async function wrk(port: number, pathname: string, connections: number, close: boolean): Promise<string> {
  const argv = ['-t1', `-c${connections}`, `-d${seconds}s`, ...(close ? ['-H', 'Connection: close'] : []), `https://localhost:${port}${pathname}`];
  const child = spawn('wrk', argv, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await once(child, 'exit');
  return out;
}

function megabytesPerSecond(out: string): number {
  const match = /Transfer\/sec:\s+([\d.]+)([KMG]?B)/.exec(out);
  const scale: Record<string, number> = { B: 1 / 1e6, KB: 1024 / 1e6, MB: (1024 * 1024) / 1e6, GB: (1024 * 1024 * 1024) / 1e6 };
  return match ? Number(match[1]) * (scale[match[2]!] ?? 0) : 0;
}

/** Opens `count` TLS connections through the proxy, 50 at a time, and leaves them open. */
async function openIdle(port: number, count: number): Promise<tls.TLSSocket[]> {
  const sockets: tls.TLSSocket[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = Array.from({ length: Math.min(50, count - i) }, () => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false });
      socket.on('error', () => {});
      sockets.push(socket);
      return once(socket, 'secureConnect');
    });
    await Promise.all(batch);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return sockets;
}

/**
 * KiB per 1,000 idle connections: the RSS growth from a second batch of idle connections, opened
 * while the first is still open. The first batch warms the process (a Node process collects its
 * start-up garbage then, which made a plain before/after delta negative) and is not counted.
 */
async function idleMemory(port: number, pid: number): Promise<number> {
  const first = await openIdle(port, idleConnections);
  const before = rssKiB(pid);
  const second = await openIdle(port, idleConnections);
  const after = rssKiB(pid);
  for (const socket of [...first, ...second]) socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 500));
  return ((after - before) / idleConnections) * 1000;
}

interface Figures {
  name: string;
  connectionsPerSecond: number;
  megabytesPerSecond: number;
  cpuSecondsPer1000: number;
  memoryMiBPer1000Idle: number;
}

/** A proxy under test: where it listens and, for proxies (not the backend itself), the process whose CPU and memory count. */
interface Target {
  name: string;
  port: number;
  pid: number | undefined;
}

/**
 * Memory first, each on its freshly started process; then `rounds` rounds in which the targets
 * take turns (a pause of the shared machine lands on all of them alike, not on whichever ran
 * then), keeping the best of each load figure (a 2-core loopback box is noisy).
 */
async function measureAll(targets: readonly Target[]): Promise<Figures[]> {
  const figures: Figures[] = [];
  for (const { name, port, pid } of targets) {
    const memory = pid ? (await idleMemory(port, pid)) / 1024 : NaN;
    figures.push({ name, connectionsPerSecond: 0, megabytesPerSecond: 0, cpuSecondsPer1000: pid ? Infinity : NaN, memoryMiBPer1000Idle: memory });
  }
  for (let round = 0; round < rounds; round += 1) {
    for (const [index, { port, pid }] of targets.entries()) {
      const result = figures[index]!;
      const cpuBefore = pid ? cpuSeconds(pid) : 0;
      const rate = await wrk(port, '/', 32, true);
      const cpuAfter = pid ? cpuSeconds(pid) : 0;
      const requests = Number(/(\d+) requests in/.exec(rate)?.[1] ?? 0);
      const bulk = await wrk(port, '/big.bin', 4, false);
      result.connectionsPerSecond = Math.max(result.connectionsPerSecond, Number(/Requests\/sec:\s+([\d.]+)/.exec(rate)?.[1] ?? 0));
      result.megabytesPerSecond = Math.max(result.megabytesPerSecond, megabytesPerSecond(bulk));
      if (pid && requests > 0) result.cpuSecondsPer1000 = Math.min(result.cpuSecondsPer1000, ((cpuAfter - cpuBefore) / requests) * 1000);
    }
  }
  return figures;
}

async function main(): Promise<void> {
  const openssl = (argv: string[]): void => void execFileSync('openssl', argv, { cwd: work, stdio: 'ignore' });
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost']);
  writeFileSync(path.join(work, 'index.html'), 'ok\n');
  writeFileSync(path.join(work, 'big.bin'), Buffer.alloc(16 * 1024 * 1024, 7));

  const backendPort = await freePort();
  writeFileSync(path.join(work, 'backend.conf'), `worker_processes 1; pid ${work}/backend.pid; error_log ${work}/backend.err;
events { worker_connections 8000; }
http { access_log off; keepalive_requests 1000000; client_body_temp_path ${work}; proxy_temp_path ${work}; fastcgi_temp_path ${work}; uwsgi_temp_path ${work}; scgi_temp_path ${work};
  server { listen 127.0.0.1:${backendPort} ssl; ssl_certificate ${work}/cert.pem; ssl_certificate_key ${work}/key.pem; root ${work}; } }\n`);
  start('nginx', ['-p', work, '-c', `${work}/backend.conf`, '-g', 'daemon off;']);
  await waitForPort(backendPort, 'backend nginx');

  const landlordPort = await freePort();
  writeFileSync(path.join(work, 'routes.yaml'), `routes:\n  - hostname: localhost\n    backends: ["127.0.0.1:${backendPort}"]\ndefault: reject\n`);
  const landlord = start(process.execPath, [path.join(import.meta.dirname, 'landlord-router.ts'), path.join(work, 'routes.yaml'), String(landlordPort)]);

  const haproxyPort = await freePort();
  writeFileSync(path.join(work, 'haproxy.cfg'), `global\n  nbthread 1\n  maxconn 8000\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 1h\n  timeout server 1h\nfrontend sni\n  bind 127.0.0.1:${haproxyPort}\n  tcp-request inspect-delay 5s\n  tcp-request content accept if { req.ssl_hello_type 1 }\n  use_backend tls if { req.ssl_sni -i localhost }\nbackend tls\n  server s1 127.0.0.1:${backendPort}\n`);
  const haproxy = start('haproxy', ['-db', '-f', path.join(work, 'haproxy.cfg')]);

  const nginxPort = await freePort();
  writeFileSync(path.join(work, 'stream.conf'), `load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 1; pid ${work}/stream.pid; error_log ${work}/stream.err;
events { worker_connections 8000; }
stream { map $ssl_preread_server_name $upstream { localhost 127.0.0.1:${backendPort}; default 127.0.0.1:1; }
  server { listen 127.0.0.1:${nginxPort}; ssl_preread on; proxy_pass $upstream; } }\n`);
  const nginx = start('nginx', ['-p', work, '-c', `${work}/stream.conf`, '-g', 'daemon off;']);
  const floorPort = await freePort();
  const floor = start(process.execPath, [path.join(import.meta.dirname, 'node-splice.ts'), String(backendPort), String(floorPort)]);
  await Promise.all([waitForPort(landlordPort, 'landlord'), waitForPort(haproxyPort, 'haproxy'), waitForPort(nginxPort, 'nginx stream'), waitForPort(floorPort, 'node splice')]);

  const results = await measureAll([
    { name: 'direct (no proxy)', port: backendPort, pid: undefined },
    { name: 'haproxy', port: haproxyPort, pid: haproxy.pid },
    { name: 'nginx', port: nginxPort, pid: nginx.pid },
    { name: 'node splice', port: floorPort, pid: floor.pid },
    { name: 'landlord', port: landlordPort, pid: landlord.pid },
  ]);
  const reference = results.find((r) => r.name === 'haproxy')!;
  const ratio = (value: number, base: number): string => (Number.isFinite(value) && base > 0 ? (value / base).toFixed(2) : '-');
  console.log(`edge router benchmark: best of ${rounds} interleaved rounds of ${seconds}s, ${idleConnections} idle connections, one process/thread per proxy, loopback`);
  console.log('proxy              conn/s (×haproxy)   MB/s (×haproxy)     CPU s/1k conn (×haproxy)   MiB/1k idle (×haproxy)');
  for (const r of results) {
    console.log(
      `${r.name.padEnd(18)} ${r.connectionsPerSecond.toFixed(0).padStart(7)} (${ratio(r.connectionsPerSecond, reference.connectionsPerSecond)})` +
        `     ${r.megabytesPerSecond.toFixed(0).padStart(6)} (${ratio(r.megabytesPerSecond, reference.megabytesPerSecond)})` +
        `      ${r.cpuSecondsPer1000.toFixed(3).padStart(7)} (${ratio(r.cpuSecondsPer1000, reference.cpuSecondsPer1000)})` +
        `               ${r.memoryMiBPer1000Idle.toFixed(1).padStart(6)} (${ratio(r.memoryMiBPer1000Idle, reference.memoryMiBPer1000Idle)})`,
    );
  }
  const splice = results.find((r) => r.name === 'node splice')!;
  const router = results.find((r) => r.name === 'landlord')!;
  console.log(`landlord over the node splice: CPU per connection ${ratio(router.cpuSecondsPer1000, splice.cpuSecondsPer1000)}×, conn/s ${ratio(router.connectionsPerSecond, splice.connectionsPerSecond)}×`);
  console.log(JSON.stringify(results));
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
