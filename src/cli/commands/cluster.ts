/** `landlord cluster …`: the local Kubernetes alone, without landlord installed on it. */
import { existsSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { LandlordError } from '../../shared/errors.ts';
import { attachCluster, ensureBinaries, startCluster, type DevCluster } from '../../devcluster/index.ts';

/** Where `landlord cluster up` and `landlord up` keep their one local cluster. */
export function localClusterDir(): string {
  const home = process.env.LANDLORD_HOME ?? path.join(process.env.XDG_STATE_HOME ?? path.join(homedir(), '.local', 'state'), 'landlord');
  return path.join(home, 'cluster');
}

const projectRoot = path.resolve(import.meta.dirname, '..', '..', '..');

/** Starts the local cluster, or returns the running one. Clears what a crashed run left. */
export async function upLocalCluster(options: { node: boolean }): Promise<{ cluster: DevCluster; started: boolean }> {
  const dir = localClusterDir();
  if (existsSync(path.join(dir, 'state.json'))) {
    const existing = attachCluster(dir);
    if (existing.isRunning()) return { cluster: existing, started: false };
    progress('a previous local cluster is no longer running: cleaning it up');
    await existing.stop();
  }
  rmSync(dir, { recursive: true, force: true });
  ensureBinaries(projectRoot, progress);
  const began = Date.now();
  const cluster = await startCluster({ name: 'local', dir, node: options.node, onProgress: progress });
  progress(`cluster ready in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  return { cluster, started: true };
}

export function registerClusterCommands(program: Command): void {
  const cluster = program
    .command('cluster')
    .description('Manage the local single-node Kubernetes cluster (without landlord installed on it).')
    .addHelpText('after', `\nThe cluster lives in ${localClusterDir()} (set LANDLORD_HOME to move it); logs are in its logs/ folder.`);

  cluster
    .command('up')
    .description('Start the local cluster (control plane and a node), or report the running one.')
    .option('--no-node', 'start only the control plane (no pods can run)')
    .action(async (options: { node: boolean }) => {
      const { cluster: running, started } = await upLocalCluster(options);
      console.log(started ? 'Local cluster started.' : 'Local cluster is already running.');
      printAccess(running);
    });

  cluster
    .command('down')
    .description('Stop the local cluster and remove everything it created.')
    .action(async () => {
      const dir = localClusterDir();
      if (!existsSync(path.join(dir, 'state.json'))) {
        console.log('No local cluster is running.');
        return;
      }
      await attachCluster(dir).stop();
      console.log('Local cluster stopped and removed.');
    });

  cluster
    .command('status')
    .description('Show whether the local cluster is running.')
    .action(() => {
      const dir = localClusterDir();
      if (!existsSync(path.join(dir, 'state.json'))) {
        console.log('Local cluster: not running (start it with `landlord cluster up`).');
        process.exitCode = 3;
        return;
      }
      const running = attachCluster(dir);
      console.log(`Local cluster: ${running.isRunning() ? 'running' : 'NOT running (a daemon exited; see logs, then `landlord cluster up`)'}`);
      for (const daemon of running.daemons()) console.log(`  ${daemon.alive ? 'up  ' : 'DOWN'}  ${daemon.name} (pid ${daemon.pid})`);
      printAccess(running);
      if (!running.isRunning()) process.exitCode = 1;
    });

  cluster
    .command('kubeconfig')
    .description('Print the path of a kubeconfig for the local cluster (the administrator by default).')
    .option('--user <name>', 'authenticate as this user (a client certificate is minted for it)')
    .option('--group <group...>', 'groups of --user')
    .action(async (options: { user?: string; group?: string[] }) => {
      const running = attachCluster(localClusterDir());
      if (options.group && !options.user) throw new LandlordError('LL_CLI_USAGE', '--group needs --user');
      console.log(options.user ? await running.kubeconfigFor({ user: options.user, groups: options.group ?? [] }) : running.kubeconfigPath);
    });
}

function printAccess(cluster: DevCluster): void {
  console.log(`  API server:  ${cluster.server}`);
  console.log(`  kubeconfig:  ${cluster.kubeconfigPath}`);
  console.log(`  node:        ${cluster.hasNode ? 'yes' : 'no (control plane only)'}`);
  console.log(`  logs:        ${cluster.logsDir}`);
  console.log(`\n  export KUBECONFIG=${cluster.kubeconfigPath}\n  kubectl get nodes`);
}

function progress(message: string): void {
  console.error(`• ${message}`);
}
