/**
 * Sidecar benchmark: landlord's sidecar (`landlord sidecar server`, one Node process) and stunnel4
 * (one process) side by side, in one run, on 127.0.0.1, in front of the same plaintext app (a
 * sink/echo inside this process), with the same ECDSA P-256 tenant certificate. Reports absolute
 * figures and ratios landlord / stunnel:
 *   - new TLS handshakes per second (8 concurrent clients; connect, 1-byte echo, close; no resumption)
 *   - bulk throughput in MB/s (one connection writing `--megabytes` MiB to the app)
 * Usage: node bench/sidecar/run.ts [--seconds N] [--megabytes N]. Needs stunnel4. Every phase is
 * bounded; nothing here asserts on timing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { removeDirectory, temporaryDirectory, testPlatform, writeKubeletDirectory } from '../../src/sidecar/testing.ts';
import { stopOnInterrupt } from '../support/interrupt.ts';
import { stopProcesses } from '../support/proc.ts';
import { freePort, waitForPort } from '../support/net.ts';

const { values: args } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, megabytes: { type: 'string', default: '256' } } });
const seconds = Math.min(30, Number(args.seconds));
const megabytes = Math.min(2048, Number(args.megabytes));
const concurrency = 8;
const cli = path.resolve(import.meta.dirname, '../../src/cli/main.ts');
const children: ChildProcess[] = [];

/** The app: echoes a 1-byte probe; for bulk, counts bytes and answers `done` after `expected`. */
async function startApp(): Promise<{ port: number; expectBulk(bytes: number): void; close(): void }> {
  let expected = 0;
  const server = net.createServer((socket) => {
    let received = 0;
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (expected === 0) socket.write(chunk.subarray(0, 1));
      else if (received >= expected) socket.end('done');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, expectBulk: (bytes) => (expected = bytes), close: () => server.close() };
}

async function handshakesPerSecond(port: number, ca: string): Promise<number> {
  const deadline = Date.now() + seconds * 1000;
  let completed = 0;
  const worker = async (): Promise<void> => {
    while (Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', port, servername: 'app.acme.test', ca }, () => socket.write('x'));
        socket.once('data', () => {
          completed += 1;
          socket.destroy();
          resolve();
        });
        socket.once('error', () => resolve());
        socket.once('close', () => resolve());
      });
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return completed / ((Date.now() - started) / 1000);
}

async function bulkMegabytesPerSecond(port: number, ca: string, app: { expectBulk(bytes: number): void }): Promise<number> {
  const total = megabytes * 1024 * 1024;
  app.expectBulk(total);
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  const socket = tls.connect({ host: '127.0.0.1', port, servername: 'app.acme.test', ca });
  await once(socket, 'secureConnect');
  const started = Date.now();
  const done = once(socket, 'data');
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!socket.write(chunk)) await once(socket, 'drain');
  }
  const timer = setTimeout(() => socket.destroy(new Error('bulk transfer timed out')), 120_000);
  await done;
  clearTimeout(timer);
  const elapsed = (Date.now() - started) / 1000;
  socket.destroy();
  app.expectBulk(0);
  return megabytes / elapsed;
}

async function main(): Promise<void> {
  const dir = await temporaryDirectory('landlord-bench-sidecar-');
  const app = await startApp();
  try {
    const world = await testPlatform();
    const acme = await world.tenant('acme');
    const files = world.mountFiles(acme, await world.issue(acme, { dns: ['app.acme.test'] }));
    const certDir = path.join(dir, 'tls');
    await mkdir(certDir);
    await writeKubeletDirectory(certDir, files);

    const landlordPort = await freePort();
    children.push(spawn(process.execPath, [
      cli, 'sidecar', 'server', '--listen', `127.0.0.1:${landlordPort}`, '--app', `127.0.0.1:${app.port}`, '--cert-dir', certDir, '--client-auth', 'none',
    ], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, LANDLORD_LOG_LEVEL: 'error' } }));
    const stunnelPort = await freePort();
    writeFileSync(path.join(dir, 'stunnel.conf'), [
      'foreground = yes', 'pid =', 'syslog = no', 'debug = 3', `output = ${path.join(dir, 'stunnel.log')}`,
      '[app]', `accept = 127.0.0.1:${stunnelPort}`, `connect = 127.0.0.1:${app.port}`, `cert = ${path.join(certDir, 'tls.crt')}`, `key = ${path.join(certDir, 'tls.key')}`, '',
    ].join('\n'));
    children.push(spawn('stunnel4', [path.join(dir, 'stunnel.conf')], { stdio: 'ignore' }));
    await waitForPort(landlordPort, 'landlord sidecar');
    await waitForPort(stunnelPort, 'stunnel4');

    const ca = world.root.certificate;
    const results: Record<string, { handshakes: number; bulk: number }> = {};
    for (const [name, port] of [['landlord', landlordPort], ['stunnel4', stunnelPort]] as const) {
      results[name] = { handshakes: await handshakesPerSecond(port, ca), bulk: await bulkMegabytesPerSecond(port, ca, app) };
    }
    const l = results.landlord!;
    const s = results.stunnel4!;
    console.log(`sidecar benchmark: ${seconds}s handshake phase, ${concurrency} concurrent clients, ${megabytes} MiB bulk, 127.0.0.1`);
    console.log(`                      landlord    stunnel4   landlord/stunnel4`);
    console.log(`handshakes/s        ${l.handshakes.toFixed(0).padStart(10)} ${s.handshakes.toFixed(0).padStart(11)} ${(l.handshakes / s.handshakes).toFixed(2).padStart(19)}`);
    console.log(`bulk MB/s           ${l.bulk.toFixed(0).padStart(10)} ${s.bulk.toFixed(0).padStart(11)} ${(l.bulk / s.bulk).toFixed(2).padStart(19)}`);
  } finally {
    await stopProcesses(children);
    app.close();
    await removeDirectory(dir);
  }
}

// The servers stop on an interrupt too; the in-process app and the scratch directory go with the process.
stopOnInterrupt(() => {
  for (const child of children) child.kill('SIGTERM');
  return Promise.resolve();
});
await main();
