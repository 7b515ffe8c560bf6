/**
 * End to end on 127.0.0.1: client → edge router (`serveRouter`, SNI, PROXY v2 to the ingress) →
 * tenant ingress → backend. Two tenants, each with its own ingress and its own CA under one root.
 */
import assert from 'node:assert/strict';
import dns from 'node:dns';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { serveRouter, type RunningRouter } from '../router/index.ts';
import { silentLogger } from '../shared/log.ts';
import type { AccessLogEntry } from './proxy.ts';
import { route, runCommand, startEchoBackend, startTestIngress, startWebSocketEcho, tenantPki, type EchoBackend, type RunningTestIngress } from './testing.ts';

const maxBodyBytes = 256 * 1024;

interface Reply {
  status: number;
  body: string;
  localPort: number;
}

function viaEdgeH1(port: number, ca: string, servername: string, options: { host?: string; path?: string; method?: string; body?: Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const requestOptions: https.RequestOptions & tls.ConnectionOptions = {
      host: '127.0.0.1', port, ca, servername, ALPNProtocols: ['http/1.1'], agent: false,
      path: options.path ?? '/', method: options.method ?? 'GET', headers: { host: options.host ?? servername },
    };
    const req = https.request(requestOptions, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, localPort: res.socket.localPort ?? 0 }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

function viaEdgeH2(port: number, ca: string, servername: string, path: string): Promise<Reply & { alpn: string | undefined }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://${servername}:${port}`, { ca, servername, host: '127.0.0.1' });
    session.on('error', reject);
    const stream = session.request({ ':path': path });
    let status = 0;
    let body = '';
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => {
      const alpn = session.alpnProtocol;
      session.close();
      resolve({ status, body, localPort: 0, alpn });
    });
    stream.end();
  });
}

describe('edge router → tenant ingress → backends', () => {
  let dir: string;
  let rootCaFile: string;
  let rootCa: string;
  let web: EchoBackend;
  let api: EchoBackend;
  let globexApp: EchoBackend;
  let echo: Awaited<ReturnType<typeof startWebSocketEcho>>;
  let acme: RunningTestIngress;
  let globex: RunningTestIngress;
  let edge: RunningRouter;
  let edgePort: number;
  const accessLog: AccessLogEntry[] = [];
  const originalLookup = dns.lookup;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'landlord-ingress-e2e-'));
    const acmePki = await tenantPki('acme', ['*.acme.example']);
    const globexPki = await tenantPki('globex', ['*.globex.example'], acmePki.root);
    rootCa = acmePki.rootCa;
    rootCaFile = path.join(dir, 'root.crt');
    writeFileSync(rootCaFile, rootCa);
    [web, api, globexApp, echo] = await Promise.all([startEchoBackend('web'), startEchoBackend('api'), startEchoBackend('globex'), startWebSocketEcho('ws')]);
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) accessLog.push(JSON.parse(line) as AccessLogEntry);
        done();
      },
    });
    acme = await startTestIngress(
      [route('app.acme.example', '/', web.port), route('app.acme.example', '/api', api.port), route('app.acme.example', '/ws', echo.port)],
      [await acmePki.leaf('app.acme.example')],
      { trustedProxies: ['127.0.0.1/32'], accessLog: sink, limits: { maxBodyBytes } },
    );
    globex = await startTestIngress([route('app.globex.example', '/', globexApp.port)], [await globexPki.leaf('app.globex.example')], { tenant: 'globex', trustedProxies: ['127.0.0.1/32'] });
    const routesFile = path.join(dir, 'routes.yaml');
    writeFileSync(
      routesFile,
      `routes:
  - hostname: app.acme.example
    tenant: acme
    backends: ["127.0.0.1:${acme.port}"]
    proxyProtocol: v2
  - hostname: app.globex.example
    tenant: globex
    backends: ["127.0.0.1:${globex.port}"]
    proxyProtocol: v2
tenants:
  - name: acme
    domains: ["*.acme.example"]
  - name: globex
    domains: ["*.globex.example"]
`,
    );
    edge = await serveRouter({ source: { kind: 'file', file: routesFile }, listenTls: { host: '127.0.0.1', port: 0 }, logger: silentLogger });
    edgePort = edge.addresses.tls?.port ?? 0;
    // The global WebSocket client resolves names itself: point *.example at loopback and trust the test root.
    (dns as { lookup: unknown }).lookup = (hostname: string, options: unknown, callback: unknown) =>
      hostname.endsWith('.example') ? (originalLookup as (...args: unknown[]) => void)('127.0.0.1', options, callback) : (originalLookup as (...args: unknown[]) => void)(hostname, options, callback);
    tls.setDefaultCACertificates([...tls.getCACertificates('default'), rootCa]);
  });

  after(async () => {
    (dns as { lookup: unknown }).lookup = originalLookup;
    await edge.shutdown(0);
    await Promise.all([acme.close(), globex.close()]);
    await Promise.all([web.close(), api.close(), globexApp.close(), echo.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves curl over HTTP/1.1 and HTTP/2', async () => {
    for (const [flag, version] of [['--http1.1', '1.1'], ['--http2', '2']] as const) {
      const result = await runCommand('curl', ['-sS', flag, '--resolve', `app.acme.example:${edgePort}:127.0.0.1`, '--cacert', rootCaFile, '-w', '\n%{http_code} %{http_version}', `https://app.acme.example:${edgePort}/api/curl`]);
      assert.equal(result.code, 0, result.stderr);
      const [body = '', status = ''] = result.stdout.split('\n');
      assert.equal(status, `200 ${version}`);
      assert.equal((JSON.parse(body) as { backend: string }).backend, 'api');
    }
  });

  it('routes paths to two services for Node clients over HTTP/1.1 and HTTP/2', async () => {
    assert.match((await viaEdgeH1(edgePort, rootCa, 'app.acme.example', { path: '/home' })).body, /"backend":"web"/);
    const h2 = await viaEdgeH2(edgePort, rootCa, 'app.acme.example', '/api/x');
    assert.equal(h2.alpn, 'h2');
    assert.match(h2.body, /"backend":"api"/);
  });

  it('reports the client address the edge sent in PROXY v2', async () => {
    const reply = await viaEdgeH1(edgePort, rootCa, 'app.acme.example', { path: '/whoami' });
    assert.match(reply.body, /"xff":"127.0.0.1"/);
    const entry = accessLog.find((e) => e.path === '/whoami');
    assert.equal(entry?.client, `127.0.0.1:${reply.localPort}`, 'the client port is the client socket, not the edge connection');
  });

  it('accepts a large upload within the limit and refuses one beyond it with 413', async () => {
    const within = await viaEdgeH1(edgePort, rootCa, 'app.acme.example', { path: '/api/upload', method: 'POST', body: Buffer.alloc(maxBodyBytes, 7) });
    assert.equal(within.status, 200);
    assert.match(within.body, new RegExp(`"bodyBytes":${maxBodyBytes}`));
    const bigFile = path.join(dir, 'big.bin');
    writeFileSync(bigFile, Buffer.alloc(maxBodyBytes + 1, 7));
    for (const flag of ['--http1.1', '--http2']) {
      const result = await runCommand('curl', ['-sS', flag, '--resolve', `app.acme.example:${edgePort}:127.0.0.1`, '--cacert', rootCaFile, '--data-binary', `@${bigFile}`, '-w', '\n%{http_code}', `https://app.acme.example:${edgePort}/api/upload`]);
      assert.match(result.stdout, new RegExp(`limit of ${maxBodyBytes} bytes\\n\\n413$`), `${flag}: ${result.stdout} ${result.stderr}`);
    }
    assert.equal(api.seen.filter((r) => r.url === '/api/upload' && r.bodyBytes > maxBodyBytes).length, 0);
  });

  it('answers Expect: 100-continue only for uploads it will forward', async () => {
    for (const [size, status, continued] of [[maxBodyBytes, '200', true], [maxBodyBytes + 1, '413', false]] as const) {
      const file = path.join(dir, `expect-${size}.bin`);
      writeFileSync(file, Buffer.alloc(size, 1));
      const result = await runCommand('curl', ['-v', '-sS', '--http1.1', '-H', 'Expect: 100-continue', '--resolve', `app.acme.example:${edgePort}:127.0.0.1`, '--cacert', rootCaFile, '--data-binary', `@${file}`, '-o', '/dev/null', '-w', '%{http_code}', `https://app.acme.example:${edgePort}/api/expect`]);
      assert.equal(result.stdout, status, result.stderr);
      assert.equal(/< HTTP\/1\.1 100 Continue/.test(result.stderr), continued);
    }
  });

  it('passes a WebSocket through (global WebSocket client, echo backend)', async () => {
    const socket = new WebSocket(`wss://app.acme.example:${edgePort}/ws`);
    const reply = await new Promise<string>((resolve, reject) => {
      socket.addEventListener('open', () => socket.send('hello'));
      socket.addEventListener('message', (event) => resolve(String(event.data)));
      socket.addEventListener('error', () => reject(new Error('WebSocket failed')));
    });
    socket.close();
    assert.equal(reply, 'ws:hello');
    assert.deepEqual(echo.forwardedFor, ['127.0.0.1']);
  });

  describe('isolation between tenants', () => {
    it('refuses SNI of tenant A with the Host of tenant B (421)', async () => {
      const reply = await viaEdgeH1(edgePort, rootCa, 'app.acme.example', { host: 'app.globex.example' });
      assert.equal(reply.status, 421);
      assert.equal(globexApp.seen.length, 0);
    });

    it("refuses B's hostname sent straight to A's ingress (TLS unrecognized_name)", async () => {
      const result = await runCommand('curl', ['-sS', '--resolve', `app.globex.example:${acme.port}:127.0.0.1`, '--cacert', rootCaFile, `https://app.globex.example:${acme.port}/`]);
      assert.notEqual(result.code, 0);
      assert.equal(globexApp.seen.length, 0);
    });

    it("still serves B's host on B's ingress", async () => {
      const reply = await viaEdgeH1(edgePort, rootCa, 'app.globex.example');
      assert.equal(reply.status, 200);
      assert.match(reply.body, /"backend":"globex"/);
    });
  });
});
