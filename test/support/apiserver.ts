/**
 * Restarting a local cluster's kube-apiserver in place (the devcluster has no restart API): the
 * daemon is killed (SIGKILL) by its pid and started again with the same command line, environment and
 * working directory, appending to the same log. The new process's command line still names the
 * cluster directory, so `cluster.stop()` finds and stops it like the original.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DevCluster } from '../../src/devcluster/index.ts';
import { liveProcesses } from './cluster.ts';

/** Stops kube-apiserver (`pid`: the current one), keeps it down for `downMs`, starts it again; returns the new pid. */
export async function restartApiServer(cluster: DevCluster, pid: number, downMs: number): Promise<number> {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const env = Object.fromEntries(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((entry) => {
    const at = entry.indexOf('=');
    return [entry.slice(0, at), entry.slice(at + 1)];
  }));
  const cwd = readlinkSync(`/proc/${pid}/cwd`);
  process.kill(pid, 'SIGKILL');
  for (let attempt = 0; attempt < 100 && liveProcesses([pid]).length > 0; attempt++) await sleep(100);
  if (liveProcesses([pid]).length > 0) throw new Error(`kube-apiserver ${pid} did not stop`);
  await sleep(downMs);
  const log = openSync(path.join(cluster.logsDir, 'kube-apiserver.log'), 'a');
  try {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', log, log] });
    child.unref();
    if (child.pid === undefined) throw new Error('kube-apiserver did not start again');
    return child.pid;
  } finally {
    closeSync(log);
  }
}

export function apiServerPid(cluster: DevCluster): number {
  const daemon = cluster.daemons().find((d) => d.name === 'kube-apiserver');
  if (!daemon) throw new Error('the cluster has no kube-apiserver');
  return daemon.pid;
}
