/**
 * The Kubernetes provider: watches Routes, Tenants, Namespaces, Services and EndpointSlices
 * (gather), builds a `RoutingSnapshot` and per-Route verdicts with the pure `snapshotFromCluster`
 * (decide), hands the snapshot to its consumer and writes each Route's status when — and only
 * when — it differs from the verdict (act).
 *
 * Bursts are debounced: a rebuild waits until events have been quiet for `debounceMs` (but no
 * longer than `maxDelayMs` after the first one), and nothing is built before every cache has been
 * listed once, so 1,000 Routes at start produce one snapshot. The consumer only gets a snapshot
 * that differs from the last one it accepted (the echoes of our own status writes change nothing).
 * Status is written only once the consumer accepted the snapshot, so `Ready` never claims a route
 * the data plane does not serve.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { LandlordError } from '../../shared/errors.ts';
import { silentLogger, type Logger } from '../../shared/log.ts';
import { defaultAdvertisedPorts, snapshotFromCluster, type AdvertisedPorts, type ClusterObjects } from './cluster-snapshot.ts';
import type { RoutingSnapshot } from './ir.ts';
import type { RoutingProvider } from './file-provider.ts';
import { startReflector, type BackoffPolicy, type KubeObject, type Reflector } from '../../shared/kube-reflector.ts';
import { detectEndpointSliceVersion, routeStatusWriter, watchedResources, type RouteResource, type WatchedResources } from './kube-resources.ts';
import { StatusWrites } from './route-status-writes.ts';

export interface KubernetesProviderOptions {
  readonly kubeConfig: KubeConfig;
  /** Applies a snapshot; returns false when it was rejected (statuses are then left alone). */
  readonly onSnapshot: (snapshot: RoutingSnapshot) => boolean;
  readonly logger?: Logger;
  /** Quiet period before a rebuild (default 100 ms). */
  readonly debounceMs?: number;
  /** Upper bound on how long a rebuild waits for quiet (default 1 s). */
  readonly maxDelayMs?: number;
  readonly advertisedPorts?: AdvertisedPorts;
  readonly backoff?: BackoffPolicy;
  /** Status writes in flight at once. */
  readonly statusConcurrency?: number;
  readonly now?: () => Date;
}

export interface KubernetesProviderStats {
  /** Snapshots handed to the consumer. */
  readonly snapshots: number;
  readonly statusWrites: number;
  /** Lists over all resources: one each, plus a relist after every expired watch. */
  readonly lists: number;
}

export interface KubernetesProvider extends RoutingProvider {
  /** Resolves after the first snapshot was handed to the consumer. */
  readonly ready: Promise<void>;
  stats(): KubernetesProviderStats;
}

interface Caches {
  readonly routes: Reflector<RouteResource>;
  readonly reflectors: readonly Reflector<KubeObject>[];
  objects(): ClusterObjects;
}

function startCaches(kubeConfig: KubeConfig, resources: WatchedResources, onChange: () => void, onError: (error: LandlordError) => void, backoff: BackoffPolicy | undefined): Caches {
  const common = { kubeConfig, onChange, onError, errorCodePrefix: 'LL_ROUTER_KUBE', ...(backoff ? { backoff } : {}) };
  const routes = startReflector({ ...common, resource: resources.routes });
  const tenants = startReflector({ ...common, resource: resources.tenants });
  const namespaces = startReflector({ ...common, resource: resources.namespaces });
  const services = startReflector({ ...common, resource: resources.services });
  const endpointSlices = startReflector({ ...common, resource: resources.endpointSlices });
  return {
    routes,
    reflectors: [routes, tenants, namespaces, services, endpointSlices],
    objects: () => ({ routes: routes.items(), tenants: tenants.items(), namespaces: namespaces.items(), services: services.items(), endpointSlices: endpointSlices.items() }),
  };
}

export async function createKubernetesProvider(options: KubernetesProviderOptions): Promise<KubernetesProvider> {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? (() => new Date());
  const version = await detectEndpointSliceVersion(options.kubeConfig);
  logger.info('watching the cluster', { endpointSlices: `discovery.k8s.io/${version}` });
  const debounceMs = options.debounceMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 1_000;
  let snapshots = 0;
  let accepted: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let firstEventAt: number | undefined;
  let closed = false;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const rebuild = (): void => {
    if (closed || !caches.reflectors.every((r) => r.synced)) return;
    const { snapshot, verdicts } = snapshotFromCluster(caches.objects(), options.advertisedPorts ?? defaultAdvertisedPorts);
    const serialized = JSON.stringify(snapshot);
    if (serialized !== accepted) {
      snapshots += 1;
      if (options.onSnapshot(snapshot)) accepted = serialized;
    }
    markReady();
    if (serialized === accepted) writes.reconcile(caches.routes.items(), verdicts, now());
  };
  const schedule = (): void => {
    if (closed) return;
    const at = performance.now();
    firstEventAt ??= at;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      firstEventAt = undefined;
      rebuild();
    }, Math.max(0, Math.min(debounceMs, firstEventAt + maxDelayMs - at)));
  };
  const writes = new StatusWrites({ write: routeStatusWriter(options.kubeConfig), limit: options.statusConcurrency ?? 8, logger, retry: () => rebuild(), retryDelayMs: 5_000 });
  const onError = (error: LandlordError): void => logger.error('cluster watch interrupted; retrying', { code: error.code, error });
  const caches = startCaches(options.kubeConfig, watchedResources(options.kubeConfig, version), schedule, onError, options.backoff);

  return {
    ready,
    reload: () => {
      rebuild();
      return Promise.resolve();
    },
    close() {
      closed = true;
      clearTimeout(timer);
      writes.stop();
      for (const reflector of caches.reflectors) reflector.stop();
    },
    stats: () => ({ snapshots, statusWrites: writes.count, lists: caches.reflectors.reduce((sum, r) => sum + r.lists, 0) }),
  };
}
