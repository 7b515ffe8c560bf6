/** Loopback port helpers shared by the side-by-side benchmarks. */
import { once } from 'node:events';
import net from 'node:net';

/** A port free on 127.0.0.1 right now (the kernel's choice). */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Waits until something accepts TCP on 127.0.0.1:port; bounded (200 tries, 50 ms apart). */
export async function waitForPort(port: number, name: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
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
  throw new Error(`${name} does not listen on ${port}`);
}
