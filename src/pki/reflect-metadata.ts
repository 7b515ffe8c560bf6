/**
 * The part of the Reflect metadata API that tsyringe needs (see ./x509.ts): it refuses to load
 * without `Reflect.getMetadata` and reads constructor parameter types through it. Installed only
 * when absent, so a real polyfill loaded earlier wins.
 */
type MetadataTarget = object;
type MetadataReflect = typeof Reflect & { getMetadata?: unknown };

if (typeof (Reflect as MetadataReflect).getMetadata !== 'function') {
  const store = new WeakMap<MetadataTarget, Map<string, unknown>>();
  const slot = (key: unknown, property?: PropertyKey): string => `${String(property ?? '')}\u0000${String(key)}`;
  const getOwnMetadata = (key: unknown, target: MetadataTarget, property?: PropertyKey): unknown =>
    store.get(target)?.get(slot(key, property));
  Object.assign(Reflect, {
    defineMetadata(key: unknown, value: unknown, target: MetadataTarget, property?: PropertyKey): void {
      const entries = store.get(target) ?? new Map<string, unknown>();
      entries.set(slot(key, property), value);
      store.set(target, entries);
    },
    getOwnMetadata,
    getMetadata(key: unknown, target: MetadataTarget, property?: PropertyKey): unknown {
      for (let at: MetadataTarget | null = target; at !== null; at = Reflect.getPrototypeOf(at)) {
        const value = getOwnMetadata(key, at, property);
        if (value !== undefined) return value;
      }
      return undefined;
    },
  });
}
