import type net from 'node:net';

/**
 * Graceful drain of a listener: stop accepting, let open connections finish until `timeoutMs`,
 * then destroy what is left. Resolves once the server has closed.
 */
export async function drainServer(server: net.Server, open: ReadonlySet<net.Socket>, timeoutMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const deadline = Date.now() + timeoutMs;
  while (open.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const socket of open) socket.destroy();
  await closed;
}
