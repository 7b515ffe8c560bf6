import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { serveSidecar, type RunningSidecar } from './service.ts';
import { removeDirectory, temporaryDirectory, testPlatform, writeKubeletDirectory } from './testing.ts';

describe('graceful drain', () => {
  let app: net.Server;
  let sidecar: RunningSidecar;
  let certDir: string;
  let root: string;

  before(async () => {
    const world = await testPlatform();
    const acme = await world.tenant('acme');
    root = world.root.certificate;
    certDir = await temporaryDirectory();
    await writeKubeletDirectory(certDir, world.mountFiles(acme, await world.issue(acme, { dns: ['db.acme.test'] })));
    app = net.createServer((socket) => socket.on('data', (chunk: Buffer) => socket.write(`app:${chunk.toString()}`)).on('end', () => socket.end()).on('error', () => {}));
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
    sidecar = await serveSidecar({
      certDir, listen: { host: '127.0.0.1', port: 0 }, status: { host: '127.0.0.1', port: 0 },
      modeConfig: {
        mode: 'server', app: { host: '127.0.0.1', port: (app.address() as net.AddressInfo).port }, trustedProxies: [], postgres: false, appProxyProtocol: false,
        authorization: { clientAuthentication: 'none', allowedUris: [], allowedDnsNames: [], allowAnyIdentity: false },
      },
      handshakeTimeoutMs: 5_000, reload: { settleMs: 20, pollMs: 60_000 },
    });
  });

  after(async () => {
    await new Promise((resolve) => app.close(resolve));
    await removeDirectory(certDir);
  });

  it('stops accepting, reports draining, lets an open connection finish, then resolves', async () => {
    const open = tls.connect({ host: '127.0.0.1', port: sidecar.port, servername: 'db.acme.test', ca: root });
    await once(open, 'secureConnect');
    open.write('one');
    await once(open, 'data');

    const drained = sidecar.shutdown(10_000);
    let finished = false;
    void drained.then(() => (finished = true));
    const refused = net.connect({ host: '127.0.0.1', port: sidecar.port });
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ECONNREFUSED', 'no new connections while draining');
    const status = await fetch(`http://127.0.0.1:${sidecar.statusPort}/_status`, { headers: { connection: 'close' } });
    assert.equal(status.status, 503, 'not ready while draining');
    assert.equal(((await status.json()) as { status: string }).status, 'draining');

    open.write('two');
    const [reply] = (await once(open, 'data')) as [Buffer];
    assert.equal(reply.toString(), 'app:two', 'the open connection still works');
    assert.equal(finished, false);
    open.end();
    await drained;
  });
});
