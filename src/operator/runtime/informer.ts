/**
 * A watch-based cache of one resource: list, then watch from the list's resourceVersion, forever.
 *
 * - The watch ends (server timeout, API server restart, network error): watch again from the last
 *   seen resourceVersion, after a capped exponential backoff when it failed.
 * - 410 Gone (the API server no longer has history that old, e.g. after it restarted or while the
 *   watcher was cut off): list again and report the differences as changes, so a handler never
 *   misses a deletion that happened while nobody watched.
 * - BOOKMARK events (requested with `allowWatchBookmarks`) only advance the resourceVersion to
 *   resume from, so a quiet resource does not fall out of the server's history between watches.
 *
 * The cache holds each object as `project` returns it (by default without `metadata.managedFields`,
 * which no controller reads and which is often most of an object), and lists page by page, so
 * the whole unprojected list is never in memory at once.
 *
 * Handlers receive (current, previous); `current` is undefined for a deletion. They must be quick
 * and must not throw: they enqueue keys, the reconciler does the work.
 */
import type { Logger } from '../../shared/log.ts';
import { sleep } from './sleep.ts';
import { Backoff } from './backoff.ts';
import { isApiStatus, type KubeClient, type KubeObject, type ResourceType, type WatchEventType } from './kube.ts';
import type { Counter } from './metrics.ts';

export type ChangeHandler<T> = (current: T | undefined, previous: T | undefined) => void;

export interface InformerOptions<T extends KubeObject> {
  client: KubeClient;
  type: ResourceType;
  labelSelector?: string;
  fieldSelector?: string;
  namespace?: string;
  logger: Logger;
  onChange: ChangeHandler<T>;
  /** Counts relists and watch restarts, labelled by resource and reason. */
  restarts?: Counter;
  /** Index objects by the value of this label, for `withLabel` (e.g. the tenant an object belongs to). */
  indexLabel?: string;
  /** What of an object the cache keeps; it must keep every field the controllers read. Default `withoutManagedFields`. */
  project?: (object: T) => T;
}

/** `object` without `metadata.managedFields`. */
export function withoutManagedFields<T extends KubeObject>(object: T): T {
  if (object.metadata.managedFields === undefined) return object;
  const { managedFields: _dropped, ...metadata } = object.metadata;
  return { ...object, metadata };
}

/** What one watch event does to an informer: the resourceVersion to resume from, and the change to record, if any. */
export interface WatchStep<T> {
  readonly resourceVersion: string;
  readonly change?: { readonly key: string; readonly current: T | undefined };
}

export function watchStep<T extends KubeObject>(event: WatchEventType, object: T, resourceVersion: string): WatchStep<T> {
  const next = object.metadata.resourceVersion || resourceVersion;
  if (event === 'BOOKMARK') return { resourceVersion: next };
  return { resourceVersion: next, change: { key: objectKey(object), current: event === 'DELETED' ? undefined : object } };
}

/** `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(object: { metadata: { name: string; namespace?: string } }): string {
  return object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : object.metadata.name;
}

export class Informer<T extends KubeObject> {
  readonly #options: InformerOptions<T>;
  readonly #store = new Map<string, T>();
  readonly #index = new Map<string, Map<string, T>>();
  readonly #handlers: Array<ChangeHandler<T>> = [];
  #synced = false;
  #syncWaiters: Array<() => void> = [];

  constructor(options: InformerOptions<T>) {
    this.#options = options;
  }

  /** Another handler, called after `onChange` for every later change (one cache, several controllers). */
  subscribe(handler: ChangeHandler<T>): void {
    this.#handlers.push(handler);
  }

  get type(): ResourceType {
    return this.#options.type;
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  waitForSync(): Promise<void> {
    return this.#synced ? Promise.resolve() : new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  get(key: string): T | undefined {
    return this.#store.get(key);
  }

  list(): T[] {
    return [...this.#store.values()];
  }

  /** Objects whose `indexLabel` has `value`, without scanning the cache. */
  withLabel(value: string): T[] {
    return [...(this.#index.get(value)?.values() ?? [])];
  }

  /** Runs until `signal` aborts; never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    const { client, type, labelSelector, fieldSelector, namespace, logger } = this.#options;
    const backoff = new Backoff({ initialMs: 200, maxMs: 10_000 });
    let resourceVersion: string | undefined;
    while (!signal.aborted) {
      try {
        const start = resourceVersion ?? (await this.#list(signal));
        resourceVersion = start;
        await client.watch<T>(type, { labelSelector, fieldSelector, namespace, resourceVersion: start, signal }, (event, object) => {
          const step = watchStep(event, object, resourceVersion ?? start);
          resourceVersion = step.resourceVersion;
          if (step.change) this.#record(step.change.current === undefined ? undefined : this.#project(step.change.current), step.change.key);
        });
        backoff.reset();
        this.#options.restarts?.inc({ resource: type.plural, reason: 'ended' });
      } catch (error) {
        if (signal.aborted) return;
        if (isApiStatus(error, 410)) {
          this.#options.restarts?.inc({ resource: type.plural, reason: 'gone' });
          logger.info('watch expired, listing again', { resource: type.plural });
          resourceVersion = undefined;
          continue;
        }
        this.#options.restarts?.inc({ resource: type.plural, reason: 'error' });
        const delay = backoff.next();
        logger.warn('watch failed, retrying', { resource: type.plural, delayMs: delay, error });
        await sleep(delay, signal);
      }
    }
  }

  /** Lists into the cache, page by page; returns the list's resourceVersion. */
  async #list(signal: AbortSignal): Promise<string> {
    const { client, type, labelSelector, fieldSelector, namespace } = this.#options;
    const seen = new Set<string>();
    let resourceVersion = '';
    for await (const page of client.listPages<T>(type, { labelSelector, fieldSelector, namespace })) {
      if (signal.aborted) break;
      for (const item of page.items) {
        const key = objectKey(item);
        seen.add(key);
        this.#record(this.#project(item), key);
      }
      resourceVersion = page.resourceVersion;
    }
    if (signal.aborted) throw signal.reason;
    for (const key of [...this.#store.keys()]) {
      if (!seen.has(key)) this.#record(undefined, key);
    }
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    }
    return resourceVersion;
  }

  #project(object: T): T {
    return (this.#options.project ?? withoutManagedFields)(object);
  }

  #reindex(key: string, current: T | undefined, previous: T | undefined): void {
    const label = this.#options.indexLabel;
    if (label === undefined) return;
    const before = previous?.metadata.labels?.[label];
    const after = current?.metadata.labels?.[label];
    if (before !== undefined && before !== after) {
      const bucket = this.#index.get(before);
      bucket?.delete(key);
      if (bucket?.size === 0) this.#index.delete(before);
    }
    if (after !== undefined && current !== undefined) {
      let bucket = this.#index.get(after);
      if (!bucket) {
        bucket = new Map();
        this.#index.set(after, bucket);
      }
      bucket.set(key, current);
    }
  }

  #record(current: T | undefined, key: string): void {
    const previous = this.#store.get(key);
    if (current === undefined) {
      if (previous === undefined) return;
      this.#store.delete(key);
    } else {
      if (previous?.metadata.resourceVersion === current.metadata.resourceVersion && previous !== undefined) return;
      this.#store.set(key, current);
    }
    this.#reindex(key, current, previous);
    this.#options.onChange(current, previous);
    for (const handler of this.#handlers) handler(current, previous);
  }
}
