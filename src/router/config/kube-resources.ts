/**
 * The Kubernetes API surface of the router's provider: the five resources it watches, the
 * EndpointSlice version the cluster serves (discovery.k8s.io/v1 from Kubernetes 1.21, v1beta1
 * before), and the one write it makes (a Route's status subresource).
 */
import { ApisApi, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type V1APIGroupList } from '@kubernetes/client-node';
import { apiGroup, apiVersionName } from '../../api/meta.ts';
import { routePlural, type Route } from '../../api/route.ts';
import { tenantPlural, type Tenant } from '../../api/tenant.ts';
import { LandlordError } from '../../shared/errors.ts';
import type { EndpointSliceObject, NamespaceObject, ServiceObject } from './cluster-snapshot.ts';
import type { KubeObject, ResourceList, WatchedResource } from '../../shared/kube-reflector.ts';
import type { RouteStatusPatch } from './route-status.ts';

export type EndpointSliceVersion = 'v1' | 'v1beta1';

const discoveryGroup = 'discovery.k8s.io';

/** Asks API discovery which EndpointSlice version to use: v1 where served, else v1beta1. */
export async function detectEndpointSliceVersion(kubeConfig: KubeConfig): Promise<EndpointSliceVersion> {
  let groups: V1APIGroupList;
  try {
    groups = await kubeConfig.makeApiClient(ApisApi).getAPIVersions();
  } catch (cause) {
    const server = kubeConfig.getCurrentCluster()?.server ?? 'the API server';
    throw new LandlordError('LL_ROUTER_KUBE_UNREACHABLE', `cannot query API discovery at ${server}: ${cause instanceof Error ? cause.message : JSON.stringify(cause)}`, { cause, hint: 'check the kubeconfig (or the pod’s service account) and that the API server is reachable' });
  }
  const versions = groups.groups.find((group) => group.name === discoveryGroup)?.versions.map((v) => v.version) ?? [];
  if (versions.includes('v1')) return 'v1';
  if (versions.includes('v1beta1')) return 'v1beta1';
  throw new LandlordError('LL_ROUTER_KUBE_NO_ENDPOINTSLICES', `the cluster serves no EndpointSlice API (${discoveryGroup} versions: ${versions.join(', ') || 'none'})`, { hint: 'the router needs Kubernetes 1.17 or later' });
}

/** Lists of custom-object style APIs come back untyped; this reads the two fields we use. */
function untypedList<T>(body: unknown): ResourceList<T> {
  const list = body as { items?: T[]; metadata?: { resourceVersion?: string } };
  return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion };
}

function customResource<T extends KubeObject>(kubeConfig: KubeConfig, group: string, version: string, plural: string): WatchedResource<T> {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  return {
    name: plural,
    watchPath: `/apis/${group}/${version}/${plural}`,
    list: async () => untypedList<T>(await custom.listClusterCustomObject({ group, version, plural })),
  };
}

export type RouteResource = Route & KubeObject;
export type TenantResource = Tenant & KubeObject;
export type NamespaceResource = NamespaceObject & KubeObject;
export type ServiceResource = ServiceObject & KubeObject;
export type EndpointSliceResource = EndpointSliceObject & KubeObject;

export interface WatchedResources {
  readonly routes: WatchedResource<RouteResource>;
  readonly tenants: WatchedResource<TenantResource>;
  readonly namespaces: WatchedResource<NamespaceResource>;
  readonly services: WatchedResource<ServiceResource>;
  readonly endpointSlices: WatchedResource<EndpointSliceResource>;
}

export function watchedResources(kubeConfig: KubeConfig, endpointSliceVersion: EndpointSliceVersion): WatchedResources {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return {
    routes: customResource(kubeConfig, apiGroup, apiVersionName, routePlural),
    tenants: customResource(kubeConfig, apiGroup, apiVersionName, tenantPlural),
    namespaces: {
      name: 'namespaces',
      watchPath: '/api/v1/namespaces',
      list: async () => {
        const list = await core.listNamespace();
        return { items: list.items, resourceVersion: list.metadata?.resourceVersion };
      },
    },
    services: {
      name: 'services',
      watchPath: '/api/v1/services',
      list: async () => {
        const list = await core.listServiceForAllNamespaces();
        return { items: list.items, resourceVersion: list.metadata?.resourceVersion };
      },
    },
    // The generic custom-objects client also serves built-in groups, so one path covers v1 and v1beta1.
    endpointSlices: customResource(kubeConfig, discoveryGroup, endpointSliceVersion, 'endpointslices'),
  };
}

export type RouteStatusWriter = (namespace: string, name: string, patch: RouteStatusPatch) => Promise<void>;

/** Writes a merge patch to a Route's status subresource; a Route deleted meanwhile is not an error. */
export function routeStatusWriter(kubeConfig: KubeConfig): RouteStatusWriter {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  return async (namespace, name, patch) => {
    try {
      await custom.patchNamespacedCustomObjectStatus({ group: apiGroup, version: apiVersionName, namespace, plural: routePlural, name, body: patch }, mergePatch);
    } catch (cause) {
      if ((cause as { code?: number }).code === 404) return;
      throw new LandlordError('LL_ROUTER_ROUTE_STATUS_FAILED', `cannot write the status of Route ${namespace}/${name}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause, hint: 'the router needs patch on routes/status' });
    }
  };
}
