/**
 * Starts `load` once per key and shares the promise with every caller; a failed load is
 * forgotten, so the next caller retries (a model may have been pulled in the meantime).
 */
export function loadOnce<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let pending = cache.get(key);
  if (!pending) {
    pending = load();
    cache.set(key, pending);
    pending.catch(() => cache.delete(key));
  }
  return pending;
}
