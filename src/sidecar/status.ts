/**
 * The status port: `GET /_status` (JSON; 200 when the backend can be dialled, 503 otherwise, as
 * ghostunnel's) and `GET /metrics` (Prometheus). Bind it where only the kubelet and the platform's
 * Prometheus can reach it; it reveals no secrets but does reveal certificate expiry.
 */
import http from 'node:http';
import net from 'node:net';
import { prometheusContentType } from '../shared/metrics.ts';
import type { SidecarMetrics } from './metrics.ts';
import type { Endpoint } from './server.ts';

export interface BackendHealth {
  readonly ok: boolean;
  readonly detail: string;
}

/** Whether something accepts TCP at `endpoint` within `timeoutMs`. */
export function probeBackend(endpoint: Endpoint, timeoutMs: number): Promise<BackendHealth> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: endpoint.host, port: endpoint.port });
    const finish = (health: BackendHealth): void => {
      socket.destroy();
      resolve(health);
    };
    socket.setTimeout(timeoutMs, () => finish({ ok: false, detail: `no answer from ${endpoint.host}:${endpoint.port} within ${timeoutMs} ms` }));
    socket.once('connect', () => finish({ ok: true, detail: `${endpoint.host}:${endpoint.port} accepts connections` }));
    socket.once('error', (error: NodeJS.ErrnoException) => finish({ ok: false, detail: `${endpoint.host}:${endpoint.port}: ${error.code ?? error.message}` }));
  });
}

export interface StatusSources {
  readonly metrics: SidecarMetrics;
  readonly backend: () => Promise<BackendHealth>;
  /** Facts about the certificate in use, shown as they are. */
  readonly certificate: () => Readonly<Record<string, string>>;
  readonly draining: () => boolean;
}

export function buildStatusServer(sources: StatusSources): http.Server {
  return http.createServer((request, response) => {
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (request.url === '/metrics') {
      response.writeHead(200, { 'content-type': prometheusContentType }).end(sources.metrics.registry.render());
      return;
    }
    if (request.url !== '/_status') {
      response.writeHead(404).end();
      return;
    }
    void sources.backend().then((backend) => {
      const ok = backend.ok && !sources.draining();
      const body = { ok, status: sources.draining() ? 'draining' : ok ? 'ok' : 'backend unreachable', backend, certificate: sources.certificate() };
      response.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
    });
  });
}
