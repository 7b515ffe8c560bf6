/**
 * STAND-IN CRDs for tests only: `Route` (namespaced) and `Tenant` (cluster-scoped) in
 * landlord.dev/v1alpha1 with no schema (`x-kubernetes-preserve-unknown-fields`) and a status
 * subresource. Replace with the generated CRDs in deploy/crds once the operator branch is merged.
 */
import { ApiException, ApiextensionsV1Api, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { apiGroup, apiVersionName } from '../../src/api/meta.ts';
import { eventually } from './cluster.ts';

function fixtureCrd(kind: string, plural: string, scope: 'Namespaced' | 'Cluster'): V1CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${apiGroup}`, labels: { 'landlord.dev/test-fixture': 'true' } },
    spec: {
      group: apiGroup,
      scope,
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [{ name: apiVersionName, served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } }],
    },
  };
}

/** Installs the stand-in Route and Tenant CRDs (keeping existing ones) and waits until both are served. */
export async function installFixtureRouteAndTenantCrds(kubeConfig: KubeConfig): Promise<void> {
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  for (const crd of [fixtureCrd('Route', 'routes', 'Namespaced'), fixtureCrd('Tenant', 'tenants', 'Cluster')]) {
    await api.createCustomResourceDefinition({ body: crd }).catch((error: unknown) => {
      if (!(error instanceof ApiException && error.code === 409)) throw error;
    });
    const name = crd.metadata?.name ?? '';
    await eventually(`CRD ${name} to be established`, async () => {
      const read = await api.readCustomResourceDefinition({ name });
      return read.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    });
  }
}
