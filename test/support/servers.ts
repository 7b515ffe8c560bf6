/**
 * Test support: real database and broker servers in temporary directories, bound to 127.0.0.1 on
 * ports chosen at run time, each stopped (and its directory removed) by `close()`. As root, every
 * server runs as its Debian service user, as the servers require.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from '../../src/router/testing/peers.ts';

export interface RunningServer {
  readonly port: number;
  close(): Promise<void>;
}

/** As root, the ids of `user`, so children run as that user and root can still signal them. */
function identityOf(user: string): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  return { uid: Number(execFileSync('id', ['-u', user]).toString()), gid: Number(execFileSync('id', ['-g', user]).toString()) };
}

function ownedDirectory(prefix: string, identity: { uid: number; gid: number } | Record<string, never>): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  if ('uid' in identity) chownSync(dir, identity.uid, identity.gid);
  return dir;
}

/** Signals the child and waits (bounded) for it to exit; SIGKILL after `graceMs`. */
async function stop(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export const postgresBin = '/usr/lib/postgresql/15/bin';

/** A plaintext PostgreSQL 15 (no TLS at all: the sidecar provides it), trust auth from 127.0.0.1. */
export async function startPlaintextPostgres(): Promise<RunningServer> {
  const identity = identityOf('postgres');
  const dir = ownedDirectory('landlord-pg-', identity);
  const data = path.join(dir, 'data');
  const port = await freePort();
  execFileSync(path.join(postgresBin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync'], { stdio: 'ignore', cwd: dir, ...identity });
  writeFileSync(path.join(data, 'pg_hba.conf'), 'host all all 127.0.0.1/32 trust\n');
  const child = spawn(path.join(postgresBin, 'postgres'), [
    '-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`, '-c', 'ssl=off', '-c', 'fsync=off',
  ], { stdio: 'ignore', cwd: dir, ...identity });
  await waitForPort(port, 30_000);
  return {
    port,
    async close() {
      await stop(child, 'SIGINT', 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A MariaDB server with grant tables skipped (any user may log in), TCP on 127.0.0.1 only. */
export async function startMariadb(): Promise<RunningServer> {
  const dir = ownedDirectory('landlord-mariadb-', identityOf('mysql'));
  const data = path.join(dir, 'data');
  const port = await freePort();
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=mysql', '--skip-test-db', '--auth-root-authentication-method=normal'], { stdio: 'ignore', cwd: dir });
  const child = spawn('mariadbd', [
    '--no-defaults', `--datadir=${data}`, `--socket=${path.join(dir, 'sock')}`, `--port=${port}`, '--bind-address=127.0.0.1', '--user=mysql',
    '--skip-grant-tables', `--pid-file=${path.join(dir, 'pid')}`, `--log-error=${path.join(dir, 'error.log')}`, '--innodb-buffer-pool-size=16M',
  ], { stdio: 'ignore', cwd: dir });
  await waitForPort(port, 30_000);
  return {
    port,
    async close() {
      await stop(child, 'SIGTERM', 15_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const rabbitmqServer = '/usr/lib/rabbitmq/bin/rabbitmq-server';

/**
 * A RabbitMQ node of its own (own node name, ports, Mnesia directory, cookie and epmd port), so it
 * never meets another engineer's node. Booting takes several seconds; the AMQP port is polled.
 * `close()` stops the node and the epmd it started.
 */
export async function startRabbitmq(): Promise<RunningServer> {
  const identity = identityOf('rabbitmq');
  const dir = ownedDirectory('landlord-rabbitmq-', identity);
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(path.join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\n`);
  writeFileSync(path.join(dir, 'enabled_plugins'), '[].\n');
  if ('uid' in identity) for (const file of ['rabbitmq.conf', 'enabled_plugins']) chownSync(path.join(dir, file), identity.uid, identity.gid);
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    RABBITMQ_NODENAME: `landlord-test-${process.pid}-${port}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: path.join(dir, 'rabbitmq.pid'),
  };
  const child = spawn(rabbitmqServer, [], { stdio: 'ignore', cwd: dir, env, detached: true, ...identity });
  const close = async (): Promise<void> => {
    await stop(child, 'SIGTERM', 20_000);
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // The process group is already gone.
    }
    execFileSync('epmd', ['-kill'], { env: { ...env }, stdio: 'ignore', ...identity, timeout: 10_000 });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, 90_000);
  } catch (error) {
    await close();
    throw error;
  }
  return { port, close };
}
