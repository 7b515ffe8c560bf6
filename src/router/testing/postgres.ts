/**
 * Test support: a real PostgreSQL server with TLS in a temporary directory on a 127.0.0.1 port.
 * PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './peers.ts';

export const postgresBin = '/usr/lib/postgresql/15/bin';

export interface PostgresServer {
  readonly port: number;
  close(): Promise<void>;
}

/** As root, the `postgres` user's ids, so children run directly as that user (signals reach them). */
function postgresIdentity(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  return { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) };
}

export async function startPostgres(certFile: string, keyFile: string): Promise<PostgresServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'landlord-router-pg-'));
  const data = path.join(dir, 'data');
  const port = await freePort();
  copyFileSync(certFile, path.join(dir, 'server.crt'));
  copyFileSync(keyFile, path.join(dir, 'server.key'));
  chmodSync(path.join(dir, 'server.key'), 0o600);
  const identity = postgresIdentity();
  if ('uid' in identity) {
    for (const file of [dir, path.join(dir, 'server.crt'), path.join(dir, 'server.key')]) chownSync(file, identity.uid, identity.gid);
  }
  execFileSync(path.join(postgresBin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync'], { stdio: 'ignore', cwd: dir, ...identity });
  writeFileSync(path.join(data, 'pg_hba.conf'), 'hostssl all all 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 reject\n');
  const args = [
    '-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`,
    '-c', 'ssl=on', '-c', `ssl_cert_file=${dir}/server.crt`, '-c', `ssl_key_file=${dir}/server.key`, '-c', 'fsync=off',
  ];
  const child = spawn(path.join(postgresBin, 'postgres'), args, { stdio: 'ignore', cwd: dir, ...identity });
  await waitForPort(port, 20_000);
  return {
    port,
    async close() {
      const exited = once(child, 'exit');
      child.kill('SIGINT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
