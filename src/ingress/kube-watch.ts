/**
 * A namespaced reflector: keeps a local cache of one resource in ONE namespace by list + watch (the
 * ingress's ServiceAccount holds only namespaced Roles, so it can neither list nor watch across
 * namespaces). It lists, then watches from the list's resourceVersion; when the server says the
 * version is too old (410 Gone, or an ERROR event) it relists and replaces the cache, so deletions
 * missed while disconnected are not kept. Failures reconnect after a capped exponential backoff,
 * resuming from the last resourceVersion seen. `onChange` carries no payload: the consumer re-reads
 * the caches (level-triggered).
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { LandlordError } from '../shared/errors.ts';

export interface WatchedObject {
  readonly metadata?: { readonly name?: string | undefined; readonly namespace?: string | undefined; readonly resourceVersion?: string | undefined } | undefined;
}

export interface ListPage<T> {
  readonly items: readonly T[];
  readonly resourceVersion: string | undefined;
}

/** One resource type in one namespace. */
export interface NamespacedResource<T extends WatchedObject> {
  /** For messages, e.g. `routes in acme`. */
  readonly name: string;
  /** e.g. `/apis/landlord.dev/v1alpha1/namespaces/acme/routes`. */
  readonly watchPath: string;
  /** e.g. `type=kubernetes.io/tls`; applied to the list and the watch alike. */
  readonly fieldSelector?: string;
  list(): Promise<ListPage<T>>;
}

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

export interface NamespacedReflector<T> {
  /** True once the first list has filled the cache. */
  readonly synced: boolean;
  /** Lists so far: 1, plus one per relist after an expired watch. */
  readonly lists: number;
  items(): T[];
  stop(): void;
}

export const defaultBackoff: BackoffPolicy = { initialMs: 250, maxMs: 30_000 };

/** The client drops a watch silent for 30 s, so the server is asked to end each one before that. */
const watchTimeoutSeconds = 25;

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : JSON.stringify(error));
const keyOf = (object: WatchedObject): string => object.metadata?.name ?? '';

type WatchEnd = 'expired' | 'closed';

export function startNamespacedReflector<T extends WatchedObject>(options: {
  readonly kubeConfig: KubeConfig;
  readonly resource: NamespacedResource<T>;
  readonly onChange: () => void;
  /** `LL_INGRESS_KUBE_LIST_FAILED` or `LL_INGRESS_KUBE_WATCH_FAILED`; the reflector retries by itself. */
  readonly onError: (error: LandlordError) => void;
  readonly backoff?: BackoffPolicy;
}): NamespacedReflector<T> {
  const { resource } = options;
  const backoff = options.backoff ?? defaultBackoff;
  const watcher = new Watch(options.kubeConfig);
  const cache = new Map<string, T>();
  const stopping = new AbortController();
  let watchAbort: AbortController | undefined;
  let resourceVersion: string | undefined;
  let synced = false;
  let lists = 0;

  const relist = async (): Promise<void> => {
    let page: ListPage<T>;
    try {
      page = await resource.list();
    } catch (cause) {
      throw new LandlordError('LL_INGRESS_KUBE_LIST_FAILED', `cannot list ${resource.name}: ${messageOf(cause)}`, { cause, hint: 'check the landlord-ingress Role (get/list/watch) in that namespace and that the Route CRD is installed' });
    }
    cache.clear();
    for (const item of page.items) cache.set(keyOf(item), item);
    resourceVersion = page.resourceVersion;
    synced = true;
    lists += 1;
    options.onChange();
  };

  const apply = (type: string, object: T): WatchEnd | undefined => {
    if (type === 'ERROR') return 'expired';
    if (object.metadata?.resourceVersion) resourceVersion = object.metadata.resourceVersion;
    if (type === 'BOOKMARK') return undefined;
    if (type === 'DELETED') cache.delete(keyOf(object));
    else cache.set(keyOf(object), object);
    options.onChange();
    return undefined;
  };

  const watchOnce = (): Promise<WatchEnd> =>
    new Promise<WatchEnd>((resolve, reject) => {
      let end: WatchEnd = 'closed';
      const query = { allowWatchBookmarks: true, resourceVersion, timeoutSeconds: watchTimeoutSeconds, ...(resource.fieldSelector ? { fieldSelector: resource.fieldSelector } : {}) };
      watcher
        .watch(resource.watchPath, query, (type: string, object: T) => {
          end = apply(type, object) ?? end;
          if (end === 'expired') watchAbort?.abort();
        }, (error: unknown) => {
          const timedOut = error instanceof Error && error.name === 'TimeoutError';
          if (end === 'expired' || error === null || error === undefined || stopping.signal.aborted || timedOut) resolve(end);
          else if ((error as { statusCode?: number }).statusCode === 410) resolve('expired');
          else reject(new LandlordError('LL_INGRESS_KUBE_WATCH_FAILED', `watch of ${resource.name} failed: ${messageOf(error)}`, { cause: error }));
        })
        .then((controller) => {
          watchAbort = controller;
          if (stopping.signal.aborted) controller.abort();
        }, reject);
    });

  const run = async (): Promise<void> => {
    let failures = 0;
    let needList = true;
    while (!stopping.signal.aborted) {
      try {
        if (needList) {
          await relist();
          needList = false;
        }
        needList = (await watchOnce()) === 'expired';
        failures = 0;
      } catch (error) {
        if (stopping.signal.aborted) return;
        options.onError(error instanceof LandlordError ? error : new LandlordError('LL_INGRESS_KUBE_WATCH_FAILED', messageOf(error), { cause: error }));
        failures += 1;
        await sleep(Math.min(backoff.maxMs, backoff.initialMs * 2 ** (failures - 1)), undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    }
  };
  void run();

  return {
    get synced() {
      return synced;
    },
    get lists() {
      return lists;
    },
    items: () => [...cache.values()],
    stop() {
      stopping.abort();
      watchAbort?.abort();
    },
  };
}
