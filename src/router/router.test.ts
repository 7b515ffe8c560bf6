import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../shared/log.ts';
import { encodeProxyV2 } from '../shared/proxy-protocol.ts';
import { createFileProvider, tcpDialer, type Dialer, type Endpoint, type RouteSpec, type RoutingSnapshot, type TenantSpec } from './index.ts';
import { buildRouter, type Router, type RouterDependencies } from './router.ts';
import { createTestPki, type TestPki } from './testing/certs.ts';
import { clientHello, serverNameExtension } from './testing/hello-builder.ts';
import { closeServer, freePort, listen, run, startNginx, startTlsEcho, type EchoBackend, type NginxBackend } from './testing/peers.ts';

const local = (port: number): Endpoint => ({ host: '127.0.0.1', port });

function route(hostname: string, backends: Endpoint[], extra: Partial<RouteSpec> = {}): RouteSpec {
  return { source: hostname, hostname, tenant: undefined, protocol: 'tls', alpn: undefined, backends, proxyProtocol: 'none', http: undefined, ...extra };
}

function tenant(name: string, domains: string[], extra: Partial<TenantSpec> = {}): TenantSpec {
  return { source: name, name, domains, maxConnections: undefined, newConnectionsPerSecond: undefined, ...extra };
}

function snapshot(routes: RouteSpec[], tenants: TenantSpec[] = []): RoutingSnapshot {
  return { routes, tenants, defaults: { tls: { kind: 'reject' }, postgres: { kind: 'reject' } } };
}

/** Connects through the router, sends `payload`, half-closes, and collects everything until the end. */
async function tlsExchange(port: number, options: tls.ConnectionOptions, payload = 'ping'): Promise<{ text: string; alpn: string | false; subject: string }> {
  const socket = tls.connect({ host: '127.0.0.1', port, ...options });
  await once(socket, 'secureConnect');
  const subject = socket.getPeerCertificate().subject?.CN ?? '';
  const alpn = socket.alpnProtocol ?? false;
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  socket.end(payload);
  await once(socket, 'end');
  socket.destroy();
  return { text, alpn, subject: String(subject) };
}

/** Resolves with the failure a client sees when the router refuses it. */
async function tlsRefusal(port: number, options: tls.ConnectionOptions): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port, ...options });
  try {
    const [error] = (await Promise.race([once(socket, 'error'), once(socket, 'secureConnect').then(() => [new Error('connected')])])) as [Error];
    return error.message;
  } finally {
    socket.destroy();
  }
}

function metricValue(router: Router, series: string): number {
  const line = router.metrics.render().split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

async function startRouter(deps: RouterDependencies, first: RoutingSnapshot): Promise<{ router: Router; port: number; log: string[] }> {
  const stream = new PassThrough();
  const log: string[] = [];
  stream.on('data', (chunk: Buffer) => log.push(...chunk.toString().split('\n').filter(Boolean)));
  const router = buildRouter({ accessLog: stream, ...deps });
  assert.ok(router.applySnapshot(first).ok);
  return { router, port: await listen(router.tlsServer), log };
}

describe('edge router with real TLS peers', () => {
  let pki: TestPki;
  let app: EchoBackend;
  let acme: EchoBackend;
  let nginx: NginxBackend;
  let deadPort: number;
  let router: Router;
  let port: number;
  let log: string[];
  let ca: Buffer;

  before(async () => {
    pki = createTestPki();
    ca = pki.ca;
    app = await startTlsEcho('app', pki.leaf('app', ['app.test', 'fall.test', 'limited.test']));
    acme = await startTlsEcho('acme', pki.leaf('acme', ['*.acme.test']), { proxyProtocol: true });
    const nginxLeaf = pki.leaf('nginx', ['nginx.test']);
    nginx = await startNginx('nginx.test', nginxLeaf.certFile, nginxLeaf.keyFile, 'hello from nginx');
    deadPort = await freePort();
    ({ router, port, log } = await startRouter(
      { timeouts: { idleMs: 60_000 } },
      snapshot(
        [
          route('app.test', [local(app.port)]),
          route('*.acme.test', [local(acme.port)], { tenant: 'acme', proxyProtocol: 'v2' }),
          route('nginx.test', [local(nginx.port)]),
          route('dead.test', [local(deadPort)]),
          route('fall.test', [local(deadPort), local(app.port)]),
          route('limited.test', [local(app.port)], { tenant: 'limited' }),
        ],
        [tenant('acme', ['*.acme.test']), tenant('limited', ['limited.test'], { maxConnections: 1 })],
      ),
    ));
  });

  after(async () => {
    await closeServer(router.tlsServer);
    await Promise.all([app.close(), acme.close(), nginx.close()]);
    pki.cleanup();
  });

  it('routes a Node TLS client by SNI and keeps its ALPN end to end', async () => {
    const result = await tlsExchange(port, { servername: 'app.test', ca, ALPNProtocols: ['h2'] });
    assert.deepEqual(result, { text: 'app:ping', alpn: 'h2', subject: 'app.test' });
  });

  it('routes an upper-case SNI with a trailing dot to the same route', async () => {
    const socket = net.connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    const secure = tls.connect({ socket, servername: 'APP.Test.', ca, checkServerIdentity: () => undefined });
    await once(secure, 'secureConnect');
    secure.end('x');
    let text = '';
    secure.on('data', (c: Buffer) => (text += c.toString()));
    await once(secure, 'end');
    assert.equal(text, 'app:x');
  });

  it('routes a wildcard tenant route and tells the backend the client address with PROXY v2', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'db.acme.test', ca });
    await once(socket, 'secureConnect');
    const clientPort = socket.localPort;
    socket.end('hi');
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    await once(socket, 'end');
    assert.equal(text, 'acme:hi');
    const header = acme.proxyHeaders.at(-1);
    assert.ok(header?.command === 'proxy');
    assert.deepEqual(header.source, { address: '127.0.0.1', port: clientPort });
    assert.equal(header.destination?.port, port);
  });

  it('routes openssl s_client to a real nginx TLS backend', async () => {
    const result = await run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'nginx.test', '-CAfile', pki.caFile, '-verify_return_error', '-quiet'], 'GET / HTTP/1.0\r\nHost: nginx.test\r\n\r\n');
    assert.match(result.stdout, /hello from nginx/);
  });

  it('routes curl --resolve to a real nginx TLS backend over HTTP/2', async () => {
    const result = await run('curl', ['-sS', '--http2', '--cacert', pki.caFile, '--resolve', `nginx.test:${port}:127.0.0.1`, '-w', ' %{http_version}', `https://nginx.test:${port}/`]);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /^hello from nginx\n (2|1\.1)$/);
  });

  it('refuses a client without SNI with unrecognized_name and counts it', async () => {
    const before = metricValue(router, 'landlord_router_handshake_failures_total{listener="tls",reason="no_sni"}');
    const message = await tlsRefusal(port, { ca });
    assert.match(message, /unrecognized name|alert number 112/i);
    assert.equal(metricValue(router, 'landlord_router_handshake_failures_total{listener="tls",reason="no_sni"}'), before + 1);
    assert.ok(metricValue(router, 'landlord_router_no_server_name_total{listener="tls",reason="ip_literal"}') + metricValue(router, 'landlord_router_no_server_name_total{listener="tls",reason="absent"}') >= 1);
  });

  it('refuses an unknown name with unrecognized_name', async () => {
    assert.match(await tlsRefusal(port, { servername: 'nobody.test', ca }), /unrecognized name|alert number 112/i);
  });

  it('closes cleanly and counts a dial error when the only backend is dead', async () => {
    const series = `landlord_router_dial_errors_total{route="dead.test",backend="127.0.0.1:${deadPort}",code="ECONNREFUSED"}`;
    const before = metricValue(router, series);
    assert.match(await tlsRefusal(port, { servername: 'dead.test', ca }), /internal error|alert number 80/i);
    assert.equal(metricValue(router, series), before + 1);
    assert.ok(log.some((line) => line.includes('"route":"dead.test"') && line.includes('"closeReason":"dial_failed"')));
  });

  it('falls through to the next endpoint when the first is dead', async () => {
    const result = await tlsExchange(port, { servername: 'fall.test', ca });
    assert.equal(result.text, 'app:ping');
    assert.ok(metricValue(router, `landlord_router_dial_errors_total{route="fall.test",backend="127.0.0.1:${deadPort}",code="ECONNREFUSED"}`) >= 1);
  });

  it("enforces a tenant's concurrent-connection limit", async () => {
    const first = tls.connect({ host: '127.0.0.1', port, servername: 'limited.test', ca });
    await once(first, 'secureConnect');
    assert.match(await tlsRefusal(port, { servername: 'limited.test', ca }), /handshake failure|alert number 40/i);
    assert.equal(metricValue(router, 'landlord_router_handshake_failures_total{listener="tls",reason="tenant_max_connections"}'), 1);
    first.end();
    await once(first, 'close');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal((await tlsExchange(port, { servername: 'limited.test', ca })).text, 'app:ping');
  });

  it('writes one access-log line per connection with route, tenant, bytes and close reason', async () => {
    await tlsExchange(port, { servername: 'www.acme.test', ca }, 'abc');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const entry = log.map((l) => JSON.parse(l) as Record<string, unknown>).findLast((e) => e.sni === 'www.acme.test');
    assert.ok(entry);
    assert.equal(entry.route, '*.acme.test');
    assert.equal(entry.tenant, 'acme');
    assert.equal(entry.backend, `127.0.0.1:${acme.port}`);
    assert.equal(entry.closeReason, 'completed');
    assert.ok((entry.bytesFromClient as number) > 300 && (entry.bytesToClient as number) > 300);
  });

  it('exposes the counters in the Prometheus text format', () => {
    const text = router.metrics.render();
    assert.match(text, /landlord_router_connections_total\{listener="tls",route="app.test",tenant=""\} \d+/);
    assert.match(text, /landlord_router_bytes_total\{route="\*.acme.test",tenant="acme",direction="backend_to_client"\} \d+/);
    assert.match(text, /landlord_router_client_hello_bytes_bucket\{le="\+Inf"\} \d+/);
    assert.equal(metricValue(router, 'landlord_router_route_table_generation'), 1);
  });
});

describe('edge router splicing raw bytes', () => {
  let server: net.Server;
  let backendPort: number;
  const received: Buffer[] = [];

  before(async () => {
    // A raw TCP backend: collects what arrives, answers after the client's FIN, then ends.
    server = net.createServer({ allowHalfOpen: true }, (socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('end', () => {
        received.push(Buffer.concat(chunks));
        socket.end('reply after half-close');
      });
    });
    backendPort = await listen(server);
  });
  after(() => closeServer(server));

  it('forwards the hello byte for byte, propagates half-close and carries the reply back', async () => {
    const { router, port } = await startRouter({}, snapshot([route('raw.test', [local(backendPort)])]));
    const hello = clientHello([serverNameExtension('raw.test')], 100);
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    await once(socket, 'connect');
    for (let i = 0; i < hello.length; i += 1) socket.write(hello.subarray(i, i + 1));
    socket.end(Buffer.from('trailing'));
    let reply = '';
    socket.on('data', (c: Buffer) => (reply += c.toString()));
    await once(socket, 'end');
    assert.equal(reply, 'reply after half-close');
    assert.deepEqual(received.at(-1), Buffer.concat([hello, Buffer.from('trailing')]));
    socket.destroy();
    await closeServer(router.tlsServer);
  });

  it('closes a connection idle for longer than the idle timeout', async () => {
    const { router, port, log } = await startRouter({ timeouts: { idleMs: 200 } }, snapshot([route('raw.test', [local(backendPort)])]));
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.write(clientHello([serverNameExtension('raw.test')]));
    await once(socket, 'close');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(log.some((l) => l.includes('"closeReason":"idle_timeout"')), log.join('\n'));
    await closeServer(router.tlsServer);
  });

  it('moves 8 MiB of random bytes each way intact through a slow reader, and counts them', async () => {
    const size = 8 * 1024 * 1024;
    const down = randomBytes(size);
    const up = randomBytes(size);
    const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
    const slowRead = async (socket: net.Socket): Promise<Buffer> => {
      // Reads in bursts with pauses, so the writer toward it fills its buffer again and again.
      const chunks: Buffer[] = [];
      let bytes = 0;
      socket.pause();
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        bytes += chunk.length;
        if (bytes % 4 < 2) {
          socket.pause();
          setTimeout(() => socket.resume(), 2);
        }
      });
      setTimeout(() => socket.resume(), 50);
      await once(socket, 'end');
      return Buffer.concat(chunks);
    };
    let backendGot: Promise<Buffer> | undefined;
    const bulk = net.createServer({ allowHalfOpen: true }, (socket) => {
      backendGot = slowRead(socket);
      // Speaks first (before the router has spliced), then in small writes, so the router reads
      // chunks small enough to be taken into the client's stream buffer while its socket is full.
      void (async () => {
        for (let offset = 0; offset < size; offset += 3000) {
          if (!socket.write(down.subarray(offset, offset + 3000))) await once(socket, 'drain');
          else if (offset % 48_000 === 0) await new Promise(setImmediate);
        }
        socket.end();
      })();
    });
    const bulkPort = await listen(bulk);
    const { router, port, log } = await startRouter({}, snapshot([route('bulk.test', [local(bulkPort)])]));
    const hello = clientHello([serverNameExtension('bulk.test')]);
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    socket.write(hello);
    socket.end(up);
    const clientGot = await slowRead(socket);
    assert.equal(clientGot.length, size);
    assert.equal(sha(clientGot), sha(down));
    await once(socket, 'close');
    const got = await backendGot!;
    assert.equal(got.length, hello.length + size);
    assert.equal(sha(got.subarray(hello.length)), sha(up));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const line = JSON.parse(log.at(-1)!) as { bytesFromClient: number; bytesToClient: number; closeReason: string };
    assert.deepEqual([line.bytesFromClient, line.bytesToClient, line.closeReason], [hello.length + size, size, 'completed']);
    await closeServer(router.tlsServer);
    await closeServer(bulk);
  });

  it('holds what a client sends while its backend is dialled, reads no more than a bounded amount meanwhile, and replays it in order', async () => {
    const dialMs = 300;
    // Connects only after a while, as a slow backend network would.
    const slowDialer: Dialer = (endpoint) => {
      const socket = new net.Socket({ allowHalfOpen: true });
      setTimeout(() => socket.connect(endpoint.port, endpoint.host), dialMs);
      return socket;
    };
    const { router, port } = await startRouter({ dialer: slowDialer }, snapshot([route('raw.test', [local(backendPort)])]));
    let accepted: net.Socket | undefined;
    router.tlsServer.on('connection', (socket: net.Socket) => (accepted = socket));
    const hello = clientHello([serverNameExtension('raw.test')]);
    const flood = randomBytes(8 * 1024 * 1024);
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    socket.write(hello);
    socket.end(flood);
    await new Promise((resolve) => setTimeout(resolve, dialMs - 100));
    assert.ok(accepted);
    assert.ok(accepted.bytesRead < 1024 * 1024, `read ${accepted.bytesRead} bytes while dialling; the client should have been paused`);
    let reply = '';
    socket.on('data', (c: Buffer) => (reply += c.toString()));
    await once(socket, 'end');
    assert.equal(reply, 'reply after half-close');
    assert.ok(received.at(-1)!.equals(Buffer.concat([hello, flood])), 'the backend got the hello and every byte after it, in order');
    socket.destroy();
    await closeServer(router.tlsServer);
  });

  it('gives up on an endpoint that does not connect within the dial timeout and tries the next', async () => {
    const hung = local(await freePort());
    const refusing = local(await freePort());
    // A socket that never connects nor fails: only the dial deadline ends the attempt. A dialer that throws fails its endpoint at once.
    const dialer: Dialer = (endpoint) => {
      if (endpoint.port === refusing.port) throw Object.assign(new Error('bad port'), { code: 'ERR_SOCKET_BAD_PORT' });
      return endpoint.port === hung.port ? new net.Socket() : tcpDialer(endpoint);
    };
    const { router, port, log } = await startRouter(
      { dialer, timeouts: { dialMs: 100 } },
      snapshot([route('raw.test', [hung, local(backendPort)]), route('hung.test', [hung]), route('thrown.test', [refusing, local(backendPort)])]),
    );
    const timeouts = (name: string): number => metricValue(router, `landlord_router_dial_errors_total{route="${name}",backend="127.0.0.1:${hung.port}",code="LL_ROUTER_DIAL_TIMEOUT"}`);
    const exchange = async (name: string): Promise<{ reply: string; ms: number }> => {
      const started = performance.now();
      const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
      socket.end(clientHello([serverNameExtension(name)]));
      let reply = '';
      socket.on('data', (c: Buffer) => (reply += c.toString('latin1')));
      await once(socket, 'close');
      return { reply, ms: performance.now() - started };
    };
    const fallen = await exchange('raw.test');
    assert.equal(fallen.reply, 'reply after half-close');
    assert.ok(fallen.ms >= 100, `answered after ${fallen.ms} ms, before the dial timeout`);
    assert.equal(timeouts('raw.test'), 1);
    const refused = await exchange('hung.test');
    // No upper bound: without the deadline the connection never closes and the test times out.
    assert.ok(refused.ms >= 100, `refused after ${refused.ms} ms, before the dial timeout`);
    assert.equal(timeouts('hung.test'), 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(log.some((line) => line.includes('"route":"hung.test"') && line.includes('"closeReason":"dial_failed"')), log.join('\n'));
    assert.equal((await exchange('thrown.test')).reply, 'reply after half-close');
    assert.equal(metricValue(router, `landlord_router_dial_errors_total{route="thrown.test",backend="127.0.0.1:${refusing.port}",code="ERR_SOCKET_BAD_PORT"}`), 1);
    await closeServer(router.tlsServer);
  });

  it('accepts a PROXY v2 header from a trusted load balancer and passes the original client on', async () => {
    const pki = createTestPki();
    const backend = await startTlsEcho('pp', pki.leaf('pp', ['pp.test']), { proxyProtocol: true });
    const { router, port } = await startRouter({ trustedProxies: ['127.0.0.0/8'] }, snapshot([route('pp.test', [local(backend.port)], { proxyProtocol: 'v2' })]));
    const raw = net.connect({ host: '127.0.0.1', port });
    await once(raw, 'connect');
    raw.write(encodeProxyV2({ address: '198.51.100.23', port: 61000 }, { address: '203.0.113.1', port: 443 }));
    const secure = tls.connect({ socket: raw, servername: 'pp.test', ca: pki.ca });
    await once(secure, 'secureConnect');
    secure.end('x');
    secure.resume();
    await once(secure, 'end');
    assert.deepEqual(backend.proxyHeaders[0]?.command === 'proxy' && backend.proxyHeaders[0].source, { address: '198.51.100.23', port: 61000 });
    // The same peer without a header is refused: a trusted CIDR must always speak PROXY.
    const plain = await tlsRefusal(port, { servername: 'pp.test', ca: pki.ca });
    assert.match(plain, /socket disconnected|ECONNRESET|alert/i);
    await closeServer(router.tlsServer);
    await backend.close();
    pki.cleanup();
  });
});

describe('edge router under reloads, slow clients and drain', () => {
  let pki: TestPki;
  let one: EchoBackend;
  let two: EchoBackend;

  before(async () => {
    pki = createTestPki();
    const leaf = pki.leaf('svc', ['svc.test', 'other.test']);
    one = await startTlsEcho('one', leaf);
    two = await startTlsEcho('two', leaf);
  });
  after(async () => {
    await Promise.all([one.close(), two.close()]);
    pki.cleanup();
  });

  it('loses no connection while the table is swapped 50 times under load', async () => {
    const { router, port } = await startRouter({}, snapshot([route('svc.test', [local(one.port)])]));
    const total = 300;
    let started = 0;
    let succeeded = 0;
    const failures: string[] = [];
    const worker = async (): Promise<void> => {
      while (started < total) {
        started += 1;
        try {
          const { text } = await tlsExchange(port, { servername: 'svc.test', ca: pki.ca });
          if (/^(one|two):ping$/.test(text)) succeeded += 1;
          else failures.push(text);
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    const reloads = (async () => {
      for (let i = 0; i < 50; i += 1) {
        const next = i % 2 === 0 ? two.port : one.port;
        assert.ok(router.applySnapshot(snapshot([route('svc.test', [local(next)]), route(`r${i}.test`, [local(next)])])).ok);
        assert.equal(router.applySnapshot(snapshot([route('svc.test', [])])).ok, false, 'an invalid table must be refused');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    await Promise.all([reloads, ...Array.from({ length: 16 }, worker)]);
    assert.deepEqual(failures, []);
    assert.equal(succeeded, total);
    assert.equal(router.table?.generation, 51);
    await closeServer(router.tlsServer);
  });

  it('keeps an established connection when a reload removes its route', async () => {
    const { router, port } = await startRouter({}, snapshot([route('svc.test', [local(one.port)])]));
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'svc.test', ca: pki.ca });
    await once(socket, 'secureConnect');
    assert.ok(router.applySnapshot(snapshot([route('other.test', [local(two.port)])])).ok);
    socket.write('still here');
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    assert.equal(chunk.toString(), 'one:still here');
    socket.destroy();
    assert.match(await tlsRefusal(port, { servername: 'svc.test', ca: pki.ca }), /unrecognized name|alert number 112/i);
    await closeServer(router.tlsServer);
  });

  it('serves real clients while 400 slowloris connections hold handshakes open', async () => {
    const { router, port } = await startRouter({ maxConnectionsInHandshake: 100, timeouts: { handshakeMs: 30_000 } }, snapshot([route('svc.test', [local(one.port)])]));
    const idle: net.Socket[] = [];
    for (let i = 0; i < 400; i += 1) {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.on('error', () => {});
      socket.on('connect', () => void (i % 2 === 0 && socket.write(Buffer.from([22]))));
      idle.push(socket);
    }
    await Promise.all(idle.map((s) => once(s, 'connect').catch(() => undefined)));
    const results = await Promise.all(Array.from({ length: 20 }, () => tlsExchange(port, { servername: 'svc.test', ca: pki.ca })));
    assert.ok(results.every((r) => r.text === 'one:ping'));
    assert.ok(metricValue(router, 'landlord_router_handshake_failures_total{listener="tls",reason="handshake_evicted"}') >= 300);
    assert.ok(metricValue(router, 'landlord_router_connections_in_handshake{listener="tls"}') <= 100);
    for (const socket of idle) socket.destroy();
    await closeServer(router.tlsServer);
  });

  it('closes a client that never finishes its hello when the handshake deadline passes', async () => {
    const { router, port, log } = await startRouter({ timeouts: { handshakeMs: 200 } }, snapshot([route('svc.test', [local(one.port)])]));
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.write(Buffer.from([22, 3, 1, 0]));
    let alert = Buffer.alloc(0);
    socket.on('data', (c: Buffer) => (alert = Buffer.concat([alert, c])));
    await once(socket, 'end');
    assert.deepEqual([...alert], [21, 3, 3, 0, 2, 2, 40]);
    assert.ok(log.some((l) => l.includes('"closeReason":"handshake_timeout"')));
    socket.destroy();
    await closeServer(router.tlsServer);
  });

  it('drains gracefully: stops accepting, lets open connections finish, then resolves', async () => {
    const { router, port } = await startRouter({}, snapshot([route('svc.test', [local(one.port)])]));
    const metricsPort = await listen(router.metricsServer);
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'svc.test', ca: pki.ca });
    await once(socket, 'secureConnect');
    const drained = router.drain(5_000);
    const refused = net.connect({ host: '127.0.0.1', port });
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ECONNREFUSED');
    socket.write('during drain');
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    assert.equal(chunk.toString(), 'one:during drain');
    socket.end();
    await drained;
    assert.equal(metricsPort > 0, true);
  });

  it('aborts connections still open when the drain grace period ends', async () => {
    const { router, port, log } = await startRouter({}, snapshot([route('svc.test', [local(one.port)])]));
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'svc.test', ca: pki.ca });
    await once(socket, 'secureConnect');
    socket.on('error', () => {});
    await router.drain(100);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(log.some((l) => l.includes('"closeReason":"aborted"')));
  });
});

describe('routes file provider', () => {
  it('applies the file, reapplies it on change, and keeps the old table when an edit is invalid', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'landlord-routes-'));
    const file = path.join(dir, 'routes.yaml');
    writeFileSync(file, 'routes:\n  - hostname: a.test\n    backends: ["127.0.0.1:1"]\n');
    const logs = new PassThrough();
    const lines: string[] = [];
    logs.on('data', (c: Buffer) => lines.push(c.toString()));
    const router = buildRouter({ logger: createLogger({ component: 'router', stream: logs }) });
    const errors: string[] = [];
    let applied = 0;
    const provider = createFileProvider({
      file,
      debounceMs: 20,
      onSnapshot: (s) => {
        router.applySnapshot(s);
        applied += 1;
      },
      onError: (e) => errors.push(`${e.code}: ${e.message}`),
    });
    try {
      await provider.reload();
      assert.equal(router.table?.generation, 1);
      writeFileSync(file, 'routes:\n  - hostname: b.test\n    backends: ["x"]\n');
      for (let i = 0; i < 100 && errors.length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.match(errors[0] ?? '', /^LL_ROUTER_ROUTES_INVALID: .*routes\[0\]\.backends\[0\]: "x" is not host:port/);
      assert.equal(router.table?.generation, 1, 'the old table keeps serving');
      writeFileSync(path.join(dir, 'next.yaml'), 'routes:\n  - hostname: b.test\n    backends: ["127.0.0.1:2"]\n');
      const { rename } = await import('node:fs/promises');
      await rename(path.join(dir, 'next.yaml'), file);
      const generation = (): number | undefined => router.table?.generation;
      for (let i = 0; i < 100 && generation() !== 2; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(router.table?.generation, 2);
      assert.equal(router.table?.lookup('tls', 'b.test', []).kind, 'route');
      assert.ok(applied >= 2);
    } finally {
      provider.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
