import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { buildRouter, type Router } from './router.ts';
import { createTestPki, type TestPki } from './testing/certs.ts';
import { closeServer, listen, run } from './testing/peers.ts';
import { startPostgres, type PostgresServer } from './testing/postgres.ts';

/** A PostgreSQL v3 StartupMessage for user and database `postgres`. */
function startupMessage(): Buffer {
  const body = Buffer.concat([Buffer.from([0, 3, 0, 0]), Buffer.from('user\0postgres\0database\0postgres\0\0')]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length + 4);
  return Buffer.concat([length, body]);
}

describe('PostgreSQL listener with a real PostgreSQL 15 server', () => {
  let pki: TestPki;
  let postgres: PostgresServer;
  let router: Router;
  let port: number;

  before(async () => {
    pki = createTestPki();
    const leaf = pki.leaf('pg', ['db.acme.test']);
    postgres = await startPostgres(leaf.certFile, leaf.keyFile);
    router = buildRouter({});
    const result = router.applySnapshot({
      routes: [{ source: 'pg', hostname: 'db.acme.test', tenant: 'acme', protocol: 'postgres', alpn: undefined, backends: [{ host: '127.0.0.1', port: postgres.port }], proxyProtocol: 'none', http: undefined }],
      tenants: [],
      defaults: { tls: { kind: 'reject' }, postgres: { kind: 'reject' } },
    });
    assert.ok(result.ok);
    port = await listen(router.postgresServer);
  });

  after(async () => {
    await closeServer(router.postgresServer);
    await postgres.close();
    pki.cleanup();
  });

  it('routes psql (SSLRequest, sslsni=1) by SNI and verifies the server certificate end to end', async () => {
    const conninfo = `host=db.acme.test hostaddr=127.0.0.1 port=${port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${pki.caFile} sslsni=1`;
    const result = await run('psql', [conninfo, '-Atc', "select 'routed ' || ssl from pg_stat_ssl where pid = pg_backend_pid()"]);
    assert.equal(result.stderr, '');
    assert.equal(result.stdout.trim(), 'routed true');
  });

  it('routes a PostgreSQL 17 style direct TLS client (ALPN postgresql) to a backend that needs SSLRequest', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'db.acme.test', ca: pki.ca, ALPNProtocols: ['postgresql'] });
    await once(socket, 'secureConnect');
    socket.write(startupMessage());
    const [reply] = (await once(socket, 'data')) as [Buffer];
    assert.equal(String.fromCharCode(reply[0]!), 'R', 'AuthenticationOk from the real server');
    assert.equal(reply.readUInt32BE(5), 0);
    socket.destroy();
  });

  it('closes a client that does not ask for TLS and counts it', async () => {
    const result = await run('psql', [`host=127.0.0.1 port=${port} user=postgres dbname=postgres sslmode=disable`, '-Atc', 'select 1']);
    assert.notEqual(result.code, 0);
    assert.match(router.metrics.render(), /landlord_router_handshake_failures_total\{listener="postgres",reason="postgres_not_tls"\} 1/);
  });

  it('refuses an unknown name after answering S, with a TLS alert psql reports', async () => {
    const result = await run('psql', [`host=other.test hostaddr=127.0.0.1 port=${port} user=postgres dbname=postgres sslmode=require sslsni=1`, '-Atc', 'select 1']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /unrecognized name/i);
  });

  it('answers N to GSSENCRequest and then routes the SSLRequest that follows', async () => {
    const socket = net.connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    socket.write(Buffer.from([0, 0, 0, 8, 4, 210, 22, 48]));
    const [n] = (await once(socket, 'data')) as [Buffer];
    assert.equal(n.toString(), 'N');
    socket.write(Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]));
    const [s] = (await once(socket, 'data')) as [Buffer];
    assert.equal(s.toString(), 'S');
    const secure = tls.connect({ socket, servername: 'db.acme.test', ca: pki.ca });
    await once(secure, 'secureConnect');
    secure.write(startupMessage());
    const [reply] = (await once(secure, 'data')) as [Buffer];
    assert.equal(String.fromCharCode(reply[0]!), 'R');
    secure.destroy();
  });
});
