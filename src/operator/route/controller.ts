/**
 * The Route controller's wiring: its own caches (Routes, the Secrets it issued, every Service),
 * the tenant caches it shares with the tenant controller (Tenants, namespaces, platform Secrets),
 * and which Route keys each change enqueues:
 *
 * - a Route → itself;
 * - a Secret or Service labelled `landlord.dev/route` → that Route (drift repair, deletion);
 * - a Service whose selector changed, or that appeared or went → the Routes using it as backend;
 * - a Tenant (spec), a namespace's tenant label, a tenant CA Secret → the Routes of that tenant.
 */
import { labels, managedByValue, platformNamespace } from '../../api/meta.ts';
import { routeLabel } from '../../api/route.ts';
import type { Tenant } from '../../api/tenant.ts';
import type { Logger } from '../../shared/log.ts';
import { Informer, objectKey } from '../runtime/informer.ts';
import type { KubeClient, KubeObject } from '../runtime/kube.ts';
import type { Counter } from '../runtime/metrics.ts';
import { WorkQueue } from '../runtime/queue.ts';
import { resources } from '../runtime/resources.ts';
import { RouteReconciler, type RouteObject } from './reconciler.ts';

/** What the operator does with a controller's caches: run them and wait for their first list. */
export type Cache = Pick<Informer<KubeObject>, 'run' | 'waitForSync'>;

export interface RouteControllerDeps {
  readonly client: KubeClient;
  readonly logger: Logger;
  readonly clock: () => Date;
  readonly writes: Counter;
  readonly restarts?: Counter;
  /** Shared with the tenant controller: subscribed to, not run, by this controller. */
  readonly tenants: Informer<Tenant & KubeObject>;
  readonly namespaces: Informer<KubeObject>;
  /** Secrets landlord keeps in the platform namespace (the tenant CAs among them). */
  readonly platformSecrets: Informer<KubeObject>;
}

export interface RouteController {
  /** The caches this controller runs (the shared ones are run by their owner). */
  readonly caches: readonly Cache[];
  readonly queue: WorkQueue;
  readonly reconciler: RouteReconciler;
  /** Enqueues every Route, and every Route name found on objects landlord made for Routes. */
  resync(): void;
}

const tenantCaSecret = /^tenant-(.+)-ca$/;

export function buildRouteController(deps: RouteControllerDeps): RouteController {
  const { client, logger, restarts } = deps;
  const queue = new WorkQueue();
  const byNamespace = new Map<string, Set<string>>();

  const routesIn = (namespace: string): string[] => [...(byNamespace.get(namespace) ?? [])];
  const routesOfTenant = (tenant: string): string[] => deps.namespaces.withLabel(tenant).flatMap((ns) => routesIn(ns.metadata.name));
  const addAll = (keys: readonly string[]): void => keys.forEach((key) => queue.add(key));
  const enqueueOwner = (object: KubeObject): void => {
    const route = object.metadata.labels?.[routeLabel];
    if (route !== undefined && object.metadata.labels?.[labels.managedBy] === managedByValue) queue.add(`${object.metadata.namespace ?? ''}/${route}`);
  };

  const routes = new Informer<RouteObject>({
    client, type: resources.routes, logger, ...(restarts ? { restarts } : {}),
    onChange: (current, previous) => {
      const route = current ?? previous;
      if (route === undefined) return;
      const key = objectKey(route);
      const namespace = route.metadata.namespace ?? '';
      const keys = byNamespace.get(namespace) ?? new Set<string>();
      if (current === undefined) keys.delete(key);
      else keys.add(key);
      if (keys.size === 0) byNamespace.delete(namespace);
      else byNamespace.set(namespace, keys);
      queue.add(key);
    },
  });
  const routeSecrets = new Informer<KubeObject>({
    client, type: resources.secrets, labelSelector: `${labels.managedBy}=${managedByValue},${routeLabel}`, logger, ...(restarts ? { restarts } : {}),
    onChange: (current, previous) => {
      if (current === undefined && previous !== undefined) reconciler.forgetWrite(previous);
      const object = current ?? previous;
      if (object !== undefined) enqueueOwner(object);
    },
  });
  const services = new Informer<KubeObject>({
    client, type: resources.services, logger, ...(restarts ? { restarts } : {}),
    onChange: (current, previous) => {
      const service = current ?? previous;
      if (service === undefined) return;
      if (current === undefined && service.metadata.labels?.[routeLabel] !== undefined) reconciler.forgetWrite(service);
      enqueueOwner(service);
      const selector = (object: KubeObject | undefined): string => JSON.stringify((object?.spec as { selector?: unknown } | undefined)?.selector ?? null);
      if (current !== undefined && previous !== undefined && selector(current) === selector(previous)) return;
      const namespace = service.metadata.namespace ?? '';
      addAll(routesIn(namespace).filter((key) => routes.get(key)?.spec.backend.service === service.metadata.name));
    },
  });

  deps.tenants.subscribe((current, previous) => {
    const tenant = current ?? previous;
    if (tenant === undefined || current?.metadata.generation === previous?.metadata.generation) return;
    addAll(routesOfTenant(tenant.metadata.name));
  });
  deps.namespaces.subscribe((current, previous) => {
    const namespace = current ?? previous;
    if (namespace === undefined || current?.metadata.labels?.[labels.tenant] === previous?.metadata.labels?.[labels.tenant]) return;
    addAll(routesIn(namespace.metadata.name));
  });
  deps.platformSecrets.subscribe((current, previous) => {
    const secret = current ?? previous;
    const tenant = secret?.metadata.namespace === platformNamespace ? tenantCaSecret.exec(secret.metadata.name)?.[1] : undefined;
    if (tenant !== undefined) addAll(routesOfTenant(tenant));
  });

  const reconciler: RouteReconciler = new RouteReconciler({
    client, logger, clock: deps.clock, writes: deps.writes,
    caches: { routes, tenants: deps.tenants, namespaces: deps.namespaces, platformSecrets: deps.platformSecrets, routeSecrets, services },
  });

  return {
    caches: [routes, routeSecrets, services],
    queue,
    reconciler,
    resync: () => {
      for (const route of routes.list()) queue.add(objectKey(route));
      for (const object of [...routeSecrets.list(), ...services.list()]) enqueueOwner(object);
    },
  };
}
