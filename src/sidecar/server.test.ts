import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { decodeProxyV2, encodeProxyV2, proxyV2Signature } from '../shared/proxy-protocol.ts';
import type { PemBundle } from '../pki/index.ts';
import { postgresSslRequest } from './preamble.ts';
import { serveSidecar, type RunningSidecar } from './service.ts';
import type { AuthorizationSettings } from './server.ts';
import { captureLog, removeDirectory, temporaryDirectory, testPlatform, writeKubeletDirectory, type CapturedLog, type TenantAuthority, type TestPlatform } from './testing.ts';

const acmeApi = 'spiffe://acme.landlord.local/ns/shop/sa/api';
const acmeBatch = 'spiffe://acme.landlord.local/ns/shop/sa/batch';

interface EchoApp {
  readonly port: number;
  /** Bytes each accepted connection sent first, in order (PROXY headers show up here). */
  readonly firstChunks: Buffer[];
  close(): Promise<void>;
}

/** An app that answers each chunk with `app:<chunk>`. */
async function startEchoApp(): Promise<EchoApp> {
  const firstChunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('data', (chunk: Buffer) => firstChunks.push(chunk));
    socket.on('data', (chunk: Buffer) => socket.write(`app:${chunk.toString()}`));
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    firstChunks,
    async close() {
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}

interface Exchange {
  readonly reply: string;
  readonly error: NodeJS.ErrnoException | undefined;
  readonly serverFingerprint: string | undefined;
}

/** Connects with TLS, sends `ping`, and collects everything until the sidecar closes. */
async function exchange(port: number, options: { ca: string; client?: PemBundle; servername?: string; prelude?: Buffer }): Promise<Exchange> {
  const raw = net.connect({ host: '127.0.0.1', port });
  await once(raw, 'connect');
  if (options.prelude) raw.write(options.prelude);
  if (options.prelude?.equals(postgresSslRequest)) {
    const [answer] = (await once(raw, 'data')) as [Buffer];
    assert.equal(answer.toString(), 'S');
  }
  const socket = tls.connect({
    socket: raw, servername: options.servername ?? 'db.acme.test', ca: options.ca,
    ...(options.client ? { cert: options.client.certificate, key: options.client.privateKey } : {}),
  });
  let reply = '';
  let error: NodeJS.ErrnoException | undefined;
  let serverFingerprint: string | undefined;
  socket.on('secureConnect', () => {
    serverFingerprint = socket.getPeerCertificate().fingerprint256;
    socket.write('ping');
  });
  socket.on('data', (chunk: Buffer) => {
    reply += chunk.toString();
    socket.end();
  });
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e));
  await new Promise((resolve) => socket.once('close', resolve));
  return { reply, error, serverFingerprint };
}

const requireAcmeApi: AuthorizationSettings = { clientAuthentication: 'required', allowedUris: [acmeApi], allowedDnsNames: [], allowAnyIdentity: false };

function handshakes(sidecar: RunningSidecar, result: string, reason: string): number {
  const match = new RegExp(`landlord_sidecar_handshakes_total\\{mode="server",result="${result}",reason="${reason}"\\} (\\d+)`).exec(sidecar.metrics.registry.render());
  return match ? Number(match[1]) : 0;
}

describe('sidecar server mode with mutual TLS against the tenant CA', () => {
  let world: TestPlatform;
  let acme: TenantAuthority;
  let globex: TenantAuthority;
  let serverLeaf: PemBundle;
  let apiClient: PemBundle;
  let app: EchoApp;
  let sidecar: RunningSidecar;
  let log: CapturedLog;
  let certDir: string;

  before(async () => {
    world = await testPlatform();
    acme = await world.tenant('acme');
    globex = await world.tenant('globex');
    serverLeaf = await world.issue(acme, { dns: ['db.acme.test'] });
    apiClient = await world.issue(acme, { uri: [acmeApi] });
    app = await startEchoApp();
    certDir = await temporaryDirectory();
    await writeKubeletDirectory(certDir, world.mountFiles(acme, serverLeaf));
    log = captureLog();
    sidecar = await serveSidecar({
      certDir, listen: { host: '127.0.0.1', port: 0 }, status: { host: '127.0.0.1', port: 0 },
      modeConfig: { mode: 'server', app: { host: '127.0.0.1', port: app.port }, authorization: requireAcmeApi, trustedProxies: [], postgres: false, appProxyProtocol: false },
      handshakeTimeoutMs: 5_000, reload: { settleMs: 20, pollMs: 60_000 }, logger: log.logger,
    });
  });

  after(async () => {
    await sidecar.shutdown(1_000);
    await app.close();
    await removeDirectory(certDir);
  });

  it('relays an allowed workload to the app and counts the handshake', async () => {
    const result = await exchange(sidecar.port, { ca: world.root.certificate, client: apiClient });
    assert.equal(result.error, undefined);
    assert.equal(result.reply, 'app:ping');
    assert.equal(handshakes(sidecar, 'ok', 'ok'), 1);
  });

  const denials: { name: string; client: () => Promise<PemBundle | undefined>; reason: string }[] = [
    { name: 'denies a client without a certificate', client: () => Promise.resolve(undefined), reason: 'no_client_certificate' },
    { name: 'denies a workload of the same tenant that is not on the allow-list', client: () => world.issue(acme, { uri: [acmeBatch] }), reason: 'identity_not_allowed' },
    { name: 'denies a certificate from another tenant\'s CA even with an allowed-looking identity', client: () => world.issue(globex, { uri: ['spiffe://globex.landlord.local/ns/shop/sa/api'] }), reason: 'untrusted_tenant' },
    { name: 'denies an expired certificate', client: () => world.issue(acme, { uri: [acmeApi] }, { now: new Date(Date.now() - 5 * 86_400_000), lifetimeDays: 1 }), reason: 'certificate_expired' },
  ];
  for (const denial of denials) {
    it(`${denial.name}, logging and counting the reason`, async () => {
      const before = handshakes(sidecar, 'denied', denial.reason);
      const client = await denial.client();
      const result = await exchange(sidecar.port, { ca: world.root.certificate, ...(client ? { client } : {}) });
      assert.equal(result.reply, '', 'the app must never answer a denied client');
      assert.equal(handshakes(sidecar, 'denied', denial.reason), before + 1);
      assert.ok(log.entries().some((entry) => entry.msg === 'client denied' && entry.reason === denial.reason));
    });
  }

  it('denies a revoked certificate once the rotated CRL is mounted, without a restart', async () => {
    const revoked = await world.issue(acme, { uri: [acmeApi] });
    assert.equal((await exchange(sidecar.port, { ca: world.root.certificate, client: revoked })).reply, 'app:ping');
    await world.revoke(acme, revoked.certificate);
    await writeKubeletDirectory(certDir, world.mountFiles(acme, serverLeaf));
    // The directory watcher may have swapped the new files in already; either way none may be rejected.
    assert.notEqual((await sidecar.reload()).action, 'keep');
    const result = await exchange(sidecar.port, { ca: world.root.certificate, client: revoked });
    assert.equal(result.reply, '');
    assert.equal(handshakes(sidecar, 'denied', 'certificate_revoked'), 1);
    assert.equal((await exchange(sidecar.port, { ca: world.root.certificate, client: apiClient })).reply, 'app:ping', 'other workloads still pass');
  });

  it('fails plaintext sent to the TLS port as not_tls and never reaches the app', async () => {
    const before = app.firstChunks.length;
    const socket = net.connect({ host: '127.0.0.1', port: sidecar.port });
    socket.end('GET / HTTP/1.1\r\nHost: db.acme.test\r\n\r\n');
    socket.resume();
    await once(socket, 'close');
    assert.equal(handshakes(sidecar, 'failed', 'not_tls'), 1);
    assert.equal(app.firstChunks.length, before);
    assert.ok(log.entries().some((entry) => entry.msg === 'handshake failed' && entry.reason === 'not_tls'));
  });

  it('refuses a PROXY header from a client that is not a trusted proxy (address spoofing)', async () => {
    const before = app.firstChunks.length;
    const spoofed = encodeProxyV2({ address: '10.0.0.1', port: 1 }, { address: '10.0.0.2', port: 443 });
    const result = await exchange(sidecar.port, { ca: world.root.certificate, client: apiClient, prelude: spoofed });
    assert.equal(result.reply, '');
    assert.equal(app.firstChunks.length, before);
    assert.ok(log.entries().some((entry) => entry.msg === 'handshake failed' && entry.client !== '10.0.0.1:1'));
  });

  it('keeps an open connection across a certificate rotation and serves the new certificate to new connections', async () => {
    const first = tls.connect({ host: '127.0.0.1', port: sidecar.port, servername: 'db.acme.test', ca: world.root.certificate, cert: apiClient.certificate, key: apiClient.privateKey });
    await once(first, 'secureConnect');
    const oldFingerprint = first.getPeerCertificate().fingerprint256;
    first.write('before');
    assert.equal(((await once(first, 'data')) as [Buffer])[0].toString(), 'app:before');

    const rotated = await world.issue(acme, { dns: ['db.acme.test'] });
    await writeKubeletDirectory(certDir, world.mountFiles(acme, rotated));
    const deadline = Date.now() + 10_000;
    let fingerprint: string | undefined = oldFingerprint;
    while (fingerprint === oldFingerprint && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      fingerprint = (await exchange(sidecar.port, { ca: world.root.certificate, client: apiClient })).serverFingerprint;
    }
    assert.notEqual(fingerprint, oldFingerprint, 'the watcher picked up the rotated certificate');

    first.write('after');
    assert.equal(((await once(first, 'data')) as [Buffer])[0].toString(), 'app:after', 'the open connection survived');
    first.end();
    await once(first, 'close');
  });
});

describe('sidecar server mode: TLS only, PROXY v2, PostgreSQL and a stopped app', () => {
  let world: TestPlatform;
  let acme: TenantAuthority;
  let app: EchoApp;
  let sidecar: RunningSidecar;
  let log: CapturedLog;
  let certDir: string;

  before(async () => {
    world = await testPlatform();
    acme = await world.tenant('acme');
    certDir = await temporaryDirectory();
    await writeKubeletDirectory(certDir, world.mountFiles(acme, await world.issue(acme, { dns: ['db.acme.test'] })));
    app = await startEchoApp();
    log = captureLog();
    sidecar = await serveSidecar({
      certDir, listen: { host: '127.0.0.1', port: 0 }, status: { host: '127.0.0.1', port: 0 },
      modeConfig: {
        mode: 'server', app: { host: '127.0.0.1', port: app.port }, trustedProxies: ['127.0.0.1/32'], postgres: true, appProxyProtocol: true,
        authorization: { clientAuthentication: 'none', allowedUris: [], allowedDnsNames: [], allowAnyIdentity: false },
      },
      handshakeTimeoutMs: 5_000, reload: { settleMs: 20, pollMs: 60_000 }, logger: log.logger,
    });
  });

  after(async () => {
    await sidecar.shutdown(1_000);
    await app.close();
    await removeDirectory(certDir);
  });

  it('reads the client address from a trusted PROXY v2 header, answers SSLRequest, and passes the address on to the app', async () => {
    const header = encodeProxyV2({ address: '203.0.113.7', port: 40000 }, { address: '198.51.100.1', port: 5432 });
    const raw = net.connect({ host: '127.0.0.1', port: sidecar.port });
    await once(raw, 'connect');
    raw.write(Buffer.concat([header, postgresSslRequest]));
    const [answer] = (await once(raw, 'data')) as [Buffer];
    assert.equal(answer.toString(), 'S');
    const socket = tls.connect({ socket: raw, servername: 'db.acme.test', ca: world.root.certificate });
    await once(socket, 'secureConnect');
    socket.write('ping');
    const [reply] = (await once(socket, 'data')) as [Buffer];
    socket.end();
    const toApp = app.firstChunks.at(-1)!;
    assert.ok(toApp.subarray(0, proxyV2Signature.length).equals(proxyV2Signature));
    const decoded = decodeProxyV2(toApp);
    assert.equal(decoded.kind, 'header');
    assert.equal(decoded.kind === 'header' && decoded.header.command === 'proxy' ? decoded.header.source?.address : undefined, '203.0.113.7');
    assert.match(reply.toString(), /app:/);
  });

  it('refuses a connection from a trusted proxy that does not start with a PROXY header', async () => {
    const raw = net.connect({ host: '127.0.0.1', port: sidecar.port });
    let answered = '';
    raw.on('data', (chunk: Buffer) => (answered += chunk.toString()));
    raw.write(postgresSslRequest);
    await once(raw, 'close');
    assert.equal(answered, '', 'not even the S of an SSLRequest');
    assert.ok(log.entries().some((entry) => entry.reason === 'proxy_header_invalid'));
  });

  it('closes cleanly and reports the app unhealthy when the app is down', async () => {
    const status = sidecar.statusPort!;
    assert.equal((await fetch(`http://127.0.0.1:${status}/_status`)).status, 200);
    await app.close();
    const header = encodeProxyV2({ address: '203.0.113.7', port: 40001 }, { address: '198.51.100.1', port: 5432 });
    const result = await exchange(sidecar.port, { ca: world.root.certificate, prelude: header });
    assert.equal(result.error, undefined, 'a TLS close_notify, not a reset');
    assert.equal(result.reply, '');
    const response = await fetch(`http://127.0.0.1:${status}/_status`);
    assert.equal(response.status, 503);
    const body = (await response.json()) as { backend: { ok: boolean } };
    assert.equal(body.backend.ok, false);
    assert.match(await (await fetch(`http://127.0.0.1:${status}/metrics`)).text(), /landlord_sidecar_dial_failures_total\{mode="server"\} 1/);
    assert.ok(log.entries().some((entry) => entry.msg === 'app unreachable'));
  });
});
