import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serveSidecar, type RunningSidecar } from './service.ts';
import { captureLog, removeDirectory, temporaryDirectory, testPlatform, writeKubeletDirectory, type CapturedLog } from './testing.ts';

const dbIdentity = 'spiffe://acme.landlord.local/ns/shop/sa/db';
const reports = 'spiffe://acme.landlord.local/ns/shop/sa/reports';

/** Sends `ping` in plaintext to the local listener and collects the answer until close. */
async function ask(port: number): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port });
  let reply = '';
  socket.on('data', (chunk: Buffer) => {
    reply += chunk.toString();
    socket.end();
  });
  socket.on('error', () => {});
  socket.write('ping');
  await once(socket, 'close');
  return reply;
}

function clientHandshakes(sidecar: RunningSidecar, result: string, reason: string): boolean {
  return sidecar.metrics.registry.render().includes(`landlord_sidecar_handshakes_total{mode="client",result="${result}",reason="${reason}"} 1`);
}

describe('sidecar client mode (egress mutual TLS)', () => {
  const dirs: string[] = [];
  const running: RunningSidecar[] = [];
  let app: net.Server;
  let server: RunningSidecar;
  let serverLog: CapturedLog;
  let world: Awaited<ReturnType<typeof testPlatform>>;
  let acme: Awaited<ReturnType<typeof world.tenant>>;

  const clientSidecar = async (expectedIdentity: string | undefined, servername = 'db.acme.test'): Promise<RunningSidecar> => {
    const dir = await temporaryDirectory();
    dirs.push(dir);
    await writeKubeletDirectory(dir, world.mountFiles(acme, await world.issue(acme, { uri: [reports] })));
    const sidecar = await serveSidecar({
      certDir: dir, listen: { host: '127.0.0.1', port: 0 }, status: undefined,
      modeConfig: { mode: 'client', upstream: { host: '127.0.0.1', port: server.port }, servername, expectedIdentity },
      handshakeTimeoutMs: 5_000, reload: { settleMs: 20, pollMs: 60_000 },
    });
    running.push(sidecar);
    return sidecar;
  };

  before(async () => {
    world = await testPlatform();
    acme = await world.tenant('acme');
    app = net.createServer((socket) => socket.on('data', (chunk: Buffer) => socket.end(`app:${chunk.toString()}`)).on('error', () => {}));
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
    const dir = await temporaryDirectory();
    dirs.push(dir);
    await writeKubeletDirectory(dir, world.mountFiles(acme, await world.issue(acme, { dns: ['db.acme.test'], uri: [dbIdentity] })));
    serverLog = captureLog();
    server = await serveSidecar({
      certDir: dir, listen: { host: '127.0.0.1', port: 0 }, status: undefined,
      modeConfig: {
        mode: 'server', app: { host: '127.0.0.1', port: (app.address() as net.AddressInfo).port }, trustedProxies: [], postgres: false, appProxyProtocol: false,
        authorization: { clientAuthentication: 'required', allowedUris: [reports], allowedDnsNames: [], allowAnyIdentity: false },
      },
      handshakeTimeoutMs: 5_000, reload: { settleMs: 20, pollMs: 60_000 }, logger: serverLog.logger,
    });
    running.push(server);
  });

  after(async () => {
    for (const sidecar of running) await sidecar.shutdown(1_000);
    await new Promise((resolve) => app.close(resolve));
    for (const dir of dirs) await removeDirectory(dir);
  });

  it('carries a plaintext client to the server sidecar with the workload\'s certificate, checking the DNS name', async () => {
    const client = await clientSidecar(undefined);
    assert.equal(await ask(client.port), 'app:ping');
    assert.ok(clientHandshakes(client, 'ok', 'ok'));
    assert.ok(serverLog.entries().every((entry) => entry.msg !== 'client denied'));
  });

  it('verifies the server by its SPIFFE identity', async () => {
    const client = await clientSidecar(dbIdentity);
    assert.equal(await ask(client.port), 'app:ping');
  });

  it('refuses a server that does not carry the expected SPIFFE identity, before sending a byte', async () => {
    const client = await clientSidecar('spiffe://acme.landlord.local/ns/shop/sa/not-db');
    assert.equal(await ask(client.port), '');
    assert.ok(clientHandshakes(client, 'failed', 'identity_mismatch'));
  });

  it('refuses a server whose certificate does not match the requested name', async () => {
    const client = await clientSidecar(undefined, 'other.acme.test');
    assert.equal(await ask(client.port), '');
    assert.ok(clientHandshakes(client, 'failed', 'identity_mismatch'));
  });
});

describe('mutual TLS between tenants, only where both allow it', () => {
  const dirs: string[] = [];
  const running: RunningSidecar[] = [];
  let app: net.Server;
  let world: Awaited<ReturnType<typeof testPlatform>>;
  let acme: Awaited<ReturnType<typeof world.tenant>>;
  let globex: Awaited<ReturnType<typeof world.tenant>>;
  const globexReports = 'spiffe://globex.landlord.local/ns/shop/sa/reports';

  const sidecar = async (files: Record<string, string | undefined>, modeConfig: Parameters<typeof serveSidecar>[0]['modeConfig'], logger?: CapturedLog): Promise<RunningSidecar> => {
    const dir = await temporaryDirectory();
    dirs.push(dir);
    await writeKubeletDirectory(dir, files);
    const started = await serveSidecar({
      certDir: dir, listen: { host: '127.0.0.1', port: 0 }, status: undefined, modeConfig,
      handshakeTimeoutMs: 5_000, reload: { settleMs: 20, pollMs: 60_000 }, ...(logger ? { logger: logger.logger } : {}),
    });
    running.push(started);
    return started;
  };
  const acmeServer = async (trustGlobex: boolean, log: CapturedLog): Promise<RunningSidecar> => sidecar(
    { ...world.mountFiles(acme, await world.issue(acme, { dns: ['db.acme.test'] })), ...(trustGlobex ? world.peerFiles(globex) : {}) },
    {
      mode: 'server', app: { host: '127.0.0.1', port: (app.address() as net.AddressInfo).port }, trustedProxies: [], postgres: false, appProxyProtocol: false,
      authorization: { clientAuthentication: 'required', allowedUris: [globexReports], allowedDnsNames: [], allowAnyIdentity: false },
    },
    log,
  );
  const globexClient = async (server: RunningSidecar, trustAcme: boolean): Promise<RunningSidecar> => sidecar(
    { ...world.mountFiles(globex, await world.issue(globex, { uri: [globexReports] })), ...(trustAcme ? world.peerFiles(acme) : {}) },
    { mode: 'client', upstream: { host: '127.0.0.1', port: server.port }, servername: 'db.acme.test', expectedIdentity: undefined },
  );

  before(async () => {
    world = await testPlatform();
    acme = await world.tenant('acme');
    globex = await world.tenant('globex');
    app = net.createServer((socket) => socket.on('data', (chunk: Buffer) => socket.end(`app:${chunk.toString()}`)).on('error', () => {}));
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
  });

  after(async () => {
    for (const started of running) await started.shutdown(1_000);
    await new Promise((resolve) => app.close(resolve));
    for (const dir of dirs) await removeDirectory(dir);
  });

  it('connects globex\'s workload to acme\'s service when each mounts the other\'s trust bundle (CRLs checked on both sides)', async () => {
    const log = captureLog();
    const client = await globexClient(await acmeServer(true, log), true);
    assert.equal(await ask(client.port), 'app:ping');
  });

  it('is refused by acme when only globex trusts acme', async () => {
    const log = captureLog();
    const client = await globexClient(await acmeServer(false, log), true);
    assert.equal(await ask(client.port), '');
    assert.ok(log.entries().some((entry) => entry.msg === 'client denied' && entry.reason === 'untrusted_tenant'));
  });

  it('is refused by globex\'s side when only acme trusts globex', async () => {
    const log = captureLog();
    const client = await globexClient(await acmeServer(true, log), false);
    assert.equal(await ask(client.port), '');
    assert.match(client.metrics.registry.render(), /landlord_sidecar_handshakes_total\{mode="client",result="failed",reason="crl_unavailable"\} 1/, 'without acme\'s CRL, globex cannot check acme\'s chain: fails closed');
  });
});
