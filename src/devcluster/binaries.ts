/** The Kubernetes binaries the local cluster runs, built by scripts/setup.sh into a cache. */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { LandlordError } from '../shared/errors.ts';

export const kubernetesVersion = '1.20.2';
const kubernetesBinaries = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl', 'pause'] as const;
export type KubernetesBinary = (typeof kubernetesBinaries)[number];

export interface Binaries {
  kubernetes: Record<KubernetesBinary, string>;
  etcd: string;
  containerd: string;
  ctr: string;
}

export function cacheDir(): string {
  return process.env.LANDLORD_CACHE ?? path.join(homedir(), '.cache', 'landlord');
}

/** Finds every binary; the error names what is missing and how to get it. */
export function locateBinaries(): Binaries {
  const kubeDir = path.join(cacheDir(), `kubernetes-${kubernetesVersion}`, 'bin');
  const kubernetes = Object.fromEntries(kubernetesBinaries.map((name) => [name, path.join(kubeDir, name)])) as Record<KubernetesBinary, string>;
  const binaries: Binaries = { kubernetes, etcd: '/usr/bin/etcd', containerd: '/usr/bin/containerd', ctr: '/usr/bin/ctr' };
  const missing = [...Object.values(kubernetes), binaries.etcd, binaries.containerd, binaries.ctr].filter((file) => !isExecutable(file));
  // Builds without Debian's reflect2 1.0.2 crash kube-apiserver on custom resources (scripts/setup.sh).
  if (!existsSync(path.join(kubeDir, '.reflect2-1.0.2'))) missing.push(`${kubeDir} (built before the reflect2 fix)`);
  if (missing.length > 0) {
    throw new LandlordError('LL_DEVCLUSTER_BINARY_MISSING', `missing: ${missing.join(', ')}`, {
      hint: 'run `npm run setup` (builds Kubernetes from Debian\'s source package; about 10 minutes the first time)',
    });
  }
  return binaries;
}

/** Runs the project's set-up script when a binary is missing, then locates them again. */
export function ensureBinaries(projectRoot: string, onProgress: (message: string) => void): Binaries {
  try {
    return locateBinaries();
  } catch (error) {
    onProgress('Kubernetes binaries are missing: running the set-up (about 10 minutes the first time)');
    const result = spawnSync('bash', [path.join(projectRoot, 'scripts', 'setup.sh')], { stdio: 'inherit' });
    if (result.status !== 0) {
      throw new LandlordError('LL_DEVCLUSTER_SETUP_FAILED', `scripts/setup.sh exited with ${result.status ?? result.signal}`, { cause: error });
    }
    return locateBinaries();
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
