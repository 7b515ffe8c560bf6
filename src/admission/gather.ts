/**
 * The gather step: facts about tenants read from the API server for the decisions that need them
 * (hostname ownership, hard-tier placement). A namespace's tenant is remembered for `cacheMs`
 * (default 5 s): every pod create is mutated, and two API reads per pod would dominate admission
 * latency, so a Tenant's placement or domains change takes effect within that time. Routes are
 * listed fresh for every Route or Ingress review, so collisions are judged on current state, and
 * for every pod create (with the namespace's Services when a `sidecar` Route exists: one or two
 * namespaced lists), so a pod created right after its Route gets its sidecar.
 *
 * Fails closed: a namespace without the tenant label, or a missing Tenant, yields no tenant (the
 * hostname check then refuses); any other read error propagates and the server denies the request.
 */
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { apiGroup, apiVersionName, labels } from '../api/meta.ts';
import { effectiveTlsMode, routePlural, type Route } from '../api/route.ts';
import { tenantPlural, type Tenant } from '../api/tenant.ts';
import { parseTenantDomain } from '../pki/index.ts';
import type { MutationContext } from './defaults.ts';
import type { HostnameFacts } from './hostnames.ts';
import type { NamespaceRoutes } from './sidecar-injection.ts';

/** What a mutation needs beyond the tenant: the namespace's Routes only for pod creates. */
export interface MutationNeeds {
  readonly routes?: boolean;
}

export interface TenantFacts {
  hostnameFacts(namespace: string): Promise<HostnameFacts>;
  mutationContext(namespace: string, needs?: MutationNeeds): Promise<MutationContext>;
}

export interface TenantFactsOptions {
  readonly cacheMs?: number;
  readonly now?: () => number;
}

export function kubeTenantFacts(config: KubeConfig, options: TenantFactsOptions = {}): TenantFacts {
  const core = config.makeApiClient(CoreV1Api);
  const custom = config.makeApiClient(CustomObjectsApi);
  const cacheMs = options.cacheMs ?? 5_000;
  const now = options.now ?? Date.now;
  const remembered = new Map<string, { until: number; tenant: Promise<Tenant | undefined> }>();

  /** The tenant of `namespace`, remembered for `cacheMs`; a failed read is not remembered. */
  function tenantOf(namespace: string): Promise<Tenant | undefined> {
    const hit = remembered.get(namespace);
    if (hit && hit.until > now()) return hit.tenant;
    const tenant = readTenantOf(namespace);
    remembered.set(namespace, { until: now() + cacheMs, tenant });
    tenant.catch(() => remembered.delete(namespace));
    if (remembered.size > 10_000) remembered.delete(remembered.keys().next().value ?? '');
    return tenant;
  }

  async function readTenantOf(namespace: string): Promise<Tenant | undefined> {
    const name = (await core.readNamespace({ name: namespace })).metadata?.labels?.[labels.tenant];
    if (name === undefined) return undefined;
    try {
      return (await custom.getClusterCustomObject({ group: apiGroup, version: apiVersionName, plural: tenantPlural, name })) as Tenant;
    } catch (error) {
      if ((error as { code?: unknown }).code === 404) return undefined;
      throw error;
    }
  }

  return {
    async hostnameFacts(namespace) {
      const [tenant, routes] = await Promise.all([
        tenantOf(namespace),
        custom.listClusterCustomObject({ group: apiGroup, version: apiVersionName, plural: routePlural }) as Promise<{ items?: Array<{ metadata?: { namespace?: string; name?: string }; spec?: { hostname?: unknown } }> }>,
      ]);
      return {
        ...(tenant ? { tenant: { name: tenant.metadata.name, zones: zonesOf(tenant) } } : {}),
        routes: (routes.items ?? []).map((route) => ({
          namespace: route.metadata?.namespace ?? '',
          name: route.metadata?.name ?? '',
          hostname: typeof route.spec?.hostname === 'string' ? route.spec.hostname : '',
        })),
      };
    },
    async mutationContext(namespace, needs = {}) {
      const [tenant, routes] = await Promise.all([tenantOf(namespace), needs.routes === true ? namespaceRoutes(namespace) : undefined]);
      return {
        ...(tenant?.spec?.tier === 'hard' && tenant.spec.placement ? { placement: tenant.spec.placement } : {}),
        ...(routes ? { routes } : {}),
      };
    },
  };

  /** The namespace's Routes; its Services only when some Route terminates TLS in a sidecar. */
  async function namespaceRoutes(namespace: string): Promise<NamespaceRoutes> {
    const list = (await custom.listNamespacedCustomObject({ group: apiGroup, version: apiVersionName, namespace, plural: routePlural })) as { items?: Route[] };
    const routes = (list.items ?? []).filter((route) => typeof route.spec?.backend?.service === 'string' && typeof route.spec.backend.port === 'number');
    if (!routes.some((route) => effectiveTlsMode(route.spec) === 'sidecar')) return { routes, services: [] };
    const services = (await core.listNamespacedService({ namespace })).items.map((service) => ({
      name: service.metadata?.name ?? '',
      selector: service.spec?.selector,
      ports: (service.spec?.ports ?? []).map((port) => ({ port: port.port, targetPort: port.targetPort })),
    }));
    return { routes, services };
  }
}

/** The zones of a tenant's domains; a domain the PKI would refuse grants nothing. */
function zonesOf(tenant: Tenant): string[] {
  return (Array.isArray(tenant.spec?.domains) ? tenant.spec.domains : []).flatMap((domain) => {
    try {
      return [parseTenantDomain(domain)];
    } catch {
      return [];
    }
  });
}
