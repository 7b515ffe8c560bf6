/**
 * `landlord up | down | status`: landlord on the embedded local cluster.
 *
 * `up` starts the local cluster with a node, builds landlord's image from this checkout and loads
 * it into the node, so that platform components run as pods from exactly this code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { buildLandlordImage, landlordImage } from '../../devcluster/index.ts';
import { localClusterDir, upLocalCluster } from './cluster.ts';

const projectRoot = path.resolve(import.meta.dirname, '..', '..', '..');

export function registerPlatformCommands(program: Command): void {
  program
    .command('up')
    .description('Start landlord on a local single-node Kubernetes (set-up runs first if anything is missing).')
    .addHelpText('after', `\nState lives in ${localClusterDir()} (set LANDLORD_HOME to move it). Re-running is safe.`)
    .action(async () => {
      const began = Date.now();
      const { cluster } = await upLocalCluster({ node: true });
      step(`building ${landlordImage} from ${projectRoot}`);
      const work = mkdtempSync(path.join(tmpdir(), 'landlord-up-'));
      try {
        await cluster.importImage(buildLandlordImage(path.join(work, 'landlord.tar'), projectRoot).file);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
      step(`landlord is up (${((Date.now() - began) / 1000).toFixed(1)} s)`);
      console.log(`
landlord is running on a local Kubernetes ${cluster.server}

  export KUBECONFIG=${cluster.kubeconfigPath}
  kubectl get nodes                         # one node, Ready
  kubectl run hello --image=${landlordImage} --image-pull-policy=Never --restart=Never -- --version

  landlord cluster kubeconfig --user alice --group team-a   # a kubeconfig for another user
  landlord status                           # health of every daemon
  landlord down                             # stop and remove everything

Logs: ${cluster.logsDir}`);
    });

  program
    .command('down')
    .description('Stop landlord and the local cluster and remove everything they created.')
    .action(async () => {
      await program.parseAsync(['cluster', 'down'], { from: 'user' });
    });

  program
    .command('status')
    .description('Summarize the health of the local platform.')
    .action(async () => {
      await program.parseAsync(['cluster', 'status'], { from: 'user' });
    });
}

function step(message: string): void {
  console.error(`• ${message}`);
}
