/**
 * A read-through cache whose entries are refreshed ahead of expiry: an entry is served for
 * `ttlMs` after its read began, and a lookup in the second half of that time starts one
 * background re-read and still answers from the entry. Under steady traffic no lookup waits for a
 * read, and none sees a value older than `ttlMs` (a lookup after that waits for a fresh read).
 * A failed read is not remembered: a failed first read rejects its callers, a failed refresh
 * leaves the entry to expire (the next lookup in its second half tries again).
 */
export interface RefreshingCache<V> {
  get(key: string): Promise<V>;
}

export interface RefreshingCacheOptions {
  readonly ttlMs: number;
  readonly now?: () => number;
  /** Beyond this many keys the oldest is forgotten. */
  readonly maxEntries?: number;
}

interface Entry<V> {
  readonly readAt: number;
  readonly value: Promise<V>;
  refreshing: boolean;
}

export function refreshingCache<V>(read: (key: string) => Promise<V>, options: RefreshingCacheOptions): RefreshingCache<V> {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, Entry<V>>();

  function load(key: string): Entry<V> {
    const entry: Entry<V> = { readAt: now(), value: read(key), refreshing: false };
    entry.value.catch(() => {
      if (entries.get(key) === entry) entries.delete(key);
    });
    return entry;
  }

  function remember(key: string, entry: Entry<V>): void {
    entries.delete(key);
    entries.set(key, entry);
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value ?? '');
  }

  return {
    get(key) {
      const hit = entries.get(key);
      const age = hit ? now() - hit.readAt : Infinity;
      if (hit === undefined || age >= options.ttlMs) {
        const entry = load(key);
        remember(key, entry);
        return entry.value;
      }
      if (age >= options.ttlMs / 2 && !hit.refreshing) {
        hit.refreshing = true;
        const next = load(key);
        next.value.then(
          () => { if (entries.get(key) === hit) remember(key, next); },
          () => { hit.refreshing = false; },
        );
      }
      return hit.value;
    },
  };
}
