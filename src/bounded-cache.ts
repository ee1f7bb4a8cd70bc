// Values built once per key and reused, such as TLS contexts and prepared
// statements, kept in a Map of bounded size.

/**
 * Returns the value cached for `key`, building it with `create` when there is
 * none. Past `maxEntries`, the entry inserted first is dropped to make room.
 */
export function cachedValue<K, V>(cache: Map<K, V>, key: K, maxEntries: number, create: () => V): V {
  const cached = cache.get(key);
  if (cached !== undefined) {
    return cached;
  }

  const value = create();
  if (cache.size >= maxEntries) {
    cache.delete(cache.keys().next().value!);
  }
  cache.set(key, value);
  return value;
}
