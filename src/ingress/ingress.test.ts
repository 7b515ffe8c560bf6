import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { closeLocal, listenLocal, route, startEchoBackend, startTestIngress, tenantPki, type EchoBackend, type RunningTestIngress, type TenantCertificates } from './testing.ts';

interface Reply {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
  alpn: string | false;
}

interface Echoed {
  backend: string;
  method: string;
  url: string;
  bodyBytes: number;
  xff: string;
}

const echoed = (reply: Reply): Echoed => JSON.parse(reply.body) as Echoed;

function h1(port: number, ca: string, options: { servername: string; host?: string; path?: string; method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer; agent?: https.Agent }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const requestOptions: https.RequestOptions & tls.ConnectionOptions = { host: '127.0.0.1', port, ca, servername: options.servername, ALPNProtocols: ['http/1.1'], path: options.path ?? '/', method: options.method ?? 'GET', headers: { host: options.host ?? options.servername, ...options.headers }, agent: options.agent ?? false };
    const req = https.request(
      requestOptions,
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, alpn: (res.socket as tls.TLSSocket).alpnProtocol ?? false }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

function h2(port: number, ca: string, options: { servername: string; authority?: string; path?: string; method?: string; chunks?: Buffer[] }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://${options.servername}:${port}`, { ca, servername: options.servername, host: '127.0.0.1' });
    session.on('error', reject);
    const stream = session.request({ ':path': options.path ?? '/', ':method': options.method ?? 'GET', ':authority': options.authority ?? options.servername });
    let status = 0;
    let headers: http.IncomingHttpHeaders = {};
    let body = '';
    stream.on('response', (h) => {
      status = Number(h[':status']);
      headers = h;
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('close', () => {
      const alpn = session.alpnProtocol ?? false;
      session.close();
      resolve({ status, body, headers, alpn });
    });
    stream.on('error', () => {});
    for (const chunk of options.chunks ?? []) stream.write(chunk);
    stream.end();
  });
}

function handshake(port: number, ca: string, servername: string | undefined): Promise<{ ok: boolean; error?: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, ...(servername ? { servername } : {}) }, () => {
      socket.destroy();
      resolve({ ok: true });
    });
    socket.on('error', (error) => resolve({ ok: false, error: error.message }));
  });
}

describe('ingress (loopback, TLS, no edge)', () => {
  let pki: TenantCertificates;
  let web: EchoBackend;
  let api: EchoBackend;
  let running: RunningTestIngress;
  let silentPort: number;
  const silent = http.createServer(() => {});

  before(async () => {
    pki = await tenantPki('acme', ['*.acme.example']);
    [web, api] = await Promise.all([startEchoBackend('web'), startEchoBackend('api')]);
    silentPort = await listenLocal(silent);
    running = await startTestIngress(
      [
        route('app.acme.example', '/', web.port),
        route('app.acme.example', '/api', api.port),
        route('app.acme.example', '/down', 1),
        route('app.acme.example', '/slow', silentPort),
        route('other.acme.example', '/', web.port),
      ],
      [await pki.leaf('app.acme.example'), await pki.leaf('*.acme.example')],
      { limits: { maxBodyBytes: 1024 }, timeouts: { upstreamMs: 300 } },
    );
  });
  after(async () => {
    await running.close();
    await Promise.all([web.close(), api.close(), closeLocal(silent)]);
  });

  it('proxies HTTP/1.1 by host and longest path prefix', async () => {
    const root = await h1(running.port, pki.rootCa, { servername: 'app.acme.example', path: '/index.html' });
    const users = await h1(running.port, pki.rootCa, { servername: 'app.acme.example', path: '/api/users?x=1' });
    assert.equal(root.alpn, 'http/1.1');
    assert.equal(echoed(root).backend, 'web');
    assert.deepEqual(JSON.parse(users.body), { backend: 'api', method: 'GET', url: '/api/users?x=1', bodyBytes: 0, xff: '127.0.0.1' });
    assert.equal(users.headers['x-backend'], 'api');
    assert.equal(users.headers['keep-alive'], undefined, 'hop-by-hop headers are not passed on');
  });

  it('proxies HTTP/2 negotiated by ALPN', async () => {
    const reply = await h2(running.port, pki.rootCa, { servername: 'app.acme.example', path: '/api/v1' });
    assert.equal(reply.alpn, 'h2');
    assert.equal(reply.status, 200);
    assert.equal(echoed(reply).backend, 'api');
  });

  it('sets forwarding headers and drops the ones an untrusted client sent', async () => {
    await h1(running.port, pki.rootCa, { servername: 'app.acme.example', path: '/fwd', headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil.example', 'x-real-ip': '6.6.6.6', forwarded: 'for=6.6.6.6' } });
    const seen = web.seen.find((r) => r.url === '/fwd');
    assert.equal(seen?.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen?.headers['x-forwarded-proto'], 'https');
    assert.equal(seen?.headers['x-forwarded-host'], 'app.acme.example');
    assert.equal(seen?.headers['x-real-ip'], undefined);
    assert.equal(seen?.headers.forwarded, undefined);
    assert.equal(seen?.headers.host, 'app.acme.example');
  });

  it('reuses upstream connections', async () => {
    const before = api.connections();
    for (let i = 0; i < 5; i += 1) assert.equal((await h1(running.port, pki.rootCa, { servername: 'app.acme.example', path: `/api/reuse/${i}` })).status, 200);
    assert.ok(api.connections() - before <= 1, `opened ${api.connections() - before} upstream connections for 5 sequential requests`);
  });

  it('accepts a body within the limit', async () => {
    const reply = await h1(running.port, pki.rootCa, { servername: 'app.acme.example', path: '/api/upload', method: 'POST', body: Buffer.alloc(1024, 1) });
    assert.equal(reply.status, 200);
    assert.equal(echoed(reply).bodyBytes, 1024);
  });

  it('answers 413 naming the limit for a declared body over it, without contacting the backend', async () => {
    const reply = await h1(running.port, pki.rootCa, { servername: 'app.acme.example', path: '/api/too-big', method: 'POST', body: Buffer.alloc(1025, 1) });
    assert.equal(reply.status, 413);
    assert.match(reply.body, /limit of 1024 bytes/);
    assert.equal(api.seen.find((r) => r.url === '/api/too-big'), undefined);
  });

  it('answers 413 for a streamed HTTP/2 body that grows over the limit', async () => {
    const reply = await h2(running.port, pki.rootCa, { servername: 'app.acme.example', path: '/api/stream', method: 'POST', chunks: [Buffer.alloc(700), Buffer.alloc(700)] });
    assert.equal(reply.status, 413);
    assert.match(reply.body, /limit of 1024 bytes/);
  });

  it('answers 502 when the backend refuses connections', async () => {
    assert.equal((await h1(running.port, pki.rootCa, { servername: 'app.acme.example', path: '/down' })).status, 502);
  });

  it('answers 504 when the backend stays silent past the upstream timeout', async () => {
    assert.equal((await h1(running.port, pki.rootCa, { servername: 'app.acme.example', path: '/slow' })).status, 504);
  });

  it('answers 404 for a routed host without a matching path', async () => {
    const other = await startTestIngress([route('app.acme.example', '/only', web.port)], [await pki.leaf('app.acme.example')]);
    try {
      assert.equal((await h1(other.port, pki.rootCa, { servername: 'app.acme.example', path: '/elsewhere' })).status, 404);
    } finally {
      await other.close();
    }
  });

  describe('isolation', () => {
    it('refuses a Host the SNI certificate does not cover (421)', async () => {
      const reply = await h1(running.port, pki.rootCa, { servername: 'app.acme.example', host: 'other.acme.example' });
      assert.equal(reply.status, 421);
    });

    it('serves a Host the SNI certificate covers (wildcard certificate)', async () => {
      const reply = await h1(running.port, pki.rootCa, { servername: 'other.acme.example', host: 'other.acme.example' });
      assert.equal(reply.status, 200);
    });

    it('refuses a covered but unrouted host (421)', async () => {
      const reply = await h1(running.port, pki.rootCa, { servername: 'x.acme.example', host: 'x.acme.example' });
      assert.equal(reply.status, 421);
    });

    it('refuses a Host of another tenant on a valid connection (421), HTTP/2 too', async () => {
      assert.equal((await h1(running.port, pki.rootCa, { servername: 'app.acme.example', host: 'app.globex.example' })).status, 421);
      assert.equal((await h2(running.port, pki.rootCa, { servername: 'app.acme.example', authority: 'app.globex.example' })).status, 421);
    });

    it('refuses the handshake for an SNI no certificate covers (unrecognized_name)', async () => {
      const result = await handshake(running.port, pki.rootCa, 'app.globex.example');
      assert.equal(result.ok, false);
      assert.match(result.error ?? '', /unrecognized name/i);
    });

    it('refuses a WebSocket upgrade for a Host the SNI certificate does not cover (421)', async () => {
      const head = await new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port: running.port, ca: pki.rootCa, servername: 'app.acme.example', ALPNProtocols: ['http/1.1'] }, () => {
          socket.write('GET /ws HTTP/1.1\r\nHost: app.globex.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
        });
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (text += chunk));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      assert.match(head, /^HTTP\/1\.1 421 /);
    });

    it('refuses the handshake without SNI', async () => {
      const result = await handshake(running.port, pki.rootCa, undefined);
      assert.equal(result.ok, false);
    });
  });

  describe('client timeouts', () => {
    let idle: RunningTestIngress;
    let slowHeaders: RunningTestIngress;
    before(async () => {
      const leaf = await pki.leaf('app.acme.example');
      idle = await startTestIngress([route('app.acme.example', '/', web.port)], [leaf], { timeouts: { idleMs: 300 } });
      slowHeaders = await startTestIngress([route('app.acme.example', '/', web.port)], [leaf], { timeouts: { headersMs: 300 } });
    });
    after(() => Promise.all([idle.close(), slowHeaders.close()]));

    const connect = (port: number): Promise<tls.TLSSocket> =>
      new Promise((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ca: pki.rootCa, servername: 'app.acme.example', ALPNProtocols: ['http/1.1'] }, () => resolve(socket));
        socket.on('error', reject);
      });

    it('closes a connection that stays idle after the handshake', async () => {
      const socket = await connect(idle.port);
      await new Promise((resolve) => socket.once('close', resolve));
      assert.equal(socket.destroyed, true);
    });

    it('answers 408 when request headers do not complete in time', async () => {
      const socket = await connect(slowHeaders.port);
      socket.write('GET / HTTP/1.1\r\nHost: app.acme.example\r\n');
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      await new Promise((resolve) => socket.once('close', resolve));
      assert.match(text, /^HTTP\/1\.1 408 /);
    });
  });

  it('serves /healthz and counts requests in /metrics on the status port', async () => {
    const health = await fetch(`http://127.0.0.1:${running.statusPort}/healthz`);
    assert.equal(health.status, 200);
    const metrics = await (await fetch(`http://127.0.0.1:${running.statusPort}/metrics`)).text();
    assert.match(metrics, /landlord_ingress_requests_total\{host="app.acme.example",status_class="2xx"\} [1-9]/);
    assert.match(metrics, /landlord_ingress_refusals_total\{reason="misdirected"\} [1-9]/);
    assert.match(metrics, /landlord_ingress_refusals_total\{reason="unknown_sni"\} [1-9]/);
  });
});
