/**
 * Supervised daemons for the local cluster.
 *
 * Each daemon runs in its own process group (detached) with stdout and stderr appended to a log
 * file, so that it can outlive the process that started it (`landlord cluster up` exits while the
 * cluster keeps running) and so that `stopDaemon` can end it together with any children it forked.
 * Identity is the recorded pid plus the process start time, which guards against pid reuse.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LandlordError } from '../shared/errors.ts';

export interface DaemonSpec {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** What is recorded about a running daemon: enough to find and stop it from another process. */
export interface DaemonRecord {
  name: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat: distinguishes this process from a later one with the same pid. */
  startTime: string;
  logFile: string;
}

export function startDaemon(spec: DaemonSpec): DaemonRecord {
  const log = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: spec.env ?? process.env,
      cwd: spec.cwd,
    });
    if (child.pid === undefined) {
      throw new LandlordError('LL_DEVCLUSTER_SPAWN_FAILED', `could not start ${spec.name} (${spec.command})`);
    }
    // The daemon's life is tracked through its record, not through this handle.
    child.on('error', () => {});
    child.unref();
    return { name: spec.name, pid: child.pid, startTime: processStartTime(child.pid) ?? '', logFile: spec.logFile };
  } finally {
    closeSync(log);
  }
}

export function isDaemonAlive(record: DaemonRecord): boolean {
  const startTime = processStartTime(record.pid);
  return startTime !== undefined && startTime === record.startTime && !isZombie(record.pid);
}

/**
 * Stops a daemon and its process group: SIGTERM, then SIGKILL after `graceMs`.
 * Resolves once no process of the group is left. Safe to call for a daemon that already exited.
 */
export async function stopDaemon(record: DaemonRecord, graceMs = 5000): Promise<void> {
  if (!isDaemonAlive(record)) {
    signalGroup(record.pid, 'SIGKILL'); // children may outlive a leader that died
    return;
  }
  signalGroup(record.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!groupExists(record.pid)) return;
    await sleep(50);
  }
  signalGroup(record.pid, 'SIGKILL');
  for (let i = 0; i < 100 && groupExists(record.pid); i++) await sleep(50);
  if (groupExists(record.pid)) {
    throw new LandlordError('LL_DEVCLUSTER_STOP_FAILED', `${record.name} (pid ${record.pid}) did not exit after SIGKILL`);
  }
}

/** The last `lines` lines of a daemon's log, for error messages. */
export function tailLog(logFile: string, lines = 20): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** Whether any live (non-zombie) process is still in the group; zombies await a reaper, not us. */
function groupExists(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = procStatFields(Number(entry));
    if (fields !== undefined && fields[2] === String(pgid) && fields[0] !== 'Z') return true;
  }
  return false;
}

function processStartTime(pid: number): string | undefined {
  return procStatFields(pid)?.[19];
}

function isZombie(pid: number): boolean {
  return procStatFields(pid)?.[0] === 'Z';
}

/** Fields of /proc/<pid>/stat after the command name (field 3 onwards), or undefined. */
function procStatFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
