/**
 * HTTP over HTTPS end to end with curl: curl (SNI, the platform root) → edge router → sidecar →
 * a plain HTTP app; and the same with mutual TLS, where another tenant's client certificate is
 * refused with the reason in the sidecar's log and metrics.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import tls from 'node:tls';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../../src/router/testing/peers.ts';
import type { RunningSidecar } from '../../src/sidecar/index.ts';
import type { CapturedLog } from '../../src/sidecar/testing.ts';
import { startEdge, type Edge } from '../support/edge.ts';

const api = 'spiffe://acme.landlord.local/ns/shop/sa/frontend';

describe('HTTPS through the edge router and the sidecar', () => {
  let edge: Edge;
  let app: http.Server;
  let mtls: RunningSidecar & { readonly log: CapturedLog };

  before(async () => {
    app = http.createServer((request, response) => response.end(`hello from the app, ${request.headers.host} ${request.url}\n`));
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
    const appPort = (app.address() as net.AddressInfo).port;
    edge = await startEdge();
    await edge.addService({ hostname: 'web.acme.test', appPort, protocol: 'tls' });
    mtls = await edge.addService({
      hostname: 'api.acme.test', appPort, protocol: 'tls',
      authorization: { clientAuthentication: 'required', allowedUris: [api], allowedDnsNames: [], allowAnyIdentity: false },
    });
  });

  after(async () => {
    await edge?.close();
    app?.closeAllConnections();
    await new Promise((resolve) => app?.close(resolve));
  });

  const curl = (host: string, extra: string[] = []) =>
    run('curl', ['-sS', '--max-time', '10', '--resolve', `${host}:${edge.tlsPort}:127.0.0.1`, '--cacert', edge.rootFile, ...extra, `https://${host}:${edge.tlsPort}/hello`]);

  it('serves an HTTP app over HTTPS with the tenant\'s certificate', async () => {
    const result = await curl('web.acme.test');
    assert.equal(result.stderr, '');
    assert.equal(result.stdout, `hello from the app, web.acme.test:${edge.tlsPort} /hello\n`);
  });

  it('admits an allowed workload over mutual TLS', async () => {
    const dir = await edge.clientDirectory('frontend', await edge.world.issue(edge.acme, { uri: [api] }));
    const result = await curl('api.acme.test', ['--cert', path.join(dir, 'tls.crt'), '--key', path.join(dir, 'tls.key')]);
    assert.equal(result.stderr, '');
    assert.match(result.stdout, /hello from the app/);
  });

  it('refuses a client certificate from another tenant\'s CA, with the reason in the log and metrics', async () => {
    const dir = await edge.clientDirectory('intruder', await edge.world.issue(edge.globex, { uri: ['spiffe://globex.landlord.local/ns/shop/sa/frontend'] }));
    const result = await curl('api.acme.test', ['--cert', path.join(dir, 'tls.crt'), '--key', path.join(dir, 'tls.key')]);
    assert.notEqual(result.code, 0);
    assert.doesNotMatch(result.stdout, /hello/);
    assert.ok(mtls.log.entries().some((entry) => entry.msg === 'client denied' && entry.reason === 'untrusted_tenant'));
    assert.match(mtls.metrics.registry.render(), /landlord_sidecar_handshakes_total\{mode="server",result="denied",reason="untrusted_tenant"\} 1/);
  });

  it('refuses a client without a certificate at a mutual TLS service', async () => {
    const result = await curl('api.acme.test');
    assert.notEqual(result.code, 0);
    assert.match(mtls.metrics.registry.render(), /result="denied",reason="no_client_certificate"\} 1/);
  });

  it('keeps an open connection through a certificate rotation; new connections get the new certificate', { timeout: 30_000 }, async () => {
    const connect = async (): Promise<tls.TLSSocket> => {
      const socket = tls.connect({ host: '127.0.0.1', port: edge.tlsPort, servername: 'web.acme.test', ca: edge.world.root.certificate });
      await once(socket, 'secureConnect');
      return socket;
    };
    const request = async (socket: tls.TLSSocket, url: string): Promise<string> => {
      socket.write(`GET ${url} HTTP/1.1\r\nHost: web.acme.test\r\n\r\n`);
      const [chunk] = (await once(socket, 'data')) as [Buffer];
      return chunk.toString();
    };
    const open = await connect();
    const before = open.getPeerCertificate().fingerprint256;
    assert.match(await request(open, '/before'), /hello from the app, web.acme.test \/before/);

    await edge.rotate('web.acme.test');
    let fresh = before;
    for (let attempt = 0; attempt < 100 && fresh === before; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const probe = await connect();
      fresh = probe.getPeerCertificate().fingerprint256;
      probe.destroy();
    }
    assert.notEqual(fresh, before, 'new connections get the rotated certificate');
    assert.match(await request(open, '/after'), /hello from the app, web.acme.test \/after/, 'the open connection survived');
    open.destroy();
  });
});
