/**
 * The part of the Reflect metadata API that tsyringe needs (see ./x509.ts). Installed only when
 * absent, so a real polyfill loaded earlier wins.
 */
type MetadataTarget = object;
type MetadataReflect = typeof Reflect & {
  getMetadata?: (key: unknown, target: MetadataTarget, property?: PropertyKey) => unknown;
};

const reflect = Reflect as MetadataReflect;

if (typeof reflect.getMetadata !== 'function') {
  const store = new WeakMap<MetadataTarget, Map<string, unknown>>();
  const slot = (key: unknown, property?: PropertyKey): string => `${String(property ?? '')}\u0000${String(key)}`;
  const own = (key: unknown, target: MetadataTarget, property?: PropertyKey): unknown =>
    store.get(target)?.get(slot(key, property));
  const inherited = (key: unknown, target: MetadataTarget, property?: PropertyKey): unknown => {
    for (let at: MetadataTarget | null = target; at !== null; at = Reflect.getPrototypeOf(at)) {
      const value = own(key, at, property);
      if (value !== undefined) return value;
    }
    return undefined;
  };
  Object.assign(Reflect, {
    defineMetadata(key: unknown, value: unknown, target: MetadataTarget, property?: PropertyKey): void {
      const entries = store.get(target) ?? new Map<string, unknown>();
      entries.set(slot(key, property), value);
      store.set(target, entries);
    },
    getOwnMetadata: own,
    getMetadata: inherited,
    hasOwnMetadata: (key: unknown, target: MetadataTarget, property?: PropertyKey) => own(key, target, property) !== undefined,
    hasMetadata: (key: unknown, target: MetadataTarget, property?: PropertyKey) => inherited(key, target, property) !== undefined,
    metadata: (key: unknown, value: unknown) => (target: MetadataTarget, property?: PropertyKey) => {
      (Reflect as unknown as { defineMetadata: (k: unknown, v: unknown, t: MetadataTarget, p?: PropertyKey) => void }).defineMetadata(key, value, target, property);
    },
  });
}
