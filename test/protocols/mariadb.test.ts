/**
 * MariaDB end to end: the server speaks first, so the edge cannot route it by SNI. The `mariadb`
 * client talks plaintext to `landlord connect` (a real CLI process), which opens mutual TLS with
 * SNI through the edge router to acme's sidecar, which admits only the allowed workload identity
 * and relays to mariadbd.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { run } from '../../src/router/testing/peers.ts';
import { startEdge, type Edge } from '../support/edge.ts';
import { startMariadb, type RunningServer } from '../support/servers.ts';

const cli = path.resolve(import.meta.dirname, '../../src/cli/main.ts');
const client = 'spiffe://acme.landlord.local/ns/shop/sa/reports';

interface Connect {
  readonly port: number;
  readonly stderr: () => string;
  stop(): Promise<void>;
}

/** Starts `landlord connect` and reads the local port it prints. */
async function landlordConnect(args: readonly string[]): Promise<Connect> {
  const child: ChildProcess = spawn(process.execPath, [cli, 'connect', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [line] = (await once(lines, 'line')) as [string];
  clearTimeout(timer);
  const port = Number(/:(\d+)$/.exec(line)?.[1]);
  assert.ok(port > 0, `landlord connect printed ${line}; stderr: ${stderr}`);
  return {
    port,
    stderr: () => stderr,
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('MariaDB through landlord connect, the edge router and the sidecar', () => {
  let edge: Edge;
  let mariadb: RunningServer;
  let allowed: Connect;
  let stranger: Connect;
  let sidecar: Awaited<ReturnType<Edge['addService']>>;

  before(async () => {
    mariadb = await startMariadb();
    edge = await startEdge();
    sidecar = await edge.addService({
      hostname: 'db.acme.test', appPort: mariadb.port, protocol: 'tls',
      authorization: { clientAuthentication: 'required', allowedUris: [client], allowedDnsNames: [], allowAnyIdentity: false },
    });
    const allowedDir = await edge.clientDirectory('reports', await edge.world.issue(edge.acme, { uri: [client] }));
    const strangerDir = await edge.clientDirectory('stranger', await edge.world.issue(edge.globex, { uri: ['spiffe://globex.landlord.local/ns/shop/sa/reports'] }));
    allowed = await landlordConnect(['db.acme.test', '--router', `127.0.0.1:${edge.tlsPort}`, '--cert', allowedDir]);
    stranger = await landlordConnect(['db.acme.test', '--router', `127.0.0.1:${edge.tlsPort}`, '--cert', strangerDir, '--ca', edge.rootFile]);
  });

  after(async () => {
    await allowed?.stop();
    await stranger?.stop();
    await edge?.close();
    await mariadb?.close();
  });

  it('runs a query with the mariadb client', async () => {
    const result = await run('mariadb', ['-h', '127.0.0.1', '-P', String(allowed.port), '-u', 'root', '--skip-ssl', '-N', '-B', '-e', "select concat('sidecar ', 6*7)"]);
    assert.equal(result.stderr, '');
    assert.equal(result.stdout.trim(), 'sidecar 42');
  });

  it('refuses a workload of another tenant before mariadbd sees it', async () => {
    const result = await run('mariadb', ['-h', '127.0.0.1', '-P', String(stranger.port), '-u', 'root', '--skip-ssl', '--connect-timeout=5', '-e', 'select 1']);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /Lost connection|server has gone away|Can't connect/i);
    assert.ok(sidecar.log.entries().some((entry) => entry.msg === 'client denied' && entry.reason === 'untrusted_tenant'), 'denied by the sidecar, for the right reason');
  });
});
