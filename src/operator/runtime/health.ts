/**
 * The operator's probe and metrics endpoints: `/healthz` (the process serves requests), `/readyz`
 * (200 once `ready()` holds: caches synced and, with leader election, leading — or standing by),
 * `/metrics` (Prometheus text format). Anything else is 404.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { prometheusContentType } from '../../shared/metrics.ts';
import type { MetricsRegistry } from './metrics.ts';

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function serveHealth(input: { port: number; host?: string; ready: () => boolean; metrics: MetricsRegistry }): Promise<HealthServer> {
  const server = http.createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    };
    if (path === '/healthz') reply(200, 'ok\n');
    else if (path === '/readyz') reply(input.ready() ? 200 : 503, input.ready() ? 'ok\n' : 'not ready\n');
    else if (path === '/metrics') reply(200, input.metrics.render(), prometheusContentType);
    else reply(404, 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(input.port, input.host ?? '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
