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

/** Components loaded once by key (models, tokenizers), with the list of those that loaded. */
export class SharedLoads {
  private readonly cache = new Map<string, Promise<unknown>>();

  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    return loadOnce(this.cache, key, load) as Promise<T>;
  }

  /** The keys of components that have loaded successfully. */
  async loaded(): Promise<string[]> {
    const settled = await Promise.allSettled([...this.cache].map(async ([key, pending]) => (await pending, key)));
    return settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  }
}
