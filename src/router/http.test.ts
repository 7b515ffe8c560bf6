import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { buildRouter, type Router } from './router.ts';
import { closeServer, listen, run } from './testing/peers.ts';

describe('plain HTTP listener and metrics listener', () => {
  let backend: http.Server;
  let router: Router;
  let port: number;
  let metricsPort: number;

  before(async () => {
    backend = http.createServer((request, response) => response.end(`backend saw ${request.headers.host}${request.url}`));
    const backendPort = await listen(backend);
    router = buildRouter({});
    const plain = { backends: [{ host: '127.0.0.1', port: backendPort }], redirectToHttps: true };
    const routes = [
      { source: 'a', hostname: 'app.test', tenant: undefined, protocol: 'tls' as const, alpn: undefined, backends: [{ host: '127.0.0.1', port: 1 }], proxyProtocol: 'none' as const, http: plain },
      { source: 'b', hostname: '*.plain.test', tenant: undefined, protocol: 'tls' as const, alpn: undefined, backends: [{ host: '127.0.0.1', port: 1 }], proxyProtocol: 'none' as const, http: { ...plain, redirectToHttps: false } },
    ];
    metricsPort = await listen(router.metricsServer);
    const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
    assert.equal(health.status, 503, 'unhealthy before the first table');
    assert.ok(router.applySnapshot({ routes, tenants: [], defaults: { tls: { kind: 'reject' }, postgres: { kind: 'reject' } } }).ok);
    port = await listen(router.httpServer);
  });

  after(async () => {
    await Promise.all([closeServer(router.httpServer), closeServer(router.metricsServer), closeServer(backend)]);
  });

  const curl = (host: string, path: string) => run('curl', ['-sS', '-o', '-', '-w', '\n%{http_code} %{redirect_url}', '--resolve', `${host}:${port}:127.0.0.1`, `http://${host}:${port}${path}`]);

  it('redirects to HTTPS with 308, keeping the path and dropping the port', async () => {
    const result = await curl('APP.test', '/a/b?c=d');
    assert.match(result.stdout, /\n308 https:\/\/app\.test\/a\/b\?c=d$/);
  });

  it('passes ACME HTTP-01 challenges through to the plain backend', async () => {
    const result = await curl('app.test', '/.well-known/acme-challenge/token-1');
    assert.equal(result.stdout, `backend saw app.test:${port}/.well-known/acme-challenge/token-1\n200 `);
  });

  it('forwards everything when the route turns the redirect off', async () => {
    const result = await curl('x.plain.test', '/page');
    assert.equal(result.stdout, `backend saw x.plain.test:${port}/page\n200 `);
  });

  it('answers 404 for a host without a route', async () => {
    assert.match((await curl('nobody.test', '/')).stdout, /\n404 $/);
  });

  it('serves /healthz and /metrics', async () => {
    const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
    assert.equal(health.status, 200);
    const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await metrics.text(), /^landlord_router_route_table_generation 1$/m);
  });
});
