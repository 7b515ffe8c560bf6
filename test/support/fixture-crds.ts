/**
 * FIXTURE CRDs for Tenant and Route, until the operator's real ones (deploy/crds/) are merged:
 * no schema beyond `x-kubernetes-preserve-unknown-fields`, so the webhook, not validation,
 * decides. Replace `installFixtureCrds` with applying deploy/crds once it exists.
 */
import { ApiextensionsV1Api, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { apiGroup, apiVersionName } from '../../src/api/meta.ts';
import { routeKind, routePlural } from '../../src/api/route.ts';
import { tenantKind, tenantPlural } from '../../src/api/tenant.ts';
import type { DevCluster } from '../../src/devcluster/index.ts';
import { eventually } from './cluster.ts';

function fixtureCrd(kind: string, plural: string, scope: 'Cluster' | 'Namespaced'): V1CustomResourceDefinition {
  return {
    metadata: { name: `${plural}.${apiGroup}` },
    spec: {
      group: apiGroup,
      scope,
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [{ name: apiVersionName, served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } }],
    },
  };
}

/** Installs the fixture CRDs unless CRDs of those names exist already, and waits until they are served. */
export async function installFixtureCrds(cluster: DevCluster): Promise<void> {
  const api = cluster.kubeConfig().makeApiClient(ApiextensionsV1Api);
  for (const crd of [fixtureCrd(tenantKind, tenantPlural, 'Cluster'), fixtureCrd(routeKind, routePlural, 'Namespaced')]) {
    await api.createCustomResourceDefinition({ body: crd }).catch((error: unknown) => {
      if ((error as { code?: unknown }).code !== 409) throw error;
    });
    const name = crd.metadata?.name ?? '';
    await eventually(`CRD ${name} to be established`, async () => {
      const read = await api.readCustomResourceDefinition({ name });
      return read.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    });
  }
}
