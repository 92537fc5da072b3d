/**
 * @peculiar/x509 depends on tsyringe, which refuses to load without the Reflect metadata
 * API (`reflect-metadata` is not among our dependencies). tsyringe only uses
 * getMetadata / getOwnMetadata / defineMetadata, so this supplies exactly those (no
 * property keys, no decorators) unless a real polyfill is already present.
 * Must be imported before '@peculiar/x509' (x509.ts does).
 */
type MetadataKey = unknown;
type MetadataTarget = object;

interface ReflectMetadataApi {
  getMetadata?: (key: MetadataKey, target: MetadataTarget) => unknown;
  getOwnMetadata?: (key: MetadataKey, target: MetadataTarget) => unknown;
  defineMetadata?: (key: MetadataKey, value: unknown, target: MetadataTarget) => void;
}

const reflect = Reflect as unknown as ReflectMetadataApi;

if (typeof reflect.getMetadata !== 'function') {
  const store = new WeakMap<MetadataTarget, Map<MetadataKey, unknown>>();
  const getOwn = (key: MetadataKey, target: MetadataTarget): unknown => store.get(target)?.get(key);
  reflect.getOwnMetadata = getOwn;
  reflect.getMetadata = (key, target) => {
    for (let t: MetadataTarget | null = target; t !== null; t = Object.getPrototypeOf(t) as MetadataTarget | null) {
      const map = store.get(t);
      if (map?.has(key)) return map.get(key);
    }
    return undefined;
  };
  reflect.defineMetadata = (key, value, target) => {
    let map = store.get(target);
    if (!map) store.set(target, (map = new Map()));
    map.set(key, value);
  };
}

export {};
