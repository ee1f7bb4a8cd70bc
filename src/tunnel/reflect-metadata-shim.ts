// @peculiar/x509 2.2 registers its algorithms with tsyringe 4.10, which
// throws at import time unless a `reflect-metadata` polyfill is loaded.
// tsyringe calls only Reflect.getMetadata, getOwnMetadata and defineMetadata,
// so this small store covers it without adding the polyfill package.
// NOTE: if a real `reflect-metadata` is imported later, it replaces these
// functions; the x509 classes do not depend on metadata kept here.

type MetadataKey = unknown;
type MetadataTarget = object;

interface ReflectWithMetadata {
  getMetadata?: (key: MetadataKey, target: MetadataTarget, property?: string | symbol) => unknown;
  getOwnMetadata?: (key: MetadataKey, target: MetadataTarget, property?: string | symbol) => unknown;
  defineMetadata?: (key: MetadataKey, value: unknown, target: MetadataTarget, property?: string | symbol) => void;
}

const store = new WeakMap<MetadataTarget, Map<string | symbol | undefined, Map<MetadataKey, unknown>>>();

/** Installs the three Reflect metadata functions tsyringe calls, unless a polyfill already provides them. */
export function installReflectMetadataShim(): void {
  const reflect = Reflect as unknown as ReflectWithMetadata;
  if (typeof reflect.getMetadata === 'function') {
    return;
  }

  reflect.defineMetadata = (key, value, target, property) => {
    ownMetadata(target, property, true)!.set(key, value);
  };
  reflect.getOwnMetadata = (key, target, property) => ownMetadata(target, property, false)?.get(key);
  reflect.getMetadata = (key, target, property) => {
    // Like reflect-metadata, look up the prototype chain.
    for (let current: MetadataTarget | null = target; current !== null; current = Object.getPrototypeOf(current) as MetadataTarget | null) {
      const metadata = ownMetadata(current, property, false);
      if (metadata?.has(key)) {
        return metadata.get(key);
      }
    }
    return undefined;
  };
}

function ownMetadata(target: MetadataTarget, property: string | symbol | undefined, create: boolean): Map<MetadataKey, unknown> | undefined {
  let byProperty = store.get(target);
  if (byProperty === undefined && create) {
    byProperty = new Map();
    store.set(target, byProperty);
  }

  let metadata = byProperty?.get(property);
  if (metadata === undefined && create && byProperty !== undefined) {
    metadata = new Map();
    byProperty.set(property, metadata);
  }
  return metadata;
}
