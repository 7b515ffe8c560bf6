import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isLandlordError } from '../shared/errors.ts';
import { silentLogger } from '../shared/log.ts';
import { parseListenAddress, serveRouter } from './serve.ts';
import { clientHello } from './testing/hello-builder.ts';
import { closeServer, listen } from './testing/peers.ts';

describe('serveRouter', () => {
  let dir: string;
  let backend: net.Server;
  let backendPort: number;
  let written = 0;
  let stalled = false;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'landlord-serve-'));
    // A backend that floods the client: 1 MiB writes, waiting for 'drain' at most 1 s each time.
    backend = net.createServer((socket) => {
      socket.on('error', () => {});
      const flood = async (): Promise<void> => {
        const chunk = Buffer.alloc(1 << 20);
        for (let i = 0; i < 256 && !socket.destroyed; i += 1) {
          written += chunk.length;
          if (socket.write(chunk)) continue;
          const drained = await Promise.race([once(socket, 'drain').then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 1000))]);
          if (!drained) {
            stalled = true;
            break;
          }
        }
        socket.destroy();
      };
      socket.once('data', () => void flood());
    });
    backendPort = await listen(backend);
    writeFileSync(path.join(dir, 'routes.yaml'), `routes:\n  - hostname: flood.test\n    backends: ["127.0.0.1:${backendPort}"]\ndefault:\n  backends: ["127.0.0.1:${backendPort}"]\n`);
  });
  after(async () => {
    await closeServer(backend);
    rmSync(dir, { recursive: true, force: true });
  });

  it('parses listen addresses and names a bad one', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:443'), { host: '127.0.0.1', port: 443 });
    assert.deepEqual(parseListenAddress('[::1]:5432'), { host: '::1', port: 5432 });
    assert.deepEqual(parseListenAddress(':80'), { host: '0.0.0.0', port: 80 });
    assert.throws(() => parseListenAddress('localhost'), (e) => isLandlordError(e, 'LL_ROUTER_BAD_LISTEN_ADDRESS'));
  });

  it('refuses to start on an invalid routes file, naming the field', async () => {
    writeFileSync(path.join(dir, 'bad.yaml'), 'routes:\n  - hostname: a.test\n    backends: ["x"]\n');
    await assert.rejects(serveRouter({ source: { kind: 'file', file: path.join(dir, 'bad.yaml') }, logger: silentLogger }), (e) => isLandlordError(e, 'LL_ROUTER_ROUTES_INVALID') && e.message.includes('routes[0].backends[0]: "x" is not host:port'));
  });

  it('shares one port between two routers with SO_REUSEPORT', async () => {
    const first = await serveRouter({ source: { kind: 'file', file: path.join(dir, 'routes.yaml') }, logger: silentLogger, reusePort: true, listenTls: { host: '127.0.0.1', port: 0 } });
    const port = first.addresses.tls!.port;
    const second = await serveRouter({ source: { kind: 'file', file: path.join(dir, 'routes.yaml') }, logger: silentLogger, reusePort: true, listenTls: { host: '127.0.0.1', port } });
    assert.equal(second.addresses.tls?.port, port);
    await Promise.all([first.shutdown(100), second.shutdown(100)]);
  });

  it('sends a client without SNI to the default backend, and applies backpressure to a flooding backend when the client stops reading', async () => {
    const running = await serveRouter({ source: { kind: 'file', file: path.join(dir, 'routes.yaml') }, logger: silentLogger, listenTls: { host: '127.0.0.1', port: 0 } });
    const socket = net.connect({ host: '127.0.0.1', port: running.addresses.tls!.port });
    socket.on('error', () => {});
    socket.write(clientHello(undefined));
    socket.pause(); // never read: the router must stop reading from the backend instead of buffering
    for (let i = 0; i < 100 && !stalled; i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(stalled, `backend wrote ${written >> 20} MiB without being held back`);
    assert.ok(written < 128 << 20, `backend wrote ${written >> 20} MiB`);
    socket.destroy();
    await running.shutdown(100);
  });
});
