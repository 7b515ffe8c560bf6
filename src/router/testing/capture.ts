/**
 * Test support: captures real ClientHellos from real TLS stacks (Node's TLS client and
 * `openssl s_client`) by accepting their connection on a raw TCP server on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';

/** Accepts one connection and resolves with the first complete TLS record sequence of its hello. */
async function captureFrom(connect: (port: number) => () => void): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  let stop: (() => void) | undefined;
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no client hello within 10 s')), 10_000);
      server.once('connection', (socket) => {
        const chunks: Buffer[] = [];
        socket.on('error', () => {});
        socket.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          const bytes = Buffer.concat(chunks);
          if (helloComplete(bytes)) {
            clearTimeout(timer);
            socket.destroy();
            resolve(bytes);
          }
        });
      });
      stop = connect(port);
    });
  } finally {
    stop?.();
    server.close();
  }
}

/** True once the records seen hold the whole handshake message (enough for a capture). */
function helloComplete(bytes: Buffer): boolean {
  let offset = 0;
  let handshake = 0;
  let needed = Infinity;
  while (offset + 5 <= bytes.length) {
    const length = bytes.readUInt16BE(offset + 3);
    if (offset + 5 + length > bytes.length) return false;
    if (handshake === 0 && length >= 4) needed = bytes.readUIntBE(offset + 6, 3) + 4;
    handshake += length;
    offset += 5 + length;
    if (handshake >= needed) return true;
  }
  return false;
}

export async function captureNodeHello(options: tls.ConnectionOptions): Promise<Buffer> {
  return captureFrom((port) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...options });
    socket.on('error', () => {});
    return () => socket.destroy();
  });
}

export async function captureOpensslHello(args: readonly string[]): Promise<Buffer> {
  return captureFrom((port) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', () => {});
    return () => child.kill();
  });
}
