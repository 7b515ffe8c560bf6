/**
 * PostgreSQL end to end: psql (SSLRequest, SNI) → edge router (answers S, routes by SNI, replays
 * SSLRequest with PROXY v2) → sidecar (answers S, terminates TLS) → a plaintext PostgreSQL 15.
 * Direct TLS (`sslnegotiation=direct`) needs libpq 17; the installed psql 15 does not have it, so
 * only the SSLRequest path runs here (the sidecar's direct-TLS path is covered by preamble tests).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { run } from '../../src/router/testing/peers.ts';
import { startEdge, type Edge } from '../support/edge.ts';
import { startPlaintextPostgres, type RunningServer } from '../support/servers.ts';

describe('PostgreSQL through the edge router and the sidecar', () => {
  let edge: Edge;
  let postgres: RunningServer;

  before(async () => {
    postgres = await startPlaintextPostgres();
    edge = await startEdge();
    await edge.addService({ hostname: 'pg.acme.test', appPort: postgres.port, protocol: 'postgres' });
  });

  after(async () => {
    await edge?.close();
    await postgres?.close();
  });

  it('runs a query with psql sslmode=require (verifying the tenant certificate) against a server without TLS', async () => {
    const conninfo = `host=pg.acme.test hostaddr=127.0.0.1 port=${edge.postgresPort} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${edge.rootFile} sslsni=1`;
    const result = await run('psql', [conninfo, '-Atc', "select 'sidecar ' || (select ssl from pg_stat_ssl where pid = pg_backend_pid())::text || ' ' || 6*7"]);
    assert.equal(result.stderr, '');
    assert.equal(result.stdout.trim(), 'sidecar false 42', 'the query ran, and the last hop (sidecar → postgres) is plaintext');
  });

  it('refuses psql for a name no route serves (the router answers S, then a TLS alert)', async () => {
    const conninfo = `host=other.acme.test hostaddr=127.0.0.1 port=${edge.postgresPort} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${edge.rootFile} sslsni=1`;
    const result = await run('psql', [conninfo, '-Atc', 'select 1']);
    assert.notEqual(result.code, 0);
  });
});
