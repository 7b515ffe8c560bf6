/**
 * A reflector: keeps a local cache of one Kubernetes resource (all namespaces) by list + watch,
 * as client-go's Reflector does. It lists, then watches from the list's resourceVersion; when the
 * server says the version is too old (410 Gone, or any ERROR event) it relists and replaces the
 * whole cache, so deletions missed while disconnected are not kept. Failures reconnect after an
 * exponential backoff, resuming the watch from the last resourceVersion seen. `onChange` is called
 * after every cache change and never with the payload: consumers re-read the cache
 * (level-triggered). Shared by the router's provider and the admission webhook's Route facts.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { Watch } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { LandlordError } from './errors.ts';

export interface KubeObject {
  readonly metadata?: { readonly name?: string | undefined; readonly namespace?: string | undefined; readonly resourceVersion?: string | undefined } | undefined;
}

export interface ResourceList<T> {
  readonly items: readonly T[];
  readonly resourceVersion: string | undefined;
}

/** One resource type: how to list it and the API path to watch. */
export interface WatchedResource<T extends KubeObject> {
  /** Plural name for messages, e.g. `routes`. */
  readonly name: string;
  /** e.g. `/apis/landlord.dev/v1alpha1/routes`. */
  readonly watchPath: string;
  /** e.g. `type=kubernetes.io/tls`; `list` must apply it too. */
  readonly fieldSelector?: string;
  list(): Promise<ResourceList<T>>;
}

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

export interface ReflectorOptions<T extends KubeObject> {
  readonly kubeConfig: KubeConfig;
  readonly resource: WatchedResource<T>;
  readonly onChange: () => void;
  /** `<errorCodePrefix>_LIST_FAILED` or `<errorCodePrefix>_WATCH_FAILED`; the reflector retries by itself. */
  readonly onError: (error: LandlordError) => void;
  /** The component's codes, e.g. `LL_ROUTER_KUBE`. */
  readonly errorCodePrefix: string;
  /** How to fix a failing list; names the component's RBAC. */
  readonly listHint?: string;
  readonly backoff?: BackoffPolicy;
}

export interface Reflector<T extends KubeObject> {
  /** True once the first list has filled the cache. */
  readonly synced: boolean;
  items(): T[];
  /** Counts lists, for tests and diagnostics (1 + relists). */
  readonly lists: number;
  stop(): void;
}

export const defaultBackoff: BackoffPolicy = { initialMs: 250, maxMs: 30_000 };

export const objectKey = (object: KubeObject): string => `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;

type WatchEnd = 'expired' | 'closed';

/**
 * The client gives up on a watch silent for 30 s (a fixed `Watch` setting), so the server is asked
 * to end each watch before that; the reflector then resumes from the last resourceVersion.
 */
const watchTimeoutSeconds = 25;

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : JSON.stringify(error));

const isClientTimeout = (error: unknown): boolean => error instanceof Error && error.name === 'TimeoutError';

export function startReflector<T extends KubeObject>(options: ReflectorOptions<T>): Reflector<T> {
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
    let list: ResourceList<T>;
    try {
      list = await resource.list();
    } catch (cause) {
      throw new LandlordError(`${options.errorCodePrefix}_LIST_FAILED`, `cannot list ${resource.name}: ${messageOf(cause)}`, { cause, hint: options.listHint ?? 'check the service account’s RBAC (list/watch) and that the resource’s CRD is installed' });
    }
    cache.clear();
    for (const item of list.items) cache.set(objectKey(item), item);
    resourceVersion = list.resourceVersion;
    synced = true;
    lists += 1;
    options.onChange();
  };

  const apply = (type: string, object: T): WatchEnd | undefined => {
    if (type === 'ERROR') return 'expired';
    if (object.metadata?.resourceVersion) resourceVersion = object.metadata.resourceVersion;
    if (type === 'BOOKMARK') return undefined;
    if (type === 'DELETED') cache.delete(objectKey(object));
    else cache.set(objectKey(object), object);
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
          if (end === 'expired' || error === null || error === undefined || stopping.signal.aborted || isClientTimeout(error)) resolve(end);
          else if ((error as { statusCode?: number }).statusCode === 410) resolve('expired');
          else reject(new LandlordError(`${options.errorCodePrefix}_WATCH_FAILED`, `watch of ${resource.name} failed: ${messageOf(error)}`, { cause: error }));
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
          // From here a failed watch resumes from the last resourceVersion; only an expired one relists.
          needList = false;
        }
        needList = (await watchOnce()) === 'expired';
        failures = 0;
      } catch (error) {
        if (stopping.signal.aborted) return;
        options.onError(error instanceof LandlordError ? error : new LandlordError(`${options.errorCodePrefix}_WATCH_FAILED`, String(error)));
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
