/**
 * Where the API server listens, for the tenant ingress's egress NetworkPolicy: the addresses and
 * ports of the `default/kubernetes` Endpoints. A connection to the `kubernetes` Service's ClusterIP
 * is translated to one of them before NetworkPolicy applies, so the policy must name these. Read
 * once when the operator starts; a control plane that moves needs the operator restarted.
 */
import type { KubeClient, KubeObject } from '../runtime/kube.ts';
import { resources } from '../runtime/resources.ts';
import type { ApiServerEndpoint } from './desired.ts';

interface EndpointsSubset {
  readonly addresses?: ReadonlyArray<{ readonly ip?: unknown }>;
  readonly ports?: ReadonlyArray<{ readonly port?: unknown; readonly protocol?: unknown }>;
}

/** Every TCP address × port of the Endpoints, sorted and without repeats; none for a missing object. */
export function apiServerEndpointsOf(endpoints: KubeObject | undefined): ApiServerEndpoint[] {
  const subsets = (endpoints as { subsets?: readonly EndpointsSubset[] } | undefined)?.subsets ?? [];
  const found = new Map<string, ApiServerEndpoint>();
  for (const subset of subsets) {
    for (const { ip } of subset.addresses ?? []) {
      for (const { port, protocol } of subset.ports ?? []) {
        if (typeof ip !== 'string' || typeof port !== 'number' || (protocol !== undefined && protocol !== 'TCP')) continue;
        found.set(`${ip} ${port}`, { ip, port });
      }
    }
  }
  return [...found.values()].sort((a, b) => a.ip.localeCompare(b.ip) || a.port - b.port);
}

export async function readApiServerEndpoints(client: KubeClient): Promise<ApiServerEndpoint[]> {
  return apiServerEndpointsOf(await client.get(resources.endpoints, 'kubernetes', 'default'));
}
