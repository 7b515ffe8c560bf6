/** What `landlord status` reports about an installed platform: components, router ports, tenants. */
import type { KubeConfig } from '@kubernetes/client-node';
import { platformNamespace } from '../api/meta.ts';
import { KubeClient } from '../operator/index.ts';
import { accepts, type HostAddress } from './install.ts';
import { componentNames } from './manifests.ts';
import { deploymentProgress, type DeploymentProgress } from './readiness.ts';
import { resourceType } from './resources.ts';

export interface PlatformStatus {
  /** One per component; `undefined` progress: the Deployment does not exist. */
  readonly components: ReadonlyArray<{ readonly name: string; readonly progress?: DeploymentProgress }>;
  readonly routerPorts: ReadonlyArray<HostAddress & { readonly listening: boolean }>;
  readonly tenants: number;
}

export async function platformStatus(kubeConfig: KubeConfig, routerAddresses: readonly HostAddress[]): Promise<PlatformStatus> {
  const client = new KubeClient(kubeConfig);
  try {
    const components = await Promise.all(Object.values(componentNames).map(async (name) => {
      const deployment = await client.get(resourceType('Deployment'), name, platformNamespace);
      return deployment ? { name, progress: deploymentProgress(deployment) } : { name };
    }));
    const routerPorts = await Promise.all(routerAddresses.map(async (address) => ({ ...address, listening: await accepts(address) })));
    const tenants = await client.list(resourceType('Tenant')).then((list) => list.items.length, () => 0);
    return { components, routerPorts, tenants };
  } finally {
    client.close();
  }
}
