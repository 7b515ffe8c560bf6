/**
 * The gather step: facts about tenants read from the API server for the decisions that need them
 * (hostname ownership, hard-tier placement). A namespace's tenant is remembered for `cacheMs`
 * (default 5 s): every pod create is mutated, and two API reads per pod would dominate admission
 * latency, so a Tenant's placement or domains change takes effect within that time. The entry is
 * re-read in the background before it expires, so under steady traffic no review waits for
 * those reads (each expiry used to hold every review of the namespace behind them). Routes are
 * listed fresh for every Route or Ingress review, so collisions are judged on current state.
 *
 * Pod creates read Routes and Services from watch caches (list + watch of all namespaces, started
 * by the first pod create and waited for until synced): two fresh lists per pod measured ~60 ms
 * on a loaded local cluster and made the webhook fall behind at 20 pods/s, while a watch trails
 * the API server by milliseconds, so a pod created right after its Route still gets its sidecar.
 * Until the caches have synced (at most `syncTimeoutMs`, default 3 s) pod creates are refused,
 * never admitted without their sidecars.
 *
 * Fails closed: a namespace without the tenant label, or a missing Tenant, yields no tenant (the
 * hostname check then refuses); any other read error propagates and the server denies the request.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Service } from '@kubernetes/client-node';
import { apiGroup, apiVersionName, labels } from '../api/meta.ts';
import { effectiveTlsMode, routePlural, type Route } from '../api/route.ts';
import { tenantPlural, type Tenant } from '../api/tenant.ts';
import { parseTenantDomain } from '../pki/index.ts';
import { LandlordError } from '../shared/errors.ts';
import { startReflector, type Reflector } from '../shared/kube-reflector.ts';
import { silentLogger, type Logger } from '../shared/log.ts';
import type { MutationContext } from './defaults.ts';
import type { HostnameFacts } from './hostnames.ts';
import { refreshingCache } from './refreshing-cache.ts';
import type { NamespaceRoutes } from './sidecar-injection.ts';

/** What a mutation needs beyond the tenant: the namespace's Routes only for pod creates. */
export interface MutationNeeds {
  readonly routes?: boolean;
}

export interface TenantFacts {
  hostnameFacts(namespace: string): Promise<HostnameFacts>;
  mutationContext(namespace: string, needs?: MutationNeeds): Promise<MutationContext>;
  /** Stops the Route and Service watches, if started. */
  close(): void;
}

export interface TenantFactsOptions {
  readonly cacheMs?: number;
  readonly now?: () => number;
  readonly syncTimeoutMs?: number;
  /** Watch failures (`LL_ADMISSION_KUBE_*`) are logged here; the watches retry by themselves. */
  readonly logger?: Logger;
}

export function kubeTenantFacts(config: KubeConfig, options: TenantFactsOptions = {}): TenantFacts {
  const core = config.makeApiClient(CoreV1Api);
  const custom = config.makeApiClient(CustomObjectsApi);
  const tenants = refreshingCache(readTenantOf, { ttlMs: options.cacheMs ?? 5_000, ...(options.now ? { now: options.now } : {}) });
  let watches: { routes: Reflector<Route>; services: Reflector<V1Service> } | undefined;

  /** The tenant of `namespace`, at most `cacheMs` old (refreshing-cache.ts). */
  const tenantOf = (namespace: string): Promise<Tenant | undefined> => tenants.get(namespace);

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
    close() {
      watches?.routes.stop();
      watches?.services.stop();
    },
  };

  /** The Route and Service watch caches, started on first use; refuses until both have synced. */
  async function syncedWatches(): Promise<NonNullable<typeof watches>> {
    const logger = options.logger ?? silentLogger;
    const common = { kubeConfig: config, onChange: () => undefined, onError: (error: LandlordError) => logger.warn('watch failed; retrying', { error }), errorCodePrefix: 'LL_ADMISSION_KUBE' };
    watches ??= {
      routes: startReflector<Route>({
        ...common,
        resource: {
          name: routePlural, watchPath: `/apis/${apiGroup}/${apiVersionName}/${routePlural}`,
          list: async () => {
            const list = (await custom.listClusterCustomObject({ group: apiGroup, version: apiVersionName, plural: routePlural })) as { items?: Route[]; metadata?: { resourceVersion?: string } };
            return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion };
          },
        },
      }),
      services: startReflector<V1Service>({
        ...common,
        resource: {
          name: 'services', watchPath: '/api/v1/services',
          list: async () => {
            const list = await core.listServiceForAllNamespaces();
            return { items: list.items, resourceVersion: list.metadata?.resourceVersion };
          },
        },
      }),
    };
    const deadline = Date.now() + (options.syncTimeoutMs ?? 3_000);
    while (!watches.routes.synced || !watches.services.synced) {
      if (Date.now() > deadline) {
        throw new LandlordError('LL_ADMISSION_ROUTES_NOT_SYNCED', 'the webhook has not read the cluster\'s Routes and Services yet, so it cannot tell which TLS sidecars a pod needs', { hint: 'the webhook needs list/watch on routes.landlord.dev and services; see its log' });
      }
      await sleep(20);
    }
    return watches;
  }

  /** The namespace's Routes, and its Services when some Route terminates TLS in a sidecar. */
  async function namespaceRoutes(namespace: string): Promise<NamespaceRoutes> {
    const cached = await syncedWatches();
    const routes = cached.routes.items().filter((route) => route.metadata?.namespace === namespace && typeof route.spec?.backend?.service === 'string' && typeof route.spec.backend.port === 'number');
    if (!routes.some((route) => effectiveTlsMode(route.spec) === 'sidecar')) return { routes, services: [] };
    const services = cached.services.items().filter((service) => service.metadata?.namespace === namespace).map((service) => ({
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
